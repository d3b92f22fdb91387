// `npm run fuzz [-- --seconds N] [--target NAME]...`: runs every fuzz target (fuzz/targets.ts) for
// a share of the time budget, with fresh random seeds, and reports per target the inputs run, the
// distinct failures and the time. The first input of each distinct failure is written to
// fuzz/crashes/<target>/ (as JSON, or raw bytes for byte targets) to become a regression test.
//
// This is fast-check generation plus corpus mutation, not coverage guidance: @jazzer.js/core's
// prebuilt addon needs a newer glibc than this machine has, and building it fetches sources.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { ALL as TARGETS } from '../fuzz/all.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, got ${values.seconds}`);
const chosen = values.target?.length ? TARGETS.filter((t) => values.target!.includes(t.name)) : TARGETS;
const unknown = (values.target ?? []).filter((n) => !TARGETS.some((t) => t.name === n));
if (unknown.length) throw new Error(`unknown target ${unknown.join(', ')}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);

const crashDir = path.join(import.meta.dirname, '..', 'fuzz', 'crashes');
const budget = (seconds * 1000) / chosen.length;
let seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31;
console.log(`fuzzing ${chosen.length} targets for ${seconds} s (seed ${seed})`);

/** The first line of a failure, with numbers blanked, so one bug found many ways counts once. */
const kind = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0].replace(/\d+/g, 'N').slice(0, 160);

function save(target: string, input: unknown, n: number): string {
  const dir = path.join(crashDir, target);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `crash-${n}`);
  const raw = Buffer.isBuffer(input) ? input : (input as { buf?: unknown })?.buf;
  if (Buffer.isBuffer(raw)) fs.writeFileSync(file + '.bin', raw);
  fs.writeFileSync(file + '.json', JSON.stringify(input, (_k, v) => (v?.type === 'Buffer' ? { base64: Buffer.from(v.data).toString('base64') } : v), 1));
  return file;
}

let failed = 0;
const rows: string[][] = [['target', 'inputs', 'failures', 'seconds', 'slowest ms']];
for (const t of chosen) {
  const start = performance.now();
  const failures = new Map<string, string>();
  let inputs = 0;
  let slowest = 0;
  while (performance.now() - start < budget) {
    for (const input of fc.sample(t.arb, { numRuns: 200, seed: seed++ })) {
      const t0 = performance.now();
      try {
        await t.check(input);
      } catch (err) {
        const k = kind(err);
        if (!failures.has(k)) {
          failures.set(k, save(t.name, input, failures.size + 1));
          console.log(`  ${t.name}: ${k}\n    input saved to ${path.relative(process.cwd(), failures.get(k)!)}`);
        }
      }
      slowest = Math.max(slowest, performance.now() - t0);
      inputs++;
    }
  }
  failed += failures.size;
  rows.push([t.name, String(inputs), String(failures.size), ((performance.now() - start) / 1000).toFixed(1), slowest.toFixed(1)]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  '));
console.log(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
process.exitCode = failed ? 1 : 0;
