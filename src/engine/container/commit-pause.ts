// The pause a commit takes for a consistent snapshot of a running container, made safe against
// the commit's death: a marker in the container's directory (`commit-pause`: the committer's pid
// and start time) says who paused it. A commit killed before it unpaused (kill -9, a crash point)
// leaves the container frozen with nobody to thaw it: the next command that reads the container
// sees the marker's holder dead and thaws it (reconcile.ts, the `thaw` action).
import * as fs from 'node:fs';
import type { ProcessRef } from '../../kernel/process.ts';
import { selfRef } from '../../kernel/process.ts';
import type { ContainerRecord } from '../../core/container.ts';
import { cgroupsOf } from './cgroup-parent.ts';
import type { Ctx } from './context.ts';

const FILE = 'commit-pause';

/** Says (before pausing) that this process pauses the container in `dir` for a commit. */
export function markCommitPause(dir: string): void {
  const me = selfRef();
  fs.writeFileSync(`${dir}/${FILE}`, `${me.pid} ${me.start}`);
}

export function clearCommitPause(dir: string): void {
  fs.rmSync(`${dir}/${FILE}`, { force: true });
}

/** A marker is there and its commit is gone. */
export function commitPauseOrphaned(dir: string, isAlive: (ref: ProcessRef) => boolean): boolean {
  let text: string;
  try {
    text = fs.readFileSync(`${dir}/${FILE}`, 'utf8');
  } catch {
    return false;
  }
  const [pid, start] = text.trim().split(' ').map(Number);
  return !isAlive({ pid, start });
}

/**
 * Thaws the container's processes and drops the marker. Reconciling is synchronous: the
 * freezer's write happens here, its confirmation is not waited for (a container that stays
 * frozen is paused again by nothing, and the next pause or unpause waits for its own).
 */
export function thawAfterCommit(ctx: Ctx, record: ContainerRecord): void {
  // Under its own parent (a CgroupParent) when it has one: the freezer is where its cgroup is.
  cgroupsOf(ctx, record).freeze(record.Id, false).catch(() => undefined);
  clearCommitPause(ctx.store.cdir(record.Id));
}
