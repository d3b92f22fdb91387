// A started container's restart policy as its monitor reads it at each exit (native/monitor.c,
// `restartfile`): `update` writes it here, so that a new policy applies at once, not from the
// next start. A start drops it (its plan carries the record's policy).
import * as path from 'node:path';
import { isUp, type ContainerRecord, type ContainerState } from '../../core/container.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import type { Ctx } from './context.ts';

export const RESTART_POLICY_FILE = 'restart-policy';

export function restartPolicyFile(ctx: Ctx, id: string): string {
  return path.join(ctx.store.cdir(id), RESTART_POLICY_FILE);
}

/** "POLICY MAX", as the monitor reads it. */
export function restartPolicyLine(record: ContainerRecord): string {
  const p = record.HostConfig.RestartPolicy;
  return `${p?.Name ?? 'no'} ${p?.MaximumRetryCount ?? 0}\n`;
}

/** After an update: a monitor running the container follows the record's policy from its next exit. */
export function publishRestartPolicy(ctx: Ctx, record: ContainerRecord, state: ContainerState): void {
  if (isUp(state.Status) && !record.HostConfig.AutoRemove) writeFileAtomic(restartPolicyFile(ctx, record.Id), restartPolicyLine(record));
}
