// The shim's own start cost, without the engine: `berth-shim run` of a host plan (exec /bin/true,
// no namespaces), timed from spawn to exit, for each shim binary given, runs interleaved so that
// machine noise hits them alike. For changes on the shim's start path (such as re-executing from
// a sealed copy): build the old binary aside and compare.
// Usage: node bench/shim-start.ts [--runs N] SHIM... (default: the repo's native/build/berth-shim)
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import * as path from 'node:path';
import { encodePlan } from '../src/runtime/plan.ts';
import { REPO, pct } from './common.ts';

const args = process.argv.slice(2);
const runs = args[0] === '--runs' ? Number(args.splice(0, 2)[1]) : 300;
const shims = args.length ? args : [path.join(REPO, 'native/build/berth-shim')];
const plan = encodePlan([['ns', '0'], ['cwd', '/'], ['exec', '/bin/true']]);

function once(shim: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(shim, ['run'], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'], env: {} });
    const sock = child.stdio[3] as unknown as Socket;
    sock.write(plan);
    // The monitor tears down once its client closes the report socket, after the exit report.
    sock.on('data', (d: Buffer) => d.includes('"exit"') && sock.destroy());
    child.on('error', reject);
    child.on('exit', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
  });
}

const times = new Map<string, number[]>(shims.map((s) => [s, []]));
for (let i = 0; i < 10; i++) for (const s of shims) await once(s);
for (let i = 0; i < runs; i++) for (const s of shims) times.get(s)!.push(await once(s));
console.log(`| shim | p25 ms | p50 ms | p95 ms |\n|---|---|---|---|`);
for (const [s, t] of times) console.log(`| ${s} | ${pct(t, 25).toFixed(2)} | ${pct(t, 50).toFixed(2)} | ${pct(t, 95).toFixed(2)} |`);
