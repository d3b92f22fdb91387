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
  /** The optional fields: propagation (`shared:N`, `master:N`, `propagate_from:N`, `unbindable`). */
  optional: string[];
}

export function mountTable(mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8'), fsTypePrefix = ''): MountEntry[] {
  const out: MountEntry[] = [];
  // `fsTypePrefix` keeps the mounts whose fs type starts with it, unparsed otherwise: a host
  // running containers has hundreds of mounts (layer images, overlays), and the commands that
  // look for cgroup or layer mounts run often.
  const mark = ` - ${fsTypePrefix}`;
  for (const line of mountinfo.split('\n')) {
    // Optional fields make the line variable-length: the fs type follows the lone " - ".
    const sep = line.indexOf(' - ');
    if (sep < 0 || (fsTypePrefix && !line.startsWith(mark, sep))) continue;
    const [fstype, source = '', superOpts = ''] = line.slice(sep + 3).split(' ');
    const fields = line.slice(0, sep).split(' ');
    out.push({ root: unescapeMount(fields[3] ?? ''), mountPoint: unescapeMount(fields[4] ?? ''), fstype, source: unescapeMount(source), superOptions: superOpts.split(','), optional: fields.slice(6) });
  }
  return out;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The mount a path is on (the last, that is the top, of the longest mount point containing it). */
export function mountOf(file: string, table = mountTable()): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of table) {
    const under = m.mountPoint === '/' || file === m.mountPoint || file.startsWith(`${m.mountPoint}/`);
    if (under && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/**
 * Why a bind of `source` cannot have `propagation`, as dockerd and containerd say it: a shared
 * bind needs its source on a shared mount (or nothing would propagate), a slave one on a shared
 * or slave mount. Undefined when it can. `source` must be a real path (no symlinks).
 */
export function propagationProblem(source: string, propagation: string | undefined, table?: MountEntry[]): string | undefined {
  const shared = propagation === 'shared' || propagation === 'rshared';
  const slave = propagation === 'slave' || propagation === 'rslave';
  if (!shared && !slave) return undefined;
  const m = mountOf(source, table ?? mountTable());
  if (!m) return undefined;
  const is = (kind: string) => m.optional.some((o) => o.startsWith(kind));
  if (shared && !is('shared:')) return `path ${source} is mounted on ${m.mountPoint} but it is not a shared mount`;
  if (slave && !is('shared:') && !is('master:')) return `path ${source} is mounted on ${m.mountPoint} but it is not a shared or slave mount`;
  return undefined;
}
