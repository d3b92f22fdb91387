// Pods through the CRI, side by side: berth's CRI (`berth daemon --cri`) and a private containerd
// 1.6 + runc, both on the same CNI bridge configuration and the same images (stand-ins served
// from a loopback registry through hosts.toml mirrors), driven by one gRPC client made from
// berth's proto:
//  - a pod start: RunPodSandbox, CreateContainer and StartContainer of one container (timed),
//    then StopPodSandbox and RemovePodSandbox (timed apart); interleaved runs, p50/p90;
//  - memory per running pod: what the runtime adds beside the workload (berth: the sandbox's and
//    the container's monitors and the pause process; containerd: containerd-shim-runc-v2 and
//    pause), PSS (shared pages divided among sharers) and RSS, with N pods running.
// Usage: node bench/cri.ts [--runs 20] [--pods 10] [--no-containerd | --no-berth]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BERTH, pct, removeScopes } from './common.ts';
import { CriClient } from '../test/helpers/cri.ts';
import { CNI_BIN_DIR, CONTAINERD, PrivateContainerd, unmountUnder, waitForSocket, writeCniConf } from '../test/helpers/containerd.ts';
import { PAUSE_IMAGE, prepareCritestImages } from '../test/helpers/critest-images.ts';
import { TestRegistry } from '../test/helpers/registry.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) || def : def);
const RUNS = opt('--runs', 20);
const PODS = opt('--pods', 10);
const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';

interface Runtime {
  name: string;
  client: CriClient;
  /** The runtime's own processes for the running pods (not the workloads). */
  perPod(pods: string[]): Promise<number[]>;
  /** The daemon's pid (containerd or berth daemon). */
  daemon: number;
  stop(): Promise<void>;
}

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string;
}

function procs(): Proc[] {
  const out: Proc[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      out.push({ pid: Number(d), ppid: Number(fields[1]), comm: stat.slice(stat.indexOf('(') + 1, close), cmdline: fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {} // gone meanwhile
  }
  return out;
}

/** Summed PSS and RSS (KiB) of some processes. */
function memory(pids: number[]): { pss: number; rss: number } {
  let pss = 0;
  let rss = 0;
  for (const p of pids) {
    const t = fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
    pss += Number(/^Pss:\s+(\d+) kB/m.exec(t)?.[1] ?? 0);
    rss += Number(/^Rss:\s+(\d+) kB/m.exec(t)?.[1] ?? 0);
  }
  return { pss, rss };
}

const podConfig = (logs: string, i: number) => {
  const uid = randomBytes(8).toString('hex');
  const dir = path.join(logs, uid);
  fs.mkdirSync(dir, { recursive: true });
  return { metadata: { name: `bench-${i}`, uid, namespace: 'bench', attempt: 0 }, log_directory: dir, labels: { bench: 'cri' }, linux: {} };
};
const containerConfig = { metadata: { name: 'sleeper', attempt: 0 }, image: { image: IMAGE }, command: ['sleep', '3600'], log_path: 'sleeper.log', linux: {} };

/** Starts a pod with one container; `phases` gets the three calls' times (ms). */
async function startPod(c: CriClient, logs: string, i: number, phases?: number[][]): Promise<string> {
  const config = podConfig(logs, i);
  const t0 = performance.now();
  const { pod_sandbox_id } = await c.call('RunPodSandbox', { config });
  const t1 = performance.now();
  const { container_id } = await c.call('CreateContainer', { pod_sandbox_id, config: containerConfig, sandbox_config: config });
  const t2 = performance.now();
  await c.call('StartContainer', { container_id });
  phases?.forEach((p, k) => p.push([t1 - t0, t2 - t1, performance.now() - t2][k]));
  return pod_sandbox_id;
}

async function removePod(c: CriClient, id: string): Promise<void> {
  await c.call('StopPodSandbox', { pod_sandbox_id: id });
  await c.call('RemovePodSandbox', { pod_sandbox_id: id });
}

async function containerdRuntime(work: string, certsDir: string): Promise<Runtime> {
  const dir = path.join(work, 'containerd');
  const cni = writeCniConf(dir, { bridge: 'berthcricb0', subnet: '10.227.0.0/24' });
  const cd = await PrivateContainerd.start(dir, { certsDir, cniConfDir: cni, sandboxImage: PAUSE_IMAGE });
  const client = new CriClient(cd.socket);
  return {
    name: 'containerd+runc',
    client,
    daemon: cd.pid,
    async perPod() {
      // One shim per pod (it serves the pod's containers too), and the pause process under it.
      const all = procs();
      const shims = all.filter((p) => p.comm.startsWith('containerd-shim') && p.cmdline.includes(cd.socket));
      const shimPids = new Set(shims.map((s) => s.pid));
      const pauses = all.filter((p) => shimPids.has(p.ppid) && p.comm === 'pause');
      return [...shimPids, ...pauses.map((p) => p.pid)];
    },
    async stop() {
      client.close();
      await cd.stop();
      spawnSync('ip', ['link', 'del', 'berthcricb0'], { stdio: 'ignore' });
    },
  };
}

async function berthRuntime(work: string, certsDir: string): Promise<Runtime> {
  const dir = path.join(work, 'berth');
  const cni = writeCniConf(dir, { bridge: 'berthcribb0', subnet: '10.228.0.0/24' });
  const socket = path.join(dir, 'cri.sock');
  const env = { ...process.env, BERTH_ROOT: path.join(dir, 'root'), BERTH_NETNS_POOL: '0' };
  const child: ChildProcess = spawn(BERTH, ['daemon', '-H', `unix://${path.join(dir, 'docker.sock')}`, '--cri', `unix://${socket}`, '--registry-config', certsDir, '--cni-conf-dir', cni, '--cni-bin-dir', CNI_BIN_DIR], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  await waitForSocket(socket, child, 'berth daemon --cri', () => log);
  const client = new CriClient(socket);
  const pidOf = (ids: string[]) => spawnSync(BERTH, ['inspect', '-f', '{{.State.Pid}}', ...ids], { env, encoding: 'utf8' }).stdout.trim().split('\n').map(Number);
  return {
    name: 'berth',
    client,
    daemon: child.pid!,
    async perPod(pods) {
      // Each pod: the sandbox (pause) and its monitor, the container's monitor (the parent of its process).
      const { containers } = await client.call('ListContainers', {});
      const ids = containers.filter((c: { pod_sandbox_id: string }) => pods.includes(c.pod_sandbox_id)).map((c: { id: string }) => c.id);
      const all = new Map(procs().map((p) => [p.pid, p]));
      const out: number[] = [];
      for (const pid of pidOf(pods)) out.push(pid, all.get(pid)!.ppid);
      for (const pid of pidOf(ids)) out.push(all.get(pid)!.ppid);
      return out;
    },
    async stop() {
      client.close();
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
      await removeScopes([env.BERTH_ROOT]);
      spawnSync('ip', ['link', 'del', 'berthcribb0'], { stdio: 'ignore' });
    },
  };
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-cri-'));
const logs = path.join(work, 'logs');
const registry = await TestRegistry.start();
const runtimes: Runtime[] = [];
try {
  const { certsDir } = await prepareCritestImages(registry, path.join(work, 'certs.d'));
  if (!args.includes('--no-berth')) runtimes.push(await berthRuntime(work, certsDir));
  if (!args.includes('--no-containerd') && fs.existsSync(CONTAINERD)) runtimes.push(await containerdRuntime(work, certsDir));
  for (const r of runtimes) await r.client.call('PullImage', { image: { image: IMAGE } }, 300_000);

  // Pod start, interleaved (machine noise hits both alike), after two warm-up pods each.
  const start = new Map(runtimes.map((r) => [r.name, [] as number[]]));
  const teardown = new Map(runtimes.map((r) => [r.name, [] as number[]]));
  const phases = new Map(runtimes.map((r) => [r.name, [[], [], []] as number[][]]));
  for (let i = -2; i < RUNS; i++) {
    for (const r of runtimes) {
      const t0 = performance.now();
      const id = await startPod(r.client, logs, i, i >= 0 ? phases.get(r.name) : undefined);
      const t1 = performance.now();
      await removePod(r.client, id);
      const t2 = performance.now();
      if (i >= 0) {
        start.get(r.name)!.push(t1 - t0);
        teardown.get(r.name)!.push(t2 - t1);
      }
    }
  }

  // Memory with PODS pods running on each.
  const mem = new Map<string, { pss: number; rss: number; daemonRss: number }>();
  for (const r of runtimes) {
    const pods: string[] = [];
    for (let i = 0; i < PODS; i++) pods.push(await startPod(r.client, logs, 1000 + i));
    await new Promise((res) => setTimeout(res, 1000));
    const m = memory(await r.perPod(pods));
    mem.set(r.name, { pss: m.pss / PODS, rss: m.rss / PODS, daemonRss: memory([r.daemon]).rss });
    for (const id of pods) await removePod(r.client, id);
  }

  const [b, c] = runtimes.map((r) => r.name);
  const row = (label: string, f: (n: string) => string, ratio?: (n: string) => number) =>
    `| ${label} | ${runtimes.map((r) => f(r.name)).join(' | ')} |${c && ratio ? ` ${(ratio(b) / ratio(c)).toFixed(2)} |` : ''}`;
  const ms = (m: Map<string, number[]>, p: number) => (n: string) => `${pct(m.get(n)!, p).toFixed(1)} ms`;
  const mib = (k: number) => `${(k / 1024).toFixed(2)} MiB`;
  console.log(`\n${os.cpus().length} CPUs, ${os.release()}; ${RUNS} pods each (after 2 warm-up), ${PODS} running for memory\n`);
  console.log(`| measure | ${runtimes.map((r) => r.name).join(' | ')} |${c ? ` ${b} / ${c} |` : ''}`);
  console.log(`|---|${runtimes.map(() => '---').join('|')}|${c ? '---|' : ''}`);
  console.log(row('pod start p50 (run + create + start)', ms(start, 50), (n) => pct(start.get(n)!, 50)));
  console.log(row('pod start p90', ms(start, 90), (n) => pct(start.get(n)!, 90)));
  for (const [k, call] of ['RunPodSandbox', 'CreateContainer', 'StartContainer'].entries())
    console.log(row(`  ${call} p50`, (n) => `${pct(phases.get(n)![k], 50).toFixed(1)} ms`, (n) => pct(phases.get(n)![k], 50)));
  console.log(row('pod stop + remove p50', ms(teardown, 50), (n) => pct(teardown.get(n)!, 50)));
  console.log(row('memory per running pod (PSS)', (n) => mib(mem.get(n)!.pss), (n) => mem.get(n)!.pss));
  console.log(row('memory per running pod (RSS)', (n) => mib(mem.get(n)!.rss), (n) => mem.get(n)!.rss));
  console.log(row(`daemon RSS after the runs`, (n) => mib(mem.get(n)!.daemonRss), (n) => mem.get(n)!.daemonRss));
} finally {
  for (const r of runtimes) await r.stop().catch((err) => console.error(`${r.name}: ${err.message}`));
  await registry.stop();
  unmountUnder(work);
  fs.rmSync(work, { recursive: true, force: true });
}
