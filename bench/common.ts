// What the side-by-side benchmarks share: the repo's berth, quiet command runs, timing,
// percentiles, and removing the cgroup scopes a benchmark's roots leave behind (the last with
// scripts/critest.ts: scripts/harness.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from '../scripts/harness.ts';

// The repo's berth (its bundle rebuilt when src/ is newer) and the clean-up of cgroup scopes.
export { BERTH, REPO, removeScopes } from '../scripts/harness.ts';

/** `--runs N` (or the default) and whether Docker is compared (`--no-docker` skips it). */
export function benchArgs(defaultRuns: number): { runs: number; wantDocker: boolean } {
  const args = process.argv.slice(2);
  return { runs: args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) || defaultRuns : defaultRuns, wantDocker: !args.includes('--no-docker') };
}

/** A scratch directory holding the busybox root filesystem tarball every tool runs. */
export function busyboxWork(): { work: string; tar: string } {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
  const tar = path.join(work, 'rootfs.tar');
  execFileSync(path.join(REPO, 'scripts/mkrootfs.sh'), [tar]);
  return { work, tar };
}

/** Runs a command with no output, failing on a non-zero status. */
export function quiet(cmd: string, argv: string[], env?: NodeJS.ProcessEnv): void {
  const r = spawnSync(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
}

export function timeIt(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Interleaved runs of each tool (machine noise hits all alike), after three warm-up runs each. */
export function interleave(tools: Array<[string, () => void]>, runs: number): Map<string, number[]> {
  for (const [, fn] of tools) for (let i = 0; i < 3; i++) fn();
  const times = new Map<string, number[]>(tools.map(([n]) => [n, []]));
  for (let i = 0; i < runs; i++) for (const [n, fn] of tools) times.get(n)!.push(timeIt(fn));
  return times;
}

/** A markdown table of p50/p95 with the ratio of the first tool's p50 to each. */
export function latencyTable(times: Map<string, number[]>, label: string): string {
  const names = [...times.keys()];
  const p50 = (n: string) => pct(times.get(n)!, 50);
  const lines = [`| ${label} | p50 ms | p95 ms | ${names[0]} / ${label} (p50) |`, '|---|---|---|---|'];
  for (const n of names) lines.push(`| ${n} | ${p50(n).toFixed(1)} | ${pct(times.get(n)!, 95).toFixed(1)} | ${(p50(names[0]) / p50(n)).toFixed(2)} |`);
  return lines.join('\n');
}
