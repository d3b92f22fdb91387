// Everything the container lifecycle asks of the machine, behind one small interface: whether a
// recorded process still lives, signals, the shim, cgroups, network sandboxes, the clock. The
// engine runs on realHost(); the lifecycle's unit tests run on a recording fake, without root.
import type { CgroupDriver } from '../../kernel/cgroups.ts';
import { acquireViews, holdViews, releaseViews, type ViewLease } from '../../kernel/lxcfs.ts';
import { isAlive, parentPid, refOf, selfRef, type ProcessRef } from '../../kernel/process.ts';
import type { Sandboxes } from '../../network/sandbox.ts';
import type { Step } from '../../runtime/plan.ts';
import { bindViews, runShim, type ShimHandle, type ShimStdio } from '../../runtime/shim.ts';

export interface Host {
  /** The process is the one recorded (pid and start time): it has not died, its pid not reused. */
  isAlive(ref: ProcessRef | undefined): boolean;
  /** A live process's parent pid, -1 when it is gone. */
  parentPid(pid: number): number;
  /** pid plus start time of a live process (start 0 if it is gone); self(): this process. */
  refOf(pid: number): ProcessRef;
  self(): ProcessRef;
  /** Sends a signal; throws (ESRCH) when the process is gone, as process.kill does. */
  kill(pid: number, signal: NodeJS.Signals | number): void;
  /** Starts a shim on a plan: a container's monitor, an exec, a root holder. */
  spawn(plan: Step[], stdio: ShimStdio): ShimHandle;
  /** The cgroup driver for containers under `parent` (HostConfig.CgroupParent), or the root's own scope. */
  cgroups(parent?: string): CgroupDriver;
  /** Networks and sandboxes (loaded on first use: `--network none` never needs the CNI code). */
  sandboxes(): Promise<Sandboxes>;
  /** The clock, for the times recorded in a container's state. */
  now(): Date;
  /** Resource views (LXCFS) for a container about to start, as `user`; a string says why there are none. */
  acquireViews(user: string): Promise<ViewLease | string>;
  /** The views' user gone (its monitor died before doing it): lxcfs stops if it was the last. */
  releaseViews(user: string): void;
  /** The views' user is kept alive by `holder` (its monitor) from now on, while containerDir is there. */
  holdViews(user: string, holder: ProcessRef, containerDir: string): void;
}

export function realHost(cgroups: (parent?: string) => CgroupDriver, sandboxes: () => Promise<Sandboxes>): Host {
  return {
    isAlive,
    parentPid,
    refOf,
    self: selfRef,
    kill: (pid, signal) => process.kill(pid, signal),
    spawn: runShim,
    cgroups,
    sandboxes,
    now: () => new Date(),
    acquireViews: (user) => acquireViews(user, bindViews),
    releaseViews: (user) => releaseViews(user),
    holdViews: (user, holder, containerDir) => holdViews(user, holder, containerDir),
  };
}
