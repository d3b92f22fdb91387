// Turns a container's specification into the shim's plan: a linear list of steps the C side
// executes in order (see native/container.c). Pure: no I/O, so it is unit-tested without root.
import type { Mount } from '../core/types.ts';
import type { DeviceNode } from '../kernel/devices.ts';

export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, REMOUNT: 32, BIND: 4096, REC: 16384,
  PRIVATE: 1 << 18, SLAVE: 1 << 19, RELATIME: 1 << 21, STRICTATIME: 1 << 24,
} as const;

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
  noNewPrivileges?: boolean;
  rlimits?: Array<[resource: number, soft: number, hard: number]>; // -1 = unlimited
  oomScoreAdj?: number;
  /** BPF program (hex), installed last before exec with no-new-privileges, else while we still
   * hold CAP_SYS_ADMIN (installing a filter needs one of the two). */
  seccomp?: string;
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
  log?: { path: string; tee: boolean; maxSize?: number; maxFiles?: number };
  /** Health probes run by the monitor: an exec plan file (with %PID%), timings in ms, results file. */
  health?: { planFile: string; intervalMs: number; timeoutMs: number; retries: number; startPeriodMs: number; file: string };
  /** A unix socket where clients follow the output (docker's multiplexed stream framing). */
  attachSocket?: string;
  /** docker's restart policies, carried out by the monitor; a stop marker file means "stay down". */
  restart?: { policy: 'always' | 'on-failure' | 'unless-stopped'; max: number; stopMarker: string; pidFile: string };
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
  /** The user's mounts: host directories/files bound in, or tmpfs. */
  mounts?: Array<{ type: 'bind' | 'tmpfs'; source: string; target: string; readonly: boolean; file?: boolean; data?: string }>;
  /** The network namespace: a new one with loopback only (default), the host's, or an existing one joined by path. */
  network?: { mode: 'new' } | { mode: 'host' } | { mode: 'join'; path: string };
  /** rmdir (cgroups), rmtree (--rm), and a program the monitor starts detached at the very end (network release). */
  teardown: { rmdirs: string[]; rmtree?: string[]; release?: string[] };
}

export type Step = string[];

const DEVICES: Array<[string, number, number]> = [
  ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0],
];
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

export function buildPlan(p: PlanInput): Step[] {
  const net = p.network ?? { mode: 'new' };
  const nsFlags = CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWPID | (net.mode === 'new' ? CLONE.NEWNET : 0) | (p.cgroupNamespace ? CLONE.NEWCGROUP : 0);
  const steps: Step[] = [['ns', String(nsFlags)], ...consoleRecords(p.process)];
  if (p.oomFile) steps.push(['oom', p.oomFile]);
  if (p.exitFile) steps.push(['exitfile', p.exitFile]);
  if (p.log) steps.push(['log', p.log.path, p.log.tee ? '1' : '0', String(p.log.maxSize ?? 0), String(p.log.maxFiles ?? 1)]);
  if (p.attachSocket) steps.push(['attachsock', p.attachSocket]);
  if (p.deviceProgram) steps.push(['devcg', p.deviceProgram.cgroup, p.deviceProgram.program]);
  if (p.health) {
    const h = p.health;
    steps.push(['health', h.planFile, String(h.intervalMs), String(h.timeoutMs), String(h.retries), String(h.startPeriodMs), h.file]);
  }
  if (p.restart) {
    steps.push(['restart', p.restart.policy], ['restartmax', String(p.restart.max)], ['stopmarker', p.restart.stopMarker]);
    steps.push(['pidfile', p.restart.pidFile]);
  }

  // Joined first, so that everything from here on is accounted and limited.
  for (const f of p.cgroupJoin) steps.push(['join', f]);
  // A namespace prepared by the engine (CNI attached) or another container's: joined by path
  // while the host's filesystem is still visible.
  if (net.mode === 'join') steps.push(['setns', net.path]);
  // Host mount events still reach us (slave), ours never reach the host; every mount below
  // lives only in the container's mount namespace and vanishes with it.
  steps.push(['propagation', String(MS.REC | MS.SLAVE)]);
  if (p.userns) {
    steps.push(['usernsmap', p.userns.uidMap, p.userns.gidMap]);
    for (const [source, target] of p.userns.idmounts) steps.push(['idmount', source, target]);
  }
  // Filesystems mounted for the container belong to its root (the host's, or the remapped one).
  const owner = p.userns ? `,uid=${p.userns.rootId},gid=${p.userns.rootId}` : '';
  steps.push(['mount', p.rootfs.source, p.rootfs.target, p.rootfs.type, '0', p.rootfs.options.join(',')]);
  steps.push(['root', p.rootfs.target]);
  const nse = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  steps.push(['mountin', 'proc', '/proc', 'proc', String(nse), '']);
  // Written while /proc/sys is still writable (it is made read-only further down).
  for (const [k, v] of Object.entries(p.sysctls ?? {})) steps.push(['sysctlin', `/proc/sys/${k.replace(/\./g, '/')}`, v]);
  steps.push(['mountin', 'tmpfs', '/dev', 'tmpfs', String(MS.NOSUID | MS.STRICTATIME), `mode=755,size=65536k${owner}`]);
  const own = new Set((p.devices ?? []).map((d) => d.path));
  for (const [name, major, minor] of DEVICES) if (!own.has(`/dev/${name}`)) steps.push(['mknodin', `/dev/${name}`, String(S_IFCHR | 0o666), String(major), String(minor)]);
  steps.push(['mountin', 'devpts', '/dev/pts', 'devpts', String(MS.NOSUID | MS.NOEXEC), `newinstance,ptmxmode=0666,mode=0620,gid=${(p.userns?.rootId ?? 0) + 5}`]);
  steps.push(['mountin', 'shm', '/dev/shm', 'tmpfs', String(nse), `mode=1777,size=65536k${owner}`]);
  steps.push(['mountin', 'mqueue', '/dev/mqueue', 'mqueue', String(nse), '']);
  for (const [target, link] of [['pts/ptmx', '/dev/ptmx'], ['/proc/self/fd', '/dev/fd'], ['/proc/self/fd/0', '/dev/stdin'],
    ['/proc/self/fd/1', '/dev/stdout'], ['/proc/self/fd/2', '/dev/stderr'], ['/proc/kcore', '/dev/core']]) {
    steps.push(['symlinkin', target, link]);
  }
  steps.push(['mountin', 'sysfs', '/sys', 'sysfs', String(nse | (p.privileged ? 0 : MS.RDONLY)), '']);
  steps.push(['bindin', p.etcFiles.hostname, '/etc/hostname', '0', 'f']);
  steps.push(['bindin', p.etcFiles.hosts, '/etc/hosts', '0', 'f']);
  steps.push(['bindin', p.etcFiles.resolv, '/etc/resolv.conf', '0', 'f']);
  // Parents before children, so a mount inside another mount lands on top of it.
  const depth = (t: string) => t.split('/').length;
  for (const m of [...(p.mounts ?? [])].sort((a, b) => depth(a.target) - depth(b.target))) {
    if (m.type === 'bind') steps.push(['bindin', m.source, m.target, String(m.readonly ? MS.RDONLY | MS.NOSUID | MS.NODEV : 0), m.file ? 'f' : 'd']);
    else steps.push(['mountin', 'tmpfs', m.target, 'tmpfs', String(nse | (m.readonly ? MS.RDONLY : 0)), owner && !/(^|,)uid=/.test(m.data ?? '') ? `${m.data ? `${m.data},` : ''}${owner.slice(1)}` : m.data ?? '']);
  }
  // The user's devices after every mount (as runc makes them), so none is hidden by one; with the
  // host node's owner.
  for (const d of p.devices ?? []) {
    steps.push(['mknodin', d.path, String((d.type === 'b' ? S_IFBLK : S_IFCHR) | (d.mode & 0o777)), String(d.major), String(d.minor), String(d.uid), String(d.gid)]);
  }
  if (!p.privileged) {
    for (const m of p.maskedPaths ?? MASKED_PATHS) steps.push(['maskin', m]);
    for (const r of p.readonlyPaths ?? READONLY_PATHS) steps.push(['roin', r]);
  }
  // Read-only root: only the root mount itself; /proc, /dev, /sys and the /etc files keep theirs.
  if (p.readonlyRoot) steps.push(['mount', '', p.rootfs.target, '', String(MS.REMOUNT | MS.BIND | MS.RDONLY), '']);
  steps.push(['pivot']);
  if (net.mode === 'new') steps.push(['loopback']);
  if (p.cgroupNamespace) steps.push(['cgroupns']);
  steps.push(['hostname', p.hostname]);

  processSteps(steps, p.process);
  for (const d of p.teardown.rmdirs) steps.push(['rmdir', d]);
  for (const t of p.teardown.rmtree ?? []) steps.push(['rmtree', t]);
  if (p.teardown.release) steps.push(['release', ...p.teardown.release]);
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

/** Identity, privileges, environment and command: the same for a container's init and an exec. */
function processSteps(steps: Step[], proc: ProcessSpec): void {
  const caps = proc.caps.toString(16);
  // Raising a limit or lowering the OOM score needs the host's root: before any user namespace.
  for (const [res, soft, hard] of proc.rlimits ?? []) steps.push(['rlimit', String(res), String(soft), String(hard)]);
  if (proc.oomScoreAdj !== undefined) steps.push(['oomscore', String(proc.oomScoreAdj)]);
  if (proc.userns) steps.push(['userns']);
  if (proc.tty) steps.push(['tty', String(proc.uid), String(proc.tty.rows), String(proc.tty.cols)]);
  steps.push(['cwd', proc.cwd]);
  if (proc.seccomp && !proc.noNewPrivileges) steps.push(['seccomp', proc.seccomp]);
  // The bounding set is dropped while we still hold CAP_SETPCAP, before switching user.
  steps.push(['capbset', caps]);
  steps.push(['user', String(proc.uid), String(proc.gid), proc.groups.join(',')]);
  // A non-root user keeps no capabilities in its effective/permitted sets (docker's behaviour
  // since CVE-2022-24769); root gets the allowed set. Inheritable and ambient stay empty.
  const effective = proc.uid === 0 ? caps : '0';
  steps.push(['capset', effective, effective, '0']);
  steps.push(['ambient', '0']);
  if (proc.noNewPrivileges) steps.push(['nonewprivs']);
  if (proc.seccomp && proc.noNewPrivileges) steps.push(['seccomp', proc.seccomp]);
  for (const e of proc.env) steps.push(['env', e]);
  steps.push(['exec', ...proc.args]);
}

/**
 * A stopped container's root, mounted in a mount namespace of its own and held there until the
 * shim's stdin closes: `cp` works on it through /proc/PID/root as on a running container's.
 */
export function buildHoldPlan(rootfs: Mount): Step[] {
  return [
    ['ns', String(CLONE.NEWNS)],
    ['propagation', String(MS.REC | MS.SLAVE)],
    ['mount', rootfs.source, rootfs.target, rootfs.type, '0', rootfs.options.join(',')],
    ['root', rootfs.target],
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
  const steps: Step[] = [['ns', '0'], ['pidns', `/proc/${x.pid}/ns/pid`], ...consoleRecords(x.process)];
  for (const f of x.cgroupJoin) steps.push(['join', f]);
  if (x.userns) steps.push(['usernsopen', x.userns]);
  for (const ns of EXEC_NAMESPACES) steps.push(['setns', `/proc/${x.pid}/ns/${ns}`]);
  processSteps(steps, x.process);
  return steps;
}

/** Records on the wire: each field "=" + value + NUL (empty values survive), a lone NUL ends a record. */
export function encodeRecords(steps: Step[]): Buffer {
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
export function encodePlan(steps: Step[]): Buffer {
  const payload = encodeRecords(steps);
  return Buffer.concat([Buffer.from(`${payload.length}\n`), payload]);
}
