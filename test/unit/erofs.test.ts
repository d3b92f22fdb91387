// Layer images: what buildLayerImage writes must be, file for file, what applyLayer unpacks into
// a directory from the same tar, as the kernel mounts it and as fsck.erofs (erofs-utils) reads
// it; and the same hostile tars must be refused with the same errors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import { applyLayer } from '../../src/image/apply.ts';
import { buildLayerImage } from '../../src/image/layer-image.ts';
import { readXattrs, shimLayerMounts, shimSpecialFs } from '../../src/runtime/shim.ts';
import { ErofsReader } from '../../src/snapshot/erofs.ts';
import { CANARY, hostile } from '../helpers/hostile-layers.ts';
import { tar, type TEntry } from '../helpers/tarwriter.ts';

const isRoot = process.getuid?.() === 0;

async function* chunks(buf: Buffer, step = 777): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += step) yield buf.subarray(i, i + step);
}

function tmp(t: TestContext): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-erofs-'));
  t.after(() => {
    try {
      shimLayerMounts.unmount([path.join(base, 'mnt')]);
    } catch {}
    fs.rmSync(base, { recursive: true, force: true });
  });
  return base;
}

async function image(base: string, archive: Buffer): Promise<{ file: string; diffId: string }> {
  const file = path.join(base, 'layer.erofs');
  const fd = fs.openSync(file, 'w');
  try {
    const { diffId } = await buildLayerImage(chunks(archive), fd);
    return { file, diffId };
  } finally {
    fs.closeSync(fd);
  }
}

/** Every file under dir as one line of what a container could observe of it. */
async function observe(dir: string): Promise<string[]> {
  const xattrs = await readXattrs(dir);
  const out: string[] = [];
  const inodes = new Map<number, string>();
  const now = Date.now();
  const walk = (rel: string) => {
    const p = rel ? path.join(dir, rel) : dir;
    const st = fs.lstatSync(p);
    const first = st.nlink > 1 && !st.isDirectory() ? (inodes.get(st.ino) ?? (inodes.set(st.ino, rel), rel)) : '';
    const body = st.isFile() ? createHash('sha256').update(fs.readFileSync(p)).digest('hex') : st.isSymbolicLink() ? fs.readlinkSync(p) : '';
    // Directories the layer only implied get the unpack's time: the same minute on both sides.
    const mtime = st.isDirectory() && now - st.mtimeMs < 600_000 ? 'now' : st.mtimeMs;
    const xa = [...(xattrs.get(rel || '.') ?? new Map())].map(([k, v]) => `${k}=${v.toString('hex')}`).sort().join(',');
    out.push(`${rel || '.'} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isDirectory() ? '' : st.size} ${mtime} rdev=${st.rdev} nlink=${st.isDirectory() ? '' : st.nlink} ${first && first !== rel ? `same-as=${first}` : ''} ${body} ${xa}`);
    if (st.isDirectory()) for (const n of fs.readdirSync(p).sort()) walk(rel ? `${rel}/${n}` : n);
  };
  walk('');
  return out;
}

const CAP = Buffer.from([0x01, 0, 0, 0x02, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const layers: Array<[string, (TEntry | Buffer)[]]> = [
  ['files, dirs, links, modes, owners, times', [
    { path: './', type: '5', mode: 0o755, mtime: 100 },
    { path: './usr/', type: '5', mode: 0o750, uid: 3, gid: 4, mtime: 200 },
    { path: './usr/bin/', type: '5', mode: 0o1777, mtime: 300 },
    { path: './usr/bin/su', body: 'suid', mode: 0o4755, uid: 1000, gid: 1000, mtime: 1600000000.5 },
    { path: './usr/bin/sg', body: 'sgid', mode: 0o2711, uid: 1, gid: 42, mtime: 12345 },
    { path: 'usr/lib/deep/file', body: Buffer.alloc(300000, 7), mode: 0o600, mtime: 400 },
    { path: 'usr/lib/block', body: Buffer.alloc(4096, 1), mtime: 401 },
    { path: 'usr/lib/empty', body: '', mtime: 402 },
    { path: 'usr/bin/abs', type: '2', linkname: '/etc/passwd', uid: 5, gid: 6, mtime: 500 },
    { path: 'usr/bin/long', type: '2', linkname: 'x/'.repeat(1500) + 'y', mtime: 501 },
    { path: 'usr/bin/hard', type: '1', linkname: 'usr/bin/su' },
    { path: 'usr/bin/hard2', type: '1', linkname: '/usr/bin/su' },
    { path: 'big/', type: '5', mode: 0o755, mtime: 600 },
    ...Array.from({ length: 400 }, (_, i) => ({ path: `big/${'n'.repeat(40)}-${i}`, body: String(i), mtime: 601 })),
  ]],
  ['devices, fifos, extended attributes (binary capabilities)', [
    { path: 'bin/ping', body: 'elf', mode: 0o755, mtime: 9, pax: { 'SCHILY.xattr.security.capability': CAP, 'SCHILY.xattr.user.x': '' } },
    { path: 'dev/', type: '5', mtime: 1 },
    { path: 'dev/null', type: '3', mode: 0o666, devmajor: 1, devminor: 3, uid: 0, gid: 5, mtime: 10 },
    { path: 'dev/sda', type: '4', mode: 0o660, devmajor: 8, devminor: 300, mtime: 11 },
    { path: 'run/fifo', type: '6', mode: 0o620, uid: 7, gid: 8, mtime: 12.25 },
    { path: 'etc/', type: '5', mtime: 2, pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/elsewhere', 'SCHILY.xattr.user.d': 'v' } },
  ]],
  ['whiteouts and opaque directories', [
    { path: 'a/gone/', type: '5' },
    { path: 'a/gone/file', body: 'x', pax: { 'SCHILY.xattr.user.x': 'y' } },
    { path: 'a/.wh.gone', uid: 3, gid: 4, mtime: 99 },
    { path: 'a/file', mtime: 5 },
    { path: 'a/.wh.file', mtime: 6 },
    { path: '.wh.top', mtime: 7 },
    { path: 'b/.wh..wh..opq' },
    { path: 'a/.wh..wh..opq' },
    { path: '.wh..wh.plnk/', type: '5' },
    { path: '.wh..wh.plnk/123.456', body: 'aufs' },
  ]],
  ['later entries replace earlier ones', [
    { path: 'f', body: 'first', mtime: 1 },
    { path: 'twin', type: '1', linkname: 'f' },
    { path: 'f', body: 'second', mode: 0o600, mtime: 2 },
    { path: 'd/sub/x', body: 'x' },
    { path: 'd', body: 'now a file', mtime: 3 },
    { path: 'e/', type: '5', mode: 0o700, mtime: 5 },
    { path: 'e/keep', body: 'k', mtime: 4 },
    { path: 'e/', type: '5', mode: 0o711, uid: 9, mtime: 6 },
    { path: 's', type: '2', linkname: '/' },
    { path: 's/', type: '5', mtime: 7 },
    { path: 's/in', body: 'in', mtime: 8 },
    { path: 'p', type: '6' },
    { path: 'p', body: 'file over fifo', mtime: 9 },
    { path: 'same', body: 'z', mtime: 10 },
    { path: 'same', type: '1', linkname: 'same' },
  ]],
];

for (const [name, entries] of layers) {
  test(`layer image = unpacked directory: ${name}`, async (t) => {
    if (!isRoot) return t.skip('needs root');
    const base = tmp(t);
    const archive = tar(entries);
    const dir = path.join(base, 'dir');
    fs.mkdirSync(dir);
    const unpacked = await applyLayer(chunks(archive), dir, shimSpecialFs);
    const img = await image(base, archive);
    assert.equal(img.diffId, unpacked.diffId);
    execFileSync('fsck.erofs', [img.file], { stdio: 'pipe' });
    const mnt = path.join(base, 'mnt');
    fs.mkdirSync(mnt);
    shimLayerMounts.mount([[img.file, mnt]]);
    assert.deepEqual(await observe(mnt), await observe(dir));
  });
}

test('the reader finds files as a container would (no symlink followed), across directory blocks', async (t) => {
  const base = tmp(t);
  const img = await image(base, tar([
    { path: 'etc/passwd', body: 'root:x:0:0::/root:/bin/sh\n' },
    { path: 'link', type: '2', linkname: 'etc' },
    { path: 'big/', type: '5' },
    ...Array.from({ length: 300 }, (_, i) => ({ path: `big/${'m'.repeat(50)}${i}`, body: `v${i}` })),
  ]));
  const r = ErofsReader.open(img.file);
  t.after(() => r.close());
  const read = (p: string) => {
    const ino = r.lookup(p);
    return ino?.kind === 'file' ? r.data(ino).toString() : ino?.kind;
  };
  assert.equal(read('etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  assert.equal(read('/etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  assert.equal(read('link/passwd'), undefined);
  assert.equal(read('link'), 'symlink');
  assert.equal(read('etc/missing'), undefined);
  assert.ok(r.data(r.lookup('big')!).length > 4096, 'a directory of several blocks');
  for (const i of [0, 150, 299]) assert.equal(read(`big/${'m'.repeat(50)}${i}`), `v${i}`);
  assert.deepEqual(r.entries(r.lookup('big')!).length, 302);
});

for (const [name, build, re] of hostile) {
  test(`layer image rejects hostile layer: ${name}`, async (t) => {
    const base = tmp(t);
    const sentinel = path.join(base, 'sentinel');
    fs.mkdirSync(sentinel);
    const entries = typeof build === 'function' ? build(sentinel, base) : build;
    const archive = tar(entries, !name.startsWith('truncated'));
    await assert.rejects(image(base, archive), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'InvalidArgument', err.message);
      assert.match(err.message, re);
      return true;
    });
    assert.deepEqual(fs.readdirSync(base).sort(), ['layer.erofs', 'sentinel'], 'nothing but the image file was written');
    assert.deepEqual(fs.readdirSync(sentinel), []);
    assert.equal(fs.existsSync('/tmp/outside'), false);
    assert.equal(fs.existsSync(CANARY), false);
  });
}
