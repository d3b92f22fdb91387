// docker update: new resource limits (and restart policy) for a container. The record changes
// for its next start; a running container's cgroup gets the new limits at once.
import { isUp, type ContainerRecord, type HostConfig } from '../core/container.ts';
import { BerthError, invalid } from '../core/errors.ts';
import { checkCpuLimit, limitsOf } from './limits.ts';
import type { Containers } from './containers.ts';

/** What docker update may change; absent or 0 leaves a field as it was (docker's rule). */
export interface ResourceUpdate {
  Memory?: number;
  MemorySwap?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  PidsLimit?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  BlkioWeight?: number;
  MemoryReservation?: number;
  CpuRealtimeRuntime?: number;
  CpuRealtimePeriod?: number;
  RestartPolicy?: HostConfig['RestartPolicy'];
}

/** The new HostConfig (pure), with docker's checks. */
export function updatedHost(h: HostConfig, u: ResourceUpdate): HostConfig {
  checkResourceUpdate(u);
  const out: HostConfig = { ...h };
  const set = (v: number | undefined) => v !== undefined && v !== null && v !== 0;
  if (set(u.Memory)) out.Memory = u.Memory!;
  if (set(u.MemorySwap)) out.MemorySwap = u.MemorySwap!;
  if (out.MemorySwap > 0 && out.Memory === 0) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage.');
  if (out.MemorySwap > 0 && out.MemorySwap < out.Memory) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage.');
  // --cpus and --cpu-period/--cpu-quota are two ways to one limit: once one is set, the other
  // cannot be updated (dockerd's rule). An older berth's record holds a NanoCpus worked out from
  // its quota: that was no --cpus, and inspect shows 0 for it from now on.
  const nano = (h.CpuQuota ?? 0) > 0 ? 0 : h.NanoCpus;
  const conflict = (what: string) => invalid(`Conflicting options: ${what}`);
  if ((u.NanoCpus ?? 0) > 0 && (h.CpuPeriod ?? 0) > 0) throw conflict('Nano CPUs cannot be updated as CPU Period has already been set');
  if ((u.NanoCpus ?? 0) > 0 && (h.CpuQuota ?? 0) > 0) throw conflict('Nano CPUs cannot be updated as CPU Quota has already been set');
  if ((u.CpuPeriod ?? 0) > 0 && nano > 0) throw conflict('CPU Period cannot be updated as NanoCPUs has already been set');
  if ((u.CpuQuota ?? 0) > 0 && nano > 0) throw conflict('CPU Quota cannot be updated as NanoCPUs has already been set');
  out.NanoCpus = nano;
  if (set(u.NanoCpus)) out.NanoCpus = u.NanoCpus!;
  if (set(u.CpuQuota)) out.CpuQuota = u.CpuQuota!;
  if (set(u.CpuPeriod)) out.CpuPeriod = u.CpuPeriod!;
  if (set(u.CpuShares)) out.CpuShares = u.CpuShares!;
  if (set(u.PidsLimit)) out.PidsLimit = u.PidsLimit! < 0 ? 0 : u.PidsLimit!;
  if (u.CpusetCpus) out.CpusetCpus = u.CpusetCpus;
  if (u.CpusetMems) out.CpusetMems = u.CpusetMems;
  if (set(u.BlkioWeight)) out.BlkioWeight = u.BlkioWeight!;
  if (set(u.MemoryReservation)) out.MemoryReservation = u.MemoryReservation!;
  if (out.Memory > 0 && (out.MemoryReservation ?? 0) > out.Memory) throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage.');
  if (set(u.CpuRealtimeRuntime)) out.CpuRealtimeRuntime = u.CpuRealtimeRuntime!;
  if (set(u.CpuRealtimePeriod)) out.CpuRealtimePeriod = u.CpuRealtimePeriod!;
  if (u.RestartPolicy && u.RestartPolicy.Name) {
    if (h.AutoRemove && u.RestartPolicy.Name !== 'no') throw invalid('Restart policy cannot be updated because AutoRemove is enabled for the container');
    out.RestartPolicy = u.RestartPolicy;
  }
  return out;
}

/**
 * The checks dockerd makes of an update's values alone, before it looks at the container: their
 * errors name no container (the rest say "Cannot update container ID: ...").
 */
export function checkResourceUpdate(u: ResourceUpdate): void {
  if (u.Memory && u.Memory < 6 * 1024 * 1024) throw invalid('Minimum memory limit allowed is 6MB');
  checkCpuLimit(u);
  if (u.BlkioWeight && (u.BlkioWeight < 10 || u.BlkioWeight > 1000)) throw invalid('Range of blkio weight is from 10 to 1000');
}

/** Updates a container; a running one has the limits written into its cgroup first. */
export function updateContainer(containers: Containers, nameOrId: string, u: ResourceUpdate): ContainerRecord {
  const c = containers.get(nameOrId);
  const cgroups = containers.cgroupsOf(c.record);
  checkResourceUpdate(u);
  let host: HostConfig;
  try {
    host = updatedHost(c.record.HostConfig, u);
  } catch (err) {
    throw new BerthError((err as BerthError).code ?? 'InvalidArgument', `Cannot update container ${c.record.Id}: ${(err as Error).message}`);
  }
  // Limits the kernel refuses leave the container as it was: what was written before the refusal
  // is written back (the resource views read the cgroup, so they follow either way).
  if (isUp(c.state.Status)) {
    try {
      cgroups.update(c.record.Id, limitsOf(host));
    } catch (err) {
      try {
        cgroups.update(c.record.Id, limitsOf(c.record.HostConfig));
      } catch {}
      throw new BerthError((err as BerthError).code ?? 'InvalidArgument', `Cannot update container ${c.record.Id}: ${(err as Error).message}`);
    }
  }
  c.record.HostConfig = host;
  containers.saveRecord(c.record);
  // A running container's monitor follows the new policy from its next exit.
  if (u.RestartPolicy?.Name) containers.publishRestartPolicy(c.record, c.state);
  containers.event('update', c.record);
  return c.record;
}
