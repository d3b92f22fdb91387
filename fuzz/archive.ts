// The archive target: `load` (src/image/archive.ts) on mutated docker-archive and OCI-layout tars,
// into a real image store under a private state root. Mutations work on the archive's members
// (their bodies, names, links, order) as well as on raw bytes, so inputs get past the tar checksum
// into manifest.json, index.json, the configs and the layers. Besides "only BerthErrors", a
// refused load must leave the store as it found it: no image, blob, layer or staging directory.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { Engine } from '../src/engine/engine.ts';
import { loadImages } from '../src/image/archive.ts';
import type { ImageStore } from '../src/image/store.ts';
import { TarParser } from '../src/image/tar.ts';
import { tar, type TEntry } from '../test/helpers/tarwriter.ts';
import { corpus, mutateBytes, type Target, Violation, SLOW_MS } from './targets.ts';

const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

/** Two small valid archives: a docker-archive and an OCI layout, one image of one layer each. */
export function seedArchives(): Record<string, Buffer> {
  const layer = tar([{ path: 'etc/', type: '5', mode: 0o755 }, { path: 'etc/hello', body: 'hello\n' }, { path: 'bin/sh', type: '2', linkname: '/bin/busybox' }]);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
  const hex = (b: Buffer) => sha(b).slice(7);
  const docker = tar([
    { path: `${hex(layer)}/layer.tar`, body: layer },
    { path: `${hex(config)}.json`, body: config },
    { path: 'manifest.json', body: JSON.stringify([{ Config: `${hex(config)}.json`, RepoTags: ['fuzz/docker:1'], Layers: [`${hex(layer)}/layer.tar`] }]) },
    { path: 'repositories', body: JSON.stringify({ 'fuzz/docker': { '1': hex(layer) } }) },
  ]);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length }],
  }));
  const oci = tar([
    { path: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
    { path: `blobs/sha256/${hex(layer)}`, body: layer },
    { path: `blobs/sha256/${hex(config)}`, body: config },
    { path: `blobs/sha256/${hex(manifest)}`, body: manifest },
    { path: 'index.json', body: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length, annotations: { 'io.containerd.image.name': 'docker.io/fuzz/oci:1', 'org.opencontainers.image.ref.name': '1' } }] }) },
  ]);
  return { 'docker.tar': docker, 'oci.tar': oci };
}

/** An archive's members, read with src's own tar reader (the seeds are well-formed). */
function members(archive: Buffer): TEntry[] {
  const out: TEntry[] = [];
  let body: Buffer[] = [];
  const p = new TarParser({
    entry(e) {
      body = [];
      out.push({ path: e.path, type: { file: '0', dir: '5', symlink: '2', hardlink: '1', char: '3', block: '4', fifo: '6' }[e.type], linkname: e.linkname, mode: e.mode });
    },
    data(c) { body.push(Buffer.from(c)); },
    endEntry() { out[out.length - 1].body = Buffer.concat(body); },
  });
  p.write(archive);
  p.end();
  return out;
}

type MemberOp =
  | { kind: 'body'; i: number; ops: Array<[number, number, number]> }
  | { kind: 'rename'; i: number; to: string }
  | { kind: 'link'; i: number; to: number; hard: boolean }
  | { kind: 'drop'; i: number }
  | { kind: 'dup'; i: number }
  | { kind: 'swap'; i: number; j: number };

const names = fc.constantFrom('manifest.json', 'index.json', 'oci-layout', 'repositories', '../escape', '/abs', 'blobs/sha256/../../x', 'a/./b', '', '.', 'blobs', 'x/');
const memberOp: fc.Arbitrary<MemberOp> = fc.oneof(
  fc.record({ kind: fc.constant('body' as const), i: fc.nat(), ops: fc.array(fc.tuple(fc.nat(6), fc.nat(), fc.nat(1 << 20)), { minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('rename' as const), i: fc.nat(), to: fc.oneof(names, fc.string({ maxLength: 20 })) }),
  fc.record({ kind: fc.constant('link' as const), i: fc.nat(), to: fc.nat(), hard: fc.boolean() }),
  fc.record({ kind: fc.constant('drop' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('dup' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), i: fc.nat(), j: fc.nat() }),
);

function applyMemberOps(seed: Buffer, ops: MemberOp[]): Buffer {
  const m = members(seed);
  for (const op of ops) {
    if (!m.length) break;
    const i = op.i % m.length;
    if (op.kind === 'body') m[i] = { ...m[i], body: mutateBytes(Buffer.from(m[i].body ?? ''), op.ops) };
    else if (op.kind === 'rename') m[i] = { ...m[i], path: op.to || 'x' };
    else if (op.kind === 'link') m[i] = { path: m[i].path, type: op.hard ? '1' : '2', linkname: m[op.to % m.length].path };
    else if (op.kind === 'drop') m.splice(i, 1);
    else if (op.kind === 'dup') m.push({ ...m[i] });
    else [m[i], m[op.j % m.length]] = [m[op.j % m.length], m[i]];
  }
  return tar(m);
}

let store: { images: ImageStore; dir: string } | undefined;

/** One private state root for the whole run (removed at exit): a store per input would be slow. */
function images(): { images: ImageStore; dir: string } {
  if (store) return store;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fuzz-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return (store = { images: new Engine(dir).images, dir });
}

/** What a refused load must leave as it was: records, blobs, layers, staging. */
function snapshot(s: { images: ImageStore; dir: string }): string {
  // Files only: the stores make their (empty) directories on first use, which is not a leak.
  const list = (d: string): string[] =>
    fs.existsSync(d) ? fs.readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => path.join(e.parentPath, e.name)).sort() : [];
  return JSON.stringify([s.images.records().map((r) => r.id).sort(), list(path.join(s.dir, 'content')), list(path.join(s.dir, 'layers')), list(s.images.tmpDir)]);
}

// The corpus holds seedArchives()' output (and any archives added by hand); the function is the fallback.
const seeds = corpus('archive').length ? corpus('archive') : Object.values(seedArchives());

export const archive: Target<Buffer> = {
  name: 'archive',
  arb: fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.nat(seeds.length - 1), fc.array(memberOp, { minLength: 1, maxLength: 3 })).map(([i, ops]) => applyMemberOps(seeds[i], ops)) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(6), fc.nat(), fc.nat(1 << 20)), { minLength: 1, maxLength: 4 })).map(([i, ops]) => mutateBytes(seeds[i], ops)) },
  ),
  async check(bytes) {
    const s = images();
    const before = snapshot(s);
    const t0 = performance.now();
    try {
      const loaded = await loadImages(s.images, (async function* () { yield bytes; })());
      for (const l of loaded) assert.ok(s.images.records().some((r) => r.id === l.id), 'a loaded image is not in the store');
      // Loaded images are removed again so that each input starts from the same store.
      for (const l of loaded) s.images.remove(l.id, { force: true, inUse: () => undefined });
    } catch (err) {
      if (err instanceof Violation || err instanceof assert.AssertionError) throw err;
      if (!(err instanceof Error && err.name === 'BerthError')) throw new Violation(`loadImages: threw ${(err as Error)?.name}: ${(err as Error)?.message}`, { cause: err });
      const after = snapshot(s);
      if (after !== before) throw new Violation(`loadImages: a refused load left something behind: ${(err as Error).message}`);
    }
    const ms = performance.now() - t0;
    if (ms > SLOW_MS) throw new Violation(`loadImages: took ${Math.round(ms)} ms`);
  },
};
