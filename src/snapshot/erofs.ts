// EROFS, the kernel's read-only filesystem (fs/erofs), uncompressed: the format a pulled layer
// is stored in. One image file per layer instead of thousands of files: a pull writes one file
// sequentially (no per-file inode creation, which on this kind of disk costs more than the
// decompression), and the tar's paths never reach the host's filesystem at all.
//
// Layout written here: block 0 holds the superblock (at 1024); regular files' data follows,
// each file in whole blocks, in the order the tar brought them; then the metadata area
// (extended 64-byte inodes, their extended attributes, and the tails of directories and
// symlinks inline); then the full blocks of large directories.
import * as fs from 'node:fs';
import { randomBytes } from '../util/random.ts';
import { invalid } from '../core/errors.ts';

export const BLOCK = 4096;
const BLKBITS = 12;
const SB_OFFSET = 1024;
const MAGIC = 0xe0f5e1e2;
const EXTENDED = 64;
const COMPACT = 32;
const SLOT = 32; // nid = offset in the metadata area / 32
const FLAT_PLAIN = 0;
const FLAT_INLINE = 2;
const DIRENT = 12;
const XATTR_HEADER = 12;

const S_IFMT = 0o170000;
const TYPE_BITS = { file: 0o100000, dir: 0o040000, symlink: 0o120000, char: 0o020000, block: 0o060000, fifo: 0o010000 } as const;
const FILE_TYPE = { file: 1, dir: 2, char: 3, block: 4, fifo: 5, symlink: 7 } as const;
// Extended attribute names are stored as a prefix index and the rest of the name.
const XATTR_PREFIXES: Array<[prefix: string, index: number]> = [
  ['system.posix_acl_access', 2], ['system.posix_acl_default', 3], ['user.', 1], ['trusted.', 4], ['security.', 6],
];

export type NodeKind = keyof typeof TYPE_BITS;

/** A file of the image; hardlinks are one node under several names. */
export interface ErofsNode {
  kind: NodeKind;
  mode: number; // permission bits with setuid/setgid/sticky, no type bits
  uid: number;
  gid: number;
  mtime: number; // seconds, may be fractional
  xattrs: Map<string, Buffer>;
  size: number; // regular files: data bytes (at `block`, written by the writer)
  block: number;
  target?: Buffer; // symlinks
  major?: number;
  minor?: number;
  children?: Map<string, ErofsNode>; // directories
}

export function newNode(kind: NodeKind, attrs: { mode: number; uid: number; gid: number; mtime: number }): ErofsNode {
  return { kind, ...attrs, xattrs: new Map(), size: 0, block: 0, ...(kind === 'dir' ? { children: new Map() } : {}) };
}

/** Writes an image: regular files' data as it streams, then the tree's metadata at the end. */
export class ErofsWriter {
  private readonly fd: number;
  private pos = BLOCK; // block 0 is the superblock's
  private stage = Buffer.allocUnsafe(1 << 20);
  private staged = 0;
  private stageAt = BLOCK;

  constructor(fd: number) {
    this.fd = fd;
  }

  /** The block a file's data starts at; its bytes follow through write(), then endFile(). */
  beginFile(): number {
    return this.pos / BLOCK;
  }

  write(chunk: Buffer): void {
    for (let off = 0; off < chunk.length; ) {
      if (this.staged === this.stage.length) this.flush();
      const n = chunk.copy(this.stage, this.staged, off);
      this.staged += n;
      off += n;
    }
    this.pos += chunk.length;
  }

  endFile(): void {
    const pad = (BLOCK - (this.pos % BLOCK)) % BLOCK;
    if (pad) this.write(Buffer.alloc(pad));
  }

  private flush(): void {
    for (let off = 0; off < this.staged; ) off += fs.writeSync(this.fd, this.stage, off, this.staged - off, this.stageAt + off);
    this.stageAt += this.staged;
    this.staged = 0;
  }

  /** Lays out and writes the metadata for the tree under root, and the superblock; returns the image's size. */
  finish(root: ErofsNode, buildTime = Date.now() / 1000): number {
    this.flush();
    const metaBlk = this.pos / BLOCK;
    const { meta, extra, inodes } = layout(root, metaBlk);
    let at = metaBlk * BLOCK;
    for (const buf of [meta, extra]) {
      for (let off = 0; off < buf.length; ) off += fs.writeSync(this.fd, buf, off, buf.length - off, at + off);
      at += buf.length;
    }
    const sb = Buffer.alloc(128);
    sb.writeUInt32LE(MAGIC, 0);
    sb.writeUInt8(BLKBITS, 12);
    sb.writeUInt16LE(0, 14); // root nid: the root is the metadata area's first inode
    sb.writeBigUInt64LE(BigInt(inodes), 16);
    sb.writeBigUInt64LE(BigInt(Math.floor(buildTime)), 24);
    sb.writeUInt32LE(at / BLOCK, 36);
    sb.writeUInt32LE(metaBlk, 40);
    randomBytes(16).copy(sb, 48); // uuid
    fs.writeSync(this.fd, sb, 0, sb.length, SB_OFFSET);
    return at;
  }
}

interface Placed {
  node: ErofsNode;
  nid: number;
  nlink: number;
  xattrs: Buffer;
  size: number; // i_size
  dirents?: Dirent[]; // directories: sorted, "." and ".." included
  blocks?: number[]; // directories: how many dirents each block holds
  inline: boolean; // the tail of a directory's or symlink's data sits right after its inode
  extraBlock: number; // where the full blocks of a directory's or symlink's data go
}

type Dirent = [name: Buffer, node: ErofsNode, type: number];

const align = (n: number, to: number) => Math.ceil(n / to) * to;

function xattrBody(x: Map<string, Buffer>): Buffer {
  if (!x.size) return Buffer.alloc(0);
  const parts: Buffer[] = [Buffer.alloc(XATTR_HEADER)];
  for (const [name, value] of [...x].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const p = XATTR_PREFIXES.find(([prefix]) => name.startsWith(prefix));
    if (!p) throw invalid(`invalid layer: extended attribute ${JSON.stringify(name)} is in a namespace that cannot be stored`);
    const suffix = Buffer.from(name.slice(p[0].length));
    if (suffix.length > 255 || value.length > 65535) throw invalid(`invalid layer: extended attribute ${JSON.stringify(name)} is too large`);
    const e = Buffer.alloc(align(4 + suffix.length + value.length, 4));
    e.writeUInt8(suffix.length, 0);
    e.writeUInt8(p[1], 1);
    e.writeUInt16LE(value.length, 2);
    suffix.copy(e, 4);
    value.copy(e, 4 + suffix.length);
    parts.push(e);
  }
  return Buffer.concat(parts);
}

/**
 * Packs sorted dirents into blocks (each block: the dirents, then their names); returns how many
 * each block holds and the directory's size (the last block is cut to its use).
 */
function packDir(dirents: Dirent[]): { blocks: number[]; size: number } {
  const blocks: number[] = [];
  let size = 0;
  for (let i = 0; i < dirents.length; ) {
    let used = 0;
    let j = i;
    while (j < dirents.length && used + DIRENT + dirents[j][0].length <= BLOCK) used += DIRENT + dirents[j++][0].length;
    if (j === i) throw invalid('invalid layer: a file name is too long');
    blocks.push(j - i);
    size += j === dirents.length ? used : BLOCK;
    i = j;
  }
  return { blocks, size };
}

/** A directory's bytes, once every node has its nid. */
function dirData(p: Placed, nid: (n: ErofsNode) => number): Buffer {
  const out = Buffer.alloc(align(p.size, BLOCK));
  let k = 0;
  for (const [b, count] of p.blocks!.entries()) {
    const blk = out.subarray(b * BLOCK);
    let nameOff = count * DIRENT;
    for (let i = 0; i < count; i++, k++) {
      const [name, node, type] = p.dirents![k];
      blk.writeBigUInt64LE(BigInt(nid(node)), i * DIRENT);
      blk.writeUInt16LE(nameOff, i * DIRENT + 8);
      blk.writeUInt8(type, i * DIRENT + 10);
      name.copy(blk, nameOff);
      nameOff += name.length;
    }
  }
  return out.subarray(0, p.size);
}

function layout(root: ErofsNode, metaBlk: number): { meta: Buffer; extra: Buffer; inodes: number } {
  // Breadth first from the root, each node once however many names it has: the root is nid 0.
  const placed = new Map<ErofsNode, Placed>();
  const order: Placed[] = [];
  const visit = (node: ErofsNode) => {
    let p = placed.get(node);
    if (!p) {
      p = { node, nid: 0, nlink: node.kind === 'dir' ? 2 : 0, xattrs: xattrBody(node.xattrs), size: 0, inline: false, extraBlock: 0 };
      placed.set(node, p);
      order.push(p);
    }
    return p;
  };
  visit(root);
  const parents = new Map<ErofsNode, ErofsNode>([[root, root]]);
  for (let i = 0; i < order.length; i++) {
    const p = order[i];
    const n = p.node;
    if (n.kind === 'dir') {
      p.dirents = [[Buffer.from('.'), n, FILE_TYPE.dir], [Buffer.from('..'), parents.get(n)!, FILE_TYPE.dir]];
      for (const [name, child] of n.children!) {
        const c = visit(child);
        if (child.kind === 'dir') {
          p.nlink++;
          parents.set(child, n);
        } else c.nlink++;
        p.dirents.push([Buffer.from(name), child, FILE_TYPE[child.kind]]);
      }
      p.dirents.sort((a, b) => Buffer.compare(a[0], b[0]));
      ({ blocks: p.blocks, size: p.size } = packDir(p.dirents));
    } else p.size = n.kind === 'symlink' ? n.target!.length : n.size;
  }
  // Sizes do not depend on nids (dirents are fixed-size): place every inode, then write them.
  let cursor = 0;
  let extraBlocks = 0;
  for (const p of order) {
    const hasData = p.node.kind === 'dir' || p.node.kind === 'symlink';
    const tail = hasData ? p.size % BLOCK : 0;
    let need = EXTENDED + p.xattrs.length;
    // Inline tails must sit in one metadata block with their inode (the kernel refuses others).
    p.inline = tail > 0 && need + tail <= BLOCK;
    if (p.inline) need += tail;
    if ((cursor % BLOCK) + need > BLOCK && need <= BLOCK) cursor = align(cursor, BLOCK);
    p.nid = cursor / SLOT;
    cursor += align(need, SLOT);
    if (hasData) {
      p.extraBlock = extraBlocks;
      extraBlocks += p.inline ? Math.floor(p.size / BLOCK) : Math.ceil(p.size / BLOCK);
    }
  }
  const metaBlocks = Math.max(1, align(cursor, BLOCK) / BLOCK);
  const extraStart = metaBlk + metaBlocks;
  const meta = Buffer.alloc(metaBlocks * BLOCK);
  const extra = Buffer.alloc(extraBlocks * BLOCK);
  const nid = (n: ErofsNode) => placed.get(n)!.nid;
  for (const [i, p] of order.entries()) {
    const n = p.node;
    const data = n.kind === 'dir' ? dirData(p, nid) : n.kind === 'symlink' ? n.target! : undefined;
    const ino = meta.subarray(p.nid * SLOT);
    ino.writeUInt16LE(1 | ((p.inline ? FLAT_INLINE : FLAT_PLAIN) << 1), 0);
    ino.writeUInt16LE(p.xattrs.length ? (p.xattrs.length - XATTR_HEADER) / 4 + 1 : 0, 2);
    ino.writeUInt16LE(TYPE_BITS[n.kind] | (n.mode & 0o7777), 4);
    ino.writeBigUInt64LE(BigInt(p.size), 8);
    let u = 0;
    if (n.kind === 'file') u = n.size ? n.block : 0;
    else if (n.kind === 'char' || n.kind === 'block') {
      const major = n.major ?? 0;
      const minor = n.minor ?? 0;
      u = ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0;
    } else if (data) u = extraStart + p.extraBlock;
    ino.writeUInt32LE(u, 16);
    ino.writeUInt32LE(i + 1, 20);
    ino.writeUInt32LE(n.uid >>> 0, 24);
    ino.writeUInt32LE(n.gid >>> 0, 28);
    const secs = Math.floor(n.mtime);
    ino.writeBigInt64LE(BigInt(Number.isFinite(secs) ? secs : 0), 32);
    ino.writeUInt32LE(Math.min(999_999_999, Math.max(0, Math.round((n.mtime - secs) * 1e9))), 40);
    ino.writeUInt32LE(p.nlink, 44);
    p.xattrs.copy(ino, EXTENDED);
    if (data) {
      const full = p.inline ? Math.floor(p.size / BLOCK) * BLOCK : data.length;
      data.copy(extra, p.extraBlock * BLOCK, 0, full);
      if (p.inline) data.copy(ino, EXTENDED + p.xattrs.length, full);
    }
  }
  return { meta, extra, inodes: order.length };
}

// Reading, for what the engine needs without mounting (a file of an image, such as /etc/passwd)
// and for checking images in tests.

export interface ErofsInode {
  nid: number;
  kind: NodeKind | 'socket';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  nlink: number;
  rdev: number;
  layout: number;
  raw: number; // raw_blkaddr
  at: number; // byte offset of the inode
  isize: number;
  xsize: number;
}

export class ErofsReader {
  private readonly fd: number;
  private readonly meta: number;
  readonly rootNid: number;

  private constructor(fd: number) {
    this.fd = fd;
    const sb = this.read(SB_OFFSET, 128);
    if (sb.readUInt32LE(0) !== MAGIC) throw invalid('not an EROFS image');
    if (sb.readUInt8(12) !== BLKBITS) throw invalid('EROFS image: unsupported block size');
    this.rootNid = sb.readUInt16LE(14);
    this.meta = sb.readUInt32LE(40) * BLOCK;
  }

  static open(file: string): ErofsReader {
    return new ErofsReader(fs.openSync(file, 'r'));
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  private read(pos: number, len: number): Buffer {
    const b = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const n = fs.readSync(this.fd, b, got, len - got, pos + got);
      if (!n) throw invalid('EROFS image is truncated');
      got += n;
    }
    return b;
  }

  inode(nid: number): ErofsInode {
    const at = this.meta + nid * SLOT;
    const b = this.read(at, EXTENDED);
    const format = b.readUInt16LE(0);
    const extended = (format & 1) === 1;
    const icount = b.readUInt16LE(2);
    const mode = b.readUInt16LE(4);
    const kinds: Record<number, ErofsInode['kind']> = { 0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink', 0o020000: 'char', 0o060000: 'block', 0o010000: 'fifo', 0o140000: 'socket' };
    return {
      nid, at, kind: kinds[mode & S_IFMT], mode: mode & 0o7777,
      layout: (format >> 1) & 7,
      isize: extended ? EXTENDED : COMPACT,
      xsize: icount ? XATTR_HEADER + (icount - 1) * 4 : 0,
      size: extended ? Number(b.readBigUInt64LE(8)) : b.readUInt32LE(8),
      raw: b.readUInt32LE(16),
      rdev: b.readUInt32LE(16),
      uid: extended ? b.readUInt32LE(24) : b.readUInt16LE(24),
      gid: extended ? b.readUInt32LE(28) : b.readUInt16LE(26),
      mtime: extended ? Number(b.readBigInt64LE(32)) + b.readUInt32LE(40) / 1e9 : 0,
      nlink: extended ? b.readUInt32LE(44) : b.readUInt16LE(6),
    };
  }

  /** A file's, directory's or symlink's bytes (uncompressed layouts only). */
  data(ino: ErofsInode): Buffer {
    if (ino.layout === FLAT_PLAIN) return ino.size ? this.read(ino.raw * BLOCK, ino.size) : Buffer.alloc(0);
    if (ino.layout !== FLAT_INLINE) throw invalid('EROFS image: compressed or chunked files are not supported');
    const full = Math.floor(ino.size / BLOCK) * BLOCK;
    const head = full ? this.read(ino.raw * BLOCK, full) : Buffer.alloc(0);
    return Buffer.concat([head, this.read(ino.at + ino.isize + ino.xsize, ino.size - full)]);
  }

  entries(dir: ErofsInode): Array<{ name: string; nid: number; type: number }> {
    const d = this.data(dir);
    const out: Array<{ name: string; nid: number; type: number }> = [];
    for (let b = 0; b < d.length; b += BLOCK) {
      const blk = d.subarray(b, Math.min(d.length, b + BLOCK));
      const count = blk.readUInt16LE(8) / DIRENT;
      for (let k = 0; k < count; k++) {
        const off = blk.readUInt16LE(k * DIRENT + 8);
        let end = k + 1 < count ? blk.readUInt16LE((k + 1) * DIRENT + 8) : blk.length;
        const nul = blk.indexOf(0, off);
        if (k + 1 === count && nul >= 0 && nul < end) end = nul;
        out.push({ name: blk.subarray(off, end).toString(), nid: Number(blk.readBigUInt64LE(k * DIRENT)), type: blk.readUInt8(k * DIRENT + 10) });
      }
    }
    return out;
  }

  /** The inode at a path (no symlink followed, a symlink on the way is "absent"), or undefined. */
  lookup(rel: string): ErofsInode | undefined {
    let ino = this.inode(this.rootNid);
    for (const c of rel.split('/').filter((s) => s && s !== '.')) {
      if (ino.kind !== 'dir') return undefined;
      const e = this.entries(ino).find((x) => x.name === c);
      if (!e) return undefined;
      ino = this.inode(e.nid);
    }
    return ino;
  }

  /** Extended attributes stored inline with an inode. */
  xattrs(ino: ErofsInode): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    if (!ino.xsize) return out;
    const b = this.read(ino.at + ino.isize, ino.xsize);
    let off = XATTR_HEADER + b.readUInt8(4) * 4;
    while (off + 4 <= b.length) {
      const len = b.readUInt8(off);
      const index = b.readUInt8(off + 1);
      const vlen = b.readUInt16LE(off + 2);
      const prefix = XATTR_PREFIXES.find(([, i]) => i === index)?.[0] ?? `?${index}.`;
      out.set(prefix + b.subarray(off + 4, off + 4 + len).toString(), Buffer.from(b.subarray(off + 4 + len, off + 4 + len + vlen)));
      off += align(4 + len + vlen, 4);
    }
    return out;
  }
}
