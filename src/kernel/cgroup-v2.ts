// cgroup v2: one tree. A controller's files appear in a cgroup only when every ancestor enables it
// in cgroup.subtree_control, so the root, `berth` and the scope enable memory, pids and cpu.
import * as fs from 'node:fs';
import * as os from 'node:os';
import {
  checkId,
  failedPrecondition,
  killAndRemove,
  listScope,
  makeDir,
  makeLeaf,
  neededControllers,
  parseOomKill,
  readOptional,
  rmdirQuiet,
  settle,
  swapTotal,
  parseIoStatV2,
  parsePressure,
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
} from './cgroup-common.ts';

const WANTED = ['memory', 'pids', 'cpu', 'io', 'cpuset'];

/** cgroup.subtree_control lists "memory pids"; tolerate the "+memory" form too (what was written). */
function tokens(text: string | undefined): Set<string> {
  return new Set((text ?? '').split(/\s+/).filter(Boolean).map((t) => t.replace(/^\+/, '')));
}

/** runc's mapping of cpu.shares [2, 262144] onto cpu.weight [1, 10000]. */
export function sharesToWeight(shares: number): number {
  return Math.min(10000, Math.max(1, 1 + Math.floor(((shares - 2) * 9999) / 262142)));
}

/** [file, value, optional] in write order; memory.swap.max exists only with swap accounting. */
export function v2LimitFiles(l: Limits): [string, string, boolean][] {
  const out: [string, string, boolean][] = [];
  if ((l.memory ?? 0) > 0) {
    out.push(['memory.max', String(l.memory), false]);
    // v2 limits swap alone, not memory+swap.
    out.push(['memory.swap.max', l.memorySwap === -1 ? 'max' : String(swapTotal(l) - l.memory!), true]);
  }
  if ((l.cpuQuota ?? 0) > 0 || (l.cpuPeriod ?? 0) > 0)
    out.push(['cpu.max', `${(l.cpuQuota ?? 0) > 0 ? l.cpuQuota : 'max'} ${(l.cpuPeriod ?? 0) > 0 ? l.cpuPeriod : 100000}`, false]);
  if ((l.cpuShares ?? 0) > 0) out.push(['cpu.weight', String(sharesToWeight(l.cpuShares!)), false]);
  if ((l.pids ?? 0) > 0) out.push(['pids.max', String(l.pids), false]);
  if ((l.memoryReservation ?? 0) > 0) out.push(['memory.low', String(l.memoryReservation), false]);
  if (l.cpusetCpus) out.push(['cpuset.cpus', l.cpusetCpus, false]);
  if (l.cpusetMems) out.push(['cpuset.mems', l.cpusetMems, false]);
  // io.weight is 1-10000 (default 100); docker's 10-1000 scale maps onto it as runc maps it.
  if (l.blkioWeight) out.push(['io.weight', `default ${blkioToIoWeight(l.blkioWeight)}`, true], ['io.bfq.weight', String(l.blkioWeight), true]);
  for (const d of l.blkioWeightDevice ?? []) out.push(['io.weight', `${d.major}:${d.minor} ${blkioToIoWeight(d.rate)}`, true], ['io.bfq.weight', `${d.major}:${d.minor} ${d.rate}`, true]);
  // One io.max line per device with all of its throttles.
  const max = new Map<string, string[]>();
  for (const [, key, list] of throttles(l)) for (const d of list) max.set(`${d.major}:${d.minor}`, [...(max.get(`${d.major}:${d.minor}`) ?? []), `${key}=${d.rate}`]);
  for (const [dev, keys] of max) out.push(['io.max', `${dev} ${keys.join(' ')}`, false]);
  return out;
}

/** runc's conversion of a blkio weight [10, 1000] to io.weight [1, 10000]. */
export function blkioToIoWeight(w: number): number {
  return Math.max(1, Math.min(10000, 1 + Math.floor(((w - 10) * 9999) / 990)));
}

export class CgroupV2 implements CgroupDriver {
  readonly version = 2 as const;
  private readonly root: string;
  private readonly scope: string;
  private readonly keepScope: boolean;

  constructor(root: string, scope: string, keepScope = false) {
    this.root = root;
    this.scope = scope;
    this.keepScope = keepScope;
  }

  async freeze(id: string, frozen: boolean): Promise<void> {
    const dir = `${this.root}/${this.scope}/${id}`;
    writeLimit(`${dir}/cgroup.freeze`, frozen ? '1' : '0');
    const state = () => /^frozen (\d)$/m.exec(fs.readFileSync(`${dir}/cgroup.events`, 'utf8'))?.[1] ?? '';
    await settle(state, frozen ? '1' : '0', `${dir}/cgroup.events`);
  }

  paths(id: string): CgroupPaths {
    checkId(id);
    const dir = `${this.root}/${this.scope}/${id}`;
    return { procs: [`${dir}/cgroup.procs`], dirs: [dir], oom: `${dir}/memory.events` };
  }

  sysinfoSource(id: string): SysinfoSource {
    const dir = this.paths(id).dirs[0];
    return { version: 2, memory: dir, memoryRoot: this.root, pids: dir, cpu: `${dir}/cgroup.procs` };
  }

  /**
   * Enables the wanted controllers down to the scope; returns those the container will have and,
   * for the others, why not (so only a limit that needs one fails).
   */
  private delegate(): { have: Set<string>; why: Map<string, string> } {
    const scopeDir = `${this.root}/${this.scope}`;
    const why = new Map<string, string>();
    // Fast path: the scope already passes everything down (every container after the first).
    const enabled = tokens(readOptional(`${scopeDir}/cgroup.subtree_control`));
    if (WANTED.every((c) => enabled.has(c))) return { have: enabled, why };
    const available = tokens(readOptional(`${this.root}/cgroup.controllers`));
    let want = WANTED.filter((c) => available.has(c));
    for (const c of WANTED) if (!available.has(c)) why.set(c, `it is not in ${this.root}/cgroup.controllers`);
    let dir = this.root;
    for (const part of ['', ...this.scope.split('/')]) {
      if (part) {
        dir += '/' + part;
        makeDir(dir, false);
      }
      const file = `${dir}/cgroup.subtree_control`;
      const on = tokens(readOptional(file));
      const missing = want.filter((c) => !on.has(c));
      if (!missing.length) continue;
      try {
        fs.writeFileSync(file, missing.map((c) => '+' + c).join(' '));
      } catch (err) {
        // EBUSY: that cgroup has processes of its own ("no internal processes"), not ours to move.
        for (const c of missing) why.set(c, `enabling it in ${file} failed: ${(err as Error).message}`);
        want = want.filter((c) => !missing.includes(c));
      }
    }
    return { have: new Set(want), why };
  }

  create(id: string, limits: Limits): CgroupPaths {
    checkId(id);
    if (limits.cpuRtRuntime) throw failedPrecondition('--cpu-rt-runtime needs realtime group scheduling, which cgroup v2 does not offer');
    const need = neededControllers(limits).map((c) => (c === 'blkio' ? 'io' : c));
    const { have, why } = this.delegate();
    for (const c of need) if (!have.has(c)) throw failedPrecondition(`a ${c} limit was requested but the ${c} cgroup controller is unavailable: ${why.get(c)}`);
    let remade = false;
    const leaf = makeLeaf(this.root, this.scope, id, () => (remade = true));
    // The scope went with its last container after delegate() looked: enable its controllers again.
    if (remade) this.delegate();
    try {
      this.writeLimits(leaf, limits);
    } catch (err) {
      rmdirQuiet([leaf]);
      throw err;
    }
    return this.paths(id);
  }

  update(id: string, limits: Limits): void {
    if (limits.cpuRtRuntime) throw failedPrecondition('--cpu-rt-runtime needs realtime group scheduling, which cgroup v2 does not offer');
    this.writeLimits(this.paths(id).dirs[0], limits);
  }

  private writeLimits(d: string, l: Limits): void {
    for (const [file, value, optional] of v2LimitFiles(l)) {
      if (optional) writeOptionalLimit(`${d}/${file}`, value);
      else writeLimit(`${d}/${file}`, value);
    }
  }

  remove(id: string): boolean {
    const dir = this.paths(id).dirs[0];
    // cgroup.kill (5.14+) kills the whole subtree at once, forks racing the kill included.
    try {
      fs.writeFileSync(`${dir}/cgroup.kill`, '1', { flag: 'r+' });
    } catch {}
    return killAndRemove([dir], { keepParents: this.keepScope });
  }

  list(): string[] {
    return listScope([`${this.root}/${this.scope}`]);
  }

  pids(id: string): number[] {
    return readPids(`${this.root}/${this.scope}/${id}/cgroup.procs`);
  }

  stats(id: string): CgroupStats {
    const dir = `${this.root}/${this.scope}/${id}`;
    const max = readOptional(`${dir}/memory.max`)?.trim();
    return {
      memoryUsage: Math.max(0, readNumber(`${dir}/memory.current`) - statValue(`${dir}/memory.stat`, 'inactive_file')),
      memoryLimit: max && /^\d+$/.test(max) ? Number(max) : os.totalmem(),
      cpuNanos: statValue(`${dir}/cpu.stat`, 'usage_usec') * 1000,
      pids: readNumber(`${dir}/pids.current`),
      blkio: parseIoStatV2(readOptional(`${dir}/io.stat`)),
      // PSI files exist only on kernels built with it (and psi not turned off at boot).
      pressure: Object.fromEntries(['cpu', 'memory', 'io'].map((r) => [r, parsePressure(readOptional(`${dir}/${r}.pressure`))]).filter(([, v]) => v.length)),
    };
  }

  oomKilled(paths: CgroupPaths): number {
    return parseOomKill(paths.oom);
  }
}
