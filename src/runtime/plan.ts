// Turns a container's specification into the shim's plan: a linear list of steps the C side
// executes in order (see native/container.c). Pure: no I/O, so it is unit-tested without root.
import type { Mount } from '../core/types.ts';
import type { SysinfoSource } from '../kernel/cgroup-common.ts';
import type { DeviceNode } from '../kernel/devices.ts';
import { capNames } from '../kernel/capabilities.ts';
import { RLIMIT_TYPES } from '../kernel/rlimits.ts';
import type { SeccompProfile } from '../kernel/seccomp.ts';
import { MS, mountOptions, OCI_VERSION, propagationFlag, type OciHook, type OciIdMapping, type OciMount, type OciSpec } from './spec.ts';
import { DEFAULT_PATH } from '../util/paths.ts';
import type { Step } from './steps.ts';

export { MS };

export const CLONE = {
  NEWNS: 0x00020000, NEWCGROUP: 0x02000000, NEWUTS: 0x04000000, NEWIPC: 0x08000000,
  NEWUSER: 0x10000000, NEWPID: 0x20000000, NEWNET: 0x40000000,
} as const;

/** Docker's masked and read-only paths (moby daemon/pkg/oci/defaults.go). */
export const MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/sched_debug', '/proc/scsi', '/proc/timer_list', '/proc/timer_stats', '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface ProcessSpec {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  caps: bigint; // bounding = permitted = effective (for root); inheritable and ambient stay empty
  /** An OCI process's own sets, as given (then `caps` is the bounding set). */
  capSets?: { effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint };
  umask?: number;
  noNewPrivileges?: boolean;
  rlimits?: Array<[resource: number, soft: number, hard: number]>; // -1 = unlimited
  oomScoreAdj?: number;
  /** BPF program (hex), installed last before exec with no-new-privileges, else while we still
   * hold CAP_SYS_ADMIN (installing a filter needs one of the two). */
  seccomp?: string;
  /**
   * sysinfo(2) as the container's (resource views): a filter (hex) stacked on `seccomp` that sends
   * it to the monitor, which answers from these cgroup files. Only with a seccomp filter (without
   * one the process may run software that needs a listener of its own) and a monitor that stays.
   */
  notify?: { program: string; source: SysinfoSource };
  /**
   * Enter the user namespace prepared earlier in the plan (made by the init, or opened by an exec
   * before it joins the container's mount namespace) before the identity steps. Limits and the
   * OOM score are set before, as the host's root.
   */
  userns?: boolean;
  /** A pty from the container's devpts as stdio; with interactive, the monitor feeds it our stdin. */
  tty?: { rows: number; cols: number; interactive: boolean; winsizeFile?: string };
}

export interface PlanInput {
  rootfs: Mount; // target: the host directory the root is mounted on (inside the new mount ns)
  cgroupNamespace: boolean;
  /** Files the container's init writes "0" into to join its cgroups (v1: `tasks`, v2: `cgroup.procs`). */
  cgroupJoin: string[];
  oomFile?: string;
  hostname: string;
  etcFiles: { hostname: string; hosts: string; resolv: string }; // host files bound into /etc
  process: ProcessSpec;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  privileged?: boolean; // no masked or read-only paths, /sys writable
  sysctls?: Record<string, string>; // namespaced ones only, validated by the engine
  readonlyRoot?: boolean;
  exitFile?: string;
  /** The container's stdout/stderr go through the monitor into this json-file log (and to its own stdio with tee). */
  log?: { path: string; tee: boolean; maxSize?: number; maxFiles?: number; format?: 'cri' };
  /** Health probes run by the monitor: an exec plan file (with %PID%), timings in ms, results file. */
  health?: { planFile: string; intervalMs: number; timeoutMs: number; retries: number; startPeriodMs: number; file: string };
  /** A unix socket where clients follow the output (docker's multiplexed stream framing). */
  attachSocket?: string;
  /**
   * docker's restart policies, carried out by the monitor; a stop marker file means "stay down".
   * policyFile: where `update` puts a new policy, which the monitor then follows at once.
   */
  restart?: { policy: 'no' | 'always' | 'on-failure' | 'unless-stopped'; max: number; stopMarker: string; pidFile: string; policyFile?: string };
  /**
   * --userns remap: the maps ("0 100000 65536"), the image layers to mount idmapped (the rootfs
   * options already name the targets), and the host id of the container's root, which owns the
   * filesystems mounted for it (/dev, /dev/shm, tmpfs mounts).
   */
  userns?: { uidMap: string; gidMap: string; idmounts: Array<[source: string, target: string]>; rootId: number };
  /** --device: more nodes to make (a default /dev node of the same path gives way). */
  devices?: DeviceNode[];
  /** cgroup v2: an eBPF device program (hex) the monitor attaches to the cgroup before the init exists. */
  deviceProgram?: { cgroup: string; program: string };
  /** The container's /sys/fs/cgroup (as docker mounts it: its own cgroups, read-only unless privileged); absent, none. */
  cgroupFs?: SpecHost['cgroupFs'];
  /** The user's mounts: host directories/files bound in, or tmpfs. */
  mounts?: Array<{ type: 'bind' | 'tmpfs'; source: string; target: string; readonly: boolean; file?: boolean; data?: string; propagation?: string }>;
  /** The network namespace: a new one with loopback only (default), the host's, or an existing one joined by path. */
  network?: { mode: 'new' } | { mode: 'host' } | { mode: 'join'; path: string };
  /**
   * docker's --pid, --ipc and --uts: absent, a namespace of the container's own; 'host', the
   * host's (none made); a path, another container's, joined. `shm`: the /dev/shm to bind in
   * (the host's or that container's) when the IPC namespace is shared.
   */
  namespaces?: { pid?: SharedNs; ipc?: SharedNs; uts?: SharedNs; shm?: string };
  /**
   * Resource views (LXCFS): files bound read-only over the container's own /proc and /sys files
   * (/proc/meminfo...), right after those filesystems are mounted.
   */
  views?: Array<{ source: string; target: string }>;
  /** /dev/shm's size in bytes (--shm-size; default 64 MiB). */
  shmSize?: number;
  /**
   * --ipc shareable: the directory on the host where the monitor mounts this container's
   * /dev/shm (bound in from there), for the containers that join its IPC namespace to bind too.
   */
  shareableShm?: string;
  /** --ipc none: no /dev/shm at all (docker's "own IPC namespace, /dev/shm not mounted"). */
  noShm?: boolean;
  /**
   * rmdir (cgroups), rmtree (--rm), and programs the monitor starts detached at the very end
   * (release: the network's; releaseViews: the resource views'); rmscope: one rmdir try each.
   * keepParents: the rmdirs' parents are not berth's scope (a CgroupParent): left alone.
   */
  teardown: { rmdirs: string[]; rmtree?: string[]; release?: string[]; releaseViews?: string[]; rmscope?: string[]; keepParents?: boolean };
}

export type { Step } from './steps.ts';

/** A namespace shared with the host ('host') or joined from another process ({ path }). */
export type SharedNs = 'host' | { path: string };

const DEVICES: Array<[string, number, number]> = [
  ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0],
];
const DEV_LINKS: Array<[target: string, link: string]> = [['pts/ptmx', '/dev/ptmx'], ['/proc/self/fd', '/dev/fd'], ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'], ['/proc/self/fd/2', '/dev/stderr'], ['/proc/kcore', '/dev/core']];
const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/** What the host adds to a spec: how the root gets mounted, the cgroups to join, the monitor's work. */
export interface SpecHost {
  /** Mounted first, at its target, which becomes the root (an overlay; an OCI bundle's root bound onto itself). */
  rootfs: Mount;
  cgroupJoin: string[];
  /** Records only the monitor reads (log, restart, health...), and what it does at the end (rmdir, rmtree, release). */
  records?: Step[];
  teardown?: Step[];
  /** Image layers mounted idmapped into the user namespace before the rootfs (the rootfs options name the targets). */
  idmounts?: Array<[source: string, target: string]>;
  /** How a `cgroup` mount is made: cgroup2, or a tmpfs with one cgroup mount per v1 hierarchy (controller lists). */
  cgroupFs?: { version: 2 } | { version: 1; hierarchies: string[] };
  /** OCI create: the init waits at this fifo until `start`; hooks get the state (with %PID%) on stdin. */
  execFifo?: string;
  hookState?: (status: string) => string;
}

/**
 * Turns an OCI runtime spec (and the process it runs, identity already resolved) into the shim's
 * plan: one path for the engine's containers and for bundles given to berth-runtime.
 */
export function specPlan(spec: OciSpec, proc: ProcessSpec, host: SpecHost): Step[] {
  const linux = spec.linux ?? {};
  const nsOf = (t: string) => (linux.namespaces ?? []).find((n) => n.type === t);
  const fresh = (t: string) => !!nsOf(t) && !nsOf(t)!.path;
  // A mount namespace of our own, so that every mount below vanishes with it. A bundle that
  // leaves it out (or joins one by path) has its mounts made in that namespace: the root is
  // bound at a mount point of the runtime's own (host.rootfs.target), entered with chroot, and
  // the monitor (or delete) detaches that tree at the end.
  const ownMounts = fresh('mount');
  let flags = ownMounts ? CLONE.NEWNS : 0;
  // (The monitor clones without NEWCGROUP: the init enters its cgroup namespace itself, after joining its cgroups.)
  for (const [t, f] of [['uts', CLONE.NEWUTS], ['ipc', CLONE.NEWIPC], ['pid', CLONE.NEWPID], ['network', CLONE.NEWNET], ['cgroup', CLONE.NEWCGROUP]] as const) if (fresh(t)) flags |= f;
  const steps: Step[] = [['ns', String(flags)], ...consoleRecords(proc), ...(host.records ?? [])];
  const pidns = nsOf('pid')?.path;
  if (pidns) steps.push(['pidns', pidns]); // the monitor enters it (checking its type), so the init is born there
  const hooks = spec.hooks ?? {};
  const state = host.hookState ?? (() => '{}');
  // Run by the monitor at `hooksync` (below): in the runtime's namespaces, with the root ready.
  const monitorHooks = [...(hooks.prestart ?? []), ...(hooks.createRuntime ?? [])];
  for (const h of monitorHooks) steps.push(hookStep('monitor', h, state('created')));

  // Joined first, so that everything from here on is accounted and limited.
  for (const f of host.cgroupJoin) steps.push(['join', f]);
  // The cgroup namespace right after: rooted at the container's own cgroup, as a cgroup mount shows it.
  if (fresh('cgroup')) steps.push(['cgroupns']);
  // Namespaces given by path (a prepared network namespace, another container's) are joined
  // while the host's filesystem is still visible.
  // setns checks the namespace's type: a path to another kind of namespace is an error.
  for (const [t, f] of [['network', CLONE.NEWNET], ['ipc', CLONE.NEWIPC], ['uts', CLONE.NEWUTS], ['cgroup', CLONE.NEWCGROUP], ['mount', CLONE.NEWNS]] as const) {
    if (nsOf(t)?.path) steps.push(['setns', nsOf(t)!.path!, String(f)]);
  }
  // A bind with shared propagation is cloned first, while it is still a peer of the host's
  // mount (rslave would give it a peer group of its own: mounts would stop reaching the host).
  const trees = ownMounts ? new Set((spec.mounts ?? []).filter(sharedBind)) : new Set<OciMount>();
  for (const m of trees) steps.push(['treeopen', m.source ?? '', String(mountOptions(m.options, m.type).flags & ~MS.BIND)]);
  // Host mount events still reach us (slave), ours never reach the host.
  if (ownMounts) steps.push(['propagation', String(MS.REC | MS.SLAVE)]);
  const user = nsOf('user');
  if (user?.path) steps.push(['usernsopen', user.path]);
  else if (user) steps.push(['usernsmap', idMap(linux.uidMappings), idMap(linux.gidMappings)]);
  for (const [source, target] of host.idmounts ?? []) steps.push(['idmount', source, target]);
  steps.push(['mount', host.rootfs.source, host.rootfs.target, host.rootfs.type, String(host.rootfs.type === 'bind' ? MS.BIND | MS.REC : 0), host.rootfs.options.join(',')]);
  steps.push(['root', host.rootfs.target]);
  const devices = linux.devices ?? [];
  for (const m of spec.mounts ?? []) {
    mountSteps(steps, m, host, trees.has(m));
    // Right after /proc, before anything can be mounted under it: the sysctls, written while
    // /proc/sys is still writable (read-only paths come last).
    if (m.destination === '/proc' && m.type === 'proc') {
      for (const [k, v] of Object.entries(linux.sysctl ?? {})) steps.push(['sysctlin', `/proc/sys/${k.replace(/\./g, '/')}`, v]);
    }
    // A /dev of our own (not the host's bound in) gets the standard nodes and links at once,
    // so that a mount over /dev or in it comes on top of them, never under them.
    if (m.destination === '/dev' && !mountOptions(m.options, m.type).bind) {
      const own = new Set(devices.map((d) => d.path));
      for (const [name, major, minor] of DEVICES) if (!own.has(`/dev/${name}`)) steps.push(['mknodin', `/dev/${name}`, String(S_IFCHR | 0o666), String(major), String(minor)]);
      for (const [target, link] of DEV_LINKS) steps.push(['symlinkin', target, link]);
    }
  }
  // The config's devices after every mount (as runc makes them), so none is hidden by one.
  for (const d of devices) {
    const kind = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
    steps.push(['mknodin', d.path, String(kind | ((d.fileMode ?? 0o666) & 0o777)), String(d.major ?? 0), String(d.minor ?? 0), String(d.uid ?? 0), String(d.gid ?? 0)]);
  }
  for (const m of linux.maskedPaths ?? []) steps.push(['maskin', m]);
  for (const r of linux.readonlyPaths ?? []) steps.push(['roin', r]);
  // Read-only root: only the root mount itself; what is mounted on it keeps its own flags.
  if (spec.root?.readonly) steps.push(['mount', '', host.rootfs.target, '', String(MS.REMOUNT | MS.BIND | MS.RDONLY), '']);
  if (monitorHooks.length) steps.push(['hooksync']);
  if (host.execFifo) steps.push(['fifo', host.execFifo]);
  for (const h of hooks.createContainer ?? []) steps.push(hookStep('container', h, state('created')));
  steps.push([ownMounts ? 'pivot' : 'chroot']);
  if (linux.rootfsPropagation) steps.push(['propagation', String(propagationFlag(linux.rootfsPropagation))]);
  if (fresh('network')) steps.push(['loopback']);
  if (spec.hostname !== undefined) steps.push(['hostname', spec.hostname]);
  if (spec.domainname !== undefined) steps.push(['domainname', spec.domainname]);
  // startContainer hooks come from the container's root: they run as the process will, with its
  // identity, capabilities and seccomp filter, just before it.
  processSteps(steps, proc, host.execFifo ? [['fifowait']] : [], (hooks.startContainer ?? []).map((h) => hookStep('container', h, state('created'))));
  if (!ownMounts) steps.push(['umount', host.rootfs.target]);
  steps.push(...(host.teardown ?? []));
  return steps;
}

function idMap(maps: OciIdMapping[] = []): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** hook WHERE STATE TIMEOUT PATH ARGC ARGS... ENV... */
function hookStep(where: 'monitor' | 'container', h: OciHook, state: string): Step {
  return ['hook', where, state, String(h.timeout ?? 0), h.path, String(h.args?.length ?? 0), ...(h.args ?? []), ...(h.env ?? [])];
}

/** A bind mount whose propagation is shared or rshared. */
function sharedBind(m: OciMount): boolean {
  const o = mountOptions(m.options, m.type);
  return o.bind && (o.propagation & MS.SHARED) !== 0;
}

function mountSteps(steps: Step[], m: OciMount, host: SpecHost, tree = false): void {
  const o = mountOptions(m.options, m.type);
  if (tree) steps.push(['treein', m.source ?? '', m.destination, String(o.flags & ~MS.BIND), '?']);
  else if (o.bind) {
    // A bind mount follows symlinks in the container only inside its root (openat2 RESOLVE_IN_ROOT).
    steps.push(['bindin', m.source ?? '', m.destination, String(o.flags & ~MS.BIND), '?']);
  } else if (m.type === 'cgroup' && host.cgroupFs?.version === 1) {
    // cgroup v1: a tmpfs with each hierarchy mounted below it (in the container's cgroup
    // namespace, so each shows the container's own cgroup as its root).
    steps.push(['mountin', 'tmpfs', m.destination, 'tmpfs', String(o.flags & ~MS.RDONLY), 'mode=755']);
    for (const h of host.cgroupFs.hierarchies) {
      // A named hierarchy's directory goes without its "name=" (systemd), as runc and docker name it.
      const dir = h.replace(/^name=/, '');
      steps.push(['mountin', 'cgroup', `${m.destination}/${dir}`, 'cgroup', String(o.flags), h.startsWith('name=') ? `none,${h}` : h]);
      for (const c of h.includes(',') ? h.split(',') : []) steps.push(['symlinkin', dir, `${m.destination}/${c}`]);
    }
    if (o.flags & MS.RDONLY) steps.push(['roin', m.destination]);
  } else {
    const type = m.type === 'cgroup' ? 'cgroup2' : m.type ?? 'none';
    // System filesystems are mounted only on a target reached without any symlink.
    steps.push(['mountin', m.source ?? type, m.destination, type, String(o.flags), o.data]);
  }
  if (o.propagation) steps.push(['propin', m.destination, String(o.propagation)]);
}

/** Whether a spec's mounts are made in the host's mount namespace (it asks for none of its own). */
export function sharesHostMounts(spec: OciSpec): boolean {
  return !(spec.linux?.namespaces ?? []).some((n) => n.type === 'mount');
}

/** The filesystems every container of the engine gets, in docker's order (moby's default spec). */
function engineMounts(p: PlanInput): OciMount[] {
  const nse = ['nosuid', 'noexec', 'nodev'];
  // Filesystems mounted for the container belong to its root (the host's, or the remapped one).
  const owner = p.userns ? [`uid=${p.userns.rootId}`, `gid=${p.userns.rootId}`] : [];
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: nse },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k', ...owner] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', `gid=${(p.userns?.rootId ?? 0) + 5}`] },
    ...(p.noShm ? [] : [p.namespaces?.shm || p.shareableShm
      ? { destination: '/dev/shm', type: 'bind', source: p.namespaces?.shm || p.shareableShm, options: ['rbind'] }
      : { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...nse, ...shmData(p, owner)] }]),
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: nse },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...nse, p.privileged ? 'rw' : 'ro'] },
    ...(p.cgroupFs ? [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...nse, 'relatime', p.privileged ? 'rw' : 'ro'] }] : []),
    ...(p.views ?? []).map((v) => ({ destination: v.target, type: 'bind', source: v.source, options: ['bind', 'ro', ...nse] })),
    { destination: '/etc/hostname', type: 'bind', source: p.etcFiles.hostname, options: ['rbind'] },
    { destination: '/etc/hosts', type: 'bind', source: p.etcFiles.hosts, options: ['rbind'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: p.etcFiles.resolv, options: ['rbind'] },
  ];
  // Parents before children, so a mount inside another mount lands on top of it.
  const depth = (t: string) => t.split('/').length;
  for (const m of [...(p.mounts ?? [])].sort((a, b) => depth(a.target) - depth(b.target))) {
    if (m.type === 'bind') mounts.push({ destination: m.target, type: 'bind', source: m.source, options: ['rbind', ...(m.readonly ? ['ro', 'nosuid', 'nodev'] : []), ...(m.propagation ? [m.propagation] : [])] });
    else {
      const data = (m.data ?? '').split(',').filter(Boolean);
      const own = data.some((d) => /^uid=/.test(d)) ? [] : owner;
      mounts.push({ destination: m.target, type: 'tmpfs', source: 'tmpfs', options: [...nse, ...(m.readonly ? ['ro'] : []), ...data, ...own] });
    }
  }
  return mounts;
}

/** The engine's container as an OCI spec (what `--runtime` hands another runtime, too). */
export function engineSpec(p: PlanInput): OciSpec {
  const net = p.network ?? { mode: 'new' };
  const shared = p.namespaces ?? {};
  const namespaces: OciSpec['linux'] & {} = { namespaces: [{ type: 'mount' }] };
  for (const t of ['uts', 'ipc', 'pid'] as const) {
    const mode = shared[t];
    if (mode === 'host') continue; // the host's: none of its own
    namespaces.namespaces!.push(mode ? { type: t, path: mode.path } : { type: t });
  }
  if (net.mode === 'new') namespaces.namespaces!.push({ type: 'network' });
  if (net.mode === 'join') namespaces.namespaces!.push({ type: 'network', path: net.path });
  if (p.cgroupNamespace) namespaces.namespaces!.push({ type: 'cgroup' });
  const map = (text: string): OciIdMapping[] => text.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number)).map(([c, h, s]) => ({ containerID: c, hostID: h, size: s }));
  if (p.userns) {
    namespaces.namespaces!.push({ type: 'user' });
    namespaces.uidMappings = map(p.userns.uidMap);
    namespaces.gidMappings = map(p.userns.gidMap);
  }
  return {
    ociVersion: OCI_VERSION,
    root: { path: p.rootfs.target, readonly: p.readonlyRoot },
    // Only a UTS namespace of its own gets the container's name (never the host's or another's).
    hostname: shared.uts ? undefined : p.hostname,
    mounts: engineMounts(p),
    linux: {
      ...namespaces,
      devices: (p.devices ?? []).map((d) => ({ path: d.path, type: d.type, major: d.major, minor: d.minor, fileMode: d.mode & 0o777, uid: d.uid, gid: d.gid })),
      sysctl: p.sysctls,
      maskedPaths: p.privileged ? [] : p.maskedPaths ?? MASKED_PATHS,
      readonlyPaths: p.privileged ? [] : p.readonlyPaths ?? READONLY_PATHS,
    },
  };
}

/** What the monitor does for an engine's container besides running it: logs, exit, restart, health... */
function monitorRecords(p: PlanInput): Step[] {
  const records: Step[] = [];
  if (p.oomFile) records.push(['oom', p.oomFile]);
  if (p.exitFile) records.push(['exitfile', p.exitFile]);
  if (p.log) {
    const [path, tee, size, files] = [p.log.path, p.log.tee ? '1' : '0', String(p.log.maxSize ?? 0), String(p.log.maxFiles ?? 1)];
    records.push(p.log.format ? ['log', path, tee, size, files, p.log.format] : ['log', path, tee, size, files]);
  }
  if (p.attachSocket) records.push(['attachsock', p.attachSocket]);
  if (p.deviceProgram) records.push(['devcg', p.deviceProgram.cgroup, p.deviceProgram.program]);
  if (p.shareableShm && !p.namespaces?.shm) records.push(['shm', p.shareableShm, shmData(p, p.userns ? [`uid=${p.userns.rootId}`, `gid=${p.userns.rootId}`] : []).join(',')]);
  if (p.health) {
    const h = p.health;
    records.push(['health', h.planFile, String(h.intervalMs), String(h.timeoutMs), String(h.retries), String(h.startPeriodMs), h.file]);
  }
  if (p.restart) {
    records.push(['restart', p.restart.policy], ['restartmax', String(p.restart.max)], ['stopmarker', p.restart.stopMarker]);
    records.push(['pidfile', p.restart.pidFile]);
    if (p.restart.policyFile) records.push(['restartfile', p.restart.policyFile]);
  }
  return records;
}

/** /dev/shm's tmpfs options: docker's mode and size, owned by the container's root. */
function shmData(p: PlanInput, owner: string[]): string[] {
  return ['mode=1777', `size=${Math.floor((p.shmSize ?? 64 << 20) / 1024)}k`, ...owner];
}

function teardownSteps(p: PlanInput): Step[] {
  // The shareable /dev/shm first: an --rm container's directory goes next. Detached, so the
  // containers that joined keep theirs.
  const teardown: Step[] = p.shareableShm && !p.namespaces?.shm ? [['umount', p.shareableShm]] : [];
  teardown.push(...p.teardown.rmdirs.map((d): Step => (p.teardown.keepParents ? ['rmdir', d, 'leaf'] : ['rmdir', d])));
  for (const s of p.teardown.rmscope ?? []) teardown.push(['rmscope', s]);
  for (const t of p.teardown.rmtree ?? []) teardown.push(['rmtree', t]);
  if (p.teardown.release) teardown.push(['release', ...p.teardown.release]);
  if (p.teardown.releaseViews) teardown.push(['release', ...p.teardown.releaseViews]);
  return teardown;
}

/** The engine's container: its spec, run the same way as a bundle's, with the monitor's work added. */
export function buildPlan(p: PlanInput): Step[] {
  // The uptime is that of the init of the container's pid namespace: its own, the host's, or
  // that of the container whose namespace it joined.
  const pidns = p.namespaces?.pid;
  const reaper = pidns === 'host' ? '-1' : pidns ? /^\/proc\/(\d+)\//.exec(pidns.path)?.[1] ?? '-1' : undefined;
  return specPlan(engineSpec(p), { ...p.process, userns: p.process.userns ?? !!p.userns }, {
    rootfs: p.rootfs, cgroupJoin: p.cgroupJoin, records: [...monitorRecords(p), ...sysinfoRecord(p.process, reaper)], teardown: teardownSteps(p), idmounts: p.userns?.idmounts, cgroupFs: p.cgroupFs,
  });
}

/**
 * The engine's container as a bundle for another OCI runtime (`--runtime runc`): the same spec,
 * with the process spelled out (capability names, rlimit names, the seccomp profile itself, which
 * the caller resolves) and the cgroup the engine made and limited, which the runtime joins.
 */
export function runtimeSpec(p: PlanInput, o: { cgroupsPath: string; seccomp?: SeccompProfile; devices: 'all' | string[] }): OciSpec {
  const spec = engineSpec(p);
  const proc = p.process;
  const caps = capNames(proc.caps).map((c) => `CAP_${c}`);
  spec.process = {
    terminal: !!proc.tty,
    ...(proc.tty ? { consoleSize: { height: proc.tty.rows, width: proc.tty.cols } } : {}),
    user: { uid: proc.uid, gid: proc.gid, additionalGids: proc.groups },
    args: proc.args,
    env: proc.env,
    cwd: proc.cwd,
    // As for berth's own containers: a non-root user keeps only the bounding set.
    capabilities: { bounding: caps, effective: proc.uid === 0 ? caps : [], permitted: proc.uid === 0 ? caps : [], inheritable: [], ambient: [] },
    rlimits: (proc.rlimits ?? []).map(([n, soft, hard]) => ({ type: RLIMIT_TYPES[n], soft, hard })),
    noNewPrivileges: proc.noNewPrivileges ?? false,
    ...(proc.oomScoreAdj !== undefined ? { oomScoreAdj: proc.oomScoreAdj } : {}),
  };
  spec.linux!.cgroupsPath = o.cgroupsPath;
  // The runtime writes its own device rules (and on cgroup v2 replaces our program): the
  // engine's, spelled out, so that it allows what berth would and nothing more.
  spec.linux!.resources = {
    devices: o.devices === 'all' ? [{ allow: true, access: 'rwm' }] : [{ allow: false, access: 'rwm' }, ...o.devices.map((r) => {
      const [type, nums, access] = r.split(' ');
      const [major, minor] = nums.split(':').map((x) => (x === '*' ? undefined : Number(x)));
      return { allow: true, type, ...(major !== undefined ? { major } : {}), ...(minor !== undefined ? { minor } : {}), access };
    })],
  };
  if (o.seccomp) spec.linux!.seccomp = o.seccomp;
  return spec;
}

/**
 * The monitor's plan when another runtime runs the container: the overlay root is mounted in a
 * mount namespace of the monitor's child (it vanishes with it), which then execs the runtime's
 * foreground `run` (COMMAND); the monitor logs, restarts and tears down as for its own.
 */
export function buildRuntimePlan(p: PlanInput, command: string[], initPidFile: string): Step[] {
  // initpidfile: health probes enter the init the runtime started, not the runtime's process.
  const steps: Step[] = [['ns', String(CLONE.NEWNS)], ...consoleRecords(p.process), ...monitorRecords(p), ['initpidfile', initPidFile]];
  steps.push(['propagation', String(MS.REC | MS.SLAVE)]);
  steps.push(['mount', p.rootfs.source, p.rootfs.target, p.rootfs.type, '0', p.rootfs.options.join(',')]);
  if (p.process.tty) steps.push(['tty', '0', String(p.process.tty.rows), String(p.process.tty.cols)]);
  steps.push(['env', `PATH=${DEFAULT_PATH}`], ['exec', ...command]);
  steps.push(...teardownSteps(p));
  return steps;
}

/** The monitor's side of a terminal: receive the pty master, and feed it our stdin. */
function consoleRecords(proc: ProcessSpec): Step[] {
  if (!proc.tty) return [];
  const steps: Step[] = proc.tty.interactive ? [['console', '1'], ['stdin', '1']] : [['console', '1']];
  // A client without a terminal of its own (the API) resizes through this file and SIGWINCH.
  if (proc.tty.winsizeFile) steps.push(['winsize', proc.tty.winsizeFile]);
  return steps;
}

function notifyStep(proc: ProcessSpec): Step[] {
  return proc.notify ? [['notify', proc.notify.program]] : [];
}

/**
 * The monitor's record for a process with a sysinfo filter: where it reads the totals, and whose
 * age is the uptime (reaper: a pid; absent, the init it runs; -1, none: the host's pid namespace).
 */
function sysinfoRecord(proc: ProcessSpec, reaper?: string): Step[] {
  if (!proc.notify || !proc.seccomp) return [];
  const s = proc.notify.source;
  const record: Step = ['sysinfo', String(s.version), s.memory, s.memoryRoot, s.pids];
  return [reaper === undefined ? record : [...record, reaper] as Step, ...(s.cpu ? [['sysloads', s.cpu] as Step] : [])];
}

/** Identity, privileges, environment and command: the same for a container's init and an exec. */
function processSteps(steps: Step[], proc: ProcessSpec, beforeIdentity: Step[] = [], beforeExec: Step[] = []): void {
  const caps = proc.caps.toString(16);
  // Raising a limit or lowering the OOM score needs the host's root: before any user namespace.
  for (const [res, soft, hard] of proc.rlimits ?? []) steps.push(['rlimit', String(res), String(soft), String(hard)]);
  if (proc.oomScoreAdj !== undefined) steps.push(['oomscore', String(proc.oomScoreAdj)]);
  if (proc.userns) steps.push(['userns']);
  if (proc.tty) steps.push(['tty', String(proc.uid), String(proc.tty.rows), String(proc.tty.cols)]);
  steps.push(['cwd', proc.cwd]);
  if (proc.umask !== undefined) steps.push(['umask', String(proc.umask)]);
  // OCI create: the container is set up (its terminal handed over); it waits here for `start`.
  steps.push(...beforeIdentity);
  if (proc.seccomp && !proc.noNewPrivileges) steps.push(['seccomp', proc.seccomp], ...notifyStep(proc));
  // The bounding set is dropped while we still hold CAP_SETPCAP, before switching user.
  steps.push(['capbset', caps]);
  const sets = proc.capSets;
  // keepcaps: an OCI process keeps the permitted set it asked for across the switch to its user.
  if (sets) steps.push(['keepcaps']);
  steps.push(['user', String(proc.uid), String(proc.gid), proc.groups.join(',')]);
  // A non-root user keeps no capabilities in its effective/permitted sets (docker's behaviour
  // since CVE-2022-24769); root gets the allowed set. Inheritable and ambient stay empty.
  const effective = proc.uid === 0 ? caps : '0';
  steps.push(sets ? ['capset', sets.effective.toString(16), sets.permitted.toString(16), sets.inheritable.toString(16)] : ['capset', effective, effective, '0']);
  steps.push(['ambient', sets ? sets.ambient.toString(16) : '0']);
  if (proc.noNewPrivileges) steps.push(['nonewprivs']);
  if (proc.seccomp && proc.noNewPrivileges) steps.push(['seccomp', proc.seccomp], ...notifyStep(proc));
  steps.push(...beforeExec);
  for (const e of proc.env) steps.push(['env', e]);
  steps.push(['exec', ...proc.args]);
}

/**
 * A stopped container's root, mounted in a mount namespace of its own and held there until the
 * shim's stdin closes: `cp` works on it through /proc/PID/root as on a running container's.
 */
export function buildHoldPlan(rootfs: Mount, binds: Array<{ source: string; target: string; readonly: boolean }> = []): Step[] {
  return [
    ['ns', String(CLONE.NEWNS)],
    ['propagation', String(MS.REC | MS.SLAVE)],
    ['mount', rootfs.source, rootfs.target, rootfs.type, '0', rootfs.options.join(',')],
    ['root', rootfs.target],
    // The container's volumes and binds where it sees them (docker cp reaches a stopped
    // container's volumes too); resolved inside the root, as for a running one.
    ...binds.map((b): Step => ['bindin', b.source, b.target, String(MS.REC | (b.readonly ? MS.RDONLY : 0)), '?']),
    ['pivot'],
    ['hold'],
  ];
}

/** A process started inside a running container (exec): its namespaces and cgroups are joined. */
export interface ExecInput {
  pid: number | '%PID%'; // the container init's host pid; '%PID%' for a plan the monitor fills in (health probes)
  cgroupJoin: string[];
  process: ProcessSpec;
  /** A remapped container's user namespace: opened while the host's /proc is still there. */
  userns?: string;
}

const EXEC_NAMESPACES = ['ipc', 'uts', 'net', 'cgroup', 'mnt']; // mnt last: it hides the host's /proc

export function buildExecPlan(x: ExecInput): Step[] {
  const steps: Step[] = [['ns', '0'], ['pidns', `/proc/${x.pid}/ns/pid`], ...consoleRecords(x.process), ...sysinfoRecord(x.process, String(x.pid))];
  for (const f of x.cgroupJoin) steps.push(['join', f]);
  if (x.userns) steps.push(['usernsopen', x.userns]);
  for (const ns of EXEC_NAMESPACES) steps.push(['setns', `/proc/${x.pid}/ns/${ns}`]);
  processSteps(steps, x.process);
  return steps;
}

/**
 * A program on the host under a monitor, with no namespaces of its own (the daemon runs a
 * remote client's berth command this way): a terminal from the host's devpts if asked for, its
 * signals forwarded, its exit reported, as for an exec.
 */
export function buildHostPlan(x: { args: string[]; env: string[]; cwd: string; tty?: ProcessSpec['tty'] }): Step[] {
  const steps: Step[] = [['ns', '0'], ...(x.tty ? consoleRecords({ tty: x.tty } as ProcessSpec) : [])];
  if (x.tty) steps.push(['nodetach', '1'], ['tty', '0', String(x.tty.rows), String(x.tty.cols)]);
  steps.push(['cwd', x.cwd]);
  for (const e of x.env) steps.push(['env', e]);
  steps.push(['exec', ...x.args]);
  return steps;
}

/** Records on the wire: each field "=" + value + NUL (empty values survive), a lone NUL ends a record. */
export function encodeRecords(steps: ReadonlyArray<readonly string[]>): Buffer {
  let body = '';
  for (const s of steps) {
    for (const f of s) {
      if (f.includes('\0')) throw new Error(`plan field contains NUL: ${JSON.stringify(f)}`);
      body += '=' + f + '\0';
    }
    body += '\0';
  }
  return Buffer.from(body, 'utf8');
}

/** A plan is its records behind "<length>\n": the socket stays open afterwards for reports. */
export function encodePlan(steps: ReadonlyArray<readonly string[]>): Buffer {
  const payload = encodeRecords(steps);
  return Buffer.concat([Buffer.from(`${payload.length}\n`), payload]);
}
