// `berth update`: new resource limits (and restart policy) for containers, running or not.
import { invalid } from '../../core/errors.ts';
import { parseBytes, parseCpus, parseMemory } from '../../core/units.ts';
import type { ResourceUpdate } from '../../engine/update.ts';
import { parseArgs } from '../args.ts';
import type { Context } from '../context.ts';
import { resourceFlags } from '../resources.ts';
import { restartPolicy } from './run.ts';

const USAGE = `Usage:  berth update [OPTIONS] CONTAINER [CONTAINER...]

Update configuration of one or more containers

Options:
      --blkio-weight int          Block IO (relative weight), between 10 and 1000
      --cpu-period int            Limit CPU CFS period; --cpu-quota int: the quota per period
      --cpu-rt-runtime int        Limit the CPU real-time runtime in microseconds (--cpu-rt-period)
  -c, --cpu-shares int            CPU shares (relative weight)
      --cpus decimal              Number of CPUs
      --cpuset-cpus string        CPUs in which to allow execution (0-3, 0,1); --cpuset-mems: memory nodes
  -m, --memory bytes              Memory limit
      --memory-reservation bytes  Memory soft limit
      --memory-swap bytes         Swap limit equal to memory plus swap: -1 to enable unlimited swap
      --pids-limit int            Tune container pids limit (-1 for unlimited)
      --restart string            Restart policy to apply when a container exits
`;

export async function update(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'memory', short: 'm', type: 'string' }, { name: 'memory-swap', type: 'string' }, { name: 'memory-reservation', type: 'string' },
    { name: 'cpus', type: 'string' }, { name: 'cpu-shares', short: 'c', type: 'string' }, { name: 'cpu-period', type: 'string' },
    { name: 'cpu-quota', type: 'string' }, { name: 'cpu-rt-runtime', type: 'string' }, { name: 'cpu-rt-period', type: 'string' },
    { name: 'cpuset-cpus', type: 'string' }, { name: 'cpuset-mems', type: 'string' }, { name: 'pids-limit', type: 'string' },
    { name: 'blkio-weight', type: 'string' }, { name: 'restart', type: 'string' }, { name: 'kernel-memory', type: 'string' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out(USAGE);
    return 0;
  }
  if (!positionals.length) throw invalid(`"berth update" requires at least 1 argument.\n${USAGE.split('\n')[0]}`);
  const str = (k: string) => flags.get(k) as string | undefined;
  const int = (k: string) => {
    const v = str(k);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) throw invalid(`invalid argument "${v}" for "--${k}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
    return Number(v);
  };
  const r = resourceFlags(flags, (m) => ctx.err(`WARNING: ${m}\n`));
  const swap = str('memory-swap');
  const u: ResourceUpdate = {
    Memory: str('memory') !== undefined ? parseMemory(str('memory')!) : undefined,
    MemorySwap: swap === undefined ? undefined : swap === '-1' ? -1 : parseBytes(swap),
    MemoryReservation: r.MemoryReservation,
    NanoCpus: str('cpus') !== undefined ? parseCpus(str('cpus')!) * 1e4 : undefined,
    CpuShares: int('cpu-shares'),
    CpuPeriod: r.CpuPeriod,
    CpuQuota: r.CpuQuota,
    CpuRealtimeRuntime: r.CpuRealtimeRuntime,
    CpuRealtimePeriod: r.CpuRealtimePeriod,
    CpusetCpus: r.CpusetCpus,
    CpusetMems: r.CpusetMems,
    PidsLimit: int('pids-limit'),
    BlkioWeight: r.BlkioWeight,
    RestartPolicy: str('restart') !== undefined ? restartPolicy(str('restart'), false) : undefined,
  };
  const engine = ctx.engine();
  const { updateContainer } = await import('../../engine/update.ts');
  let failed = false;
  for (const name of positionals) {
    try {
      updateContainer(engine.containers, name, u);
      ctx.out(`${name}\n`);
    } catch (err) {
      failed = true;
      ctx.err(`Error response from daemon: ${(err as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}
