// The cgroup limits a container's HostConfig asks for: what a start writes and what `update`
// writes into a running container. Pure but for naming block devices.
import type { HostConfig, ThrottleDevice } from '../core/container.ts';
import type { DeviceRate, Limits } from '../kernel/cgroups.ts';
import { blockDevice } from '../kernel/devices.ts';

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
