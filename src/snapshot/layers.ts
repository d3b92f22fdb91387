// Image layers, one per diff id, shared by every image and container that uses them; a
// container's root is their directories as overlayfs lower dirs plus its own upper dir.
//
// A layer is stored as an EROFS image (<hex>.erofs, see erofs.ts) and mounted read-only when a
// container or a command first needs its files: once per boot, one mount for all containers, so
// that they share its page cache (and mapped binaries) as they would a directory's. The mount
// points are under /run (<run>/layers/<root key>/<hex>), which a reboot empties as it does the
// mounts, and not in the state root, which stays removable with rm -rf. Layers unpacked into
// plain directories by earlier versions (<hex>/ with no image) still work.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { digestHex } from '../content/store.ts';
import type { Mount } from '../core/types.ts';
import { rmdirQuiet } from '../kernel/cgroups.ts';
import { mountTable, type MountEntry } from '../kernel/mounts.ts';
import { claim, dropIf, holderDead, selfHolder } from '../kernel/claim.ts';
import { ownerDead, selfRef } from '../kernel/process.ts';
import { sweepTemps } from '../util/atomic.ts';
import { randomHex } from '../util/random.ts';
import { ErofsReader } from './erofs.ts';
import { layerStatus, mountedImage } from './layer-mounts.ts';

/** Mounting and unmounting layer images (a native helper: Node cannot mount). */
export interface LayerMounts {
  mount(pairs: Array<[image: string, dir: string]>): void;
  unmount(dirs: string[]): void;
}

/**
 * Writes an uncompressed layer tar as an EROFS image into fd, and says what it was. The image
 * layer's format (tar, whiteouts) is image/'s business: the caller gives the builder
 * (image/layer-image.ts), so that this store does not import the layer above it.
 */
export type LayerBuilder = (tar: AsyncIterable<Buffer>, fd: number) => Promise<{ diffId: string; size: number }>;

const IMAGE = '.erofs';
export const LAYER_MOUNTS = path.join(process.env.BERTH_RUN_DIR ?? '/run/berth', 'layers');

export class LayerStore {
  readonly root: string;
  private readonly mounts: LayerMounts;
  private readonly mountRoot: string;
  private readonly build: LayerBuilder;
  /** Layers in root; their images mounted under mountRoot (LAYER_MOUNTS/<root key>), written by build. */
  constructor(root: string, mounts: LayerMounts, mountRoot: string, build: LayerBuilder) {
    this.root = root;
    this.mounts = mounts;
    this.mountRoot = mountRoot;
    this.build = build;
  }

  /** Where the layer's files are seen: its image's mount point (once mount() ran for it), or its directory. */
  dir(diffId: string): string {
    return fs.existsSync(this.image(diffId)) ? this.mountPoint(diffId) : this.legacyDir(diffId);
  }

  private mountPoint(diffId: string): string {
    return path.join(this.mountRoot, digestHex(diffId));
  }

  /** A layer an earlier version unpacked into a directory. */
  private legacyDir(diffId: string): string {
    return path.join(this.root, digestHex(diffId));
  }

  /** What stores the layer: its image, or else its directory. */
  stored(diffId: string): string {
    const image = this.image(diffId);
    return fs.existsSync(image) ? image : this.legacyDir(diffId);
  }

  /** The layer's EROFS image (absent for a layer unpacked into its directory by an earlier version). */
  image(diffId: string): string {
    return path.join(this.root, digestHex(diffId) + IMAGE);
  }

  has(diffId: string): boolean {
    return fs.existsSync(this.stored(diffId));
  }

  /**
   * Writes an uncompressed layer tar as the layer's image; it appears under its diff id only when
   * complete, synced and, if given, once `verify` accepted it (a pulled layer must match its
   * image's diff id first).
   */
  async unpack(tar: AsyncIterable<Buffer>, opts: { verify?: (res: { diffId: string; size: number }) => void | Promise<void> } = {}): Promise<{ diffId: string; size: number }> {
    fs.mkdirSync(this.root, { recursive: true });
    const me = selfRef();
    const tmp = path.join(this.root, `.tmp-${me.pid}.${me.start}.${randomHex(6)}`);
    const fd = fs.openSync(tmp, 'wx', 0o644);
    try {
      const res = await this.build(tar, fd);
      await opts.verify?.(res);
      // On the thread pool: a large layer's sync would hold the daemon's event loop.
      await new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
      fs.closeSync(fd);
      // Another unpack of the same layer may have won the race: its image has the same files.
      fs.renameSync(tmp, this.image(res.diffId));
      return { diffId: res.diffId, size: res.size };
    } catch (err) {
      try {
        fs.closeSync(fd);
      } catch {}
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  }

  /** Mounts the images of these layers that are not mounted yet (after a pull, after a reboot). */
  /** Mounts the images of these layers that are not mounted yet; returns each layer's directory, in order. */
  mount(diffIds: string[]): string[] {
    const todo: Array<[string, string]> = [];
    const dirs = diffIds.map((d) => {
      const image = this.image(d);
      if (!fs.existsSync(image)) return this.legacyDir(d);
      const dir = this.mountPoint(d);
      if (!this.mounted(dir)) todo.push([image, dir]);
      return dir;
    });
    if (todo.length) this.mounts.mount(todo);
    return dirs;
  }

  /** Whether dir is a mount point (a layer's mount differs from its parent's device); makes it if missing. */
  private mounted(dir: string): boolean {
    const st = fs.statSync(dir, { throwIfNoEntry: false });
    if (!st) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return !!st && st.dev !== fs.statSync(this.mountRoot).dev;
  }

  /** docker's DriverStatus for this store: its file system and how its images are mounted. */
  status(): Array<[string, string]> {
    return layerStatus(this.root, this.mountRoot);
  }

  /** Unmounts every layer of the store (a state root about to be deleted as a whole). */
  unmountAll(): void {
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.mountRoot);
    } catch {
      return;
    }
    const dirs = names.map((n) => path.join(this.mountRoot, n));
    if (dirs.length) this.mounts.unmount(dirs);
    rmdirQuiet([...dirs, this.mountRoot]);
  }

  /** Bytes of the layer's files (for a layer whose unpacked size was never recorded). */
  usage(diffId: string): number {
    const st = fs.statSync(this.image(diffId), { throwIfNoEntry: false });
    return st ? st.size : dirUsage(this.legacyDir(diffId));
  }

  /** Unmounted (containers still running on it keep their own reference), then its files. */
  remove(diffId: string): void {
    const mp = this.mountPoint(diffId);
    if (fs.existsSync(mp)) {
      if (this.mounted(mp)) this.mounts.unmount([mp]);
      rmdirQuiet([mp, this.mountRoot]); // gone with the root's last mounted layer (rmdir keeps it otherwise)
    }
    fs.rmSync(this.legacyDir(diffId), { recursive: true, force: true });
    fs.rmSync(this.image(diffId), { force: true });
  }

  /** Diff ids of every layer stored, image or directory. */
  list(): string[] {
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.root);
    } catch {}
    const hexes = new Set(names.map((n) => /^([a-f0-9]{64})(\.erofs)?$/.exec(n)?.[1]).filter((h): h is string => !!h));
    return [...hexes].map((h) => `sha256:${h}`);
  }

  /** Leftovers of unpacks whose process was killed (a live one's are left alone): temp dirs and claims. */
  sweep(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return;
    }
    sweepTemps(this.root, names); // claims half-written by a killed claimer
    for (const n of names) {
      if (ownerDead(n, '.tmp-')) fs.rmSync(path.join(this.root, n), { recursive: true, force: true });
      if (n.startsWith('.claim-')) dropIf(this.root, n, holderDead);
    }
    sweepStrayMounts(this.mounts);
  }

  /**
   * Claims the unpacking of a layer across processes, so two pulls of one layer download it
   * once: waits while a live process holds the claim, takes it over from a dead one. Returns
   * the release, or undefined when the layer appeared meanwhile (nothing left to do).
   */
  async claim(diffId: string, signal?: AbortSignal): Promise<(() => void) | undefined> {
    fs.mkdirSync(this.root, { recursive: true });
    for (;;) {
      if (this.has(diffId)) return undefined;
      signal?.throwIfAborted();
      const release = claim(this.root, `.claim-${digestHex(diffId)}`, selfHolder(), holderDead);
      if (release) return release;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A container's lower dirs, top layer first, as overlayfs wants (`empty` for an image with none). */
  lowerDirs(diffIds: string[], empty: string): string[] {
    return diffIds.length ? this.mount(diffIds).reverse() : [empty];
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

/**
 * Unmounts layer images whose file is gone, for every state root: a root deleted with rm -rf
 * (its images stay mounted, and their space used, until then), or a removal killed halfway.
 */
export function sweepStrayMounts(mounts: LayerMounts): void {
  let table: MountEntry[];
  try {
    table = mountTable(undefined, 'erofs');
  } catch {
    return;
  }
  const stray = table.filter((m) => m.fstype === 'erofs' && m.mountPoint.startsWith(LAYER_MOUNTS + '/') && !fs.existsSync(mountedImage(m))).map((m) => m.mountPoint);
  if (!stray.length) return;
  mounts.unmount(stray);
  rmdirQuiet(stray);
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
 * whiteouts hide), without mounting. Symlinks are not followed: the file is then "absent"
 * (in a layer image, also when a symlink is on its way).
 */
export function readImageFile(store: LayerStore, diffIds: string[], rel: string): string | undefined {
  for (let i = diffIds.length - 1; i >= 0; i--) {
    const image = store.image(diffIds[i]);
    if (fs.existsSync(image)) {
      const r = ErofsReader.open(image);
      try {
        const ino = r.lookup(rel);
        if (!ino) continue;
        return ino.kind === 'file' && ino.size <= 4 << 20 ? r.data(ino).toString('utf8') : undefined;
      } finally {
        r.close();
      }
    }
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
