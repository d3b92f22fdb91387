// What berth-runtime does to a running container's cgroups for its supervisor, in runc's shapes:
// `update --resources` (new limits written into the existing cgroups) and `events --stats` (the
// usage counters as runc's stats event, which containerd's runc shim and podman parse).
import * as path from 'node:path';
import { invalid } from '../core/errors.ts';
import { cgroupMountList, readOptional, writeLimit, type CgroupDriver, type Limits } from '../kernel/cgroups.ts';
import { v1LimitFiles } from '../kernel/cgroup-v1.ts';
import { v2LimitFiles } from '../kernel/cgroup-v2.ts';

export interface CgroupRef {
  scope: string;
  name: string;
}

/**
 * The limits written into a container's existing cgroups. The device rules are left as they are
 * (a new list would need the old one taken back first). On v1 the memory+swap limit may never be
 * below the memory limit, so when the memory limit rises above it, memsw goes first.
 */
export function updateLimits(driver: CgroupDriver, cg: CgroupRef, limits: Limits): void {
  const l = { ...limits, devices: undefined };
  if (driver.version === 2) {
    const dir = driver.paths(cg.name).dirs[0];
    for (const [file, value] of v2LimitFiles(l)) writeLimit(`${dir}/${file}`, value);
    return;
  }
  const dirOf = (controller: string) => {
    const m = cgroupMountList().find((x) => x.version === 1 && x.names.includes(controller));
    if (!m) throw invalid(`a ${controller} limit was requested but no cgroup v1 hierarchy has the ${controller} controller`);
    return path.join(m.mount, cg.scope, cg.name);
  };
  const writes = v1LimitFiles(l).map(([c, file, value, optional]) => ({ file: `${dirOf(c)}/${file}`, value, optional }));
  const memsw = writes.findIndex((w) => w.file.endsWith('/memory.memsw.limit_in_bytes'));
  if (memsw > 0) {
    const current = Number(readOptional(writes[memsw].file)?.trim() ?? NaN);
    if (current < (limits.memory ?? 0)) writes.unshift(...writes.splice(memsw, 1));
  }
  for (const w of writes) {
    if (w.optional && readOptional(w.file) === undefined) continue;
    writeLimit(w.file, w.value);
  }
}

/** runc's `events --stats` event: {type: "stats", id, data: {cpu, memory, pids, ...}}. */
export function statsEvent(driver: CgroupDriver, cg: CgroupRef, id: string): object {
  const s = driver.stats(cg.name);
  return {
    type: 'stats', id,
    data: {
      cpu: { usage: { total: s.cpuNanos, percpu: [], kernel: 0, user: 0 }, throttling: {} },
      memory: { usage: { limit: s.memoryLimit, usage: s.memoryUsage, max: 0, failcnt: 0 }, swap: {}, kernel: {}, kernelTCP: {}, raw: {} },
      pids: { current: s.pids, limit: 0 },
      blkio: {}, hugetlb: {},
    },
  };
}
