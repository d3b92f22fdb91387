// A container's changes: its overlay upper directory read back as docker's `diff` list and as
// a layer tar (whiteouts as `.wh.` entries, opaque directories as `.wh..wh..opq`), for `commit`.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

export interface Change {
  Path: string;
  Kind: 0 | 1 | 2; // docker: 0 modified, 1 added, 2 deleted
}

/** Things berth itself puts into a container's root (mount points), never the user's changes. */
const OURS = new Set(['proc', 'sys', 'dev', 'etc/hostname', 'etc/hosts', 'etc/resolv.conf']);

const isWhiteout = (st: fs.Stats) => st.isCharacterDevice() && st.rdev === 0;

function walk(root: string, rel: string, skip: Set<string>, visit: (rel: string, st: fs.Stats) => boolean | void): void {
  const dir = rel ? path.join(root, rel) : root;
  for (const name of fs.readdirSync(dir).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (OURS.has(r) || skip.has(r)) continue;
    const st = fs.lstatSync(path.join(root, r));
    const descend = visit(r, st);
    if (st.isDirectory() && descend !== false) walk(root, r, skip, visit);
  }
}

/** docker's container diff: A added, C changed, D deleted, relative to the image's layers. */
export function changes(upper: string, lowers: string[], skip: string[] = []): Change[] {
  // Top layer first; a whiteout in a higher layer hides the path below it.
  const inLower = (rel: string) => {
    for (const l of lowers) {
      const st = fs.lstatSync(path.join(l, rel), { throwIfNoEntry: false });
      if (st) return !isWhiteout(st);
    }
    return false;
  };
  const out: Change[] = [];
  const dirs = new Set<string>();
  walk(upper, '', new Set(skip), (rel, st) => {
    if (isWhiteout(st)) out.push({ Path: `/${rel}`, Kind: 2 });
    else out.push({ Path: `/${rel}`, Kind: inLower(rel) ? 0 : 1 });
    if (st.isDirectory()) dirs.add(`/${rel}`);
  });
  // A directory of the image copied up only to hold what is ours or mounted (/etc for
  // /etc/hosts) is no change of the container's: dockerd keeps those in a layer of its own.
  const held = (p: string) => dirs.has(p) && fs.readdirSync(path.join(upper, p)).length > 0 && !out.some((c) => c.Path.startsWith(`${p}/`));
  return out.filter((c) => !(c.Kind === 0 && held(c.Path)));
}

// ---- tar writing (ustar, with PAX records where ustar cannot say it) ----

function octal(buf: Buffer, off: number, len: number, value: number): boolean {
  const s = value.toString(8);
  if (s.length > len - 1) return false;
  buf.write(s.padStart(len - 1, '0') + '\0', off, len, 'latin1');
  return true;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

interface Header {
  name: string;
  type: '0' | '1' | '2' | '3' | '4' | '5' | '6';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
}

function block(h: Header, name: string, linkname: string): { buf: Buffer; ok: boolean } {
  const buf = Buffer.alloc(512);
  const nameBytes = Buffer.from(name);
  const linkBytes = Buffer.from(linkname);
  let ok = nameBytes.length <= 100 && linkBytes.length <= 100;
  nameBytes.copy(buf, 0, 0, Math.min(100, nameBytes.length));
  ok = octal(buf, 100, 8, h.mode & 0o7777) && ok;
  ok = octal(buf, 108, 8, h.uid) && ok;
  ok = octal(buf, 116, 8, h.gid) && ok;
  ok = octal(buf, 124, 12, h.size) && ok;
  ok = octal(buf, 136, 12, Math.max(0, Math.floor(h.mtime))) && ok;
  buf.write(h.type, 156, 'latin1');
  linkBytes.copy(buf, 157, 0, Math.min(100, linkBytes.length));
  buf.write('ustar\0' + '00', 257, 'latin1');
  octal(buf, 329, 8, h.devmajor ?? 0);
  octal(buf, 337, 8, h.devminor ?? 0);
  buf.fill(' ', 148, 156);
  let sum = 0;
  for (const b of buf) sum += b;
  buf.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return { buf, ok };
}

export function tarHeader(h: Header): Buffer {
  const plain = block(h, h.name, h.linkname ?? '');
  if (plain.ok && !h.xattrs?.size) return plain.buf;
  // PAX: long names, large numbers and extended attributes (values kept as raw bytes).
  const recs: Buffer[] = [paxRecord('path', Buffer.from(h.name))];
  if (h.linkname) recs.push(paxRecord('linkpath', Buffer.from(h.linkname)));
  if (h.size > 0o77777777777) recs.push(paxRecord('size', Buffer.from(String(h.size))));
  if (h.uid > 0o7777777) recs.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (h.gid > 0o7777777) recs.push(paxRecord('gid', Buffer.from(String(h.gid))));
  for (const [k, v] of h.xattrs ?? []) recs.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const body = Buffer.concat(recs);
  const pax = block({ name: 'PaxHeader', type: '0', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: 0 }, 'PaxHeader', '').buf;
  pax.write('x', 156, 'latin1');
  let sum = 0;
  pax.fill(' ', 148, 156);
  for (const b of pax) sum += b;
  pax.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  const clamp = { ...h, uid: Math.min(h.uid, 0o7777777), gid: Math.min(h.gid, 0o7777777), size: Math.min(h.size, 0o77777777777) };
  return Buffer.concat([pax, body, Buffer.alloc((512 - (body.length % 512)) % 512), block(clamp, h.name.slice(0, 100), (h.linkname ?? '').slice(0, 100)).buf]);
}

const major = (rdev: number) => Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
const minor = (rdev: number) => (rdev & 0xff) | Number((BigInt(rdev) >> 12n) & ~0xffn);

/**
 * The upper directory as a layer tar. `xattrs` maps relative paths to their attributes (read
 * by the shim: Node has no getxattr); overlay's own are turned into whiteout entries.
 */
/** Host ids back to the container's own (a remapped container's files are the host's HostId + id). */
export type Unshift = (id: number) => number;

export function unshifter(map: { HostId: number; Size: number } | undefined): Unshift {
  if (!map) return (id) => id;
  return (id) => (id >= map.HostId && id < map.HostId + map.Size ? id - map.HostId : id);
}

export async function* layerTar(upper: string, xattrs: Map<string, Map<string, Buffer>>, skip: string[] = [], ids: Unshift = (id) => id): AsyncGenerator<Buffer> {
  const entries: Array<[string, fs.Stats]> = [];
  walk(upper, '', new Set(skip), (rel, st) => {
    entries.push([rel, st]);
  });
  const links = new Map<string, string>();
  for (const [rel, st] of entries) {
    if (isWhiteout(st)) {
      const d = path.posix.dirname(rel);
      yield tarHeader({ name: `${d === '.' ? '' : d + '/'}.wh.${path.posix.basename(rel)}`, type: '0', mode: 0o600, uid: ids(st.uid), gid: ids(st.gid), size: 0, mtime: st.mtimeMs / 1000 });
      continue;
    }
    yield* entryTar(path.join(upper, rel), rel, st, xattrs.get(rel), links, ids);
    if (st.isDirectory() && xattrs.get(rel)?.get('trusted.overlay.opaque')?.toString() === 'y') {
      yield tarHeader({ name: `${rel}/.wh..wh..opq`, type: '0', mode: 0o600, uid: ids(st.uid), gid: ids(st.gid), size: 0, mtime: st.mtimeMs / 1000 });
    }
  }
  yield Buffer.alloc(1024);
}

/**
 * The container's whole filesystem as one tar (docker export): the image's layers and the
 * upper directory merged as overlayfs would show them (whiteouts delete, opaque directories
 * hide what is below), without mounting anything. `dirs` is bottom first, the upper last.
 */
export async function* mergedTar(dirs: string[], xattrsOf: (dir: string) => Promise<Map<string, Map<string, Buffer>>>, upperIds: Unshift = (id) => id): AsyncGenerator<Buffer> {
  const tree = new Map<string, { abs: string; st: fs.Stats; x?: Map<string, Buffer>; upper: boolean }>();
  const dropBelow = (rel: string) => {
    for (const k of tree.keys()) if (k.startsWith(rel + '/')) tree.delete(k);
  };
  for (const dir of dirs) {
    const xattrs = await xattrsOf(dir);
    const visit = (rel: string) => {
      for (const name of fs.readdirSync(rel ? path.join(dir, rel) : dir).sort()) {
        const r = rel ? `${rel}/${name}` : name;
        const st = fs.lstatSync(path.join(dir, r));
        if (isWhiteout(st)) {
          tree.delete(r);
          dropBelow(r);
          continue;
        }
        if (!st.isDirectory() || xattrs.get(r)?.get('trusted.overlay.opaque')?.toString() === 'y') dropBelow(r);
        tree.set(r, { abs: path.join(dir, r), st, x: xattrs.get(r), upper: dir === dirs.at(-1) });
        if (st.isDirectory()) visit(r);
      }
    };
    visit('');
  }
  const links = new Map<string, string>();
  for (const rel of [...tree.keys()].sort()) {
    const e = tree.get(rel)!;
    yield* entryTar(e.abs, rel, e.st, e.x, links, e.upper ? upperIds : undefined);
  }
  yield Buffer.alloc(1024);
}

/** One file system object as tar entries (header, then content for regular files). */
async function* entryTar(abs: string, rel: string, st: fs.Stats, xattrs: Map<string, Buffer> | undefined, links: Map<string, string>, ids: Unshift = (id) => id): AsyncGenerator<Buffer> {
  const x = new Map([...(xattrs ?? [])].filter(([k]) => !k.startsWith('trusted.overlay.')));
  const base = { mode: st.mode, uid: ids(st.uid), gid: ids(st.gid), size: 0, mtime: st.mtimeMs / 1000, xattrs: x };
  if (st.isDirectory()) {
    yield tarHeader({ ...base, name: `${rel}/`, type: '5' });
  } else if (st.isSymbolicLink()) {
    yield tarHeader({ ...base, name: rel, type: '2', linkname: fs.readlinkSync(abs) });
  } else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? links.get(key) : undefined;
    if (first !== undefined) {
      yield tarHeader({ ...base, name: rel, type: '1', linkname: first });
      return;
    }
    if (st.nlink > 1) links.set(key, rel);
    yield tarHeader({ ...base, name: rel, type: '0', size: st.size });
    yield* fileContent(abs, st.size);
    const pad = (512 - (st.size % 512)) % 512;
    if (pad) yield Buffer.alloc(pad);
  } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
    const type = st.isFIFO() ? '6' : st.isCharacterDevice() ? '3' : '4';
    yield tarHeader({ ...base, name: rel, type, devmajor: major(st.rdev), devminor: minor(st.rdev) });
  }
  // sockets are not part of a layer
}

// Files up to this size are read at once, synchronously (a thread-pool round trip would cost
// more than the read); larger ones in chunks through the thread pool, so a commit of a large
// file lets the daemon answer other requests between chunks.
const SYNC_READ_MAX = 64 << 10;
const CHUNK = 1 << 20;

/** A regular file's bytes, exactly `size` of them (zeros if it shrank while read: the header said so). */
async function* fileContent(abs: string, size: number): AsyncGenerator<Buffer> {
  const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW;
  let left = size;
  if (size <= SYNC_READ_MAX) {
    const fd = fs.openSync(abs, flags);
    try {
      const chunk = Buffer.allocUnsafe(size);
      for (let n; left > 0 && (n = fs.readSync(fd, chunk, size - left, left, null)) > 0; ) left -= n;
      if (size > left) yield chunk.subarray(0, size - left);
    } finally {
      fs.closeSync(fd);
    }
  } else {
    const fh = await fsp.open(abs, flags);
    try {
      while (left > 0) {
        const chunk = Buffer.allocUnsafe(Math.min(left, CHUNK));
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        left -= bytesRead;
        yield chunk.subarray(0, bytesRead);
      }
    } finally {
      await fh.close();
    }
  }
  if (left > 0) yield Buffer.alloc(left);
}
