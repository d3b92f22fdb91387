// The OCI runtime's lifecycle over bundles (runtime-spec runtime.md): create, start, state, kill,
// delete, exec, ps, list. A container is a directory under the runtime root holding its state
// and its exec fifo; its init waits at the fifo from create until start opens the other end, and
// its monitor (the shim) stays its parent, so nothing else needs to run in between.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, conflict, invalid, notFound } from '../core/errors.ts';
import { capMask } from '../kernel/capabilities.ts';
import { rlimitByType } from '../kernel/rlimits.ts';
import { sysctlNamespace } from '../kernel/sysctl.ts';
import { cgroupMountList, cgroupMounts, containerCgroupFs, detectCgroups, killAndRemove, readOptional, rmdirQuiet, writeLimit, type CgroupDriver, type Limits } from '../kernel/cgroups.ts';
import { DEFAULT_DEVICE_RULES, deviceProgramHex } from '../kernel/devices.ts';
import { isAlive, refOf, type ProcessRef } from '../kernel/process.ts';
import { compileProfile, parseProfile, toHex, type SeccompProfile } from '../kernel/seccomp.ts';
import { writeFileAtomic, readJsonFile } from '../util/atomic.ts';
import { rootKey } from '../util/hash.ts';
import { buildExecPlan, sharesHostMounts, specPlan, type ProcessSpec, type Step } from './plan.ts';
import { statsEvent, updateLimits } from './oci-cgroup.ts';
import { runShim, type ShimHandle } from './shim.ts';
import { mountOptions, OCI_VERSION, parseSpec, type OciHook, type OciProcess, type OciResources, type OciSpec } from './spec.ts';

export type OciStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface OciState {
  ociVersion: string;
  id: string;
  status: OciStatus;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** What a container's directory records (state.json). */
interface Record_ {
  id: string;
  bundle: string;
  created: string;
  owner: string;
  init?: ProcessRef;
  annotations?: Record<string, string>;
  cgroup: { scope: string; name: string };
  hooks?: { poststart?: OciHook[]; poststop?: OciHook[] };
  userns: boolean;
  noProcess?: boolean;
  /** What an exec inherits from the container. */
  seccomp?: SeccompProfile;
  noNewPrivileges?: boolean;
  /** No mount namespace of its own: its mounts are in the host's, under <dir>/rootfs. */
  hostMounts?: boolean;
  /** Frozen by `pause` (until `resume`). */
  paused?: boolean;
}

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  /** run: the terminal is ours (the monitor relays it) rather than handed to a console socket. */
  foreground?: boolean;
  /**
   * create: the init becomes our caller's once it waits at its fifo (the monitor leaves), as
   * runc's does, so that a supervisor that is a subreaper (containerd's shim, conmon) is its
   * parent and sees its exit. Without it the monitor stays its parent (run in the foreground).
   */
  handoff?: boolean;
}

export const DEFAULT_RUNTIME_ROOT = '/run/berth-runtime';
/** berth-runtime's cgroups live under this subtree of every hierarchy (its own, beside the engine's scopes). */
const RUNTIME_SCOPE = 'berth/runtime';

export class OciRuntime {
  readonly root: string;
  constructor(root: string = DEFAULT_RUNTIME_ROOT) {
    this.root = path.resolve(root);
  }

  private dir(id: string): string {
    checkContainerId(id);
    return path.join(this.root, id);
  }

  private load(id: string): Record_ {
    const r = readJsonFile<Record_>(path.join(this.dir(id), 'state.json'));
    if (!r) throw notFound(`container "${id}" does not exist`);
    return r;
  }

  private status(r: Record_): OciStatus {
    if (!r.init) return 'creating';
    if (!isAlive(r.init)) return 'stopped';
    if (r.paused) return 'paused';
    return fs.existsSync(path.join(this.dir(r.id), 'exec.fifo')) ? 'created' : 'running';
  }

  exists(id: string): boolean {
    return fs.existsSync(path.join(this.dir(id), 'state.json'));
  }

  state(id: string): OciState {
    const r = this.load(id);
    const status = this.status(r);
    return { ociVersion: OCI_VERSION, id, status, pid: status === 'stopped' || !r.init ? 0 : r.init.pid, bundle: r.bundle, annotations: r.annotations ?? {} };
  }

  list(): Array<OciState & { created: string; owner: string }> {
    let ids: string[] = [];
    try {
      ids = fs.readdirSync(this.root).filter((n) => !n.startsWith('.'));
    } catch {}
    const out = [];
    for (const id of ids.sort()) {
      try {
        const r = this.load(id);
        out.push({ ...this.state(id), created: r.created, owner: r.owner });
      } catch {}
    }
    return out;
  }

  /**
   * create: the container's namespaces, mounts and cgroups are made and its init waits at the
   * exec fifo. Resolves once it is there (the monitor carries on without us), or throws with
   * everything made undone.
   */
  async create(id: string, o: CreateOptions): Promise<{ pid: number; shim: ShimHandle }> {
    const dir = this.dir(id);
    const bundle = path.resolve(o.bundle);
    let text: string;
    try {
      text = fs.readFileSync(path.join(bundle, 'config.json'), 'utf8');
    } catch (err) {
      throw invalid(`cannot read ${path.join(bundle, 'config.json')}: ${(err as Error).message}`);
    }
    const spec = parseSpec(text);
    // No process: the container's namespaces are made and held; `start` then has nothing to run.
    const noProcess = !spec.process;
    spec.process ??= { user: { uid: 0, gid: 0 }, args: ['/'], cwd: '/' };
    if (spec.process.terminal && !o.consoleSocket && !o.foreground) throw invalid('process.terminal needs --console-socket');
    if (o.consoleSocket && !spec.process.terminal) throw invalid('--console-socket given but process.terminal is false');
    if (spec.process.apparmorProfile && !appArmorEnabled()) throw invalid(`apparmor profile "${spec.process.apparmorProfile}" given but AppArmor is not enabled on this kernel`);
    checkOciSysctls(spec);
    const proc = ociProcess(spec.process, spec);
    const rootPath = path.resolve(bundle, spec.root!.path);
    if (!fs.statSync(rootPath, { throwIfNoEntry: false })?.isDirectory()) throw invalid(`root.path ${rootPath} is not a directory`);
    // A relative bind source is relative to the bundle (runc works from it), not to our caller.
    for (const m of spec.mounts ?? []) if (m.source && !path.isAbsolute(m.source) && mountOptions(m.options, m.type).bind) m.source = path.join(bundle, m.source);

    const cg = cgroupOf(id, spec.linux?.cgroupsPath, rootKey(this.root));
    const limits = ociLimits(spec);
    // 0700: nobody else may reach a container's exec fifo or its state.
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw conflict(`container "${id}" already exists`);
      throw err;
    }
    const record: Record_ = {
      id, bundle, created: new Date().toISOString(), owner: 'root', annotations: spec.annotations, cgroup: cg,
      hooks: { poststart: spec.hooks?.poststart, poststop: spec.hooks?.poststop },
      userns: (spec.linux?.namespaces ?? []).some((n) => n.type === 'user'),
      noProcess,
      seccomp: spec.linux?.seccomp,
      noNewPrivileges: spec.process.noNewPrivileges,
      hostMounts: sharesHostMounts(spec),
    };
    // Undone on failure: only what this create made (a cgroup that was there is someone else's).
    const made: { cgroup?: CgroupDriver; cpuset?: string } = {};
    try {
      writeFileAtomic(path.join(dir, 'state.json'), JSON.stringify(record));
      const driver = cgroupDriver(cg.scope);
      const paths = driver.create(cg.name, limits);
      made.cgroup = driver;
      memoryExtras(driver, paths, spec.linux?.resources?.memory);
      const cpuset = cpusetCgroup(driver, cg, spec.linux?.resources?.cpu);
      if (cpuset) {
        made.cpuset = cpuset.dirs[0];
        paths.procs.push(...cpuset.procs);
        paths.dirs.push(...cpuset.dirs);
      }
      // Without a mount namespace of its own, the root is bound at a mount point of ours, never
      // over the bundle's (which may be its caller's mount): what is detached later is ours.
      const target = record.hostMounts ? path.join(dir, 'rootfs') : rootPath;
      if (record.hostMounts) fs.mkdirSync(target);
      const fifo = path.join(dir, 'exec.fifo');
      fs.rmSync(fifo, { force: true });
      mkfifo(fifo);
      const records: Step[] = [['oom', paths.oom]];
      if (o.handoff) records.push(['handoff', '1']);
      if (o.consoleSocket) records.push(['consolesock', path.resolve(o.consoleSocket)]);
      if (driver.version === 2 && limits.devices !== 'all') records.push(['devcg', paths.dirs[0], deviceProgramHex(limits.devices)]);
      const hookState = (status: string) => JSON.stringify({ ociVersion: OCI_VERSION, id, status, pid: 0, bundle, annotations: spec.annotations ?? {} }).replace('"pid":0', '"pid":%PID%');
      const plan = specPlan(spec, proc, {
        rootfs: { type: 'bind', source: rootPath, target, options: [] },
        cgroupJoin: paths.procs,
        records,
        teardown: [...paths.dirs].reverse().map((d) => ['rmdir', d]),
        cgroupFs: containerCgroupFs(driver.version),
        execFifo: fifo,
        hookState,
      });
      const shim = runShim(plan, { stdin: 'inherit', output: 'inherit' });
      const pid = await shim.started;
      record.init = refOf(pid);
      writeFileAtomic(path.join(dir, 'state.json'), JSON.stringify(record), { durable: true });
      if (o.pidFile) writeFileAtomic(path.resolve(o.pidFile), String(pid));
      return { pid, shim };
    } catch (err) {
      if (made.cgroup) removeCgroup(made.cgroup, cg);
      if (made.cpuset) killAndRemove([made.cpuset]);
      if (record.hostMounts) detach(path.join(dir, 'rootfs'));
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** start: opens the fifo's read end, which lets the init exec the process; then poststart hooks. */
  async start(id: string, warn: (msg: string) => void = () => {}): Promise<void> {
    const r = this.load(id);
    const status = this.status(r);
    if (status !== 'created') throw conflict(`cannot start a container that is ${status}`);
    if (r.noProcess) {
      tryKill(r.init!.pid, 9);
      throw invalid(`container "${id}" has no process to start (its config.json has none)`);
    }
    const fifo = path.join(this.dir(id), 'exec.fifo');
    const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    let started = false;
    try {
      // The init is blocked opening the write end: it goes on now and writes one byte.
      const buf = Buffer.alloc(1);
      for (let tries = 0; ; tries++) {
        let n = 0;
        try {
          n = fs.readSync(fd, buf, 0, 1, null);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        }
        if (n === 1) break;
        if (!isAlive(r.init)) throw new BerthError('Internal', `container "${id}" did not start (its init is gone)`);
        if (tries > 2000) throw new BerthError('Internal', `container "${id}" did not start within 10 s`);
        await new Promise((res) => setTimeout(res, 5));
      }
      started = true;
    } finally {
      fs.closeSync(fd);
      // Gone only once the init went past it: an init still waiting stays startable.
      if (started) fs.rmSync(fifo, { force: true });
    }
    for (const h of r.hooks?.poststart ?? []) {
      try {
        // Started, even if the process is already gone again.
        await runHook(h, { ...this.state(id), status: 'running', pid: r.init!.pid });
      } catch (err) {
        warn(`poststart hook ${h.path}: ${(err as Error).message}`);
      }
    }
  }

  kill(id: string, signal: number, all = false): void {
    const r = this.load(id);
    const status = this.status(r);
    // --all signals whatever is left in the cgroup, even once the init is gone (as runc's): a
    // supervisor cleans up an exec that outlived its container this way.
    if (all) {
      for (const pid of this.pids(id)) tryKill(pid, signal);
      return;
    }
    // "container not running" is the phrase containerd's shim takes for "already finished".
    if (status !== 'created' && status !== 'running' && status !== 'paused') throw conflict(`cannot kill a container that is ${status}: container not running`);
    process.kill(r.init!.pid, signal);
  }

  /** delete: a stopped container (or any, with force) and what it holds; then poststop hooks. */
  async delete(id: string, force = false, warn: (msg: string) => void = () => {}): Promise<void> {
    const dir = this.dir(id);
    const r = this.load(id);
    const status = this.status(r);
    if ((status === 'running' || status === 'created') && !force) throw conflict(`cannot delete container "${id}" that is ${status} (stop it first, or --force)`);
    if (status !== 'stopped' && r.init) {
      tryKill(r.init.pid, 9);
      for (let i = 0; i < 400 && isAlive(r.init); i++) await new Promise((res) => setTimeout(res, 5));
    }
    removeCgroup(cgroupDriver(r.cgroup.scope), r.cgroup);
    // Mounts made in the host's namespace, if the monitor was killed before it detached them.
    if (r.hostMounts) detach(path.join(dir, 'rootfs'));
    const cpuset = cpusetDir(r.cgroup);
    if (cpuset) killAndRemove([cpuset]);
    const state = { ...this.state(id), status: 'stopped' as const };
    for (const h of r.hooks?.poststop ?? []) {
      try {
        await runHook(h, state);
      } catch (err) {
        warn(`poststop hook ${h.path}: ${(err as Error).message}`);
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }

  /** pause/resume: the container's cgroup frozen or thawed (runc's verbs; the state says paused). */
  async freeze(id: string, frozen: boolean): Promise<void> {
    const r = this.load(id);
    const status = this.status(r);
    if (frozen ? status !== 'running' : status !== 'paused') throw conflict(`cannot ${frozen ? 'pause' : 'resume'} a container that is ${status}`);
    await cgroupDriver(r.cgroup.scope).freeze(r.cgroup.name, frozen);
    writeFileAtomic(path.join(this.dir(id), 'state.json'), JSON.stringify({ ...r, paused: frozen }));
  }

  /** update --resources: new memory, cpu and pids limits for a container that is there. */
  update(id: string, resources: OciResources): void {
    const r = this.load(id);
    if (this.status(r) === 'stopped') throw conflict(`cannot update a container that is stopped`);
    updateLimits(cgroupDriver(r.cgroup.scope), r.cgroup, ociLimits({ ociVersion: OCI_VERSION, linux: { resources } }));
  }

  /** events --stats: one stats event, as runc's. */
  stats(id: string): object {
    const r = this.load(id);
    return statsEvent(cgroupDriver(r.cgroup.scope), r.cgroup, id);
  }

  pids(id: string): number[] {
    const r = this.load(id);
    return cgroupDriver(r.cgroup.scope).pids(r.cgroup.name);
  }

  /** exec: a process in a running container's namespaces and cgroups. */
  exec(id: string, p: OciProcess, o: { consoleSocket?: string; foreground: boolean; handoff?: boolean }): ShimHandle {
    const r = this.load(id);
    if (this.status(r) !== 'running') throw conflict(`cannot exec in a container that is ${this.status(r)}`);
    if (p.terminal && !o.consoleSocket && !o.foreground) throw invalid('process.terminal needs --console-socket');
    const pid = r.init!.pid;
    // The container's user namespace and seccomp profile apply to every process in it.
    const proc = ociProcess({ ...p, noNewPrivileges: p.noNewPrivileges ?? r.noNewPrivileges }, { ociVersion: OCI_VERSION, linux: { seccomp: r.seccomp, namespaces: r.userns ? [{ type: 'user' }] : [] } });
    const driver = cgroupDriver(r.cgroup.scope);
    const steps = buildExecPlan({ pid, cgroupJoin: driver.paths(r.cgroup.name).procs, process: proc, userns: r.userns ? `/proc/${pid}/ns/user` : undefined });
    if (o.consoleSocket) steps.splice(1, 0, ['consolesock', path.resolve(o.consoleSocket)]);
    // Detached: the process is our caller's once it runs (see CreateOptions.handoff).
    if (o.handoff) steps.splice(1, 0, ['handoff', '1']);
    return runShim(steps, { stdin: 'inherit', output: 'inherit' });
  }
}

export function checkContainerId(id: string): void {
  // The same names a cgroup may have (the default cgroup is named after the container).
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,1023}$/.test(id)) throw invalid(`invalid container id "${id}"`);
}

/**
 * cgroupsPath "/a/b/c" is c under a/b, a relative one is under berth's own subtree; none:
 * berth/runtime/<root key>/<id>, so two runtime roots never share a container's cgroup.
 */
function cgroupOf(id: string, cgroupsPath: string | undefined, key: string): { scope: string; name: string } {
  if (!cgroupsPath) return { scope: `${RUNTIME_SCOPE}/${key}`, name: id };
  if (cgroupsPath.includes(':')) throw invalid(`cgroupsPath "${cgroupsPath}": systemd cgroup paths are not supported`);
  const parts = cgroupsPath.split('/').filter(Boolean);
  if (!parts.length || parts.some((p) => p === '.' || p === '..')) throw invalid(`invalid cgroupsPath "${cgroupsPath}"`);
  // A relative path lands under berth's own subtree, so it never touches the host's cgroups.
  const scope = cgroupsPath.startsWith('/') ? parts.slice(0, -1) : [RUNTIME_SCOPE, ...parts.slice(0, -1)];
  return { scope: scope.join('/'), name: parts.at(-1)! };
}

/**
 * The memory settings the engine's limits do not carry: a reservation (soft limit), the TCP
 * buffer limit, swappiness and the OOM killer turned off. cgroup v2 has only the first
 * (memory.low). The kernel memory limit is not applied: current kernels ignore it.
 */
function memoryExtras(driver: CgroupDriver, paths: { dirs: string[]; oom: string }, m: OciResources['memory']): void {
  if (!m) return;
  if (driver.version === 2) {
    if (m.reservation !== undefined && m.reservation > 0) writeLimit(`${paths.dirs[0]}/memory.low`, String(m.reservation));
    return;
  }
  if (!paths.oom) return;
  const dir = path.dirname(paths.oom);
  if (m.reservation !== undefined && m.reservation > 0) writeLimit(`${dir}/memory.soft_limit_in_bytes`, String(m.reservation));
  if (m.kernelTCP !== undefined && m.kernelTCP > 0) writeLimit(`${dir}/memory.kmem.tcp.limit_in_bytes`, String(m.kernelTCP));
  if (m.swappiness !== undefined && m.swappiness >= 0 && m.swappiness <= 100) writeLimit(`${dir}/memory.swappiness`, String(m.swappiness));
  if (m.disableOOMKiller) writeLimit(`${dir}/memory.oom_control`, '1');
}

/**
 * resources.cpu.cpus/mems. The engine's drivers leave cgroup v1's cpuset hierarchy alone (docker
 * has no default cpuset, and each container would pay for one more cgroup), so a bundle that asks
 * for one gets its cpuset cgroup here; on v2 they are files of the one cgroup.
 */
function cpusetCgroup(driver: CgroupDriver, cg: { scope: string; name: string }, cpu: OciResources['cpu']): { procs: string[]; dirs: string[] } | undefined {
  if (!cpu?.cpus && !cpu?.mems) return undefined;
  const write = (dir: string) => {
    if (cpu.cpus) writeLimit(`${dir}/cpuset.cpus`, cpu.cpus);
    if (cpu.mems) writeLimit(`${dir}/cpuset.mems`, cpu.mems);
  };
  if (driver.version === 2) {
    write(driver.paths(cg.name).dirs[0]);
    return undefined;
  }
  const mount = cpusetMount();
  if (!mount) throw invalid('resources.cpu.cpus/mems: no cpuset cgroup hierarchy is mounted');
  const dir = path.join(mount, cg.scope, cg.name);
  // A new cpuset cgroup has no cpus or mems: each level starts with its parent's.
  let at = mount;
  for (const part of [...cg.scope.split('/').filter(Boolean), cg.name]) {
    const parent = at;
    at = `${at}/${part}`;
    fs.mkdirSync(at, { recursive: true });
    for (const f of ['cpuset.cpus', 'cpuset.mems']) if (!readOptional(`${at}/${f}`)?.trim()) writeLimit(`${at}/${f}`, readOptional(`${parent}/${f}`)!.trim());
  }
  write(dir);
  return { procs: [`${dir}/cgroup.procs`], dirs: [dir] };
}

function cpusetMount(): string | undefined {
  return cgroupMountList().find((m) => m.names.includes('cpuset'))?.mount;
}

function cpusetDir(cg: { scope: string; name: string }): string | undefined {
  const mount = cpusetMount();
  return mount && path.join(mount, cg.scope, cg.name);
}

/**
 * The cgroups a container's cgroupsPath names. BERTH_CGROUP_ROOT names a cgroup2 mount to use
 * instead of what /sys/fs/cgroup holds, as for the engine (the tests run the v2 path on a hybrid host).
 */
function cgroupDriver(scope: string): CgroupDriver {
  return detectCgroups(scope, { topLevel: true, root: process.env.BERTH_CGROUP_ROOT || undefined });
}

/**
 * A container's cgroups and, with its last container, the subtree berth-runtime made for them
 * (berth/runtime/<root key>, then berth/runtime: one try each, another container keeps them).
 */
function removeCgroup(driver: CgroupDriver, cg: { scope: string; name: string }): void {
  driver.remove(cg.name);
  if (!cg.scope.startsWith(`${RUNTIME_SCOPE}/`)) return;
  const mounts = process.env.BERTH_CGROUP_ROOT ? [process.env.BERTH_CGROUP_ROOT] : cgroupMounts();
  rmdirQuiet(mounts.flatMap((m) => [path.join(m, cg.scope), path.join(m, RUNTIME_SCOPE)]));
}

/** The limits berth applies from linux.resources (memory, pids, cpu and devices). */
export function ociLimits(spec: OciSpec): Limits {
  const r: OciResources = spec.linux?.resources ?? {};
  const limits: Limits = {};
  if (r.memory?.limit !== undefined && r.memory.limit > 0) limits.memory = r.memory.limit;
  if (r.memory?.swap !== undefined && r.memory.swap !== 0) limits.memorySwap = r.memory.swap;
  if (r.pids?.limit !== undefined && r.pids.limit > 0) limits.pids = r.pids.limit;
  if (r.cpu?.shares) limits.cpuShares = r.cpu.shares;
  if (r.cpu?.quota && r.cpu.quota > 0) limits.cpuQuota = r.cpu.quota;
  if (r.cpu?.period) limits.cpuPeriod = r.cpu.period;
  limits.devices = deviceRulesOf(spec);
  return limits;
}

/**
 * Everything denied but the standard nodes, then linux.resources.devices in order, then the
 * config's own devices, which the container must be able to use (as runc allows them). An
 * allow-list is all berth's cgroup code writes: a deny of everything starts over, an allow of
 * everything with every access opens all, and a deny that takes back part of an earlier allow
 * (which only the kernel's own list could express) is refused rather than half applied.
 */
function deviceRulesOf(spec: OciSpec): string[] | 'all' {
  let rules: Array<{ type: string; major: string; minor: string; access: string }> = [];
  let all = false;
  const covers = (a: { type: string; major: string; minor: string; access: string }, b: typeof a) =>
    (a.type === 'a' || b.type === 'a' || a.type === b.type) && (a.major === '*' || b.major === '*' || a.major === b.major) &&
    (a.minor === '*' || b.minor === '*' || a.minor === b.minor) && [...b.access].some((c) => a.access.includes(c));
  for (const d of spec.linux?.resources?.devices ?? []) {
    const r = { type: d.type ?? 'a', major: d.major === undefined || d.major === null || d.major < 0 ? '*' : String(d.major), minor: d.minor === undefined || d.minor === null || d.minor < 0 ? '*' : String(d.minor), access: d.access || 'rwm' };
    if (!/^[rwm]+$/.test(r.access) || !['a', 'b', 'c', 'u', 'p'].includes(r.type)) throw invalid(`invalid device rule ${JSON.stringify(d)}`);
    const everything = r.type === 'a' && r.major === '*' && r.minor === '*';
    if (!d.allow && everything && r.access.length === 3) {
      all = false;
      rules = [];
    } else if (d.allow && everything && ['r', 'w', 'm'].every((c) => r.access.includes(c))) {
      all = true;
      rules = [];
    } else if (r.type === 'p') {
      // fifos are no devices: the devices cgroup has no say over them.
    } else if (d.allow) {
      if (!all) rules.push(...(r.type === 'a' ? ['c', 'b'].map((type) => ({ ...r, type })) : [{ ...r, type: r.type === 'u' ? 'c' : r.type }]));
    } else {
      const before = rules.length;
      rules = rules.filter((x) => !(x.type === r.type && x.major === r.major && x.minor === r.minor && x.access === r.access));
      if (all || (rules.length === before && rules.some((x) => covers(x, r)))) {
        throw invalid(`device rule ${JSON.stringify(d)} denies part of what an earlier rule allows, which berth cannot apply; list the allowed devices after a deny of all`);
      }
    }
  }
  if (all) return 'all';
  const own = (spec.linux?.devices ?? []).map((d) => `${d.type === 'b' ? 'b' : 'c'} ${d.major ?? 0}:${d.minor ?? 0} rwm`);
  // The config's entries first, in its order (the spec asks for them to be applied as listed).
  return [...new Set([...rules.map((x) => `${x.type} ${x.major}:${x.minor} ${x.access}`), ...DEFAULT_DEVICE_RULES, ...own])];
}

/** An OCI process as the shim's: capability sets, limits, terminal, and the seccomp program. */
export function ociProcess(p: OciProcess, spec?: OciSpec): ProcessSpec {
  const c = p.capabilities ?? {};
  const rlimits = (p.rlimits ?? []).map((l): [number, number, number] => {
    const n = rlimitByType(l.type);
    if (n === undefined) throw invalid(`unknown rlimit type "${l.type}"`);
    if (l.soft > l.hard) throw invalid(`rlimit ${l.type}: soft limit ${l.soft} is above the hard limit ${l.hard}`);
    return [n, l.soft, l.hard];
  });
  const effective = c.effective ?? [];
  const profile = spec?.linux?.seccomp;
  return {
    args: p.args ?? [],
    env: p.env ?? [],
    cwd: p.cwd,
    uid: p.user.uid,
    gid: p.user.gid,
    groups: p.user.additionalGids ?? [],
    umask: p.user.umask,
    caps: capMask(c.bounding ?? []),
    capSets: { effective: capMask(effective), permitted: capMask(c.permitted ?? []), inheritable: capMask(c.inheritable ?? []), ambient: capMask(c.ambient ?? []) },
    noNewPrivileges: p.noNewPrivileges,
    rlimits,
    oomScoreAdj: p.oomScoreAdj,
    seccomp: profile ? toHex(compileProfile(parseProfile(JSON.stringify(profile)), { caps: effective })) : undefined,
    userns: (spec?.linux?.namespaces ?? []).some((n) => n.type === 'user'),
    tty: p.terminal ? { rows: p.consoleSize?.height ?? 0, cols: p.consoleSize?.width ?? 0, interactive: true } : undefined,
  };
}

/** A hook run by us (poststart, poststop): the state on its stdin, killed at its timeout. */
export async function runHook(h: OciHook, state: OciState): Promise<void> {
  const [argv0, ...args] = h.args?.length ? h.args : [h.path];
  const child = spawn(h.path, args, { argv0, env: Object.fromEntries((h.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])), stdio: ['pipe', 'inherit', 'inherit'] });
  child.stdin!.on('error', () => {});
  child.stdin!.end(JSON.stringify(state));
  await new Promise<void>((resolve, reject) => {
    const timer = h.timeout ? setTimeout(() => child.kill('SIGKILL'), h.timeout * 1000) : undefined;
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(sig ? `killed by ${sig}` : `exited ${code}`));
    });
  });
}

/**
 * Sysctls are written as the host's root: only those of a namespace the container has (not the
 * host's), as runc allows them. Anything else would change the whole machine.
 */
export function checkOciSysctls(spec: OciSpec): void {
  const has = (t: string) => (spec.linux?.namespaces ?? []).some((n) => n.type === t);
  for (const [k, v] of Object.entries(spec.linux?.sysctl ?? {})) {
    const ns = sysctlNamespace(k);
    if (!ns) throw invalid(`sysctl "${k}" is not in a separate kernel namespace`);
    if (!has(ns)) throw invalid(`sysctl "${k}" needs a ${ns} namespace of the container's own (it would change the host's)`);
    if (k.split('.').some((part) => !/^[A-Za-z0-9_-]+$/.test(part)) || /[\0\n]/.test(v)) throw invalid(`invalid sysctl ${k}=${v}`);
  }
}

/** Detaches a mount point of ours (and everything under it); not mounted is fine. */
function detach(target: string): void {
  try {
    execFileSync('umount', ['--lazy', target], { stdio: 'ignore' });
  } catch {}
}

function tryKill(pid: number, signal: number): void {
  try {
    process.kill(pid, signal);
  } catch {}
}

function appArmorEnabled(): boolean {
  try {
    return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}

function mkfifo(file: string): void {
  // Node has no mkfifo; mknod(1) is in coreutils.
  execFileSync('mknod', ['-m', '0622', file, 'p']);
}

