// The API daemons side by side, one client: `docker run --rm --network none IMAGE true` with the
// same docker CLI against `berth daemon` and against a throwaway dockerd, on the same busybox
// root filesystem, interleaved so machine noise hits both alike.
// Usage: node bench/daemon.ts [--runs N] [--no-docker]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerd, type Dockerd } from './dockerd.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BERTH = path.join(REPO, 'bin/berth');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 40;
const wantDocker = !args.includes('--no-docker');

function sh(cmd: string, argv: string[], env?: NodeJS.ProcessEnv): void {
  const r = spawnSync(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
}

function timeIt(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
const tar = path.join(work, 'rootfs.tar');
execFileSync(path.join(REPO, 'scripts/mkrootfs.sh'), [tar]);
const berthRoot = path.join(work, 'berth');
sh(BERTH, ['import', tar, 'bench/busybox:1'], { ...process.env, BERTH_ROOT: berthRoot });
const sock = path.join(work, 'berth.sock');
const daemon = spawn(BERTH, ['daemon', '-H', `unix://${sock}`], { env: { ...process.env, BERTH_ROOT: berthRoot }, stdio: 'ignore' });
const berthHost = `unix://${sock}`;
for (let i = 0; spawnSync('docker', ['-H', berthHost, 'version'], { stdio: 'ignore' }).status !== 0; i++) {
  if (i > 100) throw new Error('berth daemon did not start');
  await new Promise((r) => setTimeout(r, 100));
}

let docker: Dockerd | undefined;
if (wantDocker) {
  try {
    docker = await dockerd(work);
    sh('docker', ['-H', docker.host, 'import', tar, 'bench/busybox:1']);
  } catch (err) {
    console.error(`docker: not compared (${(err as Error).message})`);
    docker = undefined;
  }
}

const run = (host: string) => () => sh('docker', ['-H', host, 'run', '--rm', '--network', 'none', 'bench/busybox:1', 'true']);
const tools: Array<[string, () => void]> = [['berth daemon', run(berthHost)]];
if (docker) tools.push(['dockerd', run(docker.host)]);

try {
  for (const [, fn] of tools) for (let i = 0; i < 3; i++) fn();
  const times = new Map<string, number[]>(tools.map(([n]) => [n, []]));
  for (let i = 0; i < runs; i++) for (const [n, fn] of tools) times.get(n)!.push(timeIt(fn));
  const p50 = (n: string) => pct(times.get(n)!, 50);
  console.log(`\ndocker run --rm --network none IMAGE true, docker CLI, ${runs} runs each, interleaved (${os.cpus().length} CPUs, ${os.release()})\n`);
  console.log('| daemon | p50 ms | p95 ms | berth / daemon (p50) |');
  console.log('|---|---|---|---|');
  for (const [n] of tools) console.log(`| ${n} | ${p50(n).toFixed(1)} | ${pct(times.get(n)!, 95).toFixed(1)} | ${(p50('berth daemon') / p50(n)).toFixed(2)} |`);
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  await docker?.stop();
  const { openRoot } = await import('../src/engine/root.ts');
  const key = openRoot(berthRoot).key;
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    for (const scope of [`berth/${key}`, 'berth/docker-bench']) {
      try {
        fs.rmdirSync(path.join('/sys/fs/cgroup', h, scope));
      } catch {}
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
}
