import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import { applyLayer, type SpecialOp } from '../../src/image/apply.ts';
import { CANARY, hostile } from '../helpers/hostile-layers.ts';
import { entry, tar } from '../helpers/tarwriter.ts';

const isRoot = process.getuid?.() === 0;

async function* chunks(buf: Buffer, step: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += step) yield buf.subarray(i, i + step);
}

/** A temp dir holding the layer dir and a sentinel beside it that no layer may touch. */
function setup(t: TestContext): { base: string; dir: string; sentinel: string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-apply-'));
  t.after(() => fs.rmSync(base, { recursive: true, force: true }));
  const dir = path.join(base, 'layer');
  const sentinel = path.join(base, 'sentinel');
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.mkdirSync(path.join(sentinel, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(sentinel, 'passwd'), 'root:x:0:0::/:/bin/sh\n', { mode: 0o644 });
  fs.writeFileSync(path.join(sentinel, 'etc', 'passwd'), 'sentinel\n', { mode: 0o644 });
  return { base, dir, sentinel };
}

/** Everything outside the layer dir, with the metadata a write through it would change. */
function outside(base: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    const body = st.isFile() ? createHash('sha256').update(fs.readFileSync(p)).digest('hex') : '';
    out.push(`${path.relative(base, p)} ${st.mode} ${st.uid}:${st.gid} ${st.nlink} ${st.mtimeMs} ${st.size} ${body}`);
    if (st.isDirectory()) for (const n of fs.readdirSync(p).sort()) if (path.join(p, n) !== path.join(base, 'layer')) walk(path.join(p, n));
  };
  walk(base);
  return out;
}

async function apply(dir: string, archive: Buffer, step = 777) {
  const ops: SpecialOp[] = [];
  let calls = 0;
  const res = await applyLayer(chunks(archive, step), dir, { run: async (d, o) => (assert.equal(d, dir), calls++, void ops.push(...o)) });
  return { ...res, ops, calls };
}

test('files, dirs, links: content, ownership, modes, times; diffId covers every byte', async (t) => {
  if (!isRoot) return t.skip('needs root');
  const { dir } = setup(t);
  const archive = Buffer.concat([
    tar([
      { path: './', type: '5', mode: 0o755, mtime: 100 },
      { path: './usr/', type: '5', mode: 0o750, uid: 3, gid: 4, mtime: 200 },
      { path: './usr/bin/', type: '5', mode: 0o1777, mtime: 300 },
      { path: './usr/bin/su', body: 'suid', mode: 0o4755, uid: 1000, gid: 1000, mtime: 1600000000.5 },
      { path: './usr/bin/sg', body: 'sgid', mode: 0o2711, uid: 1, gid: 42, mtime: 12345 },
      { path: 'usr/lib/deep/file', body: Buffer.alloc(300000, 7), mode: 0o600, mtime: 400 }, // parents implied
      { path: 'usr/bin/abs', type: '2', linkname: '/etc/passwd', uid: 5, gid: 6, mtime: 500 },
      { path: 'usr/bin/rel', type: '2', linkname: '../../../../..', mtime: 600 },
      { path: 'usr/bin/hard', type: '1', linkname: './usr/bin/su' },
      { path: 'usr/bin/hard2', type: '1', linkname: '/usr/bin/su' }, // absolute: relative to the layer root
    ]),
    Buffer.from('trailing bytes after the end marker'),
  ]);
  const res = await apply(dir, archive);
  assert.equal(res.diffId, `sha256:${createHash('sha256').update(archive).digest('hex')}`);
  assert.equal(res.size, archive.length);
  assert.equal(res.calls, 0, 'no special ops, no helper');

  const st = (p: string) => fs.lstatSync(path.join(dir, p));
  const su = st('usr/bin/su');
  assert.deepEqual([su.mode & 0o7777, su.uid, su.gid, su.mtimeMs], [0o4755, 1000, 1000, 1600000000500]);
  assert.equal(fs.readFileSync(path.join(dir, 'usr/bin/su'), 'utf8'), 'suid');
  const sg = st('usr/bin/sg');
  assert.deepEqual([sg.mode & 0o7777, sg.uid, sg.gid], [0o2711, 1, 42]);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'usr/lib/deep/file')), Buffer.alloc(300000, 7));
  assert.deepEqual([st('usr/lib').mode & 0o7777, st('usr/lib/deep').mode & 0o7777, st('usr/lib').uid], [0o755, 0o755, 0]);
  const abs = st('usr/bin/abs');
  assert.ok(abs.isSymbolicLink());
  assert.deepEqual([fs.readlinkSync(path.join(dir, 'usr/bin/abs')), abs.uid, abs.gid, abs.mtimeMs], ['/etc/passwd', 5, 6, 500000]);
  assert.equal(fs.readlinkSync(path.join(dir, 'usr/bin/rel')), '../../../../..');
  assert.equal(st('usr/bin/hard').ino, su.ino);
  assert.equal(st('usr/bin/hard2').ino, su.ino);
  assert.equal(su.nlink, 3);
  // Directory times survive the entries created inside them afterwards.
  assert.deepEqual([st('').mtimeMs, st('usr').mtimeMs, st('usr/bin').mtimeMs], [100000, 200000, 300000]);
  assert.deepEqual([st('').mode & 0o7777, st('usr').mode & 0o7777, st('usr').uid, st('usr').gid, st('usr/bin').mode & 0o7777], [0o755, 0o750, 3, 4, 0o1777]);
});

test('devices, fifos and xattrs become helper ops; binary capability bytes survive', async (t) => {
  if (!isRoot) return t.skip('needs root');
  const { dir } = setup(t);
  const cap = Buffer.from([0x01, 0, 0, 0x02, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const res = await apply(dir, tar([
    { path: 'bin/ping', body: 'elf', mode: 0o755, pax: { 'SCHILY.xattr.security.capability': cap, 'SCHILY.xattr.user.x': '' } },
    { path: 'dev/null', type: '3', mode: 0o666, devmajor: 1, devminor: 3, uid: 0, gid: 5, mtime: 10 },
    { path: 'dev/sda', type: '4', mode: 0o660, devmajor: 8, devminor: 0, mtime: 11, pax: { 'SCHILY.xattr.user.dev': 'd' } },
    { path: 'run/fifo', type: '6', mode: 0o620, uid: 7, gid: 8, mtime: 12.25 },
    { path: 'etc/', type: '5', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/elsewhere', 'SCHILY.xattr.user.d': 'v' } },
  ]), 1);
  assert.equal(res.calls, 1);
  assert.deepEqual(res.ops, [
    { op: 'mknod', path: 'dev/null', type: 'char', mode: 0o666, major: 1, minor: 3, uid: 0, gid: 5, mtime: 10 },
    { op: 'mknod', path: 'dev/sda', type: 'block', mode: 0o660, major: 8, minor: 0, uid: 0, gid: 0, mtime: 11 },
    { op: 'mknod', path: 'run/fifo', type: 'fifo', mode: 0o620, major: 0, minor: 0, uid: 7, gid: 8, mtime: 12.25 },
    { op: 'xattr', path: 'bin/ping', name: 'security.capability', value: cap },
    { op: 'xattr', path: 'bin/ping', name: 'user.x', value: Buffer.alloc(0) },
    { op: 'xattr', path: 'dev/sda', name: 'user.dev', value: Buffer.from('d') },
    { op: 'xattr', path: 'etc', name: 'user.d', value: Buffer.from('v') }, // overlay's own xattrs are not taken from a layer
  ]);
  const v = (res.ops[3] as { value: Buffer }).value;
  assert.equal(v[4], 0x80);
  assert.ok(fs.statSync(path.join(dir, 'dev')).isDirectory());
  assert.equal(fs.existsSync(path.join(dir, 'dev/null')), false, 'nodes are left to the helper');
});

test('whiteouts and opaque directories', async (t) => {
  if (!isRoot) return t.skip('needs root');
  const { dir } = setup(t);
  const res = await apply(dir, tar([
    { path: 'a/gone/', type: '5' },
    { path: 'a/gone/file', body: 'x', pax: { 'SCHILY.xattr.user.x': 'y' } },
    { path: 'a/gone/fifo', type: '6' },
    { path: 'a/.wh.gone', uid: 3, gid: 4, mtime: 99 }, // removes what this layer made at a/gone
    { path: 'a/file' },
    { path: 'a/.wh.file' },
    { path: '.wh.top' },
    { path: 'b/.wh..wh..opq' }, // b does not exist yet: made
    { path: 'a/.wh..wh..opq' },
    { path: '.wh..wh..opq' },
    { path: '.wh..wh.plnk/', type: '5' }, // AUFS metadata: skipped
    { path: '.wh..wh.plnk/123.456', body: 'aufs' },
    { path: 'c/.wh..wh.aufs' },
  ]));
  assert.deepEqual(res.ops, [
    { op: 'mknod', path: 'a/gone', type: 'char', mode: 0, major: 0, minor: 0, uid: 3, gid: 4, mtime: 99 },
    { op: 'mknod', path: 'a/file', type: 'char', mode: 0, major: 0, minor: 0, uid: 0, gid: 0, mtime: 0 },
    { op: 'mknod', path: 'top', type: 'char', mode: 0, major: 0, minor: 0, uid: 0, gid: 0, mtime: 0 },
    { op: 'xattr', path: 'b', name: 'trusted.overlay.opaque', value: Buffer.from('y') },
    { op: 'xattr', path: 'a', name: 'trusted.overlay.opaque', value: Buffer.from('y') },
    { op: 'xattr', path: '.', name: 'trusted.overlay.opaque', value: Buffer.from('y') },
  ]);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['a', 'b', 'c']);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'a')), [], 'the whited-out entries are gone from disk');
});

test('later entries replace earlier ones', async (t) => {
  if (!isRoot) return t.skip('needs root');
  const { dir } = setup(t);
  const res = await apply(dir, tar([
    { path: 'f', body: 'first' },
    { path: 'twin', type: '1', linkname: 'f' },
    { path: 'f', body: 'second', mode: 0o600 }, // a new inode: the hardlinked twin keeps "first"
    { path: 'd/sub/x', body: 'x', pax: { 'SCHILY.xattr.user.a': 'b' } },
    { path: 'd/sub/node', type: '6' },
    { path: 'd', body: 'now a file' }, // directory replaced by a file: removed with its pending ops
    { path: 'e/', type: '5', mode: 0o700, mtime: 5 },
    { path: 'e/keep', body: 'k' },
    { path: 'e/', type: '5', mode: 0o711, uid: 9, mtime: 6 }, // dir over dir: metadata only
    { path: 's', type: '2', linkname: '/' },
    { path: 's/', type: '5' }, // a symlink replaced by a real directory
    { path: 's/in', body: 'in' },
    { path: 'p', type: '6' },
    { path: 'p', body: 'file over fifo' },
    { path: 'q', body: 'file' },
    { path: 'q', type: '3', devmajor: 1, devminor: 5 },
    { path: 'same', body: 'z' },
    { path: 'same', type: '1', linkname: 'same' },
  ]));
  const read = (p: string) => fs.readFileSync(path.join(dir, p), 'utf8');
  assert.deepEqual([read('f'), read('twin'), fs.statSync(path.join(dir, 'f')).mode & 0o777], ['second', 'first', 0o600]);
  assert.equal(read('d'), 'now a file');
  assert.equal(read('e/keep'), 'k');
  const e = fs.statSync(path.join(dir, 'e'));
  assert.deepEqual([e.mode & 0o7777, e.uid, e.mtimeMs], [0o711, 9, 6000]);
  assert.ok(fs.lstatSync(path.join(dir, 's')).isDirectory());
  assert.equal(read('s/in'), 'in');
  assert.equal(read('p'), 'file over fifo');
  assert.equal(fs.existsSync(path.join(dir, 'q')), false);
  assert.equal(read('same'), 'z');
  assert.deepEqual(res.ops, [{ op: 'mknod', path: 'q', type: 'char', mode: 0o644, major: 1, minor: 5, uid: 0, gid: 0, mtime: 0 }]);
});

test('replacing a symlink never writes through it', async (t) => {
  if (!isRoot) return t.skip('needs root');
  const { base, dir, sentinel } = setup(t);
  const before = outside(base);
  await apply(dir, tar([
    { path: 'l1', type: '2', linkname: path.join(sentinel, 'passwd') },
    { path: 'l1', body: 'replaced', mode: 0o777, uid: 1 },
    { path: 'l2', type: '2', linkname: sentinel },
    { path: 'l2/', type: '5', mode: 0o777, uid: 1 },
    { path: 'l3', type: '2', linkname: sentinel },
    { path: '.wh.l3' },
    { path: 'l4', type: '2', linkname: path.join(sentinel, 'passwd') },
    { path: 'h4', type: '1', linkname: 'l4' }, // links the symlink itself
  ]));
  assert.deepEqual(outside(base), before);
  assert.equal(fs.readFileSync(path.join(dir, 'l1'), 'utf8'), 'replaced');
  assert.ok(fs.lstatSync(path.join(dir, 'l2')).isDirectory());
  assert.equal(fs.lstatSync(path.join(dir, 'h4')).ino, fs.lstatSync(path.join(dir, 'l4')).ino);
  assert.ok(fs.lstatSync(path.join(dir, 'h4')).isSymbolicLink());
});

test('directory times are set after the helper ran', async (t) => {
  if (!isRoot) return t.skip('needs root');
  const { dir } = setup(t);
  await applyLayer(chunks(tar([{ path: 'dev/', type: '5', mtime: 1000 }, { path: 'dev/null', type: '3', devmajor: 1, devminor: 3 }]), 512), dir, {
    run: async (d, ops) => {
      for (const op of ops) fs.writeFileSync(path.join(d, op.path), ''); // stands in for mknod: touches the parent
    },
  });
  assert.equal(fs.statSync(path.join(dir, 'dev')).mtimeMs, 1000000);
});

test('helper failures and stream errors propagate', async (t) => {
  if (!isRoot) return t.skip('needs root');
  const { dir } = setup(t);
  await assert.rejects(applyLayer(chunks(tar([{ path: 'p', type: '6' }]), 512), dir, { run: async () => { throw new Error('helper broke'); } }), /helper broke/);
  async function* failing(): AsyncGenerator<Buffer> {
    yield entry({ path: 'a', body: 'x'.repeat(2000) }).subarray(0, 1000);
    throw new Error('network went away');
  }
  const { dir: dir2 } = setup(t);
  await assert.rejects(applyLayer(failing(), dir2, { run: async () => {} }), /network went away/);
});

test('the whole input is consumed, even past the end marker', async (t) => {
  if (!isRoot) return t.skip('needs root');
  const { dir } = setup(t);
  let pulled = 0;
  async function* src(): AsyncGenerator<Buffer> {
    for (const c of [tar([{ path: 'a' }]), Buffer.alloc(4096, 1), Buffer.alloc(10, 2)]) {
      pulled++;
      yield c;
    }
  }
  const res = await applyLayer(src(), dir, { run: async () => {} });
  assert.equal(pulled, 3);
  assert.equal(res.size, 1536 + 4096 + 10);
});

for (const [name, build, re] of hostile) {
  test(`rejects hostile layer: ${name}`, async (t) => {
    if (!isRoot) return t.skip('needs root');
    const { base, dir, sentinel } = setup(t);
    const entries = typeof build === 'function' ? build(sentinel, base) : build;
    const archive = tar(entries, !name.startsWith('truncated'));
    const before = outside(base);
    await assert.rejects(apply(dir, archive), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'InvalidArgument', err.message);
      assert.match(err.message, re);
      return true;
    });
    assert.deepEqual(outside(base), before, 'nothing outside the layer changed');
    assert.equal(fs.existsSync('/tmp/outside'), false);
    assert.equal(fs.existsSync(CANARY), false);
  });
}
