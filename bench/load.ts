// Load (issue 21): 1,000 concurrent API requests of mixed kinds against `berth daemon`, then
// 200 `run --rm` with 8 in parallel through the daemon (the docker CLI) and daemonless (berth).
// The API burst comes `--bursts` times against one daemon, each with streaming clients (attach,
// logs --follow, events, stats) that leave mid-stream, to show whether the daemon's memory is
// bounded: its RSS before, at each burst's peak and after it (after a full collection).
// Reports failures, leaks (containers, cgroups, mounts, network state: the integration tests'
// checks; the daemon's fds; temporary files in the state root) and the daemon's memory.
// Usage: node bench/load.ts [--requests N] [--bursts N] [--streams N] [--runs N] [--parallel N] [--network NAME]
//   [--heap-snapshots DIR]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { BERTH, collect, TestRoot } from '../test/helpers/berth.ts';
import { DOCKER, TestDaemon } from '../test/helpers/daemon.ts';
import { pct } from './common.ts';
import { INSPECT_ENV, Inspector, Watch, type Reading } from './daemon-memory.ts';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : def);
const requests = Number(opt('requests', '1000'));
const bursts = Number(opt('bursts', '5'));
const streams = Number(opt('streams', '100'));
const runs = Number(opt('runs', '200'));
const parallel = Number(opt('parallel', '8'));
const network = opt('network', 'none');
const snapshots = opt('heap-snapshots', ''); // a directory: the daemon's heap after each burst

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

/**
 * A streaming client that leaves mid-stream: it sends the request, then drops the connection at
 * once (`early`) or once the answer's head and some of its stream have come (or 2 s after the
 * head: a quiet stream). Its failure, if the daemon did not answer with `want`.
 */
function leaver(socket: string, head: string, want: number, early: boolean): Promise<string | undefined> {
  return new Promise((resolve) => {
    const conn = net.connect(socket);
    let got = '';
    let quiet: NodeJS.Timeout | undefined;
    const fail = setTimeout(() => done(`no answer in 30 s`), 30_000);
    const done = (failure?: string) => {
      clearTimeout(fail);
      clearTimeout(quiet);
      conn.destroy();
      resolve(failure && `${head.split('\r\n')[0]}: ${failure}`);
    };
    conn.on('error', (err) => done(early ? undefined : err.message));
    conn.write(head, () => early && done());
    conn.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1]);
      if (status !== want) return done(`${status} ${got.slice(end + 4, end + 200)}`);
      if (got.length > end + 4) return done();
      quiet ??= setTimeout(() => done(), 2000);
    });
    conn.on('end', () => done(got ? undefined : 'closed without an answer'));
  });
}

/** `count` streaming clients of four kinds on container `id`, half leaving early; their failures. */
async function leavers(socket: string, id: string, count: number): Promise<string[]> {
  const kinds: Array<[string, number]> = [
    [`POST /containers/${id}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n`, 101],
    [`GET /containers/${id}/logs?follow=1&stdout=1&stderr=1&tail=5 HTTP/1.1\r\nHost: d\r\n\r\n`, 200],
    [`GET /events HTTP/1.1\r\nHost: d\r\n\r\n`, 200],
    [`GET /containers/${id}/stats HTTP/1.1\r\nHost: d\r\n\r\n`, 200],
  ];
  const r = await Promise.all(Array.from({ length: count }, (_, i) => leaver(socket, kinds[i % kinds.length][0], kinds[i % kinds.length][1], i % 8 >= 4)));
  return r.filter((f): f is string => f !== undefined);
}

/** Temporary files left in the state root (atomic writes' `.tmp`, claims' `.stale`). */
function tempLeftovers(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.(tmp|stale)$|^\.tmp|\/\.tmp/.test(f)).map((f) => path.join(dir, f));
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
const d = new TestDaemon(root, { env: INSPECT_ENV });
await d.start();
const watch = new Watch(d.pid);
const inspector = await Inspector.open(d.pid, () => d.log);
const report: string[] = [`load: ${bursts} x ${requests} concurrent API requests with ${streams} streaming clients leaving mid-stream, ${runs} run --rm x2 (${parallel} in parallel, --network ${network}); ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`, ''];
const failures: string[] = [];
const fmt = (r: Reading) => `${r.rss.toFixed(0)} MB (heap ${r.heap.toFixed(1)} MB, ${r.fds} fds)`;
let failed = 0;
try {
  // The streams' container: it writes a line every 0.2 s until the end.
  const talker = JSON.parse((await d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['sh', '-c', 'while :; do echo tick; sleep 0.2; done'], HostConfig: { NetworkMode: 'none' } }))).body).Id as string;
  if ((await d.request('POST', `/containers/${talker}/start`)).status !== 204) throw new Error('cannot start the streams\' container');
  const before = await inspector.settled(watch);
  report.push(`| API burst | failed | streams failed | wall | p50, p95 | daemon peak RSS | after (full GC) |`, '|---|---|---|---|---|---|---|');
  for (let n = 1; n <= bursts; n++) {
    watch.start();
    const [b, s] = await Promise.all([burst(d.socket), leavers(d.socket, talker, streams)]);
    for (const id of b.created) await d.request('DELETE', `/containers/${id}?force=1`);
    watch.stop();
    await new Promise((r) => setTimeout(r, 1000));
    const after = await inspector.settled(watch);
    if (snapshots) await inspector.snapshot(path.join(snapshots, `burst-${n}.heapsnapshot`));
    report.push(`| ${n} of ${bursts} | ${b.failures.length} of ${requests} | ${s.length} of ${streams} | ${b.ms} ms | ${b.p50}, ${b.p95} ms | ${watch.peakRss.toFixed(0)} MB (${watch.peakFds} fds) | ${fmt(after)} |`);
    failures.push(...b.failures, ...s);
  }
  report.push('', `daemon before the bursts: ${fmt(before)}`, '');

  watch.start();
  const image = ['--rm', '--network', network, 'busybox', 'true'];
  const viaDaemon = await runMany(runs, () => collect(spawn(DOCKER, ['run', ...image], { env: { ...process.env, DOCKER_HOST: `unix://${d.socket}`, DOCKER_CONFIG: `${root.dir}/docker-config` }, stdio: ['ignore', 'pipe', 'pipe'] }), 120_000));
  report.push(`| docker run --rm (daemon) | ${runs} runs | ${viaDaemon.failures.length} failed | ${viaDaemon.ms} ms wall | ${(viaDaemon.ms / runs).toFixed(0)} ms per run |`);
  const daemonless = await runMany(runs, () => collect(spawn(BERTH, ['run', ...image], { env: root.env(), stdio: ['ignore', 'pipe', 'pipe'] }), 120_000));
  report.push(`| berth run --rm (daemonless) | ${runs} runs | ${daemonless.failures.length} failed | ${daemonless.ms} ms wall | ${(daemonless.ms / runs).toFixed(0)} ms per run |`);
  watch.stop();
  failures.push(...viaDaemon.failures, ...daemonless.failures);
  await d.request('DELETE', `/containers/${talker}?force=1`);
  for (const f of failures.slice(0, 10)) report.push(`failure: ${f}`);
  failed = failures.length;

  // Settled: the daemon's memory after a full collection, and what is left on the machine.
  const fds = await root.until(() => watch.fds(), (n) => n <= before.fds, 10_000);
  const after = await inspector.settled(watch);
  const left = (await d.request('GET', '/containers/json?all=1')).body;
  const leaks = [
    ...(JSON.parse(left) as unknown[]).map((c) => `container ${JSON.stringify(c).slice(0, 80)}`),
    ...(await root.until(() => root.leftovers(), (l) => l.length === 0, 10_000)),
    ...(await root.eventually(async () => root.netLeftovers(), (l) => l.length === 0, 30_000)),
    ...tempLeftovers(root.dir),
    ...(fds > before.fds ? [`daemon fds: ${fds}, ${before.fds} before: ${fs.readdirSync(`/proc/${d.pid}/fd`).map((f) => fs.readlinkSync(`/proc/${d.pid}/fd/${f}`)).join(' ')}`] : []),
  ];
  report.push(`| run --rm: daemon peak RSS ${watch.peakRss.toFixed(0)} MB (${watch.peakFds} fds) | after (full GC): ${fmt(after)} |`);
  report.push('', `leaks: ${leaks.length ? leaks.join('; ') : 'none'}`);
  failed += leaks.length;
} finally {
  watch.stop();
  inspector.close();
  await d.stop();
  await root.cleanup();
}
console.log(report.join('\n'));
process.exitCode = failed ? 1 : 0;
