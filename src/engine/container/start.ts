// docker start: everything up to a running monitor (network, devices, cgroups, plan, shim), each
// acquired resource registered on one undo stack, then the state saved once the command runs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initialState, isUp, transition, type ContainerRecord, type ContainerState } from '../../core/container.ts';
import { BerthError, conflict, fromSystemError, invalid, notFound } from '../../core/errors.ts';
import type { CgroupPaths, Limits } from '../../kernel/cgroups.ts';
import { deviceRules, hostDevices } from '../../kernel/devices.ts';
import type { ProcessRef } from '../../kernel/process.ts';
import type { ShimExit, ShimHandle, ShimStdio } from '../../runtime/shim.ts';
import { readJsonFile, readTextFile, writeFileAtomic } from '../../util/atomic.ts';
import { claimStart, startClaimed } from '../start-claim.ts';
import { mark } from '../../util/trace.ts';
import { crashPoint } from '../../util/crash.ts';
import { parseBytes } from '../../core/units.ts';
import { Undo } from '../../util/undo.ts';
import { limitsOf } from '../limits.ts';
import { prepareLogFile } from './logfile.ts';
import { cgroupsOf, markParent, unmarkParent } from './cgroup-parent.ts';
import { emit, type Ctx } from './context.ts';
import { releaseSandboxes, setupNetwork } from './network.ts';
import { plan } from './plan.ts';
import { settle } from './reconcile.ts';
import { RESTART_POLICY_FILE } from './restart-policy.ts';
import { hasRestartPolicy } from './status.ts';
import { drive, streamsOf } from './streams.ts';
import { acquire as acquireViews, viewUser } from './views.ts';
import type { ContainerStreams } from './types.ts';

type Size = { rows: number; cols: number };

interface Launched {
  shim: ShimHandle;
  state: ContainerState;
  monitor: ProcessRef;
  /** Ends the start claim (start-claim.ts) once the state says how the start went. */
  release: () => void;
}

/**
 * Starts a created or exited container. Attached, its stdio is this process's and the promise
 * resolves with its exit (docker's status: the command's, 128+n for a signal). Detached, it
 * resolves once the command runs; the container's monitor keeps it, and its output goes to
 * the json-file log.
 */
export async function start(ctx: Ctx, record: ContainerRecord, opts: { attach?: { stdin: boolean }; size?: Size } = {}): Promise<ShimExit | undefined> {
  const attach = opts.attach;
  const launched = await launch(ctx, record, attach ? { stdin: attach.stdin ? 'inherit' : 'ignore', output: 'inherit' } : { stdin: 'ignore', output: 'ignore' }, opts.size);
  if (!launched) return undefined;
  const { shim, state } = launched;
  const exit = await drive(shim, attach !== undefined, async () => {
    await running(ctx, record, launched);
    if (!attach) return undefined;
    let exit: ShimExit;
    try {
      exit = await shim.exited;
    } catch (err) {
      // A monitor killed after it recorded the exit durably: that exit is the container's.
      const recorded = readJsonFile<ShimExit>(path.join(ctx.store.cdir(record.Id), 'exit.json'));
      if (recorded) return settleExit(ctx, record, state, recorded);
      settleFailure(ctx, record, state, err); // the shim failed after the start
      throw err;
    }
    mark('container exited');
    return settleExit(ctx, record, state, exit);
  });
  // An attached --rm container is gone once drive() returns: its monitor removed it.
  if (exit && !exit.detached && record.HostConfig.AutoRemove) emit(ctx, 'destroy', record);
  return exit;
}

/**
 * Starts a container with its stdio as streams for the caller to carry (the API daemon):
 * output goes to the json-file log and to the streams. Resolves once the command runs.
 * `exited` settles the container's state; the monitor then tears down (removing an --rm
 * container) and `gone` resolves. If the caller dies, the monitor carries on alone.
 */
export async function startStreams(ctx: Ctx, record: ContainerRecord, opts: { stdin: boolean; size?: Size }): Promise<ContainerStreams | undefined> {
  const launched = await launch(ctx, record, { stdin: opts.stdin ? 'pipe' : 'ignore', output: 'pipe' }, opts.size, true);
  if (!launched) return undefined;
  await running(ctx, record, launched);
  return streamsOf(launched.shim, (exit) => settleExit(ctx, record, launched.state, exit));
}

/** Waits for the command to run, then saves the state (or, if it could not start, the failure). */
async function running(ctx: Ctx, record: ContainerRecord, { shim, state, monitor, release }: Launched): Promise<void> {
  let pid: number;
  try {
    pid = await shim.started;
  } catch (err) {
    try {
      settleFailure(ctx, record, state, err);
    } catch {} // a full disk: the start's own error says more, and the claim must go all the same
    // The monitor gives the views back at its end too, but after this start has failed to its
    // caller: given back here, so nothing of the failed start is left when the error arrives.
    ctx.host.releaseViews(viewUser(ctx, record.Id));
    release();
    throw err;
  }
  mark('container started');
  state.Pid = pid;
  state.Monitor = monitor;
  state.StartedAt = ctx.host.now().toISOString();
  try {
    ctx.store.saveState(record, state);
    crashPoint('start:state-saved');
    release(); // the state says how the start went: the claim has done its work
  } catch (err) {
    // The command runs, but no state says so (a full disk): unrecorded, nothing would ever stop
    // it or hear of its exit, and its monitor would wait for us for good. It is ended instead;
    // its monitor tears down as after any exit (an --rm container goes), and the start fails.
    try {
      ctx.host.kill(pid, 'SIGKILL');
    } catch {} // it has exited already
    shim.close();
    ctx.host.releaseViews(viewUser(ctx, record.Id));
    try {
      release();
    } catch {} // the start's own error says more
    throw fromSystemError(err);
  }
  emit(ctx, 'start', record);
}

/** The exit of an attached container becomes its state (a restart policy's monitor carries on). */
function settleExit(ctx: Ctx, record: ContainerRecord, state: ContainerState, exit: ShimExit): ShimExit {
  if (exit.detached) return exit;
  emit(ctx, 'die', record, { exitCode: String(exit.exit) });
  if (exit.oom) emit(ctx, 'oom', record);
  // The record as it is now: `update` may have given it a policy while it ran.
  if (hasRestartPolicy(ctx.store.read(record.Id)?.record ?? record)) return { ...exit, detached: true };
  if (!record.HostConfig.AutoRemove) {
    state.Status = transition(state.Status, 'exited', record.Id);
    state.ExitCode = exit.exit;
    state.OOMKilled = exit.oom;
    state.Pid = 0;
    state.FinishedAt = ctx.host.now().toISOString();
    ctx.store.saveState(record, state);
  }
  return exit;
}

/** A container whose command could not be started is kept as exited (docker's statuses). */
function settleFailure(ctx: Ctx, record: ContainerRecord, state: ContainerState, err: unknown): void {
  if (record.HostConfig.AutoRemove || !(err instanceof BerthError)) return;
  state.Status = transition(state.Status, 'exited', record.Id);
  state.ExitCode = err.code === 'CommandNotFound' ? 127 : err.code === 'CannotInvoke' ? 126 : 128;
  state.Error = err.message;
  state.Pid = 0;
  state.FinishedAt = ctx.host.now().toISOString();
  ctx.store.saveState(record, state);
}

/** launchClaimed under the container's start claim (start-claim.ts), released once its state says how the start went. */
async function launch(ctx: Ctx, record: ContainerRecord, stdio: ShimStdio, size?: Size, api = false): Promise<Launched | undefined> {
  // A claim left by a starter killed after spawning the monitor: settled first, so that start is
  // adopted (running) before its stale claim could be taken over. Without a claim (the usual
  // start) there is nothing to adopt, and launchClaimed settles once.
  if (startClaimed(ctx.store.cdir(record.Id))) {
    const before = settle(ctx, record.Id)?.state;
    if (before && isUp(before.Status)) return undefined;
  }
  const release = claimStart(ctx.store.cdir(record.Id), record.Id);
  try {
    const launched = await launchClaimed(ctx, record, stdio, size, api);
    if (!launched) release();
    return launched && { ...launched, release };
  } catch (err) {
    release();
    throw err;
  }
}

/** Everything up to a running monitor; undefined when the container is up already. */
async function launchClaimed(ctx: Ctx, record: ContainerRecord, stdio: ShimStdio, size?: Size, api = false): Promise<Omit<Launched, 'release'> | undefined> {
  const current = settle(ctx, record.Id)?.state ?? initialState();
  if (isUp(current.Status)) return undefined; // docker: starting a running container is a no-op
  const state = { ...initialState(), Status: transition(current.Status, 'running', record.Id) };
  if (!ctx.images.get(record.Image)) throw notFound(`image ${record.Image} of container ${record.Id.slice(0, 12)} is gone`);
  const dir = ctx.store.cdir(record.Id);
  for (const f of ['exit.json', 'stopped', 'pid.json', 'health.json', RESTART_POLICY_FILE]) fs.rmSync(path.join(dir, f), { force: true }); // from a previous run
  // A previous run's network may still be being released (asynchronously, after its exit): its
  // published ports must be free again before this run claims them.
  if (current.Status !== 'created') await releaseSandboxes(ctx, record);
  const undo = new Undo();
  return undo.guard(async () => {
    const net = await setupNetwork(ctx, record, undo);
    mark('network ready');
    crashPoint('start:network-ready');
    const h = record.HostConfig;
    const nodes = hostDevices(h.Devices ?? []); // privileged too: the rules allow all, the nodes are still made
    const rules = h.Privileged ? 'all' : deviceRules(nodes, h.DeviceCgroupRules ?? []);
    mark('container created');
    const cgroups = createCgroups(ctx, record, { ...limitsOf(h), devices: rules });
    undo.push('cgroups', () => {
      cgroupsOf(ctx, record).remove(record.Id);
      unmarkParent(ctx, record);
    });
    mark('cgroups created');
    crashPoint('start:cgroups-created');
    // A foreground --rm container of the CLI keeps the fast path: its output goes straight to
    // our stdio and nothing is logged (there would be nobody to read it). Otherwise the monitor
    // logs (always to a CRI log: the kubelet reads it).
    const lc = h.LogConfig?.Config ?? {};
    // Log driver none: the monitor still carries the output (attach), into nothing.
    const none = h.LogConfig?.Type === 'none';
    const cri = h.LogConfig?.Type === 'cri';
    const log = stdio.output === 'inherit' && h.AutoRemove && !cri ? undefined : {
      path: none ? '/dev/null' : prepareLogFile(ctx, record), tee: stdio.output !== 'ignore',
      maxSize: lc['max-size'] && !none ? parseBytes(lc['max-size']) : 0, maxFiles: lc['max-file'] ? Number(lc['max-file']) : 1,
      ...(cri ? { format: 'cri' as const } : {}),
    };
    const tty = record.Config.Tty
      ? { ...(size ?? { rows: 24, cols: 80 }), interactive: stdio.stdin !== 'ignore', winsizeFile: api ? ctx.store.winsizeFile(record.Id) : undefined }
      : undefined;
    const views = await acquireViews(ctx, record, undo);
    mark('views ready');
    const steps = await plan(ctx, { record, cgroups, log, tty, net, devices: { nodes, rules }, views });
    mark('plan built');
    // Input from the API comes over a socket; the container reads it from a pipe (kept open for
    // OpenStdin without StdinOnce, as docker keeps it).
    if (stdio.stdin === 'pipe' && !record.Config.Tty) steps.push(['stdinpipe', record.Config.OpenStdin && !record.Config.StdinOnce ? 'hold' : 'close']);
    // Detached with OpenStdin (the CRI's stdin): a pipe that attached clients feed (CRI Attach).
    else if (stdio.stdin === 'ignore' && stdio.output === 'ignore' && record.Config.OpenStdin && !record.Config.Tty) steps.push(['stdinpipe', record.Config.StdinOnce ? 'attach-once' : 'attach']);
    let shim = ctx.host.spawn(steps, stdio);
    if (!shim.shimPid) {
      await undo.run(); // no monitor was born: nobody else would give these back
      return { shim, state, monitor: { pid: 0, start: 0 } };
    }
    // From here the monitor owns the cgroups and the sandbox: it removes and releases them at its end.
    undo.release('cgroups');
    undo.release('network');
    undo.release('views');
    const monitor = ctx.host.refOf(shim.shimPid);
    if (views.user) ctx.host.holdViews(viewUser(ctx, record.Id), monitor, dir); // before anything that may crash: the views' user lives with the monitor
    if (net.sandbox) net.sandboxes!.setMonitor(net.sandbox, monitor);
    crashPoint('start:monitor-spawned');
    if (h.Runtime) shim = awaitRuntimeInit(ctx, shim, record.Id);
    return { shim, state, monitor };
  });
}

/**
 * The container's cgroups, limited. Cgroups with a process belong to a concurrent start; empty
 * ones were left by a start killed before its container ran (it is still created or exited):
 * they are replaced.
 */
function createCgroups(ctx: Ctx, record: ContainerRecord, limits: Limits): CgroupPaths {
  const id = record.Id;
  const cg = cgroupsOf(ctx, record);
  markParent(ctx, record); // before the cgroup exists: a sweep finds it through the marker (cgroup-parent.ts)
  try {
    return cg.create(id, limits);
  } catch (err) {
    if (!(err instanceof BerthError && err.code === 'AlreadyExists')) {
      unmarkParent(ctx, record); // a failed create leaves no cgroup
      throw err;
    }
    if (cg.pids(id).length) throw conflict(`Container ${id} is being started by another command`);
    cg.remove(id);
    return cg.create(id, limits);
  }
}

/**
 * Another runtime's container has started once that runtime wrote its init's pid (after its
 * create, before its start), not when the monitor exec'd it: until then there is nothing to
 * exec into, signal or inspect.
 */
function awaitRuntimeInit(ctx: Ctx, shim: ShimHandle, id: string): ShimHandle {
  const file = ctx.store.runtimePidFile(id);
  const started = shim.started.then(async (pid) => {
    let gone = false;
    void shim.exited.then(() => (gone = true), () => (gone = true));
    for (let i = 0; !gone && i < 2000; i++) {
      const inner = Number(readTextFile(file)?.trim());
      if (inner > 0) return inner;
      await new Promise((res) => setTimeout(res, 5));
    }
    if (gone) return pid; // it failed or finished: its exit (and log) tell
    throw new BerthError('Internal', `the runtime did not start container ${id} within 10 s`);
  });
  started.catch(() => {});
  return { ...shim, started };
}
