// Applies one image layer (a tar stream) into a fresh directory. The layer is hostile input: no
// entry may land outside the directory, and nothing is ever created through a symlink the layer
// made. Since nobody else writes to the directory while we work, checking each parent with lstat
// once is enough; after that we only trust what we created ourselves.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { invalid } from '../core/errors.ts';
import { TarParser, type TarEntry, type TarHandler } from './tar.ts';

export type SpecialOp =
  | { op: 'mknod'; path: string; type: 'char' | 'block' | 'fifo'; mode: number; major: number; minor: number; uid: number; gid: number; mtime: number }
  | { op: 'xattr'; path: string; name: string; value: Buffer };

/** Executed by a native helper (mknod and setxattr, which Node cannot do); paths are relative to dir. */
export interface SpecialFs {
  run(dir: string, ops: SpecialOp[]): Promise<void>;
}

type Mknod = Extract<SpecialOp, { op: 'mknod' }>;

const WH = '.wh.';
const WH_META = '.wh..wh.';
const OPAQUE = '.wh..wh..opq';
// O_EXCL rather than O_TRUNC: an earlier entry at the path is unlinked first, so a file hardlinked to
// it is never rewritten through the new name.
const CREATE = fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW;

const q = JSON.stringify;

/** Layer-relative form of an entry name ('' is the layer root); refuses to leave the layer. */
export function clean(name: string, what: string): string {
  if (!name || name.includes('\0')) throw invalid(`invalid layer: ${what} has an invalid name`);
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '..') {
      if (!out.length) throw invalid(`invalid layer: ${what} escapes the layer`);
      out.pop();
    } else if (c && c !== '.') out.push(c);
  }
  return out.join('/');
}

/** What a tar entry asks of a layer, by the image spec's naming rules (shared by both ways of unpacking). */
export type EntryAction =
  | { act: 'skip' } // inside AUFS metadata
  | { act: 'parent'; parent: string } // AUFS metadata: only its directory is made
  | { act: 'opaque'; dir: string } // hide the lower layers' contents of dir
  | { act: 'whiteout'; parent: string; name: string; path: string } // hide the lower layers' path
  | { act: 'create'; parent: string; name: string; path: string };

export function entryAction(e: TarEntry): EntryAction {
  const what = `entry ${q(e.path)}`;
  const rel = clean(e.path, what);
  const comps = rel.split('/');
  const base = comps.pop()!;
  const parent = comps.join('/');
  if (comps.some((c) => c.startsWith(WH_META))) return { act: 'skip' }; // inside AUFS metadata (.wh..wh.plnk/...)
  if (comps.some((c) => c.startsWith(WH))) throw invalid(`invalid layer: ${what} is inside a whiteout`);
  if (base.startsWith(WH)) {
    if (base === OPAQUE) return { act: 'opaque', dir: parent };
    if (base.startsWith(WH_META)) return { act: 'parent', parent }; // other .wh..wh.* names are AUFS metadata
    const name = base.slice(WH.length);
    if (!name || name === '.' || name === '..') throw invalid(`invalid layer: ${what} is a malformed whiteout`);
    return { act: 'whiteout', parent, name, path: parent ? `${parent}/${name}` : name };
  }
  if (!rel && e.type !== 'dir') throw invalid(`invalid layer: ${what} would replace the layer root`);
  return { act: 'create', parent, name: base, path: rel };
}

/** Overlay's own attributes (redirect, origin, metacopy, opaque) steer lookups into other layers: a layer may only express whiteouts and opaque dirs through the .wh. names. */
export const layerXattr = (name: string) => !name.startsWith('trusted.overlay.');

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;
const depth = (p: string) => (p ? p.split('/').length : 0);

class Layer implements TarHandler {
  private readonly dir: string;
  private readonly dirs = new Set<string>(['']); // known to be real directories (lstat'd or made by us)
  private readonly dirTimes = new Map<string, number>();
  // Deferred to the native helper, keyed by path so a later entry or whiteout can cancel them.
  readonly nodes = new Map<string, Mknod>();
  readonly xattrs = new Map<string, SpecialOp[]>();
  private fd = -1;
  private file: TarEntry | null = null;

  constructor(dir: string) {
    this.dir = dir;
  }

  private abs(rel: string): string {
    return rel ? `${this.dir}/${rel}` : this.dir;
  }

  entry(e: TarEntry): void {
    const what = `entry ${q(e.path)}`;
    const a = entryAction(e);
    if (a.act === 'skip') return;
    if (a.act === 'opaque') {
      this.mkdirs(a.dir, what, true);
      this.xattr(a.dir, 'trusted.overlay.opaque', Buffer.from('y'));
      return;
    }
    this.mkdirs(a.parent, what, true);
    if (a.act === 'parent') return;
    if (a.act === 'whiteout') {
      this.whiteout(a.path, e);
      return;
    }
    const rel = a.path;
    const full = this.abs(rel);
    switch (e.type) {
      case 'dir':
        if (!fs.lstatSync(full, { throwIfNoEntry: false })?.isDirectory()) this.make(rel, () => fs.mkdirSync(full, 0o700));
        fs.lchownSync(full, e.uid, e.gid);
        fs.chmodSync(full, e.mode); // full is a directory we lstat'd or made, so following is moot
        this.dirs.add(rel);
        this.dirTimes.set(rel, e.mtime);
        break;
      case 'file':
        this.make(rel, () => (this.fd = fs.openSync(full, CREATE, 0o600)));
        this.file = e;
        break;
      case 'symlink':
        // The target is stored verbatim: it is only dangerous if followed, and we never follow it.
        this.make(rel, () => fs.symlinkSync(e.linkname, full));
        fs.lchownSync(full, e.uid, e.gid);
        fs.lutimesSync(full, e.mtime, e.mtime);
        break;
      case 'hardlink':
        this.hardlink(rel, e, what);
        break;
      default:
        this.clear(rel);
        this.nodes.set(rel, { op: 'mknod', path: rel, type: e.type, mode: e.mode, major: e.devmajor, minor: e.devminor, uid: e.uid, gid: e.gid, mtime: e.mtime });
    }
    // Applied after everything else: chown clears security.capability.
    for (const [name, value] of e.xattrs) if (layerXattr(name)) this.xattr(rel, name, value);
  }

  data(chunk: Buffer): void {
    if (this.fd < 0) return;
    for (let off = 0; off < chunk.length; ) off += fs.writeSync(this.fd, chunk, off);
  }

  endEntry(): void {
    if (this.fd < 0 || !this.file) return;
    const e = this.file;
    fs.fchownSync(this.fd, e.uid, e.gid);
    fs.fchmodSync(this.fd, e.mode); // after chown, which drops setuid/setgid
    fs.futimesSync(this.fd, e.mtime, e.mtime);
    this.close();
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    this.file = null;
  }

  /** Checks (and with create, makes) every component of rel as a real directory, never a symlink. */
  private mkdirs(rel: string, what: string, create: boolean): void {
    if (this.dirs.has(rel)) return;
    let p = '';
    for (const c of rel.split('/')) {
      p = p ? `${p}/${c}` : c;
      if (this.dirs.has(p)) continue;
      const st = this.nodes.has(p) ? null : fs.lstatSync(this.abs(p), { throwIfNoEntry: false });
      if (st === undefined) {
        if (!create) throw invalid(`invalid layer: ${what}: ${q(p)} does not exist in the layer`);
        fs.mkdirSync(this.abs(p), 0o755);
        fs.chmodSync(this.abs(p), 0o755); // the umask may have narrowed it
      } else if (st?.isSymbolicLink()) {
        throw invalid(`invalid layer: ${what} is a path through symlink ${q(p)}`);
      } else if (!st?.isDirectory()) {
        throw invalid(`invalid layer: ${what}: ${q(p)} is not a directory`);
      }
      this.dirs.add(p);
    }
  }

  private hardlink(rel: string, e: TarEntry, what: string): void {
    // Like Docker, an absolute target names a path in the layer, not on the host.
    const target = clean(e.linkname, `hardlink ${q(e.path)} to ${q(e.linkname)}`);
    const slash = target.lastIndexOf('/');
    this.mkdirs(slash < 0 ? '' : target.slice(0, slash), what, false);
    const node = this.nodes.get(target);
    if (node) {
      // The helper makes nodes later, so a link to one becomes a second node with the same identity.
      this.clear(rel);
      this.nodes.set(rel, { ...node, path: rel });
      return;
    }
    const st = target ? fs.lstatSync(this.abs(target), { throwIfNoEntry: false }) : undefined;
    if (!st || st.isDirectory()) throw invalid(`invalid layer: ${what} links to ${q(e.linkname)}, which is not a file in the layer`);
    if (target !== rel) this.make(rel, () => fs.linkSync(this.abs(target), this.abs(rel)));
  }

  private whiteout(rel: string, e: TarEntry): void {
    this.clear(rel);
    this.nodes.set(rel, { op: 'mknod', path: rel, type: 'char', mode: 0, major: 0, minor: 0, uid: e.uid, gid: e.gid, mtime: e.mtime });
  }

  private xattr(rel: string, name: string, value: Buffer): void {
    const list = this.xattrs.get(rel) ?? [];
    list.push({ op: 'xattr', path: rel || '.', name, value });
    this.xattrs.set(rel, list);
  }

  /** Creates rel; if an earlier entry of this layer is in the way, removes it and tries again. */
  private make(rel: string, create: () => void): void {
    this.nodes.delete(rel);
    this.xattrs.delete(rel);
    try {
      create();
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
      this.clear(rel);
      create();
    }
  }

  /** Removes whatever an earlier entry put at rel, including anything still pending for it. */
  private clear(rel: string): void {
    this.nodes.delete(rel);
    this.xattrs.delete(rel);
    const full = this.abs(rel);
    const st = fs.lstatSync(full, { throwIfNoEntry: false });
    if (st?.isDirectory()) {
      fs.rmSync(full, { recursive: true });
      const gone = (k: string) => k === rel || k.startsWith(`${rel}/`);
      for (const m of [this.dirs, this.dirTimes, this.nodes, this.xattrs] as { keys(): Iterable<string>; delete(k: string): boolean }[]) {
        for (const k of m.keys()) if (gone(k)) m.delete(k);
      }
    } else if (st) {
      fs.unlinkSync(full);
    }
  }

  /** Directory times go last, deepest first: creating anything inside a directory changes its mtime. */
  setDirTimes(): void {
    const dirs = [...this.dirTimes].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [rel, t] of dirs) fs.lutimesSync(this.abs(rel), t, t);
  }
}

export async function applyLayer(
  tar: AsyncIterable<Buffer>,
  dir: string,
  special: SpecialFs,
): Promise<{ diffId: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const layer = new Layer(dir);
  const parser = new TarParser(layer);
  try {
    // The whole input is hashed and consumed, end blocks and trailing bytes included: that is the diff id.
    for await (const chunk of tar) {
      hash.update(chunk);
      size += chunk.length;
      parser.write(chunk);
    }
    parser.end();
  } finally {
    layer.close();
  }
  const ops: SpecialOp[] = [...layer.nodes.values()];
  for (const list of layer.xattrs.values()) ops.push(...list);
  if (ops.length) await special.run(dir, ops);
  layer.setDirTimes();
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}
