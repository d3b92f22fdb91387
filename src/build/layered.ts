// A read-only view of a stack of directories as overlayfs would merge them (the top one wins, a
// whiteout hides what is below), without mounting anything: the context (one directory), a
// stage's or an image's layers (COPY --from), or the image a COPY writes into (to resolve its
// destination). Paths resolve with the stack's root as "/": a symlink never leads out of it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../core/errors.ts';

const isWhiteout = (st: fs.Stats) => st.isCharacterDevice() && st.rdev === 0;

export interface Entry {
  abs: string;
  st: fs.Stats;
}

export class LayeredFs {
  /** Top first. */
  private readonly dirs: string[];
  /** What a layer holds at a path, by `<layer index>\0<path>`: the layers never change while a view is used. */
  private readonly kinds = new Map<string, 'dir' | 'none' | 'stop'>();
  constructor(dirsTopFirst: string[]) {
    this.dirs = dirsTopFirst;
  }

  /**
   * Whether layer i has a real directory at rel, nothing there, or something else ('stop': a
   * symlink, file or whiteout there hides everything below it in this layer and the lower ones).
   * Checked one component at a time, so the host never follows a link a layer holds: a lower
   * layer's `a -> /etc` under an upper layer's directory `a` must not make `a/x` read /etc/x.
   */
  private kind(i: number, rel: string): 'dir' | 'none' | 'stop' {
    if (!rel) return 'dir';
    const key = `${i}\0${rel}`;
    let k = this.kinds.get(key);
    if (k) return k;
    const slash = rel.lastIndexOf('/');
    const up = slash < 0 ? 'dir' : this.kind(i, rel.slice(0, slash));
    if (up !== 'dir') k = up;
    else {
      const st = fs.lstatSync(path.join(this.dirs[i], rel), { throwIfNoEntry: false });
      k = !st ? 'none' : st.isDirectory() ? 'dir' : 'stop';
    }
    this.kinds.set(key, k);
    return k;
  }

  /** The entry at a root-relative path ("a/b"; "" is the root), not following a final symlink. */
  lstat(rel: string): Entry | undefined {
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? '' : rel.slice(0, slash);
    for (let i = 0; i < this.dirs.length; i++) {
      const k = this.kind(i, parent);
      if (k === 'none') continue;
      if (k === 'stop') return undefined;
      const abs = rel ? path.join(this.dirs[i], rel) : this.dirs[i];
      const st = fs.lstatSync(abs, { throwIfNoEntry: false });
      if (!st) continue;
      if (isWhiteout(st)) return undefined;
      return { abs, st };
    }
    return undefined;
  }

  /** A directory's names, merged over the layers that have it (whiteouts removed), sorted. */
  readdir(rel: string): string[] {
    const seen = new Map<string, boolean>();
    for (let i = 0; i < this.dirs.length; i++) {
      const k = this.kind(i, rel);
      if (k === 'none') continue;
      if (k === 'stop') break; // a file or whiteout here hides any directory below
      const abs = rel ? path.join(this.dirs[i], rel) : this.dirs[i];
      for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
        if (seen.has(e.name)) continue;
        seen.set(e.name, !(e.isCharacterDevice() && isWhiteout(fs.lstatSync(path.join(abs, e.name)))));
      }
    }
    return [...seen].filter(([, live]) => live).map(([n]) => n).sort();
  }

  /**
   * Resolves p (absolute or relative to the root) to root-relative parts, following symlinks
   * with the root as "/" and `..` stopping at the root; the last component is followed only if asked.
   */
  resolve(p: string, followLast = true): string[] {
    const out: string[] = [];
    let todo = p.split('/').filter((c) => c && c !== '.');
    for (let links = 0; todo.length;) {
      const c = todo.shift()!;
      if (c === '..') {
        out.pop();
        continue;
      }
      const e = this.lstat([...out, c].join('/'));
      if (e?.st.isSymbolicLink() && (todo.length > 0 || followLast)) {
        if (++links > 40) throw invalid(`too many levels of symbolic links in ${p}`);
        const target = fs.readlinkSync(e.abs);
        if (target.startsWith('/')) out.length = 0;
        todo = [...target.split('/').filter((x) => x && x !== '.'), ...todo];
        continue;
      }
      out.push(c);
    }
    return out;
  }
}
