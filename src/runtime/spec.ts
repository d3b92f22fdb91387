// The OCI runtime specification's container configuration (config.json, runtime-spec 1.x), the
// part berth reads: its types, a reader that checks what would otherwise fail deep in the shim,
// and the default configuration `berth-runtime spec` writes. Pure: no I/O.
import { invalid } from '../core/errors.ts';
import type { SeccompProfile } from '../kernel/seccomp.ts';
import { DEFAULT_PATH } from '../util/paths.ts';

export const OCI_VERSION = '1.2.0';

export interface OciIdMapping { containerID: number; hostID: number; size: number }
export interface OciMount { destination: string; type?: string; source?: string; options?: string[] }
export interface OciHook { path: string; args?: string[]; env?: string[]; timeout?: number }
export interface OciHooks {
  prestart?: OciHook[];
  createRuntime?: OciHook[];
  createContainer?: OciHook[];
  startContainer?: OciHook[];
  poststart?: OciHook[];
  poststop?: OciHook[];
}
export interface OciDevice { path: string; type: string; major?: number; minor?: number; fileMode?: number; uid?: number; gid?: number }
export interface OciDeviceRule { allow: boolean; type?: string; major?: number | null; minor?: number | null; access?: string }
export interface OciResources {
  devices?: OciDeviceRule[];
  memory?: { limit?: number; reservation?: number; swap?: number; kernelTCP?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit?: number };
}
export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args?: string[];
  env?: string[];
  cwd: string;
  capabilities?: { bounding?: string[]; effective?: string[]; inheritable?: string[]; permitted?: string[]; ambient?: string[] };
  rlimits?: Array<{ type: string; soft: number; hard: number }>;
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}
export type OciNamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';
export interface OciLinux {
  namespaces?: Array<{ type: OciNamespaceType; path?: string }>;
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
  devices?: OciDevice[];
  cgroupsPath?: string;
  resources?: OciResources;
  rootfsPropagation?: string;
  seccomp?: SeccompProfile;
  sysctl?: Record<string, string>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
}
export interface OciSpec {
  ociVersion: string;
  process?: OciProcess;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: OciMount[];
  hooks?: OciHooks;
  annotations?: Record<string, string>;
  linux?: OciLinux;
}

// mount(2) flags (linux/mount.h).
export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64, DIRSYNC: 128,
  NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, REC: 16384, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18,
  SLAVE: 1 << 19, SHARED: 1 << 20, RELATIME: 1 << 21, STRICTATIME: 1 << 24,
} as const;

// Option -> [flags to set, flags to clear], as mount(8) and runc read them.
const FLAG_OPTIONS: Record<string, [number, number]> = {
  ro: [MS.RDONLY, 0], rw: [0, MS.RDONLY], nosuid: [MS.NOSUID, 0], suid: [0, MS.NOSUID],
  nodev: [MS.NODEV, 0], dev: [0, MS.NODEV], noexec: [MS.NOEXEC, 0], exec: [0, MS.NOEXEC],
  sync: [MS.SYNCHRONOUS, 0], async: [0, MS.SYNCHRONOUS], dirsync: [MS.DIRSYNC, 0], remount: [MS.REMOUNT, 0],
  mand: [MS.MANDLOCK, 0], nomand: [0, MS.MANDLOCK], noatime: [MS.NOATIME, 0], atime: [0, MS.NOATIME],
  nodiratime: [MS.NODIRATIME, 0], diratime: [0, MS.NODIRATIME], relatime: [MS.RELATIME, 0], norelatime: [0, MS.RELATIME],
  strictatime: [MS.STRICTATIME, 0], nostrictatime: [0, MS.STRICTATIME],
  bind: [MS.BIND, 0], rbind: [MS.BIND | MS.REC, 0], defaults: [0, 0],
};
const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};
// Options that only steer the runtime (or that berth does not offer) and reach no mount call.
const IGNORED_OPTIONS = new Set(['tmpcopyup', 'idmap', 'ridmap', 'nosymfollow', 'rro', 'rrw']);

export interface MountOptions { flags: number; propagation: number; data: string; bind: boolean }

/** A mount's options split into flags, a propagation change, and the filesystem's own data. */
export function mountOptions(options: string[] = [], type?: string): MountOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = FLAG_OPTIONS[o];
    if (f) flags = (flags | f[0]) & ~f[1];
    else if (PROPAGATION[o] !== undefined) propagation = PROPAGATION[o];
    else if (!IGNORED_OPTIONS.has(o)) data.push(o);
  }
  return { flags, propagation, data: data.join(','), bind: type === 'bind' || (flags & MS.BIND) !== 0 };
}

export function propagationFlag(name: string): number {
  const f = PROPAGATION[name];
  if (f === undefined) throw invalid(`invalid rootfsPropagation "${name}"`);
  return f;
}

/** Parses and checks a config.json: what is malformed gets a clear error here, not a shim failure. */
export function parseSpec(text: string): OciSpec {
  let spec: OciSpec;
  try {
    spec = JSON.parse(text) as OciSpec;
  } catch (err) {
    throw invalid(`config.json is not valid JSON: ${(err as Error).message}`);
  }
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw invalid('config.json: not an object');
  if (typeof spec.ociVersion !== 'string' || !/^1\.\d+\.\d+/.test(spec.ociVersion)) throw invalid(`config.json: unsupported ociVersion ${JSON.stringify(spec.ociVersion)} (1.x is)`);
  if (!spec.root || typeof spec.root.path !== 'string' || !spec.root.path) throw invalid('config.json: root.path is required');
  const proc = spec.process;
  if (proc) {
    if (!Array.isArray(proc.args) || !proc.args.length || proc.args.some((a) => typeof a !== 'string')) throw invalid('config.json: process.args must be a non-empty list of strings');
    if (typeof proc.cwd !== 'string' || !proc.cwd.startsWith('/')) throw invalid('config.json: process.cwd must be an absolute path');
    if (!proc.user || !Number.isInteger(proc.user.uid) || !Number.isInteger(proc.user.gid)) throw invalid('config.json: process.user needs integer uid and gid');
  }
  for (const m of spec.mounts ?? []) {
    if (typeof m.destination !== 'string' || !m.destination.startsWith('/')) throw invalid(`config.json: mount destination ${JSON.stringify(m.destination)} must be an absolute path`);
  }
  const seen = new Set<string>();
  for (const ns of spec.linux?.namespaces ?? []) {
    if (!['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'].includes(ns.type)) throw invalid(`config.json: unknown namespace type "${ns.type}"`);
    if (seen.has(ns.type)) throw invalid(`config.json: namespace "${ns.type}" listed twice`);
    seen.add(ns.type);
  }
  if ((spec.hostname || spec.domainname) && !seen.has('uts')) throw invalid('config.json: hostname and domainname need a uts namespace');
  if ((spec.linux?.uidMappings?.length || spec.linux?.gidMappings?.length) && !seen.has('user')) throw invalid('config.json: uid/gid mappings need a user namespace');
  return spec;
}

/** The capabilities of `spec`'s default process, and of an exec given only a command (runc's). */
export const DEFAULT_RUNTIME_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** What `berth-runtime spec` writes: a shell in a confined container over ./rootfs (as runc's). */
export function defaultSpec(opts: { rootless?: boolean; uid?: number; gid?: number } = {}): OciSpec {
  const nse = ['nosuid', 'noexec', 'nodev'];
  const spec: OciSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: [`PATH=${DEFAULT_PATH}`, 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: DEFAULT_RUNTIME_CAPS, effective: DEFAULT_RUNTIME_CAPS, permitted: DEFAULT_RUNTIME_CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'berth',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(opts.rootless ? [] : ['gid=5'])] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...nse, 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: nse },
      opts.rootless
        ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', ...nse, 'ro'] }
        : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...nse, 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...nse, 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  if (opts.rootless) {
    spec.linux!.namespaces!.push({ type: 'user' });
    spec.linux!.uidMappings = [{ containerID: 0, hostID: opts.uid ?? 0, size: 1 }];
    spec.linux!.gidMappings = [{ containerID: 0, hostID: opts.gid ?? 0, size: 1 }];
    delete spec.linux!.resources;
  }
  return spec;
}

