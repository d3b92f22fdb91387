import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { TarParser, type TarEntry } from '../../src/image/tar.ts';
import { checksum, END, entry, globalPax, header, paxBody, tar } from '../helpers/tarwriter.ts';

interface Parsed {
  e: TarEntry;
  body: Buffer;
}

/** Parses buf fed in pieces of `step` bytes (the whole buffer at once by default). */
function parse(buf: Buffer, step = buf.length || 1): Parsed[] {
  const out: Parsed[] = [];
  let cur: Buffer[] | null = null;
  const p = new TarParser({
    entry(e) {
      assert.equal(cur, null, 'entry before the previous endEntry');
      cur = [];
      out.push({ e, body: Buffer.alloc(0) });
    },
    data(chunk) {
      assert.ok(cur, 'data outside an entry');
      cur.push(Buffer.from(chunk));
    },
    endEntry() {
      assert.ok(cur, 'endEntry without entry');
      out[out.length - 1].body = Buffer.concat(cur);
      cur = null;
    },
  });
  for (let i = 0; i < buf.length; i += step) p.write(buf.subarray(i, i + step));
  p.end();
  assert.equal(cur, null);
  return out;
}

const strip = (p: Parsed[]) => p.map(({ e, body }) => ({ ...e, xattrs: Object.fromEntries(e.xattrs), body: body.toString('latin1') }));

test('ustar entries of every type, fed in any chunking', () => {
  const big = Buffer.alloc(70000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  const archive = tar([
    { path: 'dir/', type: '5', mode: 0o40755, uid: 1, gid: 2, mtime: 1700000000 },
    { path: 'dir/file', body: 'hello', mode: 0o104755, uid: 1000, gid: 1001, mtime: 1234567890 },
    { path: 'dir/big', body: big },
    { path: 'dir/empty', type: '\0' },
    { path: 'dir/contig', type: '7', body: 'c' },
    { path: 'dir/sym', type: '2', linkname: '../../etc/passwd' },
    { path: 'dir/hard', type: '1', linkname: 'dir/file' },
    { path: 'dev/null', type: '3', devmajor: 1, devminor: 3, mode: 0o666 },
    { path: 'dev/sda', type: '4', devmajor: 8, devminor: 0 },
    { path: 'fifo', type: '6', mode: 0o1600 },
    { path: `${'p'.repeat(120)}/${'n'.repeat(90)}` },
    { path: 'ünïcødé/名前' },
  ]);
  const want = parse(archive);
  assert.equal(want.length, 12);
  const [d, f, b, empty, contig, sym, hard, chr, blk, fifo, long, uni] = want.map((p) => p.e);
  assert.deepEqual({ ...d, xattrs: null }, { path: 'dir/', type: 'dir', mode: 0o755, uid: 1, gid: 2, size: 0, mtime: 1700000000, linkname: '', devmajor: 0, devminor: 0, xattrs: null });
  assert.deepEqual([f.type, f.mode, f.uid, f.gid, f.size, f.mtime, want[1].body.toString()], ['file', 0o4755, 1000, 1001, 5, 1234567890, 'hello']);
  assert.ok(want[2].body.equals(big));
  assert.deepEqual([empty.type, empty.size, contig.type, want[4].body.toString()], ['file', 0, 'file', 'c']);
  assert.deepEqual([sym.type, sym.linkname, hard.type, hard.linkname], ['symlink', '../../etc/passwd', 'hardlink', 'dir/file']);
  assert.deepEqual([chr.type, chr.devmajor, chr.devminor, chr.mode, blk.type, blk.devmajor], ['char', 1, 3, 0o666, 'block', 8]);
  assert.deepEqual([fifo.type, fifo.mode], ['fifo', 0o1600]);
  assert.equal(long.path, `${'p'.repeat(120)}/${'n'.repeat(90)}`); // through the ustar prefix field
  assert.equal(uni.path, 'ünïcødé/名前');
  for (const step of [1, 7, 100, 511, 512, 513, 4096, 65536]) assert.deepEqual(strip(parse(archive, step)), strip(want), `step ${step}`);
});

test('PAX records: overrides, fractional mtime, binary and libarchive xattrs', () => {
  const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x00, 0x00, 0x00, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const long = `${'x'.repeat(300)}/ü`;
  const [e, l] = parse(tar([
    {
      path: 'short',
      body: '0123456789',
      size: 3, // the PAX size wins
      pax: {
        path: long, size: '10', uid: '4294967294', gid: '70000', mtime: '1700000000.123456789', uname: 'who', gname: 'cares',
        'SCHILY.xattr.security.capability': cap, 'SCHILY.xattr.user.empty': '', 'SCHILY.xattr.user.nl': 'a\nb=c',
        'LIBARCHIVE.xattr.user.sp%20ace': Buffer.from([0x80, 0x81]).toString('base64'),
      },
    },
    { path: 'l', type: '2', pax: { linkpath: `/${'t'.repeat(200)}` } },
  ]));
  assert.equal(e.e.path, long);
  assert.equal(e.body.toString(), '0123456789');
  assert.deepEqual([e.e.size, e.e.uid, e.e.gid, e.e.mtime], [10, 4294967294, 70000, 1700000000.123456789]);
  const capv = e.e.xattrs.get('security.capability')!;
  assert.ok(capv.equals(cap), 'binary value intact');
  assert.equal(capv[4], 0x80);
  assert.deepEqual(e.e.xattrs.get('user.empty'), Buffer.alloc(0));
  assert.equal(e.e.xattrs.get('user.nl')!.toString(), 'a\nb=c');
  assert.deepEqual(e.e.xattrs.get('user.sp ace'), Buffer.from([0x80, 0x81]));
  assert.equal(l.e.linkname, `/${'t'.repeat(200)}`);
  assert.equal(l.e.xattrs.size, 0, 'per-entry records do not leak to the next entry');
});

test('global PAX headers apply until overridden; an empty entry value reverts to the header', () => {
  const got = parse(tar([
    globalPax({ uid: '77', mtime: '5.5', 'SCHILY.xattr.user.g': 'global' }),
    { path: 'a', uid: 1 },
    { path: 'b', uid: 1, pax: { uid: '88', 'SCHILY.xattr.user.g': 'mine' } },
    { path: 'c', uid: 3, pax: { uid: '' } },
    globalPax({ uid: '' }),
    { path: 'd', uid: 4 },
  ])).map((p) => [p.e.path, p.e.uid, p.e.mtime, p.e.xattrs.get('user.g')?.toString()]);
  assert.deepEqual(got, [['a', 77, 5.5, 'global'], ['b', 88, 5.5, 'mine'], ['c', 3, 5.5, 'global'], ['d', 4, 5.5, 'global']]);
});

test('GNU long names and links, old GNU and v7 headers', () => {
  const name = `${'d'.repeat(150)}/${'f'.repeat(150)}`;
  const target = `${'t'.repeat(120)}/x`;
  const got = parse(tar([
    { path: name, gnu: true, format: 'gnu', body: 'x' },
    { path: 'h', type: '1', linkname: target, gnu: true, format: 'gnu' },
    { path: 'sym', type: '2', linkname: target, gnu: true, format: 'gnu' },
    { path: 'v7dir/', type: '\0', format: 'v7', mode: 0o40755 },
    { path: 'v7file', type: '\0', format: 'v7', body: 'v' },
    { path: 'og', format: 'gnu', devmajor: 0 },
  ]));
  assert.deepEqual(got.map((p) => [p.e.path, p.e.type, p.e.linkname, p.body.toString()]), [
    [name, 'file', '', 'x'], ['h', 'hardlink', target, ''], ['sym', 'symlink', target, ''],
    ['v7dir/', 'dir', '', ''], ['v7file', 'file', '', 'v'], ['og', 'file', '', ''],
  ]);
});

test('old GNU headers keep atime in the ustar prefix area: not part of the name', () => {
  const h = header({ path: 'name', format: 'gnu' }, 0);
  h.write('\x31\x32', 345, 'latin1'); // old GNU atime, would be a bogus prefix
  checksum(h);
  assert.equal(parse(Buffer.concat([h, END]))[0].e.path, 'name');
});

test('base-256 numbers, including negative times', () => {
  const [e] = parse(tar([{ path: 'f', uid: 2 ** 40, gid: 3, mtime: -1000, body: 'b' }]));
  assert.deepEqual([e.e.uid, e.e.gid, e.e.mtime], [2 ** 40, 3, -1000]);
  const big = header({ path: 'huge' }, 0);
  big.fill(0, 124, 136);
  big[124] = 0x80;
  big.writeUIntBE(2 ** 34, 130, 6);
  checksum(big);
  const p = new TarParser({ entry: (x) => assert.equal(x.size, 2 ** 34), data() {}, endEntry() {} });
  p.write(big);
  assert.throws(() => p.end(), /truncated tar/);
});

test('checksums: signed sums are accepted, a mismatch is rejected', () => {
  const h = header({ path: 'é', uid: 0 }, 0); // high bytes make the signed and unsigned sums differ
  let signed = 0;
  h.fill(0x20, 148, 156);
  for (const b of h) signed += (b << 24) >> 24;
  h.write(signed.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  assert.equal(parse(Buffer.concat([h, END]))[0].e.path, 'é');

  const archive = tar([{ path: 'a', body: 'x' }]);
  archive[5] ^= 1;
  assert.throws(() => parse(archive), (err: Error & { code?: string }) => err.code === 'InvalidArgument' && /checksum/.test(err.message));
  assert.throws(() => parse(Buffer.from('not a tar file at all'.padEnd(1024, '!'))), /checksum|bad checksum/);
});

test('truncation is detected; ending at a block boundary is not truncation', () => {
  const archive = tar([{ path: 'a', body: 'x'.repeat(700) }, { path: 'b', pax: { uid: '5' } }]);
  for (const cut of [1, 300, 512, 513, 1024, 1500, 1537, 2048, 2100, 2560, 3000]) {
    assert.throws(() => parse(archive.subarray(0, cut)), /truncated tar/, `cut at ${cut}`);
  }
  // b's pax header is at 1536, its records at 2048, its own header at 2560 (so 2560 is a pax record without its entry)
  assert.equal(parse(archive.subarray(0, 1536)).length, 1, 'ends cleanly after a');
  assert.equal(parse(archive.subarray(0, 3072)).length, 2, 'no end blocks at all');
  assert.equal(parse(archive.subarray(0, 3584)).length, 2, 'a single end block');
  assert.deepEqual(parse(Buffer.alloc(0)), []);
});

test('data after the end marker is consumed and ignored; unknown types are skipped', () => {
  const archive = Buffer.concat([
    tar([{ path: 'sparse', type: 'S', body: 'zzzz' }, { path: 'label', type: 'V' }, { path: 'a', body: 'x' }]),
    Buffer.from('garbage that is not a tar header'),
    tar([{ path: 'hidden' }]),
  ]);
  assert.deepEqual(parse(archive).map((p) => p.e.path), ['a']);
  assert.deepEqual(parse(archive, 3).map((p) => p.e.path), ['a']);
});

test('header-only types carry no body even with a size field (as Go reads them)', () => {
  const got = parse(tar([{ path: 'd/', type: '5', size: 1024 }, { path: 's', type: '2', linkname: 'x', size: 99 }, { path: 'f', body: 'y' }]));
  assert.deepEqual(got.map((p) => [p.e.path, p.e.size]), [['d/', 0], ['s', 0], ['f', 1]]);
});

test('malformed archives are rejected', () => {
  const bad = (buf: Buffer, re: RegExp) => assert.throws(() => parse(buf), (err: Error & { code?: string }) => err.code === 'InvalidArgument' && re.test(err.message));
  bad(Buffer.concat([Buffer.alloc(512), entry({ path: 'a' }), END]), /zero block/);
  const pax = (body: string) => {
    const b = Buffer.from(body);
    return Buffer.concat([header({ path: 'p', type: 'x' }, b.length), b, Buffer.alloc(512 - b.length), entry({ path: 'a' }), END]);
  };
  bad(pax('5 a=b\n'), /pax record/);
  bad(pax('99 a=b\n'), /pax record/);
  bad(pax('7 ab\n'), /pax record/);
  bad(pax('x a=b\n'), /pax record/);
  bad(pax(paxBody({ size: '-1' }).toString()), /size/);
  bad(pax(paxBody({ mtime: '1e9' }).toString()), /mtime/);
  bad(pax(paxBody({ uid: '99999999999999999' }).toString()), /uid/);
  const huge = header({ path: 'p', type: 'x' }, 1 << 30);
  bad(Buffer.concat([huge, END]), /too large/);
  const octal = header({ path: 'a' }, 0);
  octal.write('0000009\0', 108, 'latin1');
  checksum(octal);
  bad(Buffer.concat([octal, END]), /uid/);
  bad(tar([{ path: '', body: '' }]), /empty name/);
  bad(Buffer.concat([header({ path: 'L', type: 'L' }, 0), END]), /inside an entry/);
});

test('agrees with GNU tar on a real tree', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for ownership, devices and security.capability');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tar-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const src = path.join(root, 'src');
  const deep = path.join(src, 'd'.repeat(80), 'e'.repeat(80));
  fs.mkdirSync(deep, { recursive: true });
  fs.writeFileSync(path.join(src, 'file'), 'hello\n');
  fs.writeFileSync(path.join(deep, `${'f'.repeat(120)}-ü`), Buffer.alloc(100000, 0xab));
  fs.writeFileSync(path.join(src, 'suid'), '#!/bin/sh\n');
  fs.chownSync(path.join(src, 'suid'), 1234, 5678);
  fs.chmodSync(path.join(src, 'suid'), 0o4755);
  fs.chmodSync(path.join(src, 'd'.repeat(80)), 0o1777);
  fs.symlinkSync(`../${'t'.repeat(150)}`, path.join(src, 'sym'));
  fs.linkSync(path.join(src, 'file'), path.join(src, 'hard'));
  execFileSync('mkfifo', [path.join(src, 'fifo')]);
  execFileSync('mknod', [path.join(src, 'null'), 'c', '1', '3']);
  fs.writeFileSync(path.join(src, 'cap'), 'x');
  execFileSync('setcap', ['cap_setuid+ep', path.join(src, 'cap')]);
  execFileSync('python3', ['-c', `import os; os.setxattr(${JSON.stringify(path.join(src, 'file'))}, 'user.bin', bytes([0x80, 0, 0xff, 10, 61]))`]);
  fs.utimesSync(path.join(src, 'file'), 1, 1600000000.25);

  for (const format of ['pax', 'gnu', 'ustar']) {
    const file = path.join(root, `${format}.tar`);
    const args = format === 'pax' ? ['--xattrs', "--xattrs-include=*"] : [];
    // ustar cannot hold the long symlink target or file name; leave those out there.
    const excl = format === 'ustar' ? ['--exclude=sym', `--exclude=${'f'.repeat(120)}-ü`] : [];
    execFileSync('tar', [...args, ...excl, `--format=${format}`, '-C', src, '-cf', file, '.']);
    const got = parse(fs.readFileSync(file), 10000);
    const seen = new Set<string>();
    let hardlinks = 0;
    for (const { e, body } of got) {
      const rel = e.path.replace(/^\.\/?/, '').replace(/\/$/, '');
      seen.add(rel);
      const st = fs.lstatSync(path.join(src, rel));
      const msg = `${format}: ${rel}`;
      assert.equal(e.mode, st.mode & 0o7777, msg);
      assert.deepEqual([e.uid, e.gid], [st.uid, st.gid], msg);
      if (format === 'pax') assert.ok(Math.abs(e.mtime - st.mtimeMs / 1000) < 1e-3, msg);
      else assert.equal(e.mtime, Math.floor(st.mtimeMs / 1000), msg);
      if (e.type === 'hardlink') {
        hardlinks++;
        assert.equal(fs.lstatSync(path.join(src, e.linkname)).ino, st.ino, msg);
        continue;
      }
      const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : 'file';
      assert.equal(e.type, type, msg);
      if (type === 'file') assert.ok(body.equals(fs.readFileSync(path.join(src, rel))), msg);
      if (type === 'symlink') assert.equal(e.linkname, fs.readlinkSync(path.join(src, rel)), msg);
      if (type === 'char') assert.deepEqual([e.devmajor, e.devminor], [1, 3], msg);
    }
    assert.equal(hardlinks, 1, format);
    assert.equal(seen.size, format === 'ustar' ? 9 : 11, format);
    if (format === 'pax') {
      const byPath = new Map(got.map((p) => [p.e.path, p.e]));
      const cap = byPath.get('./cap')!.xattrs.get('security.capability')!;
      assert.equal(cap.length, 20);
      assert.equal(cap[4], 0x80, 'cap_setuid is bit 7: the byte 0x80 survives');
      assert.deepEqual(byPath.get('./file')!.xattrs.get('user.bin'), Buffer.from([0x80, 0, 0xff, 10, 61]));
      assert.equal(byPath.get('./file')!.mtime, 1600000000.25);
    }
  }
});
