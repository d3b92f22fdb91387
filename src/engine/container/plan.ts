// What a start hands the shim: the plan input (root filesystem, namespaces, process, mounts,
// cgroups, health, restart policy, teardown) computed from the record, and for another OCI
// runtime the bundle it runs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerRecord } from '../../core/container.ts';
import { BerthError, notFound } from '../../core/errors.ts';
import type { Mount } from '../../core/types.ts';
import { cgroupMounts, containerCgroupFs } from '../../kernel/cgroups.ts';
import { propagationProblem } from '../../kernel/mounts.ts';
import { cgroupParentScope } from '../../kernel/cgroup-parent.ts';
import { deviceProgramHex, type DeviceNode } from '../../kernel/devices.ts';
import { buildPlan, buildRuntimePlan, runtimeSpec, type PlanInput, type ProcessSpec, type Step } from '../../runtime/plan.ts';
import { runtimeCommand } from '../../runtime/runtimes.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { confinement, REMAPPED_SYSCTLS, seccompProfile } from '../security.ts';
import type { Ctx } from './context.ts';
import { parentMarker } from './cgroup-parent.ts';
import { sharedNamespaces } from '../namespaces.ts';
import { initMounts, withInit } from '../init.ts';
import { withLinks } from '../links.ts';
import { linkTarget } from './network.ts';
import { healthPlan } from './health.ts';
import { donorShm, shareableShm } from './shm.ts';
import { get, initPid } from './reconcile.ts';
import { joinFiles, processSpec } from './process.ts';
import { restartPolicyFile } from './restart-policy.ts';
import type { NetSetup } from './types.ts';

/** Everything a start has decided or acquired before its plan is built. */
export interface PlanOptions {
  record: ContainerRecord;
  /** The container's cgroups as created for this run. */
  cgroups: { procs: string[]; dirs: string[]; oom: string };
  /** The json-file log the monitor writes (undefined: output straight to the caller, unlogged). */
  log: PlanInput['log'];
  tty: ProcessSpec['tty'];
  net: NetSetup;
  devices: { nodes: DeviceNode[]; rules: 'all' | string[] };
  /** Resource views: the files bound in, and what gives them back at the end. */
  views?: { views?: PlanInput['views']; user?: string; release?: string[] };
}

/** The shim's plan: berth's own, or another runtime's run under berth's monitor. */
export async function plan(ctx: Ctx, opts: PlanOptions): Promise<Step[]> {
  const { record, cgroups: cg, devices } = opts;
  const input = await planInput(ctx, opts);
  const runtime = record.HostConfig.Runtime;
  if (!runtime) return buildPlan(input);
  const dir = ctx.store.cdir(record.Id);
  const pidFile = ctx.store.runtimePidFile(record.Id);
  // Another OCI runtime: the same container as a bundle, run in the foreground under our
  // monitor; it joins the cgroup we made and limited (an absolute cgroupsPath).
  const bundle = path.join(dir, 'bundle');
  fs.mkdirSync(bundle, { recursive: true });
  const spec = runtimeSpec(input, { cgroupsPath: `/${cgroupParentScope(record.HostConfig.CgroupParent) ?? `berth/${ctx.root.key}`}/${record.Id}`, seccomp: await seccompProfile(confinement(record.HostConfig)), devices: devices.rules });
  writeFileAtomic(path.join(bundle, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
  fs.rmSync(pidFile, { force: true });
  // The runtime's own state lives in the container's directory and goes with it; what a
  // runtime killed with its monitor left there is forgotten before the next start.
  const state = path.join(dir, 'runtime-state');
  fs.rmSync(state, { recursive: true, force: true });
  // The runtime makes the container's cgroup in every hierarchy, also those berth leaves alone;
  // it removes its leaves, the monitor then their scope (one try each).
  const managed = new Set(cg.dirs.map((d) => path.dirname(path.dirname(path.dirname(d)))));
  for (const m of cgroupMounts()) if (!managed.has(m)) input.teardown.rmscope = [...(input.teardown.rmscope ?? []), path.join(m, 'berth', ctx.root.key)];
  return buildRuntimePlan(input, [...runtimeCommand(runtime), '--root', state,
    'run', '--bundle', bundle, '--pid-file', pidFile, '--no-new-keyring', record.Id], pidFile);
}

export async function planInput(ctx: Ctx, opts: PlanOptions): Promise<PlanInput> {
  const { record, cgroups: cg, log, tty, net, devices } = opts;
  const dir = ctx.store.cdir(record.Id);
  const h = record.HostConfig;
  const lowers = lowerDirs(ctx, record);
  // Remapped: the layers are mounted idmapped under the container's directory, in its mount
  // namespace only, and the overlay is made of those.
  const userns = h.IdMap && remapFiles(ctx, record, lowers, net);
  const attachSocket = log ? ctx.store.attachSocket(record.Id) : undefined;
  return {
    rootfs: rootfs(ctx, record, userns ? userns.idmounts.map(([, target]) => target) : lowers),
    cgroupNamespace: fs.existsSync('/proc/self/ns/cgroup'),
    cgroupJoin: joinFiles(ctx, cg),
    oomFile: cg.oom,
    hostname: net.hostname ?? record.Config.Hostname,
    etcFiles: net.etc ?? { hostname: path.join(dir, 'hostname'), hosts: path.join(dir, 'hosts'), resolv: path.join(dir, 'resolv.conf') },
    network: net.network,
    namespaces: sharedNamespaces(h, (ref) => initPid(ctx, get(ctx, ref)), (ref) => donorShm(ctx, get(ctx, ref).record)),
    process: withLinks(record, withInit(record, await processSpec(ctx, record, { tty })), (name) => linkTarget(ctx, name)),
    privileged: h.Privileged,
    maskedPaths: h.MaskedPaths ?? undefined,
    readonlyPaths: h.ReadonlyPaths ?? undefined,
    sysctls: userns && (net.network?.mode === 'new' || net.sandbox) ? { ...REMAPPED_SYSCTLS, ...h.Sysctls } : h.Sysctls,
    userns,
    readonlyRoot: h.ReadonlyRootfs,
    exitFile: h.AutoRemove ? undefined : path.join(dir, 'exit.json'),
    log,
    attachSocket: attachSocket && attachSocket.length < 100 ? attachSocket : undefined,
    health: await healthPlan(ctx, record, dir, cg),
    // Every container that outlives its run has the records, "no" included: `update` may give it
    // a policy while it runs (restart-policy.ts), which its monitor then follows.
    restart: h.AutoRemove ? undefined
      : { policy: h.RestartPolicy?.Name ?? 'no', max: h.RestartPolicy?.MaximumRetryCount ?? 0, stopMarker: path.join(dir, 'stopped'), pidFile: path.join(dir, 'pid.json'), policyFile: restartPolicyFile(ctx, record.Id) },
    // cgroup v2 has no devices files: the same rules as v1's go in as a program.
    devices: devices.nodes.length ? devices.nodes : undefined,
    cgroupFs: containerCgroupFs(ctx.host.cgroups().version),
    deviceProgram: ctx.host.cgroups().version === 2 && devices.rules !== 'all' ? { cgroup: cg.dirs[0], program: deviceProgramHex(devices.rules) } : undefined,
    mounts: [...propagating(mountPlan(ctx, record)), ...initMounts(record)],
    views: opts.views?.views,
    shmSize: h.ShmSize || undefined,
    shareableShm: shareableShm(ctx, record),
    noShm: h.IpcMode === 'none',
    // An --rm container takes its anonymous volumes with it (docker's behaviour).
    teardown: { rmdirs: [...cg.dirs].reverse().concat(parentMarker(ctx, record) ?? []), keepParents: !!h.CgroupParent, rmtree: h.AutoRemove ? [dir, ...anonymousVolumeDirs(ctx, record)] : undefined, release: net.release, releaseViews: opts.views?.release, rmscope: opts.views?.user ? [opts.views.user] : undefined },
  };
}

/**
 * What a remapped container needs on the host before its start: the upper directory (the
 * overlay's root) and its own /etc files owned by its root, a mount point per image layer for
 * the idmapped layers, and the maps.
 */
function remapFiles(ctx: Ctx, record: ContainerRecord, lowers: string[], net: NetSetup): PlanInput['userns'] {
  const dir = ctx.store.cdir(record.Id);
  const { HostId, Size } = record.HostConfig.IdMap!;
  fs.lchownSync(path.join(dir, 'upper'), HostId, HostId);
  if (!net.etc) for (const f of ['hostname', 'hosts', 'resolv.conf']) fs.lchownSync(path.join(dir, f), HostId, HostId);
  // A new (empty, root-owned) volume becomes the container root's, as docker does for a
  // remapped daemon; one with content keeps its owners.
  for (const m of record.HostConfig.Mounts) {
    if (m.Type !== 'volume') continue;
    const data = ctx.volumes.get(m.Source).Mountpoint;
    const st = fs.lstatSync(data, { throwIfNoEntry: false });
    if (st?.isDirectory() && st.uid === 0 && st.gid === 0 && !fs.readdirSync(data).length) fs.lchownSync(data, HostId, HostId);
  }
  const idmounts: Array<[string, string]> = lowers.map((l, i) => {
    const target = path.join(dir, 'idmap', String(i));
    fs.mkdirSync(target, { recursive: true, mode: 0o700 });
    return [l, target];
  });
  const map = `0 ${HostId} ${Size}\n`;
  return { uidMap: map, gidMap: map, idmounts, rootId: HostId };
}

export function mountPlan(ctx: Ctx, record: ContainerRecord): NonNullable<PlanInput['mounts']> {
  return record.HostConfig.Mounts.map((m) => {
    if (m.Type === 'tmpfs') return { type: 'tmpfs' as const, source: '', target: m.Target, readonly: m.ReadOnly, data: m.TmpfsOptions };
    const source = m.Type === 'volume' ? ctx.volumes.get(m.Source).Mountpoint : m.Source;
    let file = false;
    try {
      file = !fs.statSync(source).isDirectory();
    } catch {
      throw notFound(`mount source ${source} of ${m.Target} does not exist`);
    }
    return { type: 'bind' as const, source, target: m.Target, readonly: m.ReadOnly, file, propagation: m.Propagation };
  });
}

/** A start refuses a bind whose propagation its source's mount cannot give (dockerd's check; a
 * `cp` into a stopped container, which binds without propagation, does not need it). */
function propagating(mounts: NonNullable<PlanInput['mounts']>): NonNullable<PlanInput['mounts']> {
  for (const m of mounts) {
    const problem = m.type === 'bind' ? propagationProblem(fs.realpathSync(m.source), m.propagation) : undefined;
    if (problem) throw new BerthError('FailedPrecondition', problem);
  }
  return mounts;
}

function anonymousVolumeDirs(ctx: Ctx, record: ContainerRecord): string[] {
  return record.HostConfig.Mounts.filter((m) => m.Type === 'volume' && m.Anonymous).map((m) => path.dirname(ctx.volumes.get(m.Source).Mountpoint));
}

export function lowerDirs(ctx: Ctx, record: ContainerRecord): string[] {
  const empty = path.join(ctx.root.dir, 'empty');
  if (!record.Layers.length) fs.mkdirSync(empty, { recursive: true });
  return ctx.images.layers.lowerDirs(record.Layers, empty);
}

/** The container's overlay root: its upper directory over these lower dirs. */
export function rootfs(ctx: Ctx, record: ContainerRecord, lowers: string[]): Mount {
  const dir = ctx.store.cdir(record.Id);
  return ctx.images.layers.rootfsMount(lowers, path.join(dir, 'upper'), path.join(dir, 'work'), path.join(dir, 'rootfs'));
}
