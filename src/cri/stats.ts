// Container and pod stats for the CRI from the engine's cgroup counters: CPU time and the rate
// of use (usage_nano_cores, from this daemon's previous sample), memory (working set = usage
// less inactive file pages, as the kubelet's eviction reads it), and the writable layer's bytes
// and inodes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isUp } from '../core/container.ts';
import type { Engine } from '../engine/engine.ts';
import type { Container } from '../engine/container/types.ts';
import { dirUsage } from '../snapshot/layers.ts';
import type { Handlers } from './context.ts';
import type { CriContext } from './container/cri-types.ts';
import { allOfKind, findKind, podContainers } from './sandbox/lookup.ts';
import { annotationsOf, givenLabels, metadataOf, sandboxOf, selects } from './sandbox/meta.ts';

type Sample = { t: bigint; cpu: bigint };
/** The previous CPU sample per container, for usage_nano_cores (kept per daemon, as containerd). */
const previous = new Map<string, Sample>();

/** A counter's line ("key value") of a cgroup's memory.stat; 0 when absent. */
export function statLine(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** rss and page faults: what memory.stat says (v1's hierarchical totals, v2's anon). */
function memoryDetail(engine: Engine, c: Container): { usage: number; rss: number; faults: number; major: number } {
  // The driver of the container's own parent (the pod's cgroup), as the engine's stats read it.
  const cg = engine.containers.ctx.host.cgroups(c.record.HostConfig.CgroupParent || undefined);
  const procs = cg.paths(c.record.Id).procs;
  const dir = path.dirname(cg.version === 2 ? procs[0] : (procs.find((p) => /\/memory\//.test(p)) ?? procs[0]));
  const read = (f: string) => {
    try {
      return fs.readFileSync(path.join(dir, f), 'utf8');
    } catch {
      return '';
    }
  };
  const stat = read('memory.stat');
  if (cg.version === 2) return { usage: Number(read('memory.current').trim()) || 0, rss: statLine(stat, 'anon'), faults: statLine(stat, 'pgfault'), major: statLine(stat, 'pgmajfault') };
  return { usage: Number(read('memory.usage_in_bytes').trim()) || 0, rss: statLine(stat, 'total_rss'), faults: statLine(stat, 'total_pgfault'), major: statLine(stat, 'total_pgmajfault') };
}

function inodes(root: string): number {
  let n = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      n++;
      if (e.isDirectory()) walk(path.join(dir, e.name));
    }
  };
  try {
    walk(root);
  } catch {}
  return n;
}

const v = (n: number | bigint) => ({ value: String(n) });

export function containerStats(engine: Engine, c: Container): object {
  const id = c.record.Id;
  const now = BigInt(Date.now()) * 1_000_000n;
  const ts = String(now);
  const up = isUp(c.state.Status);
  const s = engine.containers.stats(id);
  const cpu = BigInt(Math.round(s.cpuNanos));
  const prev = previous.get(id);
  const nanoCores = prev && up && now > prev.t && cpu >= prev.cpu ? ((cpu - prev.cpu) * 1_000_000_000n) / (now - prev.t) : 0n;
  if (up) previous.set(id, { t: now, cpu });
  else previous.delete(id);
  const mem = up ? memoryDetail(engine, c) : { usage: 0, rss: 0, faults: 0, major: 0 };
  const upper = path.join(engine.root.dir, 'containers', id, 'upper');
  return {
    attributes: { id, metadata: metadataOf(c.record), labels: givenLabels(c.record), annotations: annotationsOf(c.record) },
    cpu: { timestamp: ts, usage_core_nano_seconds: v(cpu), usage_nano_cores: v(nanoCores) },
    memory: {
      timestamp: ts, working_set_bytes: v(s.memoryUsage), available_bytes: v(Math.max(0, s.memoryLimit - s.memoryUsage)),
      usage_bytes: v(mem.usage), rss_bytes: v(mem.rss), page_faults: v(mem.faults), major_page_faults: v(mem.major),
    },
    writable_layer: { timestamp: ts, fs_id: { mountpoint: path.join(engine.root.dir, 'containers') }, used_bytes: v(dirUsage(upper)), inodes_used: v(inodes(upper)) },
  };
}

interface StatsFilter {
  id?: string;
  pod_sandbox_id?: string;
  label_selector?: Record<string, string>;
}

export function handlers(ctx: CriContext): Handlers {
  const engine = ctx.engine;
  const podStats = (sb: Container, all: Container[]) => {
    const members = podContainers(engine, sb.record.Id, all);
    const cs = members.map((c) => containerStats(engine, c) as { cpu: { usage_core_nano_seconds: { value: string }; usage_nano_cores: { value: string } }; memory: Record<string, { value: string }> });
    const sum = (f: (x: (typeof cs)[number]) => { value: string }) => v(cs.reduce((a, x) => a + BigInt(f(x).value), 0n));
    const ts = String(BigInt(Date.now()) * 1_000_000n);
    return {
      attributes: { id: sb.record.Id, metadata: metadataOf(sb.record), labels: givenLabels(sb.record), annotations: annotationsOf(sb.record) },
      linux: {
        cpu: { timestamp: ts, usage_core_nano_seconds: sum((x) => x.cpu.usage_core_nano_seconds), usage_nano_cores: sum((x) => x.cpu.usage_nano_cores) },
        memory: { timestamp: ts, working_set_bytes: sum((x) => x.memory.working_set_bytes), usage_bytes: sum((x) => x.memory.usage_bytes), rss_bytes: sum((x) => x.memory.rss_bytes), page_faults: sum((x) => x.memory.page_faults), major_page_faults: sum((x) => x.memory.major_page_faults), available_bytes: v(0) },
        process: { timestamp: ts, process_count: v([sb, ...members].filter((c) => isUp(c.state.Status)).reduce((n, c) => n + engine.containers.stats(c.record.Id).pids, 0)) },
        containers: cs,
      },
    };
  };
  return {
    ContainerStats: (req: { container_id: string }) => ({ stats: containerStats(engine, findKind(engine, req.container_id, 'container')) }),
    ListContainerStats: (req: { filter?: StatsFilter | null }) => {
      const f = req.filter ?? {};
      const items = allOfKind(engine, 'container').filter((c) =>
        isUp(c.state.Status) &&
        (!f.id || c.record.Id.startsWith(f.id)) &&
        (!f.pod_sandbox_id || sandboxOf(c.record).startsWith(f.pod_sandbox_id)) &&
        selects(givenLabels(c.record), f.label_selector));
      return { stats: items.map((c) => containerStats(engine, c)) };
    },
    PodSandboxStats: (req: { pod_sandbox_id: string }) => {
      const sb = findKind(engine, req.pod_sandbox_id, 'sandbox');
      return { stats: podStats(sb, allOfKind(engine, 'container')) };
    },
    ListPodSandboxStats: (req: { filter?: StatsFilter | null }) => {
      const f = req.filter ?? {};
      const all = allOfKind(engine, 'container');
      const pods = allOfKind(engine, 'sandbox').filter((c) => isUp(c.state.Status) && (!f.id || c.record.Id.startsWith(f.id)) && selects(givenLabels(c.record), f.label_selector));
      return { stats: pods.map((sb) => podStats(sb, all)) };
    },
    ListMetricDescriptors: () => ({ descriptors: [] }),
    ListPodSandboxMetrics: () => ({ pod_metrics: [] }),
  };
}
