// docker's --ipc shareable: the container's /dev/shm is a tmpfs its monitor mounts on the host,
// in the container's directory, so that containers joining its IPC namespace (--ipc
// container:NAME, a CRI pod's containers) bind the same one. The monitor unmounts it at the end;
// a monitor killed first leaves it to the container's next start or its removal.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { ContainerRecord } from '../../core/container.ts';
import type { Ctx } from './context.ts';

/** Where a shareable container's /dev/shm is mounted; undefined for the other IPC modes. */
export function shareableShm(ctx: Ctx, record: ContainerRecord): string | undefined {
  return record.HostConfig.IpcMode === 'shareable' ? path.join(ctx.store.cdir(record.Id), 'shm') : undefined;
}

/**
 * The /dev/shm a container joining `donor`'s IPC namespace binds: the donor's, if it is
 * mounted (a private donor's lives in its own mount namespace, out of reach).
 */
export function donorShm(ctx: Ctx, donor: ContainerRecord): string | undefined {
  const dir = shareableShm(ctx, donor);
  return dir && isMountPoint(dir) ? dir : undefined;
}

/** Unmounts a shareable /dev/shm its monitor did not (it was killed): before the directory goes. */
export function releaseShm(ctx: Ctx, record: ContainerRecord): void {
  const dir = shareableShm(ctx, record);
  if (!dir || !isMountPoint(dir)) return;
  try {
    execFileSync('umount', ['--lazy', dir], { stdio: 'ignore' });
  } catch {}
}

function isMountPoint(dir: string): boolean {
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  const up = st && fs.statSync(path.dirname(dir), { throwIfNoEntry: false });
  return !!st && !!up && st.dev !== up.dev;
}
