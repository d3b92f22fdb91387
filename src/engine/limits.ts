// The cgroup limits a container's HostConfig asks for: what a start writes and what `update`
// writes into a running container. Pure but for naming block devices.
import type { HostConfig, ThrottleDevice } from '../core/container.ts';
import type { DeviceRate, Limits } from '../kernel/cgroups.ts';
import { blockDevice } from '../kernel/devices.ts';
import { invalid } from '../core/errors.ts';

/**
 * dockerd's checks of the CPU limit's values (create, and an update's values): --cpus excludes
 * --cpu-period and --cpu-quota, and a CFS period of 1 ms to 1 s with a quota of at least 1 ms,
 * which a kernel would refuse only when a start writes them.
 */
export function checkCpuLimit(h: { NanoCpus?: number; CpuPeriod?: number; CpuQuota?: number }): void {
  const period = h.CpuPeriod ?? 0;
  const quota = h.CpuQuota ?? 0;
  if ((h.NanoCpus ?? 0) > 0 && period > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if ((h.NanoCpus ?? 0) > 0 && quota > 0) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (period !== 0 && (period < 1000 || period > 1_000_000)) throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (quota > 0 && quota < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
}

/**
 * The cgroup limits a HostConfig asks for (what a start writes, less the devices). Block devices
 * are named by path and looked up now (a path that is no block device is an error).
 */
export function limitsOf(h: HostConfig): Limits {
  const rates = (list: ThrottleDevice[] | null | undefined): DeviceRate[] | undefined => list?.length ? list.map((d) => ({ ...blockDevice(d.Path), rate: d.Rate })) : undefined;
  const explicit = (h.CpuQuota ?? 0) > 0 || (h.CpuPeriod ?? 0) > 0;
  return {
    memory: h.Memory || undefined,
    memorySwap: h.MemorySwap || undefined,
    // --cpu-period/--cpu-quota as given; --cpus as a quota on the default period.
    cpuQuota: explicit ? h.CpuQuota || undefined : h.NanoCpus ? Math.round(h.NanoCpus / 1e4) : undefined,
    cpuPeriod: explicit ? h.CpuPeriod || undefined : undefined,
    cpuShares: h.CpuShares || undefined,
    pids: h.PidsLimit > 0 ? h.PidsLimit : undefined,
    blkioWeight: h.BlkioWeight || undefined,
    blkioWeightDevice: h.BlkioWeightDevice?.length ? h.BlkioWeightDevice.map((d) => ({ ...blockDevice(d.Path), rate: d.Weight })) : undefined,
    readBps: rates(h.BlkioDeviceReadBps),
    writeBps: rates(h.BlkioDeviceWriteBps),
    readIops: rates(h.BlkioDeviceReadIOps),
    writeIops: rates(h.BlkioDeviceWriteIOps),
    cpusetCpus: h.CpusetCpus || undefined,
    cpusetMems: h.CpusetMems || undefined,
    memoryReservation: h.MemoryReservation || undefined,
    swappiness: h.MemorySwappiness ?? undefined,
    oomKillDisable: h.OomKillDisable || undefined,
    cpuRtRuntime: h.CpuRealtimeRuntime || undefined,
  };
}
