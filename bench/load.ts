// Load (issue 21): 1,000 concurrent API requests of mixed kinds against `berth daemon`, then
// 200 `run --rm` with 8 in parallel through the daemon (the docker CLI) and daemonless (berth).
// Reports failures, leaks (containers, cgroups, mounts, network state: the integration tests'
// checks) and the daemon's RSS and open fds before, at peak and after.
// Usage: node bench/load.ts [--requests N] [--runs N] [--parallel N] [--network NAME]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import { BERTH, collect, TestRoot } from '../test/helpers/berth.ts';
import { DOCKER, TestDaemon } from '../test/helpers/daemon.ts';
import { pct } from './common.ts';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : def);
const requests = Number(opt('requests', '1000'));
const runs = Number(opt('runs', '200'));
const parallel = Number(opt('parallel', '8'));
const network = opt('network', 'none');

/** The daemon's resident memory (MB) and open fds, sampled every 100 ms for the peak. */
class Watch {
  peakRss = 0;
  peakFds = 0;
  private timer?: NodeJS.Timeout;
  readonly pid: number;
  constructor(pid: number) {
    this.pid = pid;
  }
  rss(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  }
  fds(): number {
    return fs.readdirSync(`/proc/${this.pid}/fd`).length;
  }
  start(): void {
    this.timer = setInterval(() => {
      try {
        this.peakRss = Math.max(this.peakRss, this.rss());
        this.peakFds = Math.max(this.peakFds, this.fds());
      } catch {} // gone: the run reports it
    }, 100);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** One API request on its own connection (no agent: all of them connect at once). */
function request(socket: string, method: string, p: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, path: p, method, agent: false, headers: body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The mix: [method, path, body, expected status]; a create is removed again after the burst. */
const KINDS: Array<[string, string, string | undefined, number]> = [
  ['GET', '/_ping', undefined, 200],
  ['GET', '/version', undefined, 200],
  ['GET', '/info', undefined, 200],
  ['GET', '/containers/json?all=1', undefined, 200],
  ['GET', '/images/json', undefined, 200],
  ['GET', '/images/busybox/json', undefined, 200],
  ['GET', '/networks', undefined, 200],
  ['GET', '/volumes', undefined, 200],
  ['GET', '/containers/no-such-container/json', undefined, 404],
  ['POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } }), 201],
];

async function burst(socket: string): Promise<{ failures: string[]; ms: number; p50: number; p95: number; created: string[] }> {
  const failures: string[] = [];
  const created: string[] = [];
  const times: number[] = [];
  const t0 = Date.now();
  await Promise.all(Array.from({ length: requests }, async (_, i) => {
    const [method, p, body, want] = KINDS[i % KINDS.length];
    const s = Date.now();
    try {
      const r = await request(socket, method, p, body);
      times.push(Date.now() - s);
      if (r.status !== want) failures.push(`${method} ${p}: ${r.status} ${r.body.slice(0, 200)}`);
      else if (want === 201) created.push(JSON.parse(r.body).Id);
    } catch (err) {
      failures.push(`${method} ${p}: ${(err as Error).message}`);
    }
  }));
  return { failures, ms: Date.now() - t0, p50: pct(times, 50), p95: pct(times, 95), created };
}

/** `count` runs of `cmd`, `parallel` at a time; the failures' messages. */
async function runMany(count: number, cmd: () => Promise<{ code: number | null; stderr: string }>): Promise<{ failures: string[]; ms: number }> {
  const failures: string[] = [];
  let next = 0;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) {
      next++;
      const r = await cmd().catch((err: Error) => ({ code: -1, stderr: err.message }));
      if (r.code !== 0) failures.push(r.stderr.trim().slice(0, 300));
    }
  }));
  return { failures, ms: Date.now() - t0 };
}

const root = await TestRoot.withBusybox();
const d = new TestDaemon(root);
await d.start();
const watch = new Watch(d.pid);
const before = { rss: watch.rss(), fds: watch.fds() };
watch.start();
const report: string[] = [`load: ${requests} concurrent API requests, ${runs} run --rm x2 (${parallel} in parallel, --network ${network}); ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`, ''];
let failed = 0;
try {
  const b = await burst(d.socket);
  for (const id of b.created) await d.request('DELETE', `/containers/${id}?force=1`);
  report.push(`| API burst | ${requests} requests | ${b.failures.length} failed | ${b.ms} ms wall | p50 ${b.p50} ms, p95 ${b.p95} ms |`);
  const image = ['--rm', '--network', network, 'busybox', 'true'];
  const viaDaemon = await runMany(runs, () => collect(spawn(DOCKER, ['run', ...image], { env: { ...process.env, DOCKER_HOST: `unix://${d.socket}`, DOCKER_CONFIG: `${root.dir}/docker-config` }, stdio: ['ignore', 'pipe', 'pipe'] }), 120_000));
  report.push(`| docker run --rm (daemon) | ${runs} runs | ${viaDaemon.failures.length} failed | ${viaDaemon.ms} ms wall | ${(viaDaemon.ms / runs).toFixed(0)} ms per run |`);
  const daemonless = await runMany(runs, () => collect(spawn(BERTH, ['run', ...image], { env: root.env(), stdio: ['ignore', 'pipe', 'pipe'] }), 120_000));
  report.push(`| berth run --rm (daemonless) | ${runs} runs | ${daemonless.failures.length} failed | ${daemonless.ms} ms wall | ${(daemonless.ms / runs).toFixed(0)} ms per run |`);
  for (const f of [...b.failures, ...viaDaemon.failures, ...daemonless.failures].slice(0, 10)) report.push(`failure: ${f}`);
  failed = b.failures.length + viaDaemon.failures.length + daemonless.failures.length;

  // Settled: the daemon's memory after a collection window, and what is left on the machine.
  await new Promise((r) => setTimeout(r, 2000));
  watch.stop();
  const afterRss = watch.rss();
  const afterFds = watch.fds();
  const left = (await d.request('GET', '/containers/json?all=1')).body;
  const leaks = [
    ...(JSON.parse(left) as unknown[]).map((c) => `container ${JSON.stringify(c).slice(0, 80)}`),
    ...(await root.until(() => root.leftovers(), (l) => l.length === 0, 10_000)),
    ...(await root.eventually(async () => root.netLeftovers(), (l) => l.length === 0, 30_000)),
  ];
  report.push('', `| daemon | before | peak | after |`, '|---|---|---|---|');
  report.push(`| RSS (MB) | ${before.rss.toFixed(0)} | ${watch.peakRss.toFixed(0)} | ${afterRss.toFixed(0)} |`);
  report.push(`| open fds | ${before.fds} | ${watch.peakFds} | ${afterFds} |`);
  report.push('', `leaks: ${leaks.length ? leaks.join('; ') : 'none'}`);
  failed += leaks.length;
} finally {
  watch.stop();
  await d.stop();
  await root.cleanup();
}
console.log(report.join('\n'));
process.exitCode = failed ? 1 : 0;
