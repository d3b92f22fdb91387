// A start in progress, claimed in the container's directory (`starting`: the starter's pid and
// start time, taken with an exclusive create). A second start is refused while the starter
// lives; a dead starter's claim is taken over. A starter killed after its shim was spawned
// (kill -9 of the daemon in the middle of `start`) leaves a container running under a live
// monitor that its state never heard of: the claim says so, and adoptStart() finds the monitor.
import { conflict } from '../core/errors.ts';
import { claim, dropIf, holderDead, owner, parseHolder, selfHolder } from '../kernel/claim.ts';
import { isAlive, parentPid, refOf, type ProcessRef } from '../kernel/process.ts';
import * as path from 'node:path';
import { touchContainers } from './container/touch.ts';

const FILE = 'starting';

function holder(dir: string): ProcessRef | undefined {
  const text = owner(dir, FILE);
  return text === undefined ? undefined : (parseHolder(text) ?? { pid: 0, start: 0 });
}

/**
 * Claims the start of the container in `dir` (kernel/claim.ts, held by this process); returns
 * its release (idempotent). Conflict while a live process holds the claim (`id` names the
 * container in the message). A dead starter's claim is taken over (any container it left
 * running was adopted first).
 */
export function claimStart(dir: string, id: string): () => void {
  // Whether a claim is there is cached in the container index: its change marked (touch.ts).
  const containers = path.dirname(dir);
  touchContainers(containers);
  const release = claim(dir, FILE, selfHolder(), holderDead);
  touchContainers(containers);
  if (!release) throw conflict(`Container ${id} is being started by another command`);
  return () => {
    touchContainers(containers);
    release();
    touchContainers(containers);
  };
}

/**
 * For a container not recorded as running: if a dead starter's claim is there and a process of
 * the container (`pids`, its cgroup's) runs under a live monitor, that start succeeded: returns
 * its init and monitor, for the state to say running. It only reads: a stale claim with nothing
 * running is taken over by the next start. A live starter's claim is left alone (it records its own start).
 */
export function adoptStart(dir: string, pids: () => number[]): { pid: number; monitor: ProcessRef } | undefined {
  const h = holder(dir);
  if (!h || isAlive(h)) return undefined;
  const inside = pids();
  const set = new Set(inside);
  // The init (or another runtime's `run`) is the process of the cgroup whose parent is not in
  // it: that parent is the monitor.
  for (const pid of inside) {
    const parent = parentPid(pid);
    if (parent > 0 && !set.has(parent)) {
      const monitor = refOf(parent);
      if (monitor.start) return { pid, monitor };
    }
  }
  return undefined; // a stale claim with nothing running: the next start takes it over
}

/** Removes a dead starter's claim once the adopted state is saved. */
export function dropStartClaim(dir: string): void {
  touchContainers(path.dirname(dir));
  dropIf(dir, FILE, holderDead);
  touchContainers(path.dirname(dir));
}

/** Whether a start claim is there (held, or left by a killed starter). */
export function startClaimed(dir: string): boolean {
  return owner(dir, FILE) !== undefined;
}
