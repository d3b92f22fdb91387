// Fuzz targets: one per parser or round trip that takes hostile input. Each is a fast-check
// arbitrary plus a check that throws on a violated property. The rule every parser keeps: on bad
// input the only exception is a BerthError, and no input takes longer than SLOW_MS.
// The unit suite runs these seeded with a few hundred inputs each (test/unit/fuzz.test.ts);
// `npm run fuzz` (scripts/fuzz.ts) runs them for a time budget. Byte targets start from the seed
// corpus in fuzz/corpus/<target>/ and mutate it, so they reach past the first header check.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { BerthError } from '../src/core/errors.ts';
import { parseBytes, parseCpus, parseDuration, parseMemory } from '../src/core/units.ts';
import { TarParser, type TarEntry } from '../src/image/tar.ts';
import { familiarReference, formatReference, parseReference } from '../src/image/reference.ts';
import { parseImageConfig, parseManifest, parsePlatform, formatPlatform } from '../src/image/manifest.ts';
import { tarHeader } from '../src/snapshot/diff.ts';
import { compileProfile, parseProfile } from '../src/kernel/seccomp.ts';
import { DEFAULT_CAPS } from '../src/kernel/capabilities.ts';
import { matches, parseFilters } from '../src/engine/filters.ts';
import type { Container } from '../src/engine/container/types.ts';
import { filters as apiFilters } from '../src/api/http.ts';
import { createOptions } from '../src/api/translate.ts';
import { parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from '../src/engine/volumes.ts';
import { parsePortKey, parsePublish } from '../src/network/ports.ts';
import { parseDeviceFlag, parseDeviceRule } from '../src/kernel/devices.ts';
import { checkCpuset } from '../src/kernel/cpuset.ts';

/** An input slower than this is a failure (a hang in the making). */
export const SLOW_MS = 2000;

export interface Target<T = unknown> {
  name: string;
  arb: fc.Arbitrary<T>;
  check(input: T): void | Promise<void>;
}

/** A property failure that is not the parser's own error: what the fuzzer reports. */
export class Violation extends Error {}

/** Runs fn; a BerthError is a clean refusal, anything else (TypeError, RangeError, ...) is a bug. */
export function clean<R>(what: string, fn: () => R): R | undefined {
  const t0 = performance.now();
  try {
    return fn();
  } catch (err) {
    if (err instanceof BerthError) {
      if (!err.message) throw new Violation(`${what}: BerthError without a message`);
      return undefined;
    }
    throw new Violation(`${what}: threw ${(err as Error)?.name ?? typeof err}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  } finally {
    const ms = performance.now() - t0;
    if (ms > SLOW_MS) throw new Violation(`${what}: took ${Math.round(ms)} ms`);
  }
}

// ---------------------------------------------------------------- seed corpus and mutation

const CORPUS = path.join(import.meta.dirname, 'corpus');

export function corpus(target: string): Buffer[] {
  const dir = path.join(CORPUS, target);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).sort().map((f) => fs.readFileSync(path.join(dir, f)));
}

export type Op = [kind: number, pos: number, value: number];

/** A few byte-level edits of a seed: flips, sets, truncations, insertions, deletions, splices. */
export function mutateBytes(seed: Buffer, ops: Op[]): Buffer {
  let b = Buffer.from(seed);
  for (const [kind, pos, value] of ops) {
    const at = b.length ? pos % b.length : 0;
    switch (kind) {
      case 0: if (b.length) b[at] ^= 1 << (value & 7); break; // bit flip
      case 1: if (b.length) b[at] = value & 0xff; break; // byte set
      case 2: b = b.subarray(0, at); break; // truncate
      case 3: b = Buffer.concat([b.subarray(0, at), Buffer.alloc(1 + (value % 64), value & 0xff), b.subarray(at)]); break; // insert
      case 4: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + (value % 512)))]); break; // delete a run
      case 5: if (b.length) b.write(String(value * 7919), at, 'latin1'); break; // digits over a numeric field
      default: if (b.length >= 2) b.copy(b, at, value % b.length, (value % b.length) + 1 + (value % 16)); // splice within
    }
  }
  return b;
}

/** Bytes: raw noise, or a corpus seed with a few mutations. */
export function bytesFrom(seeds: Buffer[], maxLength = 4096): fc.Arbitrary<Buffer> {
  const raw = fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
  if (!seeds.length) return raw;
  const op = fc.tuple(fc.nat(6), fc.nat(), fc.nat(1 << 20)) as fc.Arbitrary<Op>;
  const mutated = fc.tuple(fc.nat(seeds.length - 1), fc.array(op, { minLength: 1, maxLength: 8 })).map(([i, ops]) => mutateBytes(seeds[i], ops));
  return fc.oneof({ weight: 1, arbitrary: raw }, { weight: 4, arbitrary: mutated }, { weight: 1, arbitrary: fc.constantFrom(...seeds) });
}

/** JSON values biased to the shapes a parser looks at: the given keys, at any depth. */
export function jsonish(keys: string[], depthSize: fc.DepthSize = 'small'): fc.Arbitrary<unknown> {
  const key = keys.length ? fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 8 })) : fc.string({ maxLength: 8 });
  const leaf = fc.oneof(
    fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string({ maxLength: 16 }),
    fc.constantFrom('', 'sha256:' + 'a'.repeat(64), 'sha256:xyz', '__proto__', 'constructor', 'toString', -1, 2 ** 53, 1e308),
  );
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize, withCrossShrink: true }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc.dictionary(key, tie('value'), { maxKeys: 6 }),
  }));
  return value;
}

// ---------------------------------------------------------------- tar

interface Parsed { e: TarEntry; body: Buffer }

function parseTar(buf: Buffer, step: number): Parsed[] {
  const out: Parsed[] = [];
  let cur: Buffer[] | null = null;
  const p = new TarParser({
    entry(e) { cur = []; out.push({ e, body: Buffer.alloc(0) }); },
    data(chunk) { cur!.push(Buffer.from(chunk)); },
    endEntry() { out[out.length - 1].body = Buffer.concat(cur!); cur = null; },
  });
  for (let i = 0; i < buf.length; i += step) p.write(buf.subarray(i, i + step));
  p.end();
  return out;
}

const tarBytes: Target<{ buf: Buffer; step: number }> = {
  name: 'tar',
  arb: fc.record({ buf: bytesFrom(corpus('tar'), 8192), step: fc.oneof(fc.constant(1 << 20), fc.integer({ min: 1, max: 1024 })) }),
  check({ buf, step }) {
    clean('TarParser', () => {
      const entries = parseTar(buf, step);
      for (const { e, body } of entries) {
        // Whatever the archive said, what reaches the handler is well-formed.
        assert.ok(e.path.length > 0, 'empty path');
        assert.equal(body.length, e.size, `body of ${e.path} is not its size`);
        assert.ok(Number.isSafeInteger(e.size) && e.size >= 0, 'size out of range');
      }
    });
  },
};

const tarName = fc.stringMatching(/^[a-zA-Z0-9._\- /é]{1,300}$/).filter((s) => !s.endsWith('/') && !s.includes('\0'));
const tarEntryArb = fc.record({
  name: tarName,
  type: fc.constantFrom('0', '2', '5') as fc.Arbitrary<'0' | '2' | '5'>,
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  gid: fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  mtime: fc.integer({ min: 0, max: 2 ** 33 - 1 }),
  body: fc.uint8Array({ maxLength: 1500 }).map((a) => Buffer.from(a)),
  linkname: fc.stringMatching(/^[a-z0-9./]{1,200}$/),
  xattrs: fc.dictionary(fc.stringMatching(/^user\.[a-z]{1,8}$/), fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)), { maxKeys: 2 }),
});

/** src's writer (snapshot/diff.ts tarHeader, which commit and save use) read back by src's reader. */
type TarEntryIn = typeof tarEntryArb extends fc.Arbitrary<infer U> ? U : never;
const tarRoundTrip: Target<{ entries: TarEntryIn[]; step: number }> = {
  name: 'tar-roundtrip',
  arb: fc.record({ entries: fc.array(tarEntryArb, { maxLength: 5 }), step: fc.integer({ min: 1, max: 2048 }) }),
  check({ entries, step }) {
    const parts: Buffer[] = [];
    for (const e of entries) {
      const body = e.type === '0' ? e.body : Buffer.alloc(0);
      const name = e.type === '5' ? `${e.name}/` : e.name;
      parts.push(tarHeader({ name, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, size: body.length, mtime: e.mtime, linkname: e.type === '2' ? e.linkname : undefined, xattrs: new Map(Object.entries(e.xattrs)) }));
      parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
    parts.push(Buffer.alloc(1024));
    const got = clean('TarParser on a written archive', () => parseTar(Buffer.concat(parts), step));
    if (!got) throw new Violation('the reader refused an archive the writer made');
    assert.equal(got.length, entries.length);
    entries.forEach((want, i) => {
      const { e, body } = got[i];
      assert.equal(e.path, want.type === '5' ? `${want.name}/` : want.name);
      assert.equal(e.type, ({ '0': 'file', '2': 'symlink', '5': 'dir' } as const)[want.type]);
      assert.deepEqual([e.mode, e.uid, e.gid, e.mtime], [want.mode, want.uid, want.gid, want.mtime]);
      if (want.type === '0') assert.deepEqual(body, want.body);
      if (want.type === '2') assert.equal(e.linkname, want.linkname);
      assert.deepEqual(Object.fromEntries(e.xattrs), { ...want.xattrs });
    });
  },
};

// ---------------------------------------------------------------- references

const component = fc.stringMatching(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/).filter((s) => s.length <= 40);
const validRef = fc.record({
  domain: fc.option(fc.constantFrom('docker.io', 'index.docker.io', 'localhost', 'localhost:5000', 'ghcr.io', 'my-reg.example.com:443', '[::1]:5000', 'Quay.IO')),
  path: fc.array(component, { minLength: 1, maxLength: 3 }),
  tag: fc.option(fc.stringMatching(/^[\w][\w.-]{0,20}$/)),
  digest: fc.option(fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`)),
}).map((r) => `${r.domain ? r.domain + '/' : ''}${r.path.join('/')}${r.tag ? ':' + r.tag : ''}${r.digest ? '@' + r.digest : ''}`);

const reference: Target<string> = {
  name: 'reference',
  arb: fc.oneof(validRef, fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.constantFrom('a'.repeat(5000), ':', '@', '/', 'a//b', 'A', 'a:b:c', 'a@sha256:', 'localhost', '[::1]/x')),
  check(s) {
    const r = clean('parseReference', () => parseReference(s));
    if (!r) return;
    // The canonical and the familiar forms name the same reference.
    // With a digest the canonical form drops the tag (the digest names the image, as a pull resolves it).
    const want = r.digest ? { ...r, tag: undefined } : r;
    assert.deepEqual(parseReference(formatReference(r)), want, `format round trip of ${JSON.stringify(s)}`);
    assert.deepEqual(parseReference(familiarReference(r)), want, `familiar round trip of ${JSON.stringify(s)}`);
  },
};

// ---------------------------------------------------------------- manifests and configs

const MANIFEST_KEYS = ['schemaVersion', 'mediaType', 'manifests', 'layers', 'config', 'digest', 'size', 'platform', 'os', 'architecture', 'variant', 'annotations', 'urls'];
const asBytes = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'null');
const manifestArb = fc.oneof(
  jsonish(MANIFEST_KEYS).map(asBytes),
  fc.record({
    schemaVersion: fc.constantFrom(2, 1, '2'),
    mediaType: fc.option(fc.constantFrom('application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json', 'x')),
    manifests: fc.option(fc.array(jsonish(MANIFEST_KEYS), { maxLength: 3 })),
    layers: fc.option(fc.array(jsonish(MANIFEST_KEYS), { maxLength: 3 })),
    config: fc.option(jsonish(MANIFEST_KEYS)),
  }, { requiredKeys: ['schemaVersion'] }).map(asBytes),
  bytesFrom(corpus('manifest'), 2048),
);

const manifest: Target<{ bytes: Buffer; contentType?: string }> = {
  name: 'manifest',
  arb: fc.record({ bytes: manifestArb, contentType: fc.option(fc.constantFrom('application/json', 'application/vnd.oci.image.index.v1+json; charset=utf-8', 'text/plain', ''), { nil: undefined }) }),
  check({ bytes, contentType }) {
    const m = clean('parseManifest', () => parseManifest(bytes, contentType));
    if (!m) return;
    const descs = m.kind === 'index' ? m.index.manifests : [m.manifest.config, ...m.manifest.layers];
    for (const d of descs) {
      assert.match(d.digest, /^sha256:[a-f0-9]{64}$/);
      assert.ok(Number.isSafeInteger(d.size) && d.size >= 0);
      assert.equal(typeof d.mediaType, 'string');
    }
  },
};

const imageConfig: Target<Buffer> = {
  name: 'image-config',
  arb: fc.oneof(
    jsonish(['rootfs', 'diff_ids', 'config', 'type', 'Env', 'Cmd']).map(asBytes),
    fc.record({ rootfs: fc.record({ type: fc.constant('layers'), diff_ids: fc.array(fc.oneof(fc.constant('sha256:' + 'b'.repeat(64)), jsonish([])), { maxLength: 3 }) }), config: jsonish(['Env', 'Cmd', 'Entrypoint']) }).map(asBytes),
    bytesFrom(corpus('image-config'), 2048),
  ),
  check(bytes) {
    const c = clean('parseImageConfig', () => parseImageConfig(bytes));
    if (!c) return;
    assert.ok(Array.isArray(c.rootfs.diff_ids));
    assert.ok(c.config === undefined || c.config === null || (typeof c.config === 'object' && !Array.isArray(c.config)));
  },
};

const platform: Target<string> = {
  name: 'platform',
  arb: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('linux/amd64', 'linux/arm64/v8', 'Linux/X86_64', 'linux', 'a/b/c/d')),
  check(s) {
    const p = clean('parsePlatform', () => parsePlatform(s));
    if (p) assert.deepEqual(parsePlatform(formatPlatform(p)), p);
  },
};

// ---------------------------------------------------------------- seccomp

const SECCOMP_KEYS = ['defaultAction', 'defaultErrnoRet', 'architectures', 'archMap', 'syscalls', 'names', 'name', 'action', 'args', 'index', 'value', 'valueTwo', 'op', 'errnoRet', 'includes', 'excludes', 'caps', 'arches', 'minKernel', 'comment'];
const seccompRule = fc.record({
  names: fc.array(fc.constantFrom('read', 'write', 'clone', 'mount', 'bogus', ''), { maxLength: 3 }),
  action: fc.constantFrom('SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_TRACE', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY', 'nope'),
  args: fc.option(fc.array(fc.record({ index: fc.integer({ min: -1, max: 7 }), value: fc.oneof(fc.nat(), fc.constant(-1)), valueTwo: fc.nat(), op: fc.constantFrom('SCMP_CMP_EQ', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_GT', 'SCMP_CMP_NE', 'bad') }), { maxLength: 3 })),
  errnoRet: fc.option(fc.integer({ min: -1, max: 70000 })),
  includes: fc.option(jsonish(SECCOMP_KEYS)),
  excludes: fc.option(jsonish(SECCOMP_KEYS)),
}, { requiredKeys: ['names', 'action'] });
const seccomp: Target<string> = {
  name: 'seccomp',
  arb: fc.oneof(
    jsonish(SECCOMP_KEYS).map((v) => JSON.stringify(v) ?? 'null'),
    fc.record({ defaultAction: fc.constantFrom('SCMP_ACT_ERRNO', 'SCMP_ACT_ALLOW', 'x'), architectures: fc.option(fc.array(fc.constantFrom('SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_FOO'))), syscalls: fc.array(seccompRule, { maxLength: 4 }) }).map((v) => JSON.stringify(v)),
    bytesFrom(corpus('seccomp'), 4096).map((b) => b.toString('utf8')),
  ),
  check(json) {
    const p = clean('parseProfile', () => parseProfile(json));
    if (!p) return;
    // A profile that parsed compiles, or is refused cleanly (e.g. too many instructions).
    clean('compileProfile', () => compileProfile(p, { caps: DEFAULT_CAPS }));
  },
};

// ---------------------------------------------------------------- filters

function fakeContainer(name: string): Container {
  return {
    record: { Id: 'a'.repeat(64), Name: name, Created: '2026-01-01T00:00:00Z', Image: 'sha256:' + 'c'.repeat(64), ImageName: 'busybox', Config: { Labels: { a: 'b' } } },
    state: { Status: 'running', ExitCode: 0 },
  } as unknown as Container;
}

const filterValue = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('(', '[', '*', 'a{2', '\\', '(?<', 'a=b', 'running'));
const filters: Target<{ cli: string[]; api: string }> = {
  name: 'filters',
  arb: fc.record({
    cli: fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.tuple(fc.constantFrom('label', 'name', 'id', 'status', 'ancestor', 'exited', 'before', 'since', 'x', 'NAME'), filterValue).map(([k, v]) => `${k}=${v}`)), { maxLength: 4 }),
    api: fc.oneof(
      fc.string({ maxLength: 30 }),
      jsonish(['label', 'name', 'id', 'status', 'dangling', 'reference']).map((v) => JSON.stringify(v) ?? ''),
      fc.dictionary(fc.constantFrom('label', 'name', 'id', 'status', 'exited', 'before'), fc.oneof(fc.array(filterValue, { maxLength: 3 }), fc.dictionary(filterValue, fc.boolean()))).map((v) => JSON.stringify(v)),
    ),
  }),
  check({ cli, api }) {
    const all = [fakeContainer('/web'), fakeContainer('/db')];
    const f = clean('parseFilters', () => parseFilters(cli));
    if (f) clean('matches (CLI filters)', () => all.map((c) => matches(c, f, () => undefined, all)));
    const g = clean('API filters', () => apiFilters(new URLSearchParams({ filters: api })));
    if (g) {
      for (const v of g.values()) assert.ok(v.every((x) => typeof x === 'string'));
      clean('matches (API filters)', () => all.map((c) => matches(c, g, () => undefined, all)));
    }
  },
};

// ---------------------------------------------------------------- the API's create body

const CREATE_KEYS = ['Image', 'Cmd', 'Entrypoint', 'Env', 'HostConfig', 'Binds', 'Mounts', 'Tmpfs', 'PortBindings', 'HostPort', 'HostIp', 'Devices', 'PathOnHost', 'RestartPolicy', 'Name', 'MaximumRetryCount', 'Memory', 'MemorySwap', 'NanoCpus', 'CpuQuota', 'CpuPeriod', 'CpusetCpus', 'CpusetMems', 'LogConfig', 'Type', 'Config', 'NetworkingConfig', 'EndpointsConfig', 'IPAMConfig', 'Aliases', 'Healthcheck', 'Test', 'Volumes', 'ExposedPorts', 'Labels', 'ConsoleSize', 'Target', 'Source', 'TmpfsOptions', 'SizeBytes', 'Mode', 'Ulimits', 'Sysctls', 'IpcMode', 'PidsLimit', 'OomScoreAdj', 'CapAdd', 'SecurityOpt', 'NetworkMode'];
const createBody: Target<unknown> = {
  name: 'create-body',
  arb: fc.oneof(
    jsonish(CREATE_KEYS, 'medium'),
    fc.record({ Image: fc.constantFrom('busybox', '', 5), HostConfig: fc.dictionary(fc.constantFrom(...CREATE_KEYS), jsonish(CREATE_KEYS), { maxKeys: 4 }) }),
    fc.record({ Image: fc.constant('busybox'), NetworkingConfig: jsonish(CREATE_KEYS), Healthcheck: jsonish(CREATE_KEYS), Volumes: jsonish(CREATE_KEYS) }),
  ),
  check(body) {
    // The API hands createOptions what readJson parsed: any JSON object.
    const json = JSON.parse(JSON.stringify(body) ?? 'null'); // as JSON.parse makes it (no null prototypes, no -0)
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return;
    clean('createOptions', () => createOptions(json, null));
  },
};

// ---------------------------------------------------------------- units

const units: Target<string> = {
  name: 'units',
  arb: fc.oneof(fc.string({ maxLength: 24 }), fc.stringMatching(/^[\d.]{0,12} ?[kmgtpbiKMGTPBI]{0,3}$/), fc.stringMatching(/^(\d{1,6}(\.\d{1,3})?(ns|us|µs|ms|s|m|h)){0,4}$/), fc.constantFrom('9'.repeat(400), '1e3', '.', '0x10', 'Infinity')),
  check(s) {
    const b = clean('parseBytes', () => parseBytes(s));
    if (b !== undefined) {
      assert.ok(Number.isSafeInteger(b) && b >= 0);
      assert.equal(parseBytes(String(b)), b);
    }
    const m = clean('parseMemory', () => parseMemory(s));
    if (m !== undefined) assert.ok(m === 0 || m >= 6 << 20);
    const c = clean('parseCpus', () => parseCpus(s));
    if (c !== undefined) assert.ok(Number.isSafeInteger(c) && c >= 1000);
    const d = clean('parseDuration', () => parseDuration(s));
    if (d !== undefined) assert.ok(Number.isFinite(d) && d >= 0, `duration ${d} from ${JSON.stringify(s)}`);
  },
};

// ---------------------------------------------------------------- run flags (also what the API's create body turns into)

const flagText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.array(fc.constantFrom('/data', 'vol', ':', ',', '=', 'ro', 'rw', 'z', 'type=bind', 'type=volume', 'type=tmpfs', 'source=', 'target=/x', 'readonly', 'tmpfs-size=', '1m', 'tmpfs-mode=', '777', '8080', '80/tcp', '-', '127.0.0.1', '[::1]', '/dev/null', 'c 1:3 rwm', 'a *:* m', '0-3', '99999999999999999999', '..', '\0'), { maxLength: 6 }).map((p) => p.join('')),
);
const flags: Target<string> = {
  name: 'flags',
  arb: flagText,
  check(s) {
    clean('parseVolumeFlag', () => parseVolumeFlag(s));
    clean('parseMountFlag', () => parseMountFlag(s));
    clean('parseTmpfsFlag', () => parseTmpfsFlag(s));
    clean('parsePublish', () => parsePublish(s));
    clean('parsePortKey', () => parsePortKey(s));
    clean('parseDeviceFlag', () => parseDeviceFlag(s));
    clean('parseDeviceRule', () => parseDeviceRule(s));
    clean('checkCpuset', () => checkCpuset(s, 'cpus'));
  },
};

export const TARGETS: Target<any>[] = [tarBytes, tarRoundTrip, reference, manifest, imageConfig, platform, seccomp, filters, createBody, flags, units];
