// The builder's pure parts: stage selection, config instructions, RUN's argv and history text,
// docker history's rows, and source matching/hashing over a scratch directory.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { cleanSource, hashSources, matchSource } from '../../src/build/context.ts';
import { parseDockerfile } from '../../src/build/dockerfile/parse.ts';
import { neededStages, stageRef, targetStage } from '../../src/build/graph.ts';
import { parseIgnore } from '../../src/build/ignore.ts';
import { LayeredFs } from '../../src/build/layered.ts';
import { runArgs, runCreatedBy } from '../../src/build/run.ts';
import { platformArgs } from '../../src/build/builder.ts';
import { advance, applyConfig, historyKeys, normalizePath, type Expand, type StageState } from '../../src/build/state.ts';
import type { Instruction } from '../../src/build/types.ts';
import { imageHistory } from '../../src/image/history.ts';
import type { ImageRecord } from '../../src/core/types.ts';

const same: Expand = { word: (s) => s.replace(/^"(.*)"$/, '$1'), words: (s) => s.split(/\s+/).filter(Boolean), heredoc: (h) => h.content };
const first = (text: string): Instruction => parseDockerfile(`FROM scratch\n${text}\n`).stages[0].instructions[0];

test('the target needs only the stages it names, through FROM, COPY --from and RUN --mount from=', () => {
  const df = parseDockerfile([
    'FROM busybox AS a', 'RUN true',
    'FROM busybox AS unused', 'RUN exit 1',
    'FROM a AS b', 'RUN --mount=type=bind,from=c,target=/m true',
    'FROM busybox AS c',
    'FROM busybox AS final', 'COPY --from=b /x /x', 'COPY --from=0 /y /y',
    '',
  ].join('\n'));
  // c comes after b: to b, "c" is an image, so stage c is not needed.
  assert.deepEqual(neededStages(df, targetStage(df), (s) => s).map((s) => s.index), [0, 2, 4]);
  const df2 = parseDockerfile('FROM busybox AS a\nFROM busybox AS skip\nFROM a AS b\nCOPY --from=a /x /x\nFROM busybox\nCOPY --from=b /x /x\nCOPY --from=0 /y /y\n');
  assert.deepEqual(neededStages(df2, targetStage(df2), (s) => s).map((s) => s.index), [0, 2, 3]);
  assert.deepEqual(neededStages(df2, targetStage(df2, 'b'), (s) => s).map((s) => s.index), [0, 2]);
  assert.throws(() => targetStage(df2, 'nope'), /failed to reach build target nope/);
  assert.equal(stageRef(df2, 'A', 3)?.index, 0); // names are case-insensitive
  assert.equal(stageRef(df2, 'busybox', 3), undefined); // an image
});

test('config instructions: ENV, EXPOSE ranges, ENTRYPOINT drops CMD, WORKDIR relative, HEALTHCHECK durations', () => {
  let cfg = applyConfig({ Env: ['PATH=/bin'] }, first('ENV A=1 B="two words"'), same).cfg;
  assert.deepEqual(cfg.Env, ['PATH=/bin', 'A=1', 'B=two words']);
  const exp = applyConfig({}, first('EXPOSE 80 8000-8002/udp'), same);
  assert.deepEqual(Object.keys(exp.cfg.ExposedPorts!), ['80/tcp', '8000/udp', '8001/udp', '8002/udp']);
  assert.equal(exp.createdBy, 'EXPOSE map[80/tcp:{} 8000/udp:{} 8001/udp:{} 8002/udp:{}]');
  cfg = applyConfig({ Cmd: ['sh'] }, first('ENTRYPOINT ["/app"]'), same).cfg;
  assert.deepEqual(cfg.Entrypoint, ['/app']);
  assert.equal(cfg.Cmd, null);
  cfg = applyConfig({ Shell: ['/bin/bash', '-c'] }, first('CMD echo hi'), same).cfg;
  assert.deepEqual(cfg.Cmd, ['/bin/bash', '-c', 'echo hi']);
  assert.equal(applyConfig({ WorkingDir: '/a' }, first('WORKDIR b/../c'), same).cfg.WorkingDir, '/a/c');
  const hc = applyConfig({}, first('HEALTHCHECK --interval=5s --retries=2 CMD true'), same).cfg.Healthcheck!;
  assert.deepEqual(hc, { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 2 });
  assert.deepEqual(applyConfig({}, first('HEALTHCHECK NONE'), same).cfg.Healthcheck, { Test: ['NONE'] });
  assert.throws(() => applyConfig({}, first('EXPOSE abc'), same), /invalid containerPort/);
  assert.equal(normalizePath('/a/../../b//c/.'), '/b/c');
});

test('RUN: shell and exec forms, heredocs, and the history text with build args', () => {
  const run = (t: string) => first(t) as Extract<Instruction, { kind: 'RUN' }>;
  assert.deepEqual(runArgs(run('RUN echo hi'), ['/bin/sh', '-c']), ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(runArgs(run('RUN ["echo", "hi"]'), ['/bin/sh', '-c']), ['echo', 'hi']);
  assert.deepEqual(runArgs(run('RUN <<EOF\necho one\necho two\nEOF'), ['/bin/sh', '-c']), ['/bin/sh', '-c', 'echo one\necho two\n']);
  assert.deepEqual(runArgs(run('RUN cat <<EOF > /x\nbody\nEOF'), ['/bin/sh', '-c']), ['/bin/sh', '-c', 'cat <<EOF > /x\nbody\nEOF']);
  assert.equal(runCreatedBy(['/bin/sh', '-c', 'make'], [['A', '1'], ['B', '2']]), 'RUN |2 A=1 B=2 /bin/sh -c make # buildkit');
  assert.equal(runCreatedBy(['/bin/sh', '-c', 'make'], []), 'RUN /bin/sh -c make # buildkit');
});

test('advance adds history (empty_layer for config steps) and keeps one chain key per entry', () => {
  const base: StageState = { config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:a'] }, history: [{ created_by: 'import' }] }, layers: [{ mediaType: 'x', digest: 'sha256:a', size: 1 }], layerSizes: [1], key: 'k0' };
  const s1 = advance(base, { key: 'k1', createdBy: 'ENV A=1' });
  const s2 = advance(s1, { key: 'k2', createdBy: 'RUN x', layer: { descriptor: { mediaType: 'x', digest: 'sha256:b', size: 2 }, size: 2 } });
  assert.deepEqual(s2.config.history!.map((h) => h.empty_layer ?? false), [false, true, false]);
  assert.deepEqual(s2.config.rootfs.diff_ids, ['sha256:a', 'sha256:b']);
  assert.deepEqual(historyKeys(s2), ['', 'k1', 'k2']);
});

test('automatic platform args: the host builds, the target is the host unless --platform', () => {
  const a = platformArgs();
  assert.equal(a.get('TARGETPLATFORM'), a.get('BUILDPLATFORM'));
  assert.match(a.get('TARGETPLATFORM')!, /^linux\/\w+/);
  const arm = platformArgs('linux/arm64/v8');
  assert.equal(arm.get('TARGETARCH'), 'arm64');
  assert.equal(arm.get('TARGETVARIANT'), 'v8');
  assert.equal(arm.get('BUILDOS'), 'linux');
});

test('docker history rows: newest first, sizes from the layers, empty steps 0', () => {
  const rec = {
    id: 'sha256:' + 'f'.repeat(64), created: '2026-01-01T00:00:00Z', layers: ['sha256:a', 'sha256:b'], layerSizes: [100, 7],
    config: { history: [{ created_by: 'import' }, { created_by: 'ENV A=1', empty_layer: true }, { created_by: 'RUN x' }] },
  } as unknown as ImageRecord;
  const rows = imageHistory(rec, ['x:1']);
  assert.deepEqual(rows.map((r) => [r.id.slice(0, 9), r.createdBy, r.size]), [['sha256:ff', 'RUN x', 7], ['<missing>', 'ENV A=1', 0], ['<missing>', 'import', 100]]);
  assert.deepEqual(rows[0].tags, ['x:1']);
});

test('sources: wildcards, ignore rules with exceptions, symlinks kept inside, ../ refused; hashes ignore timestamps', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-unit-ctx-'));
  try {
    for (const [f, d] of Object.entries({ 'a.txt': 'a', 'b.txt': 'b', 'c.md': 'c', 'logs/x.log': 'x', 'logs/keep.log': 'k' })) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), d);
    }
    fs.symlinkSync('/etc', path.join(dir, 'etc-link'));
    const view = new LayeredFs([dir]);
    const ignore = parseIgnore('logs\n!logs/keep.log\n');
    assert.deepEqual(matchSource(view, '*.txt', { where: 'ctx' }).map((m) => m.name), ['a.txt', 'b.txt']);
    const logs = matchSource(view, 'logs', { ignore, where: 'ctx' });
    assert.deepEqual(logs[0].items.map((i) => i.rel), ['keep.log']);
    assert.throws(() => matchSource(view, '../x', { where: 'build context' }), /forbidden path outside the build context/);
    assert.deepEqual(cleanSource('a/../b/./c', 'ctx'), ['b', 'c']);
    // /etc through the link is the context's own etc/: absent.
    assert.throws(() => matchSource(view, 'etc-link/passwd', { where: 'ctx' }), /not found/);
    assert.deepEqual(view.resolve('etc-link/../../../a.txt'), ['a.txt']);
    const h1 = hashSources(matchSource(view, '.', { ignore, where: 'ctx' }), false);
    fs.utimesSync(path.join(dir, 'a.txt'), new Date(0), new Date(0));
    assert.equal(hashSources(matchSource(view, '.', { ignore, where: 'ctx' }), false), h1);
    fs.writeFileSync(path.join(dir, 'logs/x.log'), 'ignored change');
    assert.equal(hashSources(matchSource(view, '.', { ignore, where: 'ctx' }), false), h1);
    fs.writeFileSync(path.join(dir, 'a.txt'), 'A');
    assert.notEqual(hashSources(matchSource(view, '.', { ignore, where: 'ctx' }), false), h1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
