// The files that say a commit froze a container (pause.ts writes them): `commit.<pid>.<start>.<n>`
// while a commit takes its snapshot, and `paused-by-commit` while the paused status is the
// commit's rather than the user's. A commit killed before it ended (kill -9, a crash point)
// leaves the container frozen with nobody to thaw it: the next command that reads the container
// sees no live commit behind `paused-by-commit` and thaws it (reconcile.ts, the `thaw` action).
// Kept apart from pause.ts so that reconcile can read them without importing the verbs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerRecord } from '../../core/container.ts';
import { isAlive as processAlive, type ProcessRef } from '../../kernel/process.ts';
import { cgroupsOf } from './cgroup-parent.ts';
import type { Ctx } from './context.ts';

/** Present while a commit's freeze set the status to paused (and the user has not since taken it over). */
export const BY_COMMIT = 'paused-by-commit';
/** A commit freezing the container: `commit.<pid>.<start>.<n>`, one per commit. */
const HOLDER = /^commit\.(\d+)\.(\d+)\.\d+$/;

/** Commits still freezing the container (a holder whose process died counts no more, and goes). */
export function commitsFreezing(dir: string, isAlive: (ref: ProcessRef) => boolean = processAlive): number {
  let n = 0;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const m = HOLDER.exec(name);
    if (!m) continue;
    if (isAlive({ pid: Number(m[1]), start: Number(m[2]) })) n++;
    else fs.rmSync(path.join(dir, name), { force: true });
  }
  return n;
}

/** The paused status is a commit's, and no commit is alive to end it. */
export function commitPauseOrphaned(dir: string, isAlive: (ref: ProcessRef) => boolean): boolean {
  return fs.existsSync(path.join(dir, BY_COMMIT)) && commitsFreezing(dir, isAlive) === 0;
}

/**
 * Thaws the container's processes and drops the marker. Reconciling is synchronous: the
 * freezer's write happens here, its confirmation is not waited for (a container that stays
 * frozen is paused again by nothing, and the next pause or unpause waits for its own).
 */
export function thawAfterCommit(ctx: Ctx, record: ContainerRecord): void {
  // Under its own parent (a CgroupParent) when it has one: the freezer is where its cgroup is.
  cgroupsOf(ctx, record).freeze(record.Id, false).catch(() => undefined);
  fs.rmSync(path.join(ctx.store.cdir(record.Id), BY_COMMIT), { force: true });
}
