// Unpacked layers, one directory per diff id, shared by every image and container that uses
// them; a container's root is these directories as overlayfs lower dirs plus its own upper dir.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { digestHex } from '../content/store.ts';
import type { Mount } from '../core/types.ts';
import type { SpecialFs } from '../image/apply.ts';
import { isAlive, ownerDead, selfRef } from '../kernel/process.ts';
import { randomHex } from '../util/random.ts';

export class LayerStore {
  readonly root: string;
  private readonly special: SpecialFs;
  constructor(root: string, special: SpecialFs) {
    this.root = root;
    this.special = special;
  }

  dir(diffId: string): string {
    return path.join(this.root, digestHex(diffId));
  }

  has(diffId: string): boolean {
    return fs.existsSync(this.dir(diffId));
  }

  /**
   * Unpacks an uncompressed layer tar; the layer appears under its diff id only when complete and,
   * if given, once `verify` accepted it (a pulled layer must match its image's diff id first).
   */
  async unpack(tar: AsyncIterable<Buffer>, opts: { verify?: (res: { diffId: string; size: number }) => void | Promise<void> } = {}): Promise<{ diffId: string; size: number }> {
    fs.mkdirSync(this.root, { recursive: true });
    const me = selfRef();
    const tmp = path.join(this.root, `.tmp-${me.pid}.${me.start}.${randomHex(6)}`);
    fs.mkdirSync(tmp, { mode: 0o755 });
    try {
      const { applyLayer } = await import('../image/apply.ts'); // only unpacking needs the tar code
      const res = await applyLayer(tar, tmp, this.special);
      await opts.verify?.(res);
      try {
        fs.renameSync(tmp, this.dir(res.diffId));
      } catch (err) {
        // Another unpack of the same layer won the race: keep theirs.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        fs.rmSync(tmp, { recursive: true, force: true });
      }
      return res;
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /** Bytes of the layer's files (for a layer whose unpacked size was never recorded). */
  usage(diffId: string): number {
    return dirUsage(this.dir(diffId));
  }

  remove(diffId: string): void {
    fs.rmSync(this.dir(diffId), { recursive: true, force: true });
  }

  /** Leftovers of unpacks whose process was killed (a live one's are left alone): temp dirs and claims. */
  sweep(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return;
    }
    for (const n of names) {
      if (ownerDead(n, '.tmp-')) fs.rmSync(path.join(this.root, n), { recursive: true, force: true });
      if (n.startsWith('.claim-') && !this.holderAlive(path.join(this.root, n))) fs.rmSync(path.join(this.root, n), { force: true });
    }
  }

  private holderAlive(claim: string): boolean {
    let text: string;
    let st: fs.Stats;
    try {
      st = fs.statSync(claim);
      text = fs.readFileSync(claim, 'utf8');
    } catch {
      return false;
    }
    const m = /^(\d+) (\d+)$/.exec(text.trim());
    // Empty: the holder is between creating and writing it, or died there (then it is old).
    if (!m) return Date.now() - st.mtimeMs < 5000;
    return isAlive({ pid: Number(m[1]), start: Number(m[2]) });
  }

  /**
   * Claims the unpacking of a layer across processes, so two pulls of one layer download it
   * once: waits while a live process holds the claim, takes it over from a dead one. Returns
   * the release, or undefined when the layer appeared meanwhile (nothing left to do).
   */
  async claim(diffId: string, signal?: AbortSignal): Promise<(() => void) | undefined> {
    fs.mkdirSync(this.root, { recursive: true });
    const file = path.join(this.root, `.claim-${digestHex(diffId)}`);
    for (;;) {
      if (this.has(diffId)) return undefined;
      signal?.throwIfAborted();
      let fd: number | undefined;
      try {
        fd = fs.openSync(file, 'wx', 0o644);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (fd !== undefined) {
        const me = selfRef();
        fs.writeSync(fd, `${me.pid} ${me.start}`);
        fs.closeSync(fd);
        return () => fs.rmSync(file, { force: true });
      }
      if (!this.holderAlive(file)) fs.rmSync(file, { force: true });
      else await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A container's lower dirs, top layer first, as overlayfs wants (`empty` for an image with none). */
  lowerDirs(diffIds: string[], empty: string): string[] {
    return diffIds.length ? diffIds.map((d) => this.dir(d)).reverse() : [empty];
  }

  /** The overlay mount for a container over lower dirs (lowerDirs, or mounts of them). */
  rootfsMount(lowers: string[], upper: string, work: string, target: string): Mount {
    return {
      type: 'overlay',
      source: 'overlay',
      target,
      options: [`lowerdir=${lowers.join(':')}`, `upperdir=${upper}`, `workdir=${work}`],
    };
  }
}

/** Bytes of the regular files under a directory (0 if it does not exist). */
export function dirUsage(root: string): number {
  let total = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += fs.lstatSync(p).size;
    }
  };
  try {
    walk(root);
  } catch {}
  return total;
}

/**
 * Reads a small file of an image as the container would see it at start (top layer wins,
 * whiteouts hide), without mounting. Symlinks are not followed: the file is then "absent".
 */
export function readImageFile(store: LayerStore, diffIds: string[], rel: string): string | undefined {
  for (let i = diffIds.length - 1; i >= 0; i--) {
    const p = path.join(store.dir(diffIds[i]), rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      continue;
    }
    if (st.isFile()) return st.size > 4 << 20 ? undefined : fs.readFileSync(p, 'utf8');
    return undefined; // a whiteout (char 0:0), a symlink or anything else hides lower layers
  }
  return undefined;
}
