// berth build on the real busybox image: multi-stage, cache, .dockerignore, ADD archives,
// heredocs, variables, secrets, failure and Ctrl-C cleanup, path escapes, --output, and the
// builder API through `berth daemon` with the real docker CLI and docker-py.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH, isRoot, TestRoot } from '../helpers/berth.ts';

function context(files: Record<string, string | Buffer>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ctx-'));
  for (const [name, data] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), data);
  }
  return dir;
}

describe('build', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  const dirs: string[] = [];
  const ctx = (files: Record<string, string | Buffer>) => {
    const d = context(files);
    dirs.push(d);
    return d;
  };
  const build = (args: string[], input?: string | Buffer) => root.run(['build', '--progress', 'plain', ...args], { input, timeoutMs: 120_000 });
  const out = async (image: string, ...cmd: string[]) => {
    const r = await root.run(['run', '--rm', image, ...cmd]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  /** Nothing a build leaves: containers, mounts, cgroups, scratch files. */
  const assertClean = () => {
    assert.deepEqual(root.leftovers(), []);
    const tmp = path.join(root.dir, 'tmp');
    assert.deepEqual(fs.existsSync(tmp) ? fs.readdirSync(tmp) : [], []);
  };

  before(async () => {
    root = await TestRoot.withBusybox();
  });
  after(async () => {
    await root.cleanup();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test('multi-stage: COPY --from a stage, --target, unneeded stages skipped, config and history', async () => {
    const dir = ctx({
      Dockerfile: [
        'FROM busybox AS base',
        'ARG V=1',
        'ENV GREETING=hello',
        'RUN echo "$GREETING $V" > /greeting',
        'FROM busybox AS broken',
        'RUN exit 7',
        'FROM base AS final',
        'COPY --from=base /greeting /copied',
        'WORKDIR /app',
        'LABEL stage=final',
        'EXPOSE 8080/tcp',
        'USER 1000:1000',
        'CMD ["cat", "/copied"]',
        'FROM final AS other',
        'RUN exit 9',
        '',
      ].join('\n'),
    });
    const r = await build(['-t', 'ms:1', '--target', 'final', '--build-arg', 'V=2', '--label', 'extra=yes', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /exit 7|exit 9/); // stages the target does not need never run
    assert.equal(await out('ms:1'), 'hello 2\n');
    const insp = JSON.parse((await root.run(['image', 'inspect', 'ms:1'])).stdout)[0];
    assert.equal(insp.Config.WorkingDir, '/app');
    assert.equal(insp.Config.User, '1000:1000');
    assert.deepEqual(insp.Config.Labels, { stage: 'final', extra: 'yes' });
    assert.deepEqual(insp.Config.ExposedPorts, { '8080/tcp': {} });
    assert.ok(insp.Config.Env.includes('GREETING=hello'));
    // One layer per filesystem step (busybox, the RUN, the COPY), history for every step.
    assert.equal(insp.RootFS.Layers.length, 3);
    const hist = await root.run(['history', '--no-trunc', '--format', 'json', 'ms:1']);
    const rows = hist.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 10); // import + 9 steps (ARG, ENV, RUN, COPY, WORKDIR, LABEL, EXPOSE, USER, CMD)
    assert.equal(rows[0].CreatedBy, 'CMD ["cat","/copied"]');
    assert.ok(rows.some((x) => x.CreatedBy === 'RUN |1 V=2 /bin/sh -c echo "$GREETING $V" > /greeting # buildkit'));
    assert.ok(rows.some((x) => x.CreatedBy === 'COPY --from=base /greeting /copied # buildkit'));
    const table = await root.run(['history', 'ms:1']);
    assert.match(table.stdout, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n/);
    assertClean();
  });

  test('a rebuild with nothing changed runs nothing and gives the same image; one changed file re-runs from its step', async () => {
    const dir = ctx({
      Dockerfile: 'FROM busybox\nRUN echo first-$((1+0))-ran > /one && echo first-$((1+0))-ran\nCOPY a.txt /a.txt\nRUN echo second-$((2+0))-ran && cat /a.txt > /two\nCOPY b.txt /b.txt\n',
      'a.txt': 'A1\n',
      'b.txt': 'B1\n',
    });
    const first = await build(['-t', 'cache:1', dir]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /first-1-ran/);
    const id1 = JSON.parse((await root.run(['image', 'inspect', 'cache:1'])).stdout)[0].Id;

    const t0 = performance.now();
    const again = await build(['-q', '-t', 'cache:1', dir]);
    const ms = performance.now() - t0;
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), id1); // -q prints the id; the same config makes the same id
    const plain = await build(['-t', 'cache:1', dir]);
    assert.doesNotMatch(plain.stderr, /-\d-ran/); // no RUN executed
    assert.equal((plain.stderr.match(/CACHED/g) ?? []).length, 4);
    assert.ok(ms < 5000, `cached rebuild took ${ms} ms`);

    // A new timestamp alone is no change; new content in a.txt re-runs from the COPY of a.txt.
    fs.utimesSync(path.join(dir, 'b.txt'), new Date(), new Date(Date.now() + 5000));
    const touched = await build(['-t', 'cache:1', dir]);
    assert.equal((touched.stderr.match(/CACHED/g) ?? []).length, 4);
    fs.writeFileSync(path.join(dir, 'a.txt'), 'A2\n');
    const changed = await build(['-t', 'cache:2', dir]);
    assert.equal(changed.code, 0, changed.stderr);
    assert.doesNotMatch(changed.stderr, /first-1-ran/);
    assert.match(changed.stderr, /second-2-ran/);
    assert.equal((changed.stderr.match(/CACHED/g) ?? []).length, 1);
    assert.equal(await out('cache:2', 'cat', '/two'), 'A2\n');
    // --no-cache runs everything again.
    const nocache = await build(['--no-cache', '-t', 'cache:3', dir]);
    assert.match(nocache.stderr, /first-1-ran/);
    // builder prune empties the cache: the next build runs its RUNs again.
    const pruned = await root.run(['builder', 'prune', '-f']);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /Total reclaimed space/);
    assert.match((await build(['-t', 'cache:4', dir])).stderr, /first-1-ran/);
    assertClean();
  });

  test('.dockerignore (with ! exceptions), wildcards and the trailing-slash rules', async () => {
    const dir = ctx({
      Dockerfile: 'FROM busybox\nCOPY . /ctx/\nCOPY *.txt /txt/\nCOPY one.txt /file-as-named\nCOPY sub /subdir\n',
      '.dockerignore': 'secret*\nlogs/\n!logs/keep.log\n',
      'one.txt': '1',
      'two.txt': '2',
      'secret.key': 'nope',
      'logs/a.log': 'a',
      'logs/keep.log': 'k',
      'sub/inner/x': 'x',
    });
    const r = await build(['-t', 'ign:1', dir]);
    assert.equal(r.code, 0, r.stderr);
    const listing = await out('ign:1', 'sh', '-c', 'cd /ctx && find . -type f | sort; ls /txt; cat /file-as-named; cat /subdir/inner/x');
    assert.equal(listing, './.dockerignore\n./Dockerfile\n./logs/keep.log\n./one.txt\n./sub/inner/x\n./two.txt\none.txt\ntwo.txt\n1x');
    // A named Dockerfile's own ignore file (<name>.dockerignore) wins over .dockerignore.
    fs.writeFileSync(path.join(dir, 'Other.Dockerfile'), 'FROM busybox\nCOPY . /ctx/\n');
    fs.writeFileSync(path.join(dir, 'Other.Dockerfile.dockerignore'), '*.txt\n');
    const other = await build(['-t', 'ign:2', '-f', path.join(dir, 'Other.Dockerfile'), dir]);
    assert.equal(other.code, 0, other.stderr);
    const files = await out('ign:2', 'sh', '-c', 'cd /ctx && ls');
    assert.doesNotMatch(files, /one\.txt/);
    assert.match(files, /secret\.key/);
  });

  test('ADD unpacks local archives (gzip, bzip2, xz, zstd); a plain file is copied', async () => {
    const src = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tar-'));
    dirs.push(src);
    fs.mkdirSync(path.join(src, 'pkg'));
    fs.writeFileSync(path.join(src, 'pkg/hello'), 'from the archive\n');
    const files: Record<string, Buffer> = {};
    for (const [name, flag] of [['a.tar.gz', '-z'], ['b.tar.bz2', '-j'], ['c.tar.xz', '-J'], ['d.tar.zst', '--zstd']]) {
      files[name] = execFileSync('tar', ['-C', src, flag, '-c', 'pkg']);
    }
    const dir = ctx({
      ...files,
      'plain.txt': 'not an archive',
      Dockerfile: 'FROM busybox\nADD a.tar.gz /gz/\nADD b.tar.bz2 /bz/\nADD c.tar.xz /xz/\nADD d.tar.zst /zst/\nADD plain.txt /plain.txt\n',
    });
    const r = await build(['-t', 'add:1', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await out('add:1', 'cat', '/gz/pkg/hello', '/bz/pkg/hello', '/xz/pkg/hello', '/zst/pkg/hello', '/plain.txt'), 'from the archive\n'.repeat(4) + 'not an archive');
  });

  test('heredocs, ENV/ARG expansion, SHELL, and a warning for an unused --build-arg', async () => {
    const dir = ctx({
      Dockerfile: [
        'ARG BASE=busybox',
        'FROM --platform=$BUILDPLATFORM ${BASE}',
        'ARG WHO TARGETARCH',
        'RUN echo "arch=$TARGETARCH" > /arch',
        'ENV DIR=/data WHO=${WHO:-nobody}',
        'WORKDIR $DIR',
        'RUN <<EOF',
        'echo "made by $WHO" > made',
        'echo heredoc-ran',
        'EOF',
        'COPY <<EOT ${DIR}/conf',
        'dir=${DIR}',
        'EOT',
        'SHELL ["/bin/sh", "-ec"]',
        'RUN test "$(cat /data/conf)" = "dir=/data"',
        '',
      ].join('\n'),
    });
    const r = await build(['-t', 'vars:1', '--build-arg', 'WHO=tester', '--build-arg', 'UNUSED=1', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /heredoc-ran/);
    assert.match(r.stderr, /build-args \[UNUSED\] were not consumed/);
    assert.equal(await out('vars:1', 'cat', 'made', 'conf'), 'made by tester\ndir=/data\n');
    assert.match(await out('vars:1', 'cat', '/arch'), /^arch=(amd64|arm64)\n$/);
  });

  test('secrets reach RUN only: in no layer, history entry or log', async () => {
    const secretValue = `s3cret-${process.pid}-value`;
    const secretFile = path.join(ctx({}), 'token');
    fs.writeFileSync(secretFile, secretValue);
    const dir = ctx({
      Dockerfile: `FROM busybox\nRUN --mount=type=secret,id=token test "$(wc -c < /run/secrets/token)" -eq ${secretValue.length} && echo secret-seen\n` +
        'RUN --mount=type=secret,id=token,target=/tok cp /tok /copy && rm /copy\n',
    });
    const r = await build(['-t', 'sec:1', '--secret', `id=token,src=${secretFile}`, dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, new RegExp(secretValue));
    const saved = execFileSync(BERTH, ['save', 'sec:1'], { env: root.env(), maxBuffer: 1 << 28 });
    assert.equal(saved.includes(Buffer.from(secretValue)), false);
    const hist = await root.run(['history', '--no-trunc', 'sec:1']);
    assert.doesNotMatch(hist.stdout, new RegExp(secretValue));
    // The mount point itself is no part of the layer.
    assert.match(r.stderr, /secret-seen/);
    assert.equal(await out('sec:1', 'sh', '-c', 'test -e /run/secrets || test -e /tok || echo absent'), 'absent\n');
    assertClean();
  });

  test('a failing step names the step and its status, and leaves nothing behind', async () => {
    const dir = ctx({ Dockerfile: 'FROM busybox\nRUN echo before\nRUN echo failing; exit 3\nRUN echo never\n' });
    const r = await build(['-t', 'fail:1', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\[stage-0 3\/4\] RUN echo failing; exit 3: .*exit code: 3/);
    assert.doesNotMatch(r.stderr, /#\d+ [\d.]+ never/);
    assert.equal((await root.run(['image', 'inspect', 'fail:1'])).code, 1);
    assertClean();
  });

  test('Ctrl-C during a RUN stops the build and removes its container and scratch files', async () => {
    const dir = ctx({ Dockerfile: 'FROM busybox\nCOPY . /ctx\nRUN echo started; sleep 60\n' });
    const child = spawn(BERTH, ['build', '--progress', 'plain', dir], { env: root.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    await root.until(() => err, (e) => /started/.test(e), 30_000);
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.ok(Date.now() - t0 < 15_000, err);
    assert.notEqual(code, 0);
    assert.match(err, /canceled/);
    assertClean();
  });

  test('no path leaves the context or the image: ../ sources, context symlinks, destination symlinks', async () => {
    const dir = ctx({ 'f.txt': 'inside\n' });
    fs.symlinkSync('/etc/hostname', path.join(dir, 'abs-link'));
    fs.symlinkSync('../../../../../../etc', path.join(dir, 'up-link'));
    const escape = await build(['-f', '-', dir], 'FROM busybox\nCOPY ../f.txt /x\n');
    assert.equal(escape.code, 1);
    assert.match(escape.stderr, /outside the build context/);
    // A symlink in the context resolves with the context as "/": /etc/hostname of the context (absent).
    const abs = await build(['-f', '-', dir], 'FROM busybox\nCOPY abs-link /x\n');
    assert.equal(abs.code, 1);
    assert.match(abs.stderr, /not found/);
    const up = await build(['-f', '-', dir], 'FROM busybox\nCOPY up-link/passwd /x\n');
    assert.equal(up.code, 1);
    // A destination through a symlink in the image lands inside the image.
    const marker = `berth-build-escape-${process.pid}`;
    const dest = await build(['-t', 'esc:1', '-f', '-', dir], `FROM busybox\nRUN ln -s /tmp /out && ln -s / /root-link\nCOPY f.txt /out/${marker}\nCOPY f.txt /root-link/tmp/${marker}-2\n`);
    assert.equal(dest.code, 0, dest.stderr);
    assert.equal(fs.existsSync(`/tmp/${marker}`), false);
    assert.equal(fs.existsSync(`/tmp/${marker}-2`), false);
    assert.equal(await out('esc:1', 'cat', `/tmp/${marker}`, `/tmp/${marker}-2`), 'inside\ninside\n');
  });

  test('a context on stdin (tar, and a Dockerfile alone), -f -, --iidfile and --output local/tar', async () => {
    const dir = ctx({ Dockerfile: 'FROM busybox\nCOPY hello /hello\n', hello: 'from stdin\n' });
    const tar = execFileSync('tar', ['-C', dir, '-c', '.']);
    const iid = path.join(dir, 'iid');
    const r = await build(['-t', 'stdin:1', '--iidfile', iid, '-'], tar);
    assert.equal(r.code, 0, r.stderr);
    assert.match(fs.readFileSync(iid, 'utf8'), /^sha256:[a-f0-9]{64}$/);
    assert.equal(await out('stdin:1', 'cat', '/hello'), 'from stdin\n');
    const alone = await build(['-t', 'stdin:2', '-'], 'FROM busybox\nRUN echo alone > /a\n');
    assert.equal(alone.code, 0, alone.stderr);
    const dest = path.join(dir, 'out');
    const o = await build(['-o', `type=local,dest=${dest}`, '-o', `type=tar,dest=${dir}/out.tar`, dir]);
    assert.equal(o.code, 0, o.stderr);
    assert.equal(fs.readFileSync(path.join(dest, 'hello'), 'utf8'), 'from stdin\n');
    assert.ok(fs.existsSync(path.join(dest, 'bin/busybox')));
    assert.match(execFileSync('tar', ['-tf', `${dir}/out.tar`]).toString(), /^hello$/m);
  });

  test('--cache-from: an image built here serves as the cache when the local cache is gone', async () => {
    const dir = ctx({ Dockerfile: 'FROM busybox\nRUN echo cf-$((1+1)) > /x\nCOPY f.txt /f\nRUN echo cf-$((2+1)) >> /x\n', 'f.txt': 'one' });
    assert.equal((await build(['-t', 'cf:1', dir])).code, 0);
    fs.rmSync(path.join(root.dir, 'build', 'cache'), { recursive: true, force: true });
    const hit = await build(['--cache-from', 'cf:1', '-t', 'cf:2', dir]);
    assert.equal(hit.code, 0, hit.stderr);
    assert.doesNotMatch(hit.stderr, /cf-\d/);
    assert.equal((hit.stderr.match(/CACHED/g) ?? []).length, 3);
    // Changed content is not taken from the cache image: the COPY and what follows run again.
    fs.writeFileSync(path.join(dir, 'f.txt'), 'two');
    fs.rmSync(path.join(root.dir, 'build', 'cache'), { recursive: true, force: true });
    const partial = await build(['--cache-from', 'cf:1', '-t', 'cf:3', dir]);
    assert.equal((partial.stderr.match(/CACHED/g) ?? []).length, 1);
    assert.equal(await out('cf:3', 'cat', '/x', '/f'), 'cf-2\ncf-3\ntwo');
    const missing = await build(['--cache-from', 'no-such-image-here:1', dir]);
    assert.equal(missing.code, 0, missing.stderr);
    assert.match(missing.stderr, /WARNING: --cache-from no-such-image-here:1/);
  });

  test('ONBUILD, ADD from a URL with --checksum, --chown/--chmod, RUN bind and cache mounts, --network none, --platform', async () => {
    const http = await import('node:http');
    const crypto = await import('node:crypto');
    const body = 'downloaded\n';
    const server = http.createServer((_req, res) => res.end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const parent = ctx({ Dockerfile: 'FROM busybox\nONBUILD COPY trigger.txt /trigger.txt\nONBUILD RUN echo onbuild-ran\n' });
      assert.equal((await build(['-t', 'parent:1', parent])).code, 0);
      const sum = crypto.createHash('sha256').update(body).digest('hex');
      const dir = ctx({
        'trigger.txt': 'triggered\n',
        'data/a': 'bound\n',
        Dockerfile: [
          'FROM parent:1',
          `ADD --checksum=sha256:${sum} http://127.0.0.1:${port}/file.txt /dl/`,
          'COPY --chown=1234:99 --chmod=640 trigger.txt /owned',
          'RUN --mount=type=bind,source=data,target=/mnt cat /mnt/a > /from-bind',
          'RUN --mount=type=cache,target=/cache,id=c1 echo n >> /cache/count && wc -l < /cache/count > /cache-count',
          'RUN ip -o link | grep -v " lo" | wc -l > /links',
          '',
        ].join('\n'),
      });
      const r = await build(['-t', 'child:1', '--network', 'none', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /onbuild-ran/);
      assert.equal(await out('child:1', 'sh', '-c', 'cat /trigger.txt /dl/file.txt /from-bind /cache-count /links; stat -c "%u:%g %a" /owned; test -e /mnt/a || echo unbound'), 'triggered\ndownloaded\nbound\n1\n0\n1234:99 640\nunbound\n');
      // The triggers ran here and are not passed on.
      const insp = JSON.parse((await root.run(['image', 'inspect', 'child:1'])).stdout)[0];
      assert.equal(insp.Config.OnBuild ?? null, null);
      // The cache mount persists across builds.
      const again = await build(['--no-cache', '-t', 'child:2', '--network', 'none', dir]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(await out('child:2', 'cat', '/cache-count'), '2\n');
      const badSum = await build(['-f', '-', dir], `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} http://127.0.0.1:${port}/file.txt /x\n`);
      assert.equal(badSum.code, 1);
      assert.match(badSum.stderr, /digest mismatch/);
      const arm = await build(['--platform', 'linux/arm64', '-f', '-', dir], 'FROM busybox\n');
      assert.equal(arm.code, 1);
      assert.match(arm.stderr, /host's platform/);
    } finally {
      server.close();
    }
    assertClean();
  });

  describe('through the daemon', () => {
    let daemon: ReturnType<typeof spawn> | undefined;
    let sock = '';
    before(async () => {
      sock = path.join(root.dir, 'd.sock');
      daemon = spawn(BERTH, ['daemon', '-H', `unix://${sock}`], { env: root.env(), stdio: 'ignore' });
      await root.until(() => fs.existsSync(sock), (x) => x, 15_000);
    });
    after(async () => {
      if (daemon && daemon.exitCode === null) {
        const gone = new Promise((r) => daemon!.once('exit', r));
        daemon.kill('SIGTERM');
        await gone;
      }
    });

    test('docker build with the real docker CLI (classic builder)', { skip: !fs.existsSync('/usr/local/bin/docker') && 'needs the docker CLI' }, async () => {
      const dir = ctx({ Dockerfile: 'FROM busybox\nRUN echo built > /b.txt\nCOPY f.txt /f.txt\nCMD ["cat", "/b.txt", "/f.txt"]\n', 'f.txt': 'file\n' });
      const env = { ...process.env, DOCKER_BUILDKIT: '0', DOCKER_HOST: `unix://${sock}` };
      const r = spawnSync('docker', ['build', '-t', 'viadocker:1', '-t', 'viadocker:2', '.'], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Step 1\/4 : FROM busybox/);
      assert.match(r.stdout, /Successfully built [a-f0-9]{12}/);
      assert.match(r.stdout, /Successfully tagged viadocker:2/);
      assert.equal(await out('viadocker:1'), 'built\nfile\n');
      const again = spawnSync('docker', ['build', '-f', path.join(dir, 'Dockerfile'), '.'], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
      assert.match(again.stdout, /Using cache/);
      fs.writeFileSync(path.join(dir, 'Multi'), 'FROM busybox AS one\nARG MSG\nRUN echo "$MSG" > /m\nFROM busybox AS two\nRUN exit 9\n');
      const q = spawnSync('docker', ['build', '-q', '-f', 'Multi', '--target', 'one', '--build-arg', 'MSG=hi', '--label', 'via=docker', '-t', 'viadocker:3', '.'], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
      assert.equal(q.status, 0, q.stderr);
      assert.match(q.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
      assert.equal(await out('viadocker:3', 'cat', '/m'), 'hi\n');
      const labels = spawnSync('docker', ['image', 'inspect', '-f', '{{json .Config.Labels}}', 'viadocker:3'], { env, encoding: 'utf8' });
      assert.equal(labels.stdout.trim(), '{"via":"docker"}');
      const bad = spawnSync('docker', ['build', '-f', '-', '.'], { cwd: dir, env, input: 'FROM busybox\nRUN exit 4\n', encoding: 'utf8', timeout: 120_000 });
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr + bad.stdout, /The command '\/bin\/sh -c exit 4' returned a non-zero code: 4/);
      const hist = spawnSync('docker', ['history', 'viadocker:1'], { env, encoding: 'utf8' });
      assert.match(hist.stdout, /COPY f.txt \/f.txt # buildkit/);
      assertClean();
    });

    test('dockerode buildImage and docker-compose 1.x build', async () => {
      const { default: Docker } = await import('dockerode');
      const dir = ctx({ Dockerfile: 'FROM busybox\nARG N\nRUN echo "n=$N" > /n\n', 'docker-compose.yml': 'version: "3"\nservices:\n  app:\n    build: .\n    image: composed:1\n' });
      const d = new Docker({ socketPath: sock });
      const stream = await d.buildImage({ context: dir, src: ['Dockerfile'] }, { t: 'dode:1', buildargs: { N: '3' } });
      const msgs = await new Promise<Array<{ stream?: string; aux?: { ID: string }; error?: string }>>((resolve, reject) => d.modem.followProgress(stream, (err: Error | null, r: Array<{ stream?: string; aux?: { ID: string }; error?: string }>) => (err ? reject(err) : resolve(r))));
      assert.ok(msgs.some((m) => m.aux?.ID?.startsWith('sha256:')));
      assert.ok(!msgs.some((m) => m.error), JSON.stringify(msgs));
      assert.equal(await out('dode:1', 'cat', '/n'), 'n=3\n');
      if (spawnSync('sh', ['-c', 'command -v docker-compose']).status === 0) {
        const r = spawnSync('docker-compose', ['build'], { cwd: dir, env: { ...process.env, DOCKER_HOST: `unix://${sock}` }, encoding: 'utf8', timeout: 120_000 });
        assert.equal(r.status, 0, r.stderr + r.stdout);
        assert.equal(await out('composed:1', 'cat', '/n'), 'n=\n');
      }
    });

    test('a client that hangs up mid-build cancels it: nothing is left behind', async () => {
      const http = await import('node:http');
      const dir = ctx({ Dockerfile: 'FROM busybox\nRUN echo started; sleep 60\n' });
      const tar = execFileSync('tar', ['-C', dir, '-c', '.']);
      const t0 = Date.now();
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ socketPath: sock, path: '/build?t=hangup:1', method: 'POST', headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
          let text = '';
          res.on('data', (d) => {
            text += d;
            if (text.includes('{"stream":"started\\n"}')) {
              req.destroy();
              resolve();
            }
          });
        });
        req.on('error', () => undefined);
        setTimeout(() => reject(new Error('the RUN did not start')), 30_000).unref();
        req.end(tar);
      });
      const tmp = path.join(root.dir, 'tmp');
      await root.until(() => [...root.leftovers(), ...(fs.existsSync(tmp) ? fs.readdirSync(tmp) : [])], (l) => l.length === 0, 15_000);
      assertClean();
      assert.ok(Date.now() - t0 < 30_000);
      assert.equal((await root.run(['image', 'inspect', 'hangup:1'])).code, 1);
    });

    test('docker-py: client.images.build(path=...)', { skip: spawnSync('python3', ['-c', 'import docker']).status !== 0 && 'needs python3-docker' }, () => {
      const dir = ctx({ Dockerfile: 'FROM busybox\nARG X\nRUN echo "x=$X" > /x\nLABEL made=py\n' });
      const script = `
import docker, sys
c = docker.DockerClient(base_url='unix://${sock}')
img, logs = c.images.build(path='${dir}', tag='py:1', buildargs={'X': '5'}, labels={'k': 'v'}, rm=True)
print(img.id, img.labels['made'], img.labels['k'])
try:
    c.images.build(fileobj=__import__('io').BytesIO(b'FROM busybox\\nRUN exit 2\\n'))
except docker.errors.BuildError as e:
    print('BuildError', e.msg)
`;
      const r = spawnSync('python3', ['-c', script], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^sha256:[a-f0-9]{64} py v\n/);
      assert.match(r.stdout, /BuildError The command '\/bin\/sh -c exit 2' returned a non-zero code: 2/);
    });
  });
});
