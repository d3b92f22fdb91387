// What both cgroup drivers (cgroup-v1.ts, cgroup-v2.ts) and the detection in cgroups.ts share:
// the driver interface, limits, mount discovery, and file helpers. Kept apart so that the drivers
// and the module choosing between them import it, and not each other.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, invalid, type ErrorCode } from '../core/errors.ts';
import { mountTable } from './mounts.ts';

export interface Limits {
  memory?: number; // bytes
  memorySwap?: number; // bytes of memory+swap, -1 unlimited; default when memory is set: docker's (2x memory)
  pids?: number; // >0; absent/0/-1 = unlimited
  cpuQuota?: number; // microseconds per period
  cpuPeriod?: number; // default 100000
  cpuShares?: number;
  /** Which device nodes the container may use: allow rules (docker's short list when absent) or all (privileged). */
  devices?: 'all' | string[];
  /** Block I/O: a relative weight (10-1000), per device too; throttles per device (bytes or operations per second). */
  blkioWeight?: number;
  blkioWeightDevice?: DeviceRate[];
  readBps?: DeviceRate[];
  writeBps?: DeviceRate[];
  readIops?: DeviceRate[];
  writeIops?: DeviceRate[];
  cpusetCpus?: string;
  cpusetMems?: string;
  memoryReservation?: number; // bytes (v1 soft limit, v2 memory.low)
  swappiness?: number; // 0-100 (v1 only)
  oomKillDisable?: boolean; // v1 only
  cpuRtRuntime?: number; // microseconds per period (v1, kernels with RT group scheduling)
}

/** A block device by its numbers, with a rate (bytes/s, IO/s) or a weight. */
export interface DeviceRate {
  major: number;
  minor: number;
  rate: number;
}

/** The throttles as the kernel's files name them: [v1 file suffix, v2 io.max key, list]. */
export function throttles(l: Limits): Array<[string, string, DeviceRate[]]> {
  return [['read_bps_device', 'rbps', l.readBps ?? []], ['write_bps_device', 'wbps', l.writeBps ?? []], ['read_iops_device', 'riops', l.readIops ?? []], ['write_iops_device', 'wiops', l.writeIops ?? []]];
}

import { DEFAULT_DEVICE_RULES } from './devices.ts';

/** v1 devices cgroup writes, in order: [file, value]. Everything denied, then the allowed list. */
export function v1DeviceWrites(mode: Limits['devices']): [string, string][] {
  if (mode === 'all') return []; // a new cgroup inherits its parent's (the host's) "a *:* rwm"
  return [['devices.deny', 'a'], ...(mode ?? DEFAULT_DEVICE_RULES).map((r): [string, string] => ['devices.allow', r])];
}

export interface CgroupPaths {
  procs: string[]; // cgroup.procs files a pid must be written into (one per v1 hierarchy, one for v2)
  dirs: string[]; // directories to rmdir at teardown
  oom: string; // v1 memory.oom_control, v2 memory.events: both have an `oom_kill N` line
}

/**
 * Where a container's totals are read as it runs (the monitor's sysinfo answers, native/sysinfo.c):
 * its memory cgroup and the root of that hierarchy (limits up to there bind), and its pids
 * cgroup; "" where the hierarchy is missing. cpu: the file a process writes to join the
 * container's cpu cgroup (the one lxcfs keys its load averages on), "" where there is none.
 */
export interface SysinfoSource {
  version: 1 | 2;
  memory: string;
  memoryRoot: string;
  pids: string;
  cpu: string;
}

export interface CgroupDriver {
  readonly version: 1 | 2;
  /** Creates the container's cgroup in every hierarchy with the limits written; throws BerthError (InvalidArgument for a limit the kernel rejects, with the file and value in the message) and removes what it created on failure. */
  create(id: string, limits: Limits): CgroupPaths;
  /** Pure: where they are/would be. */
  paths(id: string): CgroupPaths;
  /** Pure: where the container's memory and process totals are read. */
  sysinfoSource(id: string): SysinfoSource;
  /** docker update: writes new limits into a running container's existing cgroup (devices untouched). */
  update(id: string, limits: Limits): void;
  /** Kills every process still in the container's cgroup (SIGKILL; processes there are ours by construction), waits briefly until empty, and removes it. Missing = fine. Returns true if something was removed. */
  remove(id: string): boolean;
  /** Ids that exist under this driver's scope (union over hierarchies); for a scope that is not berth's, whatever else is there too. */
  list(): string[];
  /** The oom_kill counter, 0 if absent. */
  oomKilled(paths: CgroupPaths): number;
  /** Freezes (pause) or thaws every process in the container's cgroup; resolves once done. */
  freeze(id: string, frozen: boolean): Promise<void>;
  /** Host pids of every process in the container (for top). */
  pids(id: string): number[];
  /** Usage counters (for stats); a missing counter reads 0. */
  stats(id: string): CgroupStats;
}

export interface CgroupStats {
  memoryUsage: number; // bytes, page cache excluded as docker does
  memoryLimit: number; // bytes; the host's memory when unlimited
  cpuNanos: number; // total CPU time used
  pids: number;
  /** Block I/O per device, as dockerd's blkio_stats lists it (bytes, operations). */
  blkio?: { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] };
  /** Pressure stall information (cgroup v2: cpu/memory/io.pressure), where the kernel has it. */
  pressure?: Record<string, PressureLine[]>;
}

/** dockerd's BlkioStatEntry. */
export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface PressureLine {
  kind: 'some' | 'full';
  avg10: number;
  avg60: number;
  avg300: number;
  total: number;
}

/** v1 blkio.throttle.io_service_bytes(_recursive) / io_serviced: "8:0 Read 4096" lines, a "Total N" last. */
export function parseBlkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) });
  }
  return out;
}

/** v2 io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..."): dockerd's lower-case read/write entries. */
export function parseIoStatV2(text: string | undefined): { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] } {
  const serviceBytes: BlkioEntry[] = [];
  const serviced: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (.*)$/.exec(line.trim());
    if (!m) continue;
    const kv = Object.fromEntries(m[3].split(' ').map((p) => p.split('=')).map(([k, v]) => [k, Number(v)]));
    const dev = { major: Number(m[1]), minor: Number(m[2]) };
    serviceBytes.push({ ...dev, op: 'read', value: kv.rbytes ?? 0 }, { ...dev, op: 'write', value: kv.wbytes ?? 0 });
    serviced.push({ ...dev, op: 'read', value: kv.rios ?? 0 }, { ...dev, op: 'write', value: kv.wios ?? 0 });
  }
  return { serviceBytes, serviced };
}

/** A PSI file ("some avg10=0.00 avg60=0.00 avg300=0.00 total=0", and "full ..."). */
export function parsePressure(text: string | undefined): PressureLine[] {
  const out: PressureLine[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(some|full) avg10=([\d.]+) avg60=([\d.]+) avg300=([\d.]+) total=(\d+)$/.exec(line.trim());
    if (m) out.push({ kind: m[1] as 'some' | 'full', avg10: Number(m[2]), avg60: Number(m[3]), avg300: Number(m[4]), total: Number(m[5]) });
  }
  return out;
}

export function readNumber(file: string): number {
  const v = readOptional(file)?.trim();
  return v && /^\d+$/.test(v) ? Number(v) : 0;
}

export function readPids(file: string): number[] {
  return (readOptional(file) ?? '').split('\n').filter(Boolean).map(Number);
}

/** A `key value` line of a stat file such as memory.stat. */
export function statValue(file: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(readOptional(file) ?? '');
  return m ? Number(m[1]) : 0;
}

/** Polls until read() returns the wanted value: freezing completes asynchronously in the kernel. */
export async function settle(read: () => string, want: string, what: string): Promise<void> {
  for (const end = Date.now() + 5000; read() !== want;) {
    if (Date.now() > end) throw new BerthError('Unavailable', `${what} did not reach ${want}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A cgroup filesystem mounted on this machine: v1 with its hierarchy's names (controllers, name=...), or v2. */
export interface CgroupMount {
  mount: string;
  version: 1 | 2;
  names: string[];
}

/** Every cgroup (v1 and v2) mount on this machine, as mountinfo lists them. */
export function cgroupMountList(mountinfo?: string): CgroupMount[] {
  const skip = ['rw', 'ro', 'clone_children', 'xattr', 'nsdelegate', 'memory_recursiveprot'];
  return mountTable(mountinfo, 'cgroup').filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2').map((m) => ({
    mount: m.mountPoint,
    version: m.fstype === 'cgroup2' ? 2 : 1,
    names: m.fstype === 'cgroup2' ? [] : m.superOptions.filter((o) => !skip.includes(o) && !o.startsWith('release_agent')),
  }));
}

/** Every cgroup (v1 and v2) mount point on this machine. */
export function cgroupMounts(mountinfo?: string): string[] {
  return cgroupMountList(mountinfo).map((m) => m.mount);
}

/**
 * How a container's /sys/fs/cgroup is made under this driver: cgroup2, or (v1) a tmpfs with one
 * cgroup mount per hierarchy, named by its controller list.
 */
export function containerCgroupFs(version: 1 | 2, mountinfo?: string): { version: 2 } | { version: 1; hierarchies: string[] } {
  if (version === 2) return { version: 2 };
  const hierarchies = cgroupMountList(mountinfo).filter((m) => m.version === 1 && m.names.length).map((m) => m.names.join(','));
  return { version: 1, hierarchies: [...new Set(hierarchies)] };
}

// ---- shared by both drivers ----

export function checkId(id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) throw invalid(`invalid cgroup name: "${id}"`);
}

function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function fsError(action: string, err: unknown): BerthError {
  const c = codeOf(err);
  const code: ErrorCode = c === 'EACCES' || c === 'EPERM' || c === 'EROFS' ? 'PermissionDenied' : c === 'ENOENT' ? 'FailedPrecondition' : 'Internal';
  return new BerthError(code, `${action}: ${(err as Error).message}`, { cause: err });
}

export function failedPrecondition(msg: string): BerthError {
  return new BerthError('FailedPrecondition', msg);
}

/** A value the kernel refuses is the user's (bad) input. */
function limitError(file: string, value: string, err: unknown): BerthError {
  const c = codeOf(err);
  if (c === 'EINVAL' || c === 'ERANGE' || c === 'EOVERFLOW' || c === 'EBUSY') return invalid(`the kernel rejected ${value} for ${file} (${c})`, err);
  return fsError(`cannot write ${value} to ${file}`, err);
}

export function writeLimit(file: string, value: string): void {
  try {
    fs.writeFileSync(file, value);
  } catch (err) {
    throw limitError(file, value, err);
  }
}

/** For files only some kernels have (swap accounting): false if absent. */
export function writeOptionalLimit(file: string, value: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r+');
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return false;
    throw limitError(file, value, err);
  }
  try {
    fs.writeSync(fd, value);
  } catch (err) {
    throw limitError(file, value, err);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

export function readOptional(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    // ENODEV: the cgroup is being removed (a container's monitor tearing it down as we look).
    if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENODEV') return undefined;
    throw fsError(`cannot read ${file}`, err);
  }
}

/** Rejects limit combinations no kernel write could express; returns the controllers they need. */
export function neededControllers(l: Limits): string[] {
  const memory = (l.memory ?? 0) > 0;
  if ((l.memorySwap ?? 0) > 0) {
    if (!memory) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage.');
    if (l.memorySwap! < l.memory!) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage.');
  }
  const out: string[] = [];
  if (memory) out.push('memory');
  if ((l.cpuQuota ?? 0) > 0 || (l.cpuPeriod ?? 0) > 0 || (l.cpuShares ?? 0) > 0) out.push('cpu');
  if ((l.pids ?? 0) > 0) out.push('pids');
  if (l.blkioWeight || l.blkioWeightDevice?.length || throttles(l).some(([, , list]) => list.length)) out.push('blkio');
  if (l.cpusetCpus || l.cpusetMems) out.push('cpuset');
  return out;
}

/** docker's default memory+swap when only memory is given is twice the memory. */
export function swapTotal(l: Limits): number {
  return (l.memorySwap ?? 0) > 0 ? l.memorySwap! : 2 * l.memory!;
}

/** mkdir that reports whether it made the directory (intermediates are shared and may exist). */
export function makeDir(dir: string, exclusive: boolean): boolean {
  try {
    fs.mkdirSync(dir);
    return true;
  } catch (err) {
    if (codeOf(err) === 'EEXIST') {
      if (exclusive) throw new BerthError('AlreadyExists', `cgroup ${dir} already exists`);
      return false;
    }
    throw fsError(`cannot create cgroup ${dir}`, err);
  }
}

/**
 * Makes `<base>/<scope>/<id>`. The scope usually exists, so the leaf is tried first and the
 * intermediates only on ENOENT; `made` sees each intermediate this call created, parents first.
 */
export function makeLeaf(base: string, scope: string, id: string, made: (dir: string) => void): string {
  const leaf = `${base}/${scope}/${id}`;
  // The scope goes when its last container does (killAndRemove, the monitor's teardown), so it
  // can vanish between making it and making the leaf: then it is made again.
  for (let attempt = 0; ; attempt++) {
    try {
      fs.mkdirSync(leaf);
      return leaf;
    } catch (err) {
      const c = codeOf(err);
      if (c === 'EEXIST') throw new BerthError('AlreadyExists', `cgroup ${leaf} already exists`);
      if (c !== 'ENOENT' || attempt === 3) throw fsError(`cannot create cgroup ${leaf}`, err);
    }
    let dir = base;
    for (const part of scope.split('/').filter(Boolean)) {
      dir += '/' + part;
      if (makeDir(dir, false)) made(dir);
    }
  }
}

/** Best-effort undo of a failed create: only the leaves it made (intermediates are shared). */
export function rmdirQuiet(dirs: string[]): void {
  for (const d of dirs) {
    try {
      fs.rmdirSync(d);
    } catch {}
  }
}

export function listScope(dirs: string[]): string[] {
  const out = new Set<string>();
  for (const dir of dirs) {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if (codeOf(err) === 'ENOENT') continue;
      throw fsError(`cannot list ${dir}`, err);
    }
    for (const e of entries) if (e.isDirectory()) out.add(e.name);
  }
  return [...out].sort();
}

export function parseOomKill(file: string): number {
  const text = readOptional(file);
  const m = text === undefined ? null : /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

let sleeper: Int32Array | undefined;
function sleepSync(ms: number): void {
  sleeper ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Every cgroup directory at and below `dir`, children before parents; [] if missing. */
function subtree(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return [];
    throw fsError(`cannot list ${dir}`, err);
  }
  const out: string[] = [];
  // The container cannot normally make sub-cgroups, but if it did they must go first.
  for (const e of entries) if (e.isDirectory()) out.push(...subtree(`${dir}/${e.name}`));
  out.push(dir);
  return out;
}

const REMOVE_TIMEOUT_MS = 5000;

/**
 * SIGKILLs everything in the given cgroups (and sub-cgroups) until they are empty, then removes
 * them. Loops because a process may fork between our read of cgroup.procs and its death.
 */
export function killAndRemove(leaves: string[], opts: { keepParents?: boolean } = {}): boolean {
  const dirs = leaves.flatMap(subtree);
  if (!dirs.length) return false;
  const deadline = Date.now() + REMOVE_TIMEOUT_MS;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    let alive = 0;
    for (const d of dirs) {
      const procs = readOptional(`${d}/cgroup.procs`);
      if (!procs) continue;
      for (const p of procs.split('\n')) {
        const pid = Number(p);
        if (!(pid > 0)) continue;
        alive++;
        try {
          process.kill(pid, 'SIGKILL');
        } catch (err) {
          if (codeOf(err) !== 'ESRCH') throw fsError(`cannot kill process ${pid} of cgroup ${d}`, err);
        }
      }
    }
    if (!alive) break;
    if (Date.now() > deadline) throw new BerthError('Unavailable', `processes of cgroup ${dirs[dirs.length - 1]} survive SIGKILL (uninterruptible sleep?)`);
    sleepSync(wait);
  }
  let removed = false;
  for (const d of dirs) {
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        fs.rmdirSync(d);
        removed = true;
        break;
      } catch (err) {
        const c = codeOf(err);
        if (c === 'ENOENT') break;
        // A cgroup stays busy for a moment after its last task exits.
        if (c !== 'EBUSY' || Date.now() > deadline) throw fsError(`cannot remove cgroup ${d}`, err);
        sleepSync(wait);
      }
    }
  }
  // The root's scope goes with its last container (one try: another container keeps it busy).
  if (removed && !opts.keepParents) rmdirQuiet([...new Set(leaves.map((l) => path.dirname(l)))]);
  return removed;
}
