// The fuzz targets (fuzz/targets.ts), seeded and bounded so the suite stays fast and repeatable;
// `npm run fuzz` runs the same targets for longer with fresh seeds. Counterexamples the fuzzer
// found are kept below as regression cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { Engine } from '../../src/engine/engine.ts';
import { loadImages } from '../../src/image/archive.ts';
import { ALL as TARGETS } from '../../fuzz/all.ts';
import { seedArchives } from '../../fuzz/archive.ts';
import { corpus } from '../../fuzz/targets.ts';

const SEED = 21;
const RUNS = Number(process.env.BERTH_FUZZ_RUNS ?? 500);

// Loading is slower (a real store, layers unpacked): fewer inputs.
const runsOf = (name: string) => (name === 'archive' ? Math.ceil(RUNS / 10) : RUNS);

for (const t of TARGETS) {
  test(`fuzz: ${t.name} (${runsOf(t.name)} seeded inputs)`, async () => {
    await fc.assert(fc.asyncProperty(t.arb, async (input) => t.check(input)), { seed: SEED, numRuns: runsOf(t.name) });
  });
}

test('the archive corpus is what seedArchives() makes, and both seeds load', async () => {
  assert.deepEqual(corpus('archive'), Object.values(seedArchives()));
  // A seed that did not load would make every mutation a trivial refusal.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fuzz-seed-'));
  try {
    const images = new Engine(dir).images;
    for (const seed of corpus('archive')) {
      const loaded = await loadImages(images, (async function* () { yield seed; })());
      assert.equal(loaded.length, 1);
    }
    assert.deepEqual(images.list().flatMap((i) => i.names).sort(), ['docker.io/fuzz/docker:1', 'docker.io/fuzz/oci:1']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- regression cases found by fuzzing

import { BerthError } from '../../src/core/errors.ts';
import { familiarReference, parseReference } from '../../src/image/reference.ts';
import { matches, parseFilters } from '../../src/engine/filters.ts';
import { filters as apiFilters } from '../../src/api/http.ts';
import { parseProfile } from '../../src/kernel/seccomp.ts';
import { createOptions } from '../../src/api/translate.ts';
import type { Container } from '../../src/engine/container/types.ts';

const refused = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof BerthError && e.code === 'InvalidArgument' && message.test(e.message));

test('fuzz regression: a Docker Hub path whose first component has a dot keeps docker.io/ in its familiar form', () => {
  const r = parseReference('docker.io/a.b/c:1');
  assert.equal(familiarReference(r), 'docker.io/a.b/c:1');
  assert.deepEqual(parseReference(familiarReference(r)), r);
  assert.equal(familiarReference(parseReference('docker.io/localhost/c')), 'docker.io/localhost/c:latest');
  // The ordinary short forms stay short.
  assert.equal(familiarReference(parseReference('busybox')), 'busybox:latest');
  assert.equal(familiarReference(parseReference('docker.io/me/app.x:2')), 'me/app.x:2');
});

test('fuzz regression: a name filter that is not a valid regular expression matches nothing (moby), not a SyntaxError', () => {
  const c = { record: { Id: 'a'.repeat(64), Name: '/(', Created: '', Config: {} }, state: { Status: 'running' } } as unknown as Container;
  assert.equal(matches(c, parseFilters(['name=(']), () => undefined, [c]), false);
  assert.equal(matches(c, apiFilters(new URLSearchParams({ filters: '{"name":["x)"]}' })), () => undefined, [c]), false);
  assert.equal(matches(c, parseFilters(['name=\\(']), () => undefined, [c]), true);
});

test('fuzz regression: a seccomp value beyond 2^53 in an error message is shown, not a BigInt TypeError', () => {
  refused(() => parseProfile('{"defaultAction": 9007199254740993, "syscalls": []}'), /unknown action "9007199254740993"/);
  refused(() => parseProfile('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":18446744073709551615,"value":0,"op":"SCMP_CMP_EQ"}]}]}'), /index must be 0-5, got "18446744073709551615"/);
});

test('fuzz regression: create bodies with wrong JSON types are 400s naming the field, not TypeErrors', () => {
  const body = (host: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ Image: 'busybox', HostConfig: host, ...extra });
  refused(() => createOptions(body({ Mounts: {} }), null), /HostConfig.Mounts must be a list/);
  refused(() => createOptions(body({ Mounts: true }), null), /HostConfig.Mounts must be a list/);
  refused(() => createOptions(body({ PortBindings: { '80/tcp': 5 } }), null), /PortBindings\["80\/tcp"\] must be a list/);
  refused(() => createOptions(body({ Tmpfs: { '/run': {} } }), null), /HostConfig.Tmpfs: the value of "\/run" must be a string/);
  refused(() => createOptions(body({ Tmpfs: [] }), null), /HostConfig.Tmpfs must be an object/);
  refused(() => createOptions(body({ RestartPolicy: 'always' }), null), /RestartPolicy must be an object/);
  refused(() => createOptions(body({ Ulimits: 5 }), null), /Ulimits must be a list/);
  refused(() => createOptions(body({ Sysctls: { 'net.x': 1 } }), null), /Sysctls: the value of "net.x" must be a string/);
  refused(() => createOptions(body({ LogConfig: { Type: 'json-file', Config: { 'max-size': 5 } } }), null), /LogConfig.Config/);
  refused(() => createOptions(body({}, { Labels: { a: 1 } }), null), /Labels: the value of "a" must be a string/);
  refused(() => createOptions(body({}, { Volumes: ['/data'] }), null), /Volumes must be an object/);
  refused(() => createOptions(body({}, { NetworkingConfig: { EndpointsConfig: 'x' } }), null), /EndpointsConfig must be an object/);
  // The well-typed forms still go through.
  const ok = createOptions(body({ Mounts: null, PortBindings: { '80/tcp': null }, Tmpfs: { '/run': 'size=1m' }, Sysctls: null, RestartPolicy: null }, { Labels: { a: 'b' }, Volumes: { '/data': {} } }), null);
  assert.deepEqual(ok.labels, { a: 'b' });
  assert.deepEqual(ok.host!.PortBindings, { '80/tcp': [] });
  assert.deepEqual(ok.host!.Mounts!.map((m) => m.Target), ['/run', '/data']);
});

test('fuzz regression: API filters with an object inside a value list are a 400, not a TypeError', () => {
  refused(() => apiFilters(new URLSearchParams({ filters: '{"label":[{"toString":null}]}' })), /values of "label" must be strings/);
  refused(() => apiFilters(new URLSearchParams({ filters: '{"label":[["a"]]}' })), /must be strings/);
  assert.deepEqual(apiFilters(new URLSearchParams({ filters: '{"exited":[0],"label":{"a=b":true,"c":false}}' })), new Map([['exited', ['0']], ['label', ['a=b']]]));
});

test('fuzz regression: compose files: a tagged top-level include or services is read, not iterated as an object; an alias inside its own node is refused', async () => {
  const { loadProject } = await import('../../src/compose/load.ts');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fuzz-compose-'));
  try {
    const load = (text: string) => {
      fs.writeFileSync(path.join(dir, 'compose.yaml'), text);
      return loadProject({ files: [path.join(dir, 'compose.yaml')], cwd: dir, env: {}, envFiles: [], projectName: 'p' });
    };
    // The fuzzer's input: `include: !reset` threw "object is not iterable".
    assert.deepEqual(Object.keys(load('include:\n  !reset\n\n').services), []);
    assert.deepEqual(Object.keys(load('services: !override\n  web:\n    image: busybox\n').services), ['web']);
    assert.deepEqual(Object.keys(load('services: !reset\n').services), []);
    // The fuzzer's second input: an alias inside the node it names expanded until the stack ran out.
    refused(() => load('!resetx-common: &c\n<<: *c'), /yaml: the alias \*c refers to a node that contains it/);
    refused(() => load('x-a: &x\n  b: [1, *x]\nservices: {}\n'), /the alias \*x refers to a node that contains it/);
    // An include's env_file that is not there is a clean refusal.
    fs.writeFileSync(path.join(dir, 'other.yaml'), 'services:\n  db:\n    image: busybox\n');
    refused(() => load('include:\n  - path: other.yaml\n    env_file: missing.env\n'), /couldn't read env file missing\.env: ENOENT/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
