// `npm run fuzz [-- --seconds N] [--target NAME]... [--seed S]`: runs every fuzz target
// (fuzz/all.ts) for a share of the time budget, with fresh random seeds, and reports per target
// the inputs run, the distinct failures and the time. The first input of each distinct failure is
// written to fuzz/crashes/<target>/ (as JSON, plus raw bytes for byte targets) to become a
// regression test.
//
// Each target runs in a child process with a 1 GB heap, watched by this one: an input that hangs
// (no progress for HANG_MS) or exhausts memory is reported with the seed that reproduces it
// (`--target NAME --seed S`: inputs come in batches of BATCH, each batch from its own seed).
//
// This is fast-check generation plus corpus mutation, not coverage guidance: @jazzer.js/core's
// prebuilt addon needs glibc 2.38, newer than this machine's, and building it fetches sources.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { ALL as TARGETS } from '../fuzz/all.ts';

const BATCH = 10;
const HANG_MS = 30_000;
const HEAP_MB = 1024;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string' },
    child: { type: 'string' }, // internal: run one target for --ms and report on stdout
    ms: { type: 'string' },
  },
});

const crashDir = path.join(import.meta.dirname, '..', 'fuzz', 'crashes');

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

type Report = { batch: number; inputs: number } | { failure: string; file: string } | { done: true; inputs: number; slowest: number };
const report = (r: Report) => process.stdout.write(JSON.stringify(r) + '\n');

async function child(name: string, ms: number, seed: number): Promise<void> {
  const t = TARGETS.find((x) => x.name === name)!;
  const start = performance.now();
  const failures = new Set<string>();
  let inputs = 0;
  let slowest = 0;
  let reported = -Infinity;
  do {
    // Progress at most every 100 ms: a fast target reporting every batch floods the pipe (its
    // writes queue in memory when the parent reads slower), which starves it into a false hang.
    // A reproduction from the last reported seed runs on into the batch that hung.
    if (performance.now() - reported > 100) {
      report({ batch: seed, inputs });
      reported = performance.now();
    }
    for (const input of fc.sample(t.arb, { numRuns: BATCH, seed: seed++ })) {
      const t0 = performance.now();
      try {
        await t.check(input);
      } catch (err) {
        const k = kind(err);
        if (!failures.has(k)) {
          failures.add(k);
          report({ failure: k, file: save(t.name, input, failures.size) });
        }
      }
      slowest = Math.max(slowest, performance.now() - t0);
      inputs++;
    }
  } while (performance.now() - start < ms);
  report({ done: true, inputs, slowest });
}

/** Runs one target in a child; a hang or a crash of the child is one more failure. */
function runTarget(name: string, ms: number, seed: number): Promise<{ inputs: number; failures: number; slowest: number }> {
  const args = [`--max-old-space-size=${HEAP_MB}`, import.meta.filename, '--child', name, '--ms', String(ms), '--seed', String(seed)];
  const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  c.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  let batch = seed;
  let progress = 0;
  let failures = 0;
  let done: { inputs: number; slowest: number } | undefined;
  let hung = false;
  let watchdog: NodeJS.Timeout;
  const arm = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => ((hung = true), c.kill('SIGKILL')), HANG_MS);
  };
  arm();
  readline.createInterface({ input: c.stdout! }).on('line', (line) => {
    arm();
    const r = JSON.parse(line) as Report;
    if ('batch' in r) [batch, progress] = [r.batch, r.inputs];
    else if ('failure' in r) {
      failures++;
      console.log(`  ${name}: ${r.failure}\n    input saved to ${path.relative(process.cwd(), r.file)}`);
    } else done = r;
  });
  return new Promise((resolve) => {
    c.on('close', (code, signal) => {
      clearTimeout(watchdog);
      if (!done) {
        failures++;
        const why = hung ? `no progress for ${HANG_MS / 1000} s (a hang)` : `the fuzzing process died (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
        console.log(`  ${name}: ${why}\n    reproduce: npm run fuzz -- --target ${name} --seed ${batch}`);
      }
      resolve({ inputs: done?.inputs ?? progress, failures, slowest: done?.slowest ?? HANG_MS });
    });
  });
}

async function main(): Promise<void> {
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, got ${values.seconds}`);
  const unknown = (values.target ?? []).filter((n) => !TARGETS.some((t) => t.name === n));
  if (unknown.length) throw new Error(`unknown target ${unknown.join(', ')}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  const chosen = values.target?.length ? TARGETS.filter((t) => values.target!.includes(t.name)) : TARGETS;
  const budget = (seconds * 1000) / chosen.length;
  const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31;
  console.log(`fuzzing ${chosen.length} targets for ${seconds} s (seed ${seed})`);
  let failed = 0;
  const rows: string[][] = [['target', 'inputs', 'failures', 'seconds', 'slowest ms']];
  for (const t of chosen) {
    const start = performance.now();
    const r = await runTarget(t.name, budget, seed);
    failed += r.failures;
    rows.push([t.name, String(r.inputs), String(r.failures), ((performance.now() - start) / 1000).toFixed(1), r.slowest.toFixed(1)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  '));
  process.exitCode = failed ? 1 : 0;
}

if (values.child) await child(values.child, Number(values.ms), Number(values.seed));
else await main();
