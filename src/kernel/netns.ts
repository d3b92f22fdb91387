// What kind of namespace a file is: a /proc/<pid>/ns/<kind> link, or a namespace bind-mounted on a
// file (berth's persistent network namespaces, `ip netns add`'s, another runtime's). Used to
// refuse a path that is no network namespace before a container is started on it, and to tell
// whether a recorded namespace still exists.
import * as fs from 'node:fs';
import { mountTable } from './mounts.ts';

/** statfs magic of nsfs, the file system of namespace files. */
const NSFS_MAGIC = 0x6e736673;

/** 'net', 'ipc', 'uts'... for a namespace file; undefined for anything else (or nothing). */
export function namespaceType(file: string): string | undefined {
  try {
    if (Number(fs.statfsSync(file).type) !== NSFS_MAGIC) return undefined;
  } catch {
    return undefined;
  }
  const kind = (text: string) => /^([a-z_]+):\[\d+\]$/.exec(text)?.[1];
  try {
    const k = kind(fs.readlinkSync(file));
    if (k) return k;
  } catch {} // not a link: a bind mount
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    return undefined;
  }
  // The last mount on that path is the one seen there.
  const m = mountTable().filter((e) => e.mountPoint === real && e.fstype === 'nsfs').at(-1);
  return m ? kind(m.root) : undefined;
}
