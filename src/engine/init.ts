// docker's --init: berth's static shim, bound into the container as /sbin/docker-init, runs as
// pid 1 and starts the command as its child (it reaps zombies and forwards signals; native/init.c).
import type { ContainerRecord } from '../core/container.ts';
import type { PlanInput, ProcessSpec } from '../runtime/plan.ts';
import { SHIM_PATH } from '../runtime/shim.ts';

export const INIT_PATH = '/sbin/docker-init';

/** The container's process, behind the init when it asked for one. */
export function withInit(record: ContainerRecord, proc: ProcessSpec): ProcessSpec {
  return record.HostConfig.Init ? { ...proc, args: [INIT_PATH, '--', ...proc.args] } : proc;
}

/** The init's binary, bound read-only into the container. */
export function initMounts(record: ContainerRecord): NonNullable<PlanInput['mounts']> {
  return record.HostConfig.Init ? [{ type: 'bind', source: SHIM_PATH, target: INIT_PATH, readonly: true, file: true }] : [];
}
