// How layer images are mounted on this state root: file-backed (the image file itself), or
// through a loop device where the file system holding the images refuses file-backed EROFS
// mounts (tmpfs: "Block device required"; the shim then attaches a read-only autoclear loop
// device, native/layers.c). `info` reports which, with the root's file system as docker names it.
import * as fs from 'node:fs';
import { mountTable, type MountEntry } from '../kernel/mounts.ts';

/** statfs magic numbers -> docker's "Backing Filesystem" names. */
const FS_NAMES: Record<number, string> = {
  0xef53: 'extfs', 0x01021994: 'tmpfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x794c7630: 'overlayfs',
  0x858458f6: 'ramfs', 0x2fc12fc1: 'zfs', 0xf2f52010: 'f2fs', 0x6969: 'nfs',
};

/** File systems on which the kernel refuses a file-backed EROFS mount (no block device, no read_folio). */
const NEEDS_LOOP = new Set(['tmpfs', 'ramfs']);

export function backingFilesystem(dir: string): string {
  try {
    const type = Number(fs.statfsSync(dir).type);
    return FS_NAMES[type] ?? `0x${type.toString(16)}`;
  } catch {
    return 'unknown';
  }
}

/** The image file behind a layer mount: its source, or for a loop device the file the device reads. */
export function mountedImage(m: MountEntry): string {
  const loop = /^\/dev\/(loop\d+)$/.exec(m.source);
  if (!loop) return m.source;
  try {
    // The kernel appends " (deleted)" once the file is gone: such a mount is stray.
    return fs.readFileSync(`/sys/block/${loop[1]}/loop/backing_file`, 'utf8').trim();
  } catch {
    return m.source;
  }
}

/** 'loop' when this root's layers are (or would be) mounted through loop devices, else 'file'. */
export function layerMountKind(layersDir: string, mountRoot: string): 'file' | 'loop' {
  let table: MountEntry[] = [];
  try {
    table = mountTable(undefined, 'erofs');
  } catch {}
  const ours = table.filter((m) => m.fstype === 'erofs' && m.mountPoint.startsWith(mountRoot + '/'));
  if (ours.length) return ours.some((m) => m.source.startsWith('/dev/loop')) ? 'loop' : 'file';
  fs.mkdirSync(layersDir, { recursive: true });
  return NEEDS_LOOP.has(backingFilesystem(layersDir)) ? 'loop' : 'file';
}

/** docker's DriverStatus pairs for this root. */
export function layerStatus(layersDir: string, mountRoot: string): Array<[string, string]> {
  const fsName = backingFilesystem(layersDir);
  const kind = layerMountKind(layersDir, mountRoot);
  return [
    ['Backing Filesystem', fsName],
    ['Layer images', kind === 'loop' ? `EROFS on loop devices (${fsName} refuses file-backed mounts)` : 'EROFS, file-backed mounts'],
  ];
}
