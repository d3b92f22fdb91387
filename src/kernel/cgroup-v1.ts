// cgroup v1: one directory per hierarchy (cpu and cpuacct may share one). Only the hierarchies
// berth needs are used: memory, cpu, cpuacct, pids, freezer (for pause), devices, cpuset and blkio.
import * as fs from 'node:fs';
import * as os from 'node:os';
import {
  checkId,
  failedPrecondition,
  killAndRemove,
  listScope,
  makeLeaf,
  neededControllers,
  parseOomKill,
  readOptional,
  rmdirQuiet,
  settle,
  swapTotal,
  parseBlkioV1,
  throttles,
  writeLimit,
  writeOptionalLimit,
  readNumber,
  readPids,
  statValue,
  type CgroupDriver,
  type CgroupStats,
  type CgroupPaths,
  type SysinfoSource,
  type Limits,
  v1DeviceWrites,
} from './cgroup-common.ts';

export interface Hierarchy {
  mount: string;
  controllers: string[]; // the ones berth uses, sorted
  cpuset: boolean; // cpuset co-mounted here: new cgroups start with no cpus/mems and need the parent's
}

export class CgroupV1 implements CgroupDriver {
  readonly version = 1 as const;
  private readonly hierarchies: Hierarchy[];
  private readonly scope: string;
  private readonly keepScope: boolean;

  constructor(hierarchies: Hierarchy[], scope: string, keepScope = false) {
    this.hierarchies = hierarchies;
    this.scope = scope;
    this.keepScope = keepScope;
  }

  private find(controller: string): Hierarchy | undefined {
    return this.hierarchies.find((h) => h.controllers.includes(controller));
  }

  private dir(h: Hierarchy, id: string): string {
    return `${h.mount}/${this.scope}/${id}`;
  }

  async freeze(id: string, frozen: boolean): Promise<void> {
    const h = this.find('freezer');
    if (!h) throw failedPrecondition('pause needs the cgroup v1 freezer controller, which this host does not have');
    const file = `${this.dir(h, id)}/freezer.state`;
    const want = frozen ? 'FROZEN' : 'THAWED';
    writeLimit(file, want);
    await settle(() => fs.readFileSync(file, 'utf8').trim(), want, file);
  }

  paths(id: string): CgroupPaths {
    checkId(id);
    const dirs = this.hierarchies.map((h) => this.dir(h, id));
    const memory = this.find('memory');
    return { procs: dirs.map((d) => `${d}/cgroup.procs`), dirs, oom: memory ? `${this.dir(memory, id)}/memory.oom_control` : '' };
  }

  sysinfoSource(id: string): SysinfoSource {
    checkId(id);
    const memory = this.find('memory'), pids = this.find('pids'), cpu = this.find('cpu');
    // tasks, not cgroup.procs: a single thread moving itself avoids the global lock of a process move.
    return { version: 1, memory: memory ? this.dir(memory, id) : '', memoryRoot: memory?.mount ?? '', pids: pids ? this.dir(pids, id) : '', cpu: cpu ? `${this.dir(cpu, id)}/tasks` : '' };
  }

  create(id: string, limits: Limits): CgroupPaths {
    checkId(id);
    for (const c of neededControllers(limits))
      if (!this.find(c)) throw failedPrecondition(`a ${c} limit was requested but no cgroup v1 hierarchy has the ${c} controller`);
    const created: string[] = [];
    try {
      for (const h of this.hierarchies) {
        const leaf = makeLeaf(h.mount, this.scope, id, () => {});
        created.push(leaf);
        // Every level, not only those this call made: a scope another process has just made may
        // not have its cpus yet, and a leaf copied from it would be empty (joining it: ENOSPC).
        if (h.cpuset) {
          let dir = h.mount;
          for (const part of [...this.scope.split('/').filter(Boolean), id]) inheritCpuset((dir += '/' + part));
        }
      }
      if (limits.cpuRtRuntime) this.rtBudget();
      this.writeLimits(id, limits);
    } catch (err) {
      rmdirQuiet(created.reverse());
      throw err;
    }
    return this.paths(id);
  }

  /**
   * --cpu-rt-runtime: a cgroup's realtime runtime is carved out of its parent's, and a new cgroup
   * has none. The scope's ancestors get the machine's whole budget (what the root cgroup has),
   * from which each container takes what it asks for (docker asks the same of its daemon's
   * --cpu-rt-runtime).
   */
  private rtBudget(): void {
    const cpu = this.find('cpu');
    const total = cpu && readOptional(`${cpu.mount}/cpu.rt_runtime_us`)?.trim();
    if (!cpu || !total) throw failedPrecondition('--cpu-rt-runtime needs realtime group scheduling (CONFIG_RT_GROUP_SCHED), which this kernel does not have');
    let dir = cpu.mount;
    for (const part of this.scope.split('/')) {
      dir += '/' + part;
      if (Number(readOptional(`${dir}/cpu.rt_runtime_us`)?.trim() ?? 0) < Number(total)) writeLimit(`${dir}/cpu.rt_runtime_us`, total);
    }
  }

  update(id: string, limits: Limits): void {
    if (limits.cpuRtRuntime) this.rtBudget();
    // memsw may never be below limit_in_bytes: a raised memory limit needs memsw raised first.
    const files = v1LimitFiles(limits);
    const memory = this.find('memory');
    const memsw = memory && readNumber(`${this.dir(memory, id)}/memory.memsw.limit_in_bytes`);
    if (memsw && (limits.memory ?? 0) > memsw) files.sort((a, b) => Number(b[1] === 'memory.memsw.limit_in_bytes') - Number(a[1] === 'memory.memsw.limit_in_bytes'));
    this.writeFiles(id, files);
  }

  private writeLimits(id: string, l: Limits): void {
    const devices = this.find('devices');
    if (devices) for (const [file, value] of v1DeviceWrites(l.devices)) writeLimit(`${this.dir(devices, id)}/${file}`, value);
    this.writeFiles(id, v1LimitFiles(l));
  }

  private writeFiles(id: string, files: [string, string, string, boolean][]): void {
    for (const [controller, file, value, optional] of files) {
      const f = `${this.dir(this.find(controller)!, id)}/${file}`;
      if (optional) writeOptionalLimit(f, value);
      else writeLimit(f, value);
    }
  }

  remove(id: string): boolean {
    return killAndRemove(this.paths(id).dirs, { keepParents: this.keepScope });
  }

  list(): string[] {
    return listScope(this.hierarchies.map((h) => `${h.mount}/${this.scope}`));
  }

  pids(id: string): number[] {
    const h = this.find('pids') ?? this.find('memory') ?? this.hierarchies[0];
    return h ? readPids(`${this.dir(h, id)}/cgroup.procs`) : [];
  }

  stats(id: string): CgroupStats {
    const at = (c: string, file: string) => {
      const h = this.find(c);
      return h ? `${this.dir(h, id)}/${file}` : '';
    };
    const limit = readNumber(at('memory', 'memory.limit_in_bytes'));
    return {
      memoryUsage: Math.max(0, readNumber(at('memory', 'memory.usage_in_bytes')) - statValue(at('memory', 'memory.stat'), 'total_inactive_file')),
      // v1 reports "no limit" as a huge page-aligned number.
      memoryLimit: limit && limit < os.totalmem() ? limit : os.totalmem(),
      cpuNanos: readNumber(at('cpuacct', 'cpuacct.usage')),
      pids: readNumber(at('pids', 'pids.current')),
      blkio: {
        serviceBytes: parseBlkioV1(readOptional(at('blkio', 'blkio.throttle.io_service_bytes_recursive'))),
        serviced: parseBlkioV1(readOptional(at('blkio', 'blkio.throttle.io_serviced_recursive'))),
      },
    };
  }

  oomKilled(paths: CgroupPaths): number {
    return paths.oom ? parseOomKill(paths.oom) : 0;
  }
}

/**
 * [controller, file, value, optional] in write order. Optional files exist only on some kernels
 * (memsw needs swap accounting; docker then just warns).
 */
export function v1LimitFiles(l: Limits): [string, string, string, boolean][] {
  const out: [string, string, string, boolean][] = [];
  if ((l.memory ?? 0) > 0) {
    // memsw may never be below limit_in_bytes: a fresh cgroup has both unlimited, so limit goes first.
    out.push(['memory', 'memory.limit_in_bytes', String(l.memory), false]);
    out.push(['memory', 'memory.memsw.limit_in_bytes', l.memorySwap === -1 ? '-1' : String(swapTotal(l)), true]);
  }
  // The quota is checked against the period, so the period goes first.
  if ((l.cpuPeriod ?? 0) > 0) out.push(['cpu', 'cpu.cfs_period_us', String(l.cpuPeriod), false]);
  if ((l.cpuQuota ?? 0) > 0) out.push(['cpu', 'cpu.cfs_quota_us', String(l.cpuQuota), false]);
  if ((l.cpuShares ?? 0) > 0) out.push(['cpu', 'cpu.shares', String(l.cpuShares), false]);
  if ((l.pids ?? 0) > 0) out.push(['pids', 'pids.max', String(l.pids), false]);
  if ((l.memoryReservation ?? 0) > 0) out.push(['memory', 'memory.soft_limit_in_bytes', String(l.memoryReservation), false]);
  if (l.swappiness !== undefined && l.swappiness >= 0) out.push(['memory', 'memory.swappiness', String(l.swappiness), false]);
  if (l.oomKillDisable) out.push(['memory', 'memory.oom_control', '1', false]);
  if ((l.cpuRtRuntime ?? 0) > 0) out.push(['cpu', 'cpu.rt_runtime_us', String(l.cpuRtRuntime), false]);
  if (l.cpusetCpus) out.push(['cpuset', 'cpuset.cpus', l.cpusetCpus, false]);
  if (l.cpusetMems) out.push(['cpuset', 'cpuset.mems', l.cpusetMems, false]);
  // The weight files exist only with a proportional I/O scheduler (CFQ, or BFQ's own name).
  if (l.blkioWeight) out.push(['blkio', 'blkio.weight', String(l.blkioWeight), true], ['blkio', 'blkio.bfq.weight', String(l.blkioWeight), true]);
  for (const d of l.blkioWeightDevice ?? []) out.push(['blkio', 'blkio.weight_device', `${d.major}:${d.minor} ${d.rate}`, true], ['blkio', 'blkio.bfq.weight_device', `${d.major}:${d.minor} ${d.rate}`, true]);
  for (const [file, , list] of throttles(l)) for (const d of list) out.push(['blkio', `blkio.throttle.${file}`, `${d.major}:${d.minor} ${d.rate}`, false]);
  return out;
}

function inheritCpuset(dir: string): void {
  const parent = dir.slice(0, dir.lastIndexOf('/'));
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    if (readOptional(`${dir}/${f}`)?.trim()) continue;
    const v = readOptional(`${parent}/${f}`)?.trim();
    if (v) writeLimit(`${dir}/${f}`, v);
  }
}
