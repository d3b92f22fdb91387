// Containers as long-lived objects, side by side with Docker in one run:
//  - memory per running container's monitor (PSS: shared pages divided among sharers),
//  - `ps -a` with 1,000 containers,
//  - `run -d` throughput with 8 in parallel.
// Usage: node bench/density.ts [--no-docker] [--containers 1000] [--running 50]
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BERTH, removeScopes, REPO } from './common.ts';
import { dockerd, type Dockerd } from './dockerd.ts';
const args = process.argv.slice(2);
const opt = (name: string, def: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const TOTAL = opt('--containers', 1000);
const RUNNING = opt('--running', 50);
const PARALLEL = 8;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-density-'));
const env = { ...process.env, BERTH_ROOT: path.join(work, 'berth') };

function sh(cmd: string, argv: string[], e: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, argv, { env: e, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const run = (cmd: string, argv: string[], e: NodeJS.ProcessEnv) =>
  new Promise<void>((res, rej) => spawn(cmd, argv, { env: e, stdio: 'ignore' }).on('exit', (c) => (c === 0 ? res() : rej(new Error(`${cmd} ${argv[0]} exited ${c}`)))));

async function parallel(n: number, fn: (i: number) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < n) await fn(next++);
  }));
  return performance.now() - t0;
}

function pss(pids: number[]): number {
  let kb = 0;
  for (const p of pids) {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'));
    kb += m ? Number(m[1]) : 0;
  }
  return kb / pids.length;
}

function timeMedian(fn: () => void, runs = 7): number {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    xs.push(performance.now() - t0);
  }
  return xs.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

const tar = path.join(work, 'rootfs.tar');
sh(path.join(REPO, 'scripts/mkrootfs.sh'), [tar]);
sh(BERTH, ['import', tar, 'bench/busybox:1'], env);
let docker: Dockerd | undefined;
if (!args.includes('--no-docker')) {
  try {
    docker = await dockerd(work);
    sh('docker', ['-H', docker.host, 'import', tar, 'bench/busybox:1']);
  } catch (err) {
    console.error(`docker: not compared (${(err as Error).message})`);
  }
}
const rows: string[][] = [];
try {
  // run -d throughput, 8 at a time; these containers then stay running for the memory figure.
  const bRun = await parallel(RUNNING, (i) => run(BERTH, ['run', '-d', '--network', 'none', '--name', `r${i}`, 'bench/busybox:1', 'sleep', '3600'], env));
  const monitors = sh('pgrep', ['-f', 'berth-shim run']).trim().split('\n').map(Number);
  const bPss = pss(monitors);
  let dRun: number | undefined;
  let dPss: number | undefined;
  if (docker) {
    const host = docker.host;
    dRun = await parallel(RUNNING, (i) => run('docker', ['-H', host, 'run', '-d', '--network', 'none', '--name', `r${i}`, 'bench/busybox:1', 'sleep', '3600'], process.env));
    const shims = sh('pgrep', ['-f', `containerd-shim.*${path.basename(work)}|containerd-shim-runc-v2`]).trim().split('\n').map(Number).filter(Boolean);
    dPss = shims.length ? pss(shims) : undefined;
  }
  rows.push([`run -d, ${RUNNING} containers, ${PARALLEL} in parallel (ms per container)`, (bRun / RUNNING).toFixed(1), dRun ? (dRun / RUNNING).toFixed(1) : '-', dRun ? (bRun / dRun).toFixed(2) : '-']);
  rows.push([`memory per running container's monitor (PSS, ${RUNNING} running)`, `${(bPss / 1024).toFixed(2)} MiB`, dPss ? `${(dPss / 1024).toFixed(2)} MiB (containerd-shim)` : '-', dPss ? (bPss / dPss).toFixed(2) : '-']);

  // ps -a with TOTAL containers: the rest are created (not started).
  await parallel(TOTAL - RUNNING, (i) => run(BERTH, ['create', '--network', 'none', 'bench/busybox:1', 'true'], env));
  const bPs = timeMedian(() => sh(BERTH, ['ps', '-a', '-q'], env));
  let dPs: number | undefined;
  if (docker) {
    const host = docker.host;
    await parallel(TOTAL - RUNNING, () => run('docker', ['-H', host, 'create', '--network', 'none', 'bench/busybox:1', 'true'], process.env));
    dPs = timeMedian(() => sh('docker', ['-H', host, 'ps', '-a', '-q']));
  }
  rows.push([`ps -a with ${TOTAL} containers (median of 7)`, `${bPs.toFixed(0)} ms`, dPs ? `${dPs.toFixed(0)} ms` : '-', dPs ? (bPs / dPs).toFixed(2) : '-']);
  console.log(`\n${os.cpus().length} CPUs, ${os.release()}\n`);
  console.log('| measure | berth | docker | berth / docker |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} finally {
  const ids = sh(BERTH, ['ps', '-a', '-q', '--no-trunc'], env).trim().split('\n').filter(Boolean);
  for (let i = 0; i < ids.length; i += 200) spawnSync(BERTH, ['rm', '-f', ...ids.slice(i, i + 200)], { env, stdio: 'ignore' });
  if (docker) {
    const dids = sh('docker', ['-H', docker.host, 'ps', '-aq']).trim().split('\n').filter(Boolean);
    for (let i = 0; i < dids.length; i += 200) spawnSync('docker', ['-H', docker.host, 'rm', '-f', ...dids.slice(i, i + 200)], { stdio: 'ignore' });
    await docker.stop();
  }
  await removeScopes([env.BERTH_ROOT]);
  fs.rmSync(work, { recursive: true, force: true });
}
