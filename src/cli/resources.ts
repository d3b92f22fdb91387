// docker's resource flags beyond -m/--cpus/--cpu-shares/--pids-limit (block I/O, cpusets, CFS
// and RT periods, memory reservation and swappiness, OOM killer, /dev/shm), shared by run,
// create and update: flag values in, HostConfig fields out. Pure.
import type { HostConfig, ThrottleDevice } from '../core/container.ts';
import { invalid } from '../core/errors.ts';
import { parseBytes } from '../core/units.ts';

type Flags = Map<string, string | boolean | string[]>;

function int(flag: string, v: string): number {
  if (!/^-?\d+$/.test(v)) throw invalid(`invalid argument "${v}" for "--${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** PATH:RATE, the rate in bytes (units allowed) or a plain number of operations. */
export function parseThrottle(flag: string, v: string, bytes: boolean): ThrottleDevice {
  const i = v.lastIndexOf(':');
  if (i <= 0 || !v.startsWith('/dev/')) throw invalid(`invalid argument "${v}" for "--${flag}" flag: bad format: ${v}`);
  const rate = v.slice(i + 1);
  const n = bytes ? (() => { try { return parseBytes(rate); } catch { return NaN; } })() : /^\d+$/.test(rate) ? Number(rate) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw invalid(`invalid argument "${v}" for "--${flag}" flag: invalid rate for device: ${v}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`);
  return { Path: v.slice(0, i), Rate: n };
}

function weight(flag: string, v: number): number {
  if (v !== 0 && (v < 10 || v > 1000)) throw invalid(`invalid argument for "--${flag}": range of blkio weight is from 10 to 1000`);
  return v;
}

/** The flags' HostConfig fields; only those given. `warn` hears docker's warnings (--kernel-memory). */
export function resourceFlags(flags: Flags, warn: (m: string) => void = () => {}): Partial<HostConfig> {
  const str = (k: string) => flags.get(k) as string | undefined;
  const list = (k: string) => (flags.get(k) as string[] | undefined) ?? [];
  const out: Partial<HostConfig> = {};
  if (str('blkio-weight') !== undefined) out.BlkioWeight = weight('blkio-weight', int('blkio-weight', str('blkio-weight')!));
  if (list('blkio-weight-device').length) {
    out.BlkioWeightDevice = list('blkio-weight-device').map((v) => {
      const t = parseThrottle('blkio-weight-device', v, false);
      return { Path: t.Path, Weight: weight('blkio-weight-device', t.Rate) };
    });
  }
  for (const [flag, key, bytes] of [['device-read-bps', 'BlkioDeviceReadBps', true], ['device-write-bps', 'BlkioDeviceWriteBps', true],
    ['device-read-iops', 'BlkioDeviceReadIOps', false], ['device-write-iops', 'BlkioDeviceWriteIOps', false]] as const) {
    if (list(flag).length) out[key] = list(flag).map((v) => parseThrottle(flag, v, bytes));
  }
  if (str('cpuset-cpus') !== undefined) out.CpusetCpus = cpuList('cpuset-cpus', str('cpuset-cpus')!);
  if (str('cpuset-mems') !== undefined) out.CpusetMems = cpuList('cpuset-mems', str('cpuset-mems')!);
  if (str('cpu-period') !== undefined) out.CpuPeriod = int('cpu-period', str('cpu-period')!);
  if (str('cpu-quota') !== undefined) out.CpuQuota = int('cpu-quota', str('cpu-quota')!);
  if (str('cpu-rt-runtime') !== undefined) out.CpuRealtimeRuntime = int('cpu-rt-runtime', str('cpu-rt-runtime')!);
  if (str('cpu-rt-period') !== undefined) out.CpuRealtimePeriod = int('cpu-rt-period', str('cpu-rt-period')!);
  if (str('memory-reservation') !== undefined) out.MemoryReservation = parseBytes(str('memory-reservation')!);
  if (str('memory-swappiness') !== undefined) {
    const s = int('memory-swappiness', str('memory-swappiness')!);
    if (s !== -1 && (s < 0 || s > 100)) throw invalid(`invalid value: ${s}, valid memory swappiness range is 0-100`);
    out.MemorySwappiness = s === -1 ? null : s;
  }
  if (flags.get('oom-kill-disable') === true) out.OomKillDisable = true;
  if (str('shm-size') !== undefined) {
    const n = parseBytes(str('shm-size')!);
    if (n <= 0) throw invalid('SHM size can not be less than 0');
    out.ShmSize = n;
  }
  if (str('kernel-memory') !== undefined) warn('Specifying a kernel memory limit is deprecated and will be removed in a future release.');
  return out;
}

/** A cpuset list ("0-2,4"), checked for its form (the kernel checks the numbers). */
function cpuList(flag: string, v: string): string {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) throw invalid(`invalid argument "${v}" for "--${flag}" flag: invalid format: ${v}`);
  return v;
}
