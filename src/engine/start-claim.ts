// A start in progress, claimed in the container's directory (`starting`: the starter's pid and
// start time, taken with an exclusive create). A second start is refused while the starter
// lives; a dead starter's claim is taken over. A starter killed after its shim was spawned
// (kill -9 of the daemon in the middle of `start`) leaves a container running under a live
// monitor that its state never heard of: the claim says so, and adoptStart() finds the monitor.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { conflict } from '../core/errors.ts';
import { isAlive, parentPid, refOf, selfRef, type ProcessRef } from '../kernel/process.ts';

const FILE = 'starting';

function holder(file: string): ProcessRef | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^(\d+) (\d+)$/.exec(text.trim());
  return m ? { pid: Number(m[1]), start: Number(m[2]) } : { pid: 0, start: 0 };
}

/**
 * Claims the start of the container in `dir`; returns its release (idempotent). Conflict while
 * a live process holds the claim (`id` names the container in the message).
 */
export function claimStart(dir: string, id: string): () => void {
  const file = path.join(dir, FILE);
  const me = selfRef();
  for (let tries = 0; ; tries++) {
    try {
      // Written aside and linked into place: the claim appears whole (a reader never sees it empty).
      const tmp = `${file}.${me.pid}.${tries}.tmp`;
      fs.writeFileSync(tmp, `${me.pid} ${me.start}`);
      try {
        fs.linkSync(tmp, file);
      } finally {
        fs.rmSync(tmp, { force: true });
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const h = holder(file);
        if (h && h.pid === me.pid && h.start === me.start) fs.rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 5) throw err;
    }
    const h = holder(file);
    if (h && isAlive(h)) throw conflict(`Container ${id} is being started by another command`);
    fs.rmSync(file, { force: true }); // its starter died: taken over (any container it left running was adopted first)
  }
}

/**
 * For a container not recorded as running: if a dead starter's claim is there and a process of
 * the container (`pids`, its cgroup's) runs under a live monitor, that start succeeded: returns
 * its init and monitor, for the state to say running. A stale claim with nothing running is
 * removed. A live starter's claim is left alone (it records its own start).
 */
export function adoptStart(dir: string, pids: () => number[]): { pid: number; monitor: ProcessRef } | undefined {
  const file = path.join(dir, FILE);
  const h = holder(file);
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
  fs.rmSync(file, { force: true });
  return undefined;
}

/** Removes the claim once the adopted state is saved. */
export function dropStartClaim(dir: string): void {
  fs.rmSync(path.join(dir, FILE), { force: true });
}
