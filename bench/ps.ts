// `ps -a` over many containers, side by side with Docker: berth's listing (one index file plus
// liveness checks) against dockerd's in-memory one behind its API, each through its own CLI, so
// that both start-ups count. Runs alternate between the two (a busy machine slows both alike).
// Usage: node bench/ps.ts [--no-docker] [--containers 1000] [--running 50] [--runs 15]
//   [--berth-root DIR --docker-host unix:///... --dockerd-pid PID]: measure roots already filled
//   (nothing made or removed)
// Wall time is the median of the runs; CPU time (berth's process; docker's client plus what its
// dockerd spent meanwhile) the mean, which a loaded machine disturbs less.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BERTH, benchArgs, busyboxWork, quiet, removeScopes } from './common.ts';
import { dockerd, type Dockerd } from './dockerd.ts';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const TOTAL = Number(opt('--containers') ?? 1000);
const RUNNING = Number(opt('--running') ?? 50);
const { runs, wantDocker } = benchArgs(15);
const PARALLEL = 8;

async function parallel(n: number, argv: (i: number) => string[], cmd: string, env: NodeJS.ProcessEnv): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < n) {
      const a = argv(next++);
      await new Promise<void>((res, rej) => spawn(cmd, a, { env, stdio: 'ignore' }).on('exit', (c) => (c === 0 ? res() : rej(new Error(`${cmd} ${a[0]} exited ${c}`)))));
    }
  }));
}

/** Fills a root: RUNNING containers running, the rest created. */
async function fill(cmd: string, pre: string[], env: NodeJS.ProcessEnv): Promise<void> {
  await parallel(RUNNING, () => [...pre, 'run', '-d', '--network', 'none', 'bench/busybox:1', 'sleep', '3600'], cmd, env);
  await parallel(TOTAL - RUNNING, () => [...pre, 'create', '--network', 'none', 'bench/busybox:1', 'true'], cmd, env);
}

/** utime + stime of a process (self: with its waited-for children's), in clock ticks. */
function ticks(pid: number | 'self'): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const x = f.slice(f.lastIndexOf(')') + 2).split(' ').map(Number);
  return x[11] + x[12] + (pid === 'self' ? x[13] + x[14] : 0);
}
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

/** Wall ms of one run, and CPU ticks of its process plus `other`'s (dockerd) meanwhile. */
function measure(cmd: string, argv: string[], env: NodeJS.ProcessEnv, other?: number): { wall: number; cpu: number } {
  const c0 = ticks('self') + (other ? ticks(other) : 0);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr}`);
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  return { wall, cpu: ticks('self') + (other ? ticks(other) : 0) - c0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const given = opt('--berth-root');
let work: string | undefined;
let docker: Dockerd | undefined;
let host = opt('--docker-host');
let dockerPid = Number(opt('--dockerd-pid') ?? 0);
const env = { ...process.env, BERTH_ROOT: given ?? '' };
try {
  if (!given) {
    const w = busyboxWork();
    work = w.work;
    env.BERTH_ROOT = path.join(work, 'berth');
    quiet(BERTH, ['import', w.tar, 'bench/busybox:1'], env);
    await fill(BERTH, [], env);
    if (wantDocker) {
      try {
        docker = await dockerd(work);
        host = docker.host;
        dockerPid = docker.pid;
        quiet('docker', ['-H', host, 'import', w.tar, 'bench/busybox:1']);
        await fill('docker', ['-H', host], process.env);
      } catch (err) {
        console.error(`docker: not compared (${(err as Error).message})`);
        host = undefined;
      }
    }
  }
  const count = spawnSync(BERTH, ['ps', '-a', '-q'], { env, encoding: 'utf8' }).stdout.trim().split('\n').length;
  const rows: string[][] = [];
  for (const argv of [['ps', '-a', '-q'], ['ps', '-a']]) {
    const b: Array<{ wall: number; cpu: number }> = [];
    const d: Array<{ wall: number; cpu: number }> = [];
    measure(BERTH, argv, env); // the index and the compile cache as a user's second ps finds them
    if (host) measure('docker', ['-H', host, ...argv], process.env);
    for (let i = 0; i < runs; i++) {
      b.push(measure(BERTH, argv, env));
      if (host) d.push(measure('docker', ['-H', host, ...argv], process.env, dockerPid || undefined));
    }
    const bw = median(b.map((x) => x.wall));
    const dw = d.length ? median(d.map((x) => x.wall)) : undefined;
    const cpu = (xs: typeof b) => (xs.reduce((a, x) => a + x.cpu, 0) * TICK_MS) / xs.length;
    rows.push([`${argv.join(' ')}, ${count} containers, wall (median of ${runs})`, `${bw.toFixed(0)} ms`, dw ? `${dw.toFixed(0)} ms` : '-', dw ? (bw / dw).toFixed(2) : '-']);
    if (d.length && dockerPid) rows.push([`${argv.join(' ')}, CPU (mean; docker: client + dockerd)`, `${cpu(b).toFixed(0)} ms`, `${cpu(d).toFixed(0)} ms`, (cpu(b) / cpu(d)).toFixed(2)]);
  }
  console.log(`\n${os.cpus().length} CPUs, ${os.release()}, load ${os.loadavg()[0].toFixed(1)}\n`);
  console.log('| measure | berth | docker | berth / docker |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} finally {
  if (work) {
    const ids = spawnSync(BERTH, ['ps', '-a', '-q', '--no-trunc'], { env, encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    for (let i = 0; i < ids.length; i += 200) spawnSync(BERTH, ['rm', '-f', ...ids.slice(i, i + 200)], { env, stdio: 'ignore' });
    if (docker) {
      const dids = spawnSync('docker', ['-H', docker.host, 'ps', '-aq'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
      for (let i = 0; i < dids.length; i += 200) spawnSync('docker', ['-H', docker.host, 'rm', '-f', ...dids.slice(i, i + 200)], { stdio: 'ignore' });
      await docker.stop();
    }
    await removeScopes([env.BERTH_ROOT!]);
    fs.rmSync(work, { recursive: true, force: true });
  }
}
