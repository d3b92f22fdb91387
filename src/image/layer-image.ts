// Builds a layer's EROFS image (snapshot/erofs.ts) from its tar, by the rules apply.ts follows
// to unpack one into a directory: no entry leaves the layer, nothing goes through a symlink the
// layer made, later entries replace earlier ones, whiteouts become 0:0 character devices and
// opaque directories an overlay xattr. Here the tree is kept in memory and the host's
// filesystem only ever sees one file, so the tar cannot touch anything outside it.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { invalid } from '../core/errors.ts';
import { ErofsWriter, newNode, type ErofsNode } from '../snapshot/erofs.ts';
import { clean, entryAction, layerXattr } from './apply.ts';
import { TarParser, type TarEntry, type TarHandler } from './tar.ts';

const q = JSON.stringify;
const MAX_SYMLINK = 4095; // PATH_MAX less its NUL

function split(rel: string): [parent: string, base: string] {
  const i = rel.lastIndexOf('/');
  return i < 0 ? ['', rel] : [rel.slice(0, i), rel.slice(i + 1)];
}

class TreeBuilder implements TarHandler {
  readonly root: ErofsNode;
  private readonly out: ErofsWriter;
  private readonly now: number;
  private file: ErofsNode | null = null;

  constructor(out: ErofsWriter, now: number) {
    this.out = out;
    this.now = now;
    this.root = newNode('dir', { mode: 0o755, uid: 0, gid: 0, mtime: now });
  }

  /** The directory at rel, made (0755) where missing if create; a symlink or other file on the way is refused. */
  private dir(rel: string, what: string, create: boolean): ErofsNode {
    let n = this.root;
    let p = '';
    for (const c of rel ? rel.split('/') : []) {
      p = p ? `${p}/${c}` : c;
      let next = n.children!.get(c);
      if (!next) {
        if (!create) throw invalid(`invalid layer: ${what}: ${q(p)} does not exist in the layer`);
        next = newNode('dir', { mode: 0o755, uid: 0, gid: 0, mtime: this.now });
        n.children!.set(c, next);
      } else if (next.kind === 'symlink') throw invalid(`invalid layer: ${what} is a path through symlink ${q(p)}`);
      else if (next.kind !== 'dir') throw invalid(`invalid layer: ${what}: ${q(p)} is not a directory`);
      n = next;
    }
    return n;
  }

  entry(e: TarEntry): void {
    const what = `entry ${q(e.path)}`;
    const a = entryAction(e);
    if (a.act === 'skip') return;
    if (a.act === 'opaque') {
      this.dir(a.dir, what, true).xattrs.set('trusted.overlay.opaque', Buffer.from('y'));
      return;
    }
    const parent = this.dir(a.parent, what, true);
    if (a.act === 'parent') return;
    const attrs = { mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
    if (a.act === 'whiteout') {
      parent.children!.set(a.name, { ...newNode('char', { ...attrs, mode: 0 }), major: 0, minor: 0 });
      return;
    }
    let node: ErofsNode;
    const old = a.path ? parent.children!.get(a.name) : this.root;
    switch (e.type) {
      case 'dir':
        // An existing directory keeps its contents (and attributes set so far); its own are updated.
        node = old?.kind === 'dir' ? Object.assign(old, attrs) : newNode('dir', attrs);
        break;
      case 'file':
        node = newNode('file', attrs);
        node.size = e.size;
        node.block = this.out.beginFile();
        this.file = node;
        break;
      case 'symlink':
        // The target is stored verbatim: it is only dangerous if followed, and nothing here follows it.
        node = newNode('symlink', { ...attrs, mode: 0o777 }); // as Linux makes every symlink
        node.target = Buffer.from(e.linkname);
        if (!node.target.length || node.target.length > MAX_SYMLINK) throw invalid(`invalid layer: ${what} has an invalid symlink target`);
        break;
      case 'hardlink': {
        // Like Docker, an absolute target names a path in the layer, not on the host.
        const target = clean(e.linkname, `hardlink ${q(e.path)} to ${q(e.linkname)}`);
        const [tp, tb] = split(target);
        const t = target ? this.dir(tp, what, false).children!.get(tb) : undefined;
        if (!t || t.kind === 'dir') throw invalid(`invalid layer: ${what} links to ${q(e.linkname)}, which is not a file in the layer`);
        node = t;
        break;
      }
      default:
        node = { ...newNode(e.type, attrs), major: e.devmajor, minor: e.devminor };
    }
    if (a.path) parent.children!.set(a.name, node);
    for (const [name, value] of e.xattrs) if (layerXattr(name)) node.xattrs.set(name, value);
  }

  data(chunk: Buffer): void {
    if (this.file) this.out.write(chunk);
  }

  endEntry(): void {
    if (!this.file) return;
    this.out.endFile();
    this.file = null;
  }
}

/**
 * Writes the layer in the tar stream as an EROFS image into the open file fd; returns its diff id
 * (the sha256 of the whole stream, end blocks and trailing bytes included) and sizes.
 */
export async function buildLayerImage(tar: AsyncIterable<Buffer>, fd: number): Promise<{ diffId: string; size: number; imageSize: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const out = new ErofsWriter(fd);
  const tree = new TreeBuilder(out, Date.now() / 1000);
  const parser = new TarParser(tree);
  for await (const chunk of tar) {
    hash.update(chunk);
    size += chunk.length;
    parser.write(chunk);
  }
  parser.end();
  const imageSize = out.finish(tree.root);
  fs.ftruncateSync(fd, imageSize);
  return { diffId: `sha256:${hash.digest('hex')}`, size, imageSize };
}
