// UpdateContainerResources (the engine's docker-update path: a running container's cgroup gets
// the limits at once, the record keeps them) and ReopenContainerLog (log rotation).
import { conflict } from '../../core/errors.ts';
import { updateContainer } from '../../engine/update.ts';
import { findKind } from '../sandbox/lookup.ts';
import type { LinuxContainerResources, CriContext } from './cri-types.ts';
import { resourcesOf } from './options.ts';

export function updateContainerResources(ctx: CriContext, req: { container_id: string; linux?: LinuxContainerResources | null }): object {
  const c = findKind(ctx.engine, req.container_id, 'container');
  const r = resourcesOf(req.linux);
  updateContainer(ctx.engine.containers, c.record.Id, {
    Memory: r.Memory, MemorySwap: r.MemorySwap, CpuShares: r.CpuShares, CpuQuota: r.CpuQuota, CpuPeriod: r.CpuPeriod,
    CpusetCpus: r.CpusetCpus, CpusetMems: r.CpusetMems,
  });
  return {};
}

export async function reopenContainerLog(ctx: CriContext, req: { container_id: string }): Promise<object> {
  const c = findKind(ctx.engine, req.container_id, 'container');
  if (c.state.Status !== 'running') throw conflict(`container ${JSON.stringify(c.record.Id)} is not running`);
  // FALLBACK until cri-engine's reopenLog lands on main.
  const reopen = (ctx.engine.containers as unknown as { reopenLog?: (id: string) => Promise<unknown> | void }).reopenLog;
  if (!reopen) throw conflict('log reopening is not supported by this engine');
  await reopen.call(ctx.engine.containers, c.record.Id);
  return {};
}
