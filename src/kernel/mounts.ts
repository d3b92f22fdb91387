// The mount table, as /proc/self/mountinfo lists it: one reader for everything that looks for
// mounts (cgroup hierarchies, layer images).
import * as fs from 'node:fs';

export interface MountEntry {
  /** The mounted part of its file system (for a namespace file: `net:[<inode>]`). */
  root: string;
  mountPoint: string;
  fstype: string;
  source: string;
  superOptions: string[];
}

export function mountTable(mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of mountinfo.split('\n')) {
    // Optional fields make the line variable-length: the fs type follows the lone " - ".
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype, source = '', superOpts = ''] = line.slice(sep + 3).split(' ');
    const fields = line.slice(0, sep).split(' ');
    out.push({ root: unescapeMount(fields[3] ?? ''), mountPoint: unescapeMount(fields[4] ?? ''), fstype, source: unescapeMount(source), superOptions: superOpts.split(',') });
  }
  return out;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
