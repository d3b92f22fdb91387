// Resource views for a container: whether it gets them, and its use of the machine's lxcfs (see
// kernel/lxcfs.ts). On unless the container was created with --proc-views=false or the engine
// runs with BERTH_PROC_VIEWS=0 (`berth daemon --proc-views=false`).
import type { ContainerRecord } from '../../core/container.ts';
import { viewMounts } from '../../kernel/lxcfs.ts';
import type { PlanInput, ProcessSpec } from '../../runtime/plan.ts';
import type { Undo } from '../../util/undo.ts';
import { sysinfoProgram, type Confinement } from '../security.ts';
import { cgroupsOf } from './cgroup-parent.ts';
import { cacheDir, type Ctx } from './context.ts';

export function viewsWanted(record: ContainerRecord): boolean {
  return record.HostConfig.ProcViews !== false && process.env.BERTH_PROC_VIEWS !== '0';
}

/** The container's name among lxcfs's users: unique across state roots. */
export function viewUser(ctx: Ctx, id: string): string {
  return `${ctx.root.key}-${id}`;
}

/**
 * The views' mounts and the program that gives them back (the monitor runs it at its end); none,
 * with one warning, where lxcfs cannot serve them. Given back here if the start fails first.
 */
export async function acquire(ctx: Ctx, record: ContainerRecord, undo: Undo): Promise<Pick<PlanInput, 'views'> & { user?: string; release?: string[] }> {
  if (!viewsWanted(record)) return {};
  const user = viewUser(ctx, record.Id);
  const lease = await ctx.host.acquireViews(user);
  if (typeof lease === 'string') {
    ctx.events.warn(lease);
    return {};
  }
  undo.push('views', () => ctx.host.releaseViews(user));
  return { views: viewMounts(lease.from), user: lease.user, release: lease.release };
}

/**
 * sysinfo(2) (busybox `free`, `uptime`) as the container's, like the lxcfs files: its monitor
 * answers it from the container's cgroup (seccomp user notification, native/sysinfo.c). Not
 * without a seccomp filter (privileged, unconfined: such a container may run software that needs
 * a listener of its own, and the kernel allows one per filter tree), nor under another runtime,
 * whose processes our monitor does not start.
 */
export async function sysinfoNotify(ctx: Ctx, record: ContainerRecord, conf: Confinement): Promise<ProcessSpec['notify']> {
  if (!viewsWanted(record) || conf.seccomp === 'unconfined' || record.HostConfig.Runtime) return undefined;
  const program = await sysinfoProgram(cacheDir(ctx));
  return program ? { program, source: cgroupsOf(ctx, record).sysinfoSource(record.Id) } : undefined;
}
