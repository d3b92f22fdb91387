// Start latency with networking, side by side in one run: `run --rm IMAGE true` on the default
// bridge network, berth against Docker (its default network on a bridge of ours), and both with
// `--network none` as the baseline. Runs are interleaved so machine noise hits every tool alike.
// Docker runs with --iptables=false (a shared machine: its rules would change FORWARD's policy), so
// its bridge start skips the NAT rules berth's includes: the comparison favours Docker.
// Usage: node bench/network.ts [--runs N]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BERTH, interleave, pct, quiet as sh, removeScopes, REPO } from './common.ts';
import { dockerd, type Dockerd } from './dockerd.ts';
import { formatIp, parseProcRoutes, pickSubnet } from '../src/network/cidr.ts';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 20;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
const tar = path.join(work, 'rootfs.tar');
execFileSync(path.join(REPO, 'scripts/mkrootfs.sh'), [tar]);
const berthEnv = { ...process.env, BERTH_ROOT: path.join(work, 'berth') };
sh(BERTH, ['import', tar, 'bench/busybox:1'], berthEnv);
// berth's default network first, so the bridge for Docker avoids its subnet (and the host's routes).
sh(BERTH, ['network', 'ls'], berthEnv);

const bridge = 'berthdocker0';
let docker: Dockerd | undefined;
try {
  const free = pickSubnet([], parseProcRoutes(fs.readFileSync('/proc/net/route', 'utf8')));
  if (!free) throw new Error('no free subnet for the bridge');
  sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
  sh('ip', ['addr', 'add', `${formatIp(free.base + 1)}/${free.bits}`, 'dev', bridge]);
  sh('ip', ['link', 'set', bridge, 'up']);
  docker = await dockerd(work, { bridge });
  sh('docker', ['-H', docker.host, 'import', tar, 'bench/busybox:1']);
} catch (err) {
  console.error(`docker: not compared (${(err as Error).message})`);
  docker = undefined;
}

const tools: Array<[string, () => void]> = [
  ['berth run --rm (bridge)', () => sh(BERTH, ['run', '--rm', 'bench/busybox:1', 'true'], berthEnv)],
  ['berth run --rm --network none', () => sh(BERTH, ['run', '--rm', '--network', 'none', 'bench/busybox:1', 'true'], berthEnv)],
];
if (docker) {
  const host = docker.host;
  tools.push(['docker run --rm (bridge)', () => sh('docker', ['-H', host, 'run', '--rm', 'bench/busybox:1', 'true'])]);
  tools.push(['docker run --rm --network none', () => sh('docker', ['-H', host, 'run', '--rm', '--network', 'none', 'bench/busybox:1', 'true'])]);
}

try {
  const times = interleave(tools, runs);
  const p50 = (n: string) => pct(times.get(n)!, 50);
  console.log(`\nstart latency with networking, ${runs} runs each, interleaved (${os.cpus().length} CPUs, ${os.release()})\n`);
  console.log('| tool | p50 ms | p95 ms |');
  console.log('|---|---|---|');
  for (const [n] of tools) console.log(`| ${n} | ${p50(n).toFixed(1)} | ${pct(times.get(n)!, 95).toFixed(1)} |`);
  if (docker) {
    console.log(`\nberth / docker (p50): bridge ${(p50('berth run --rm (bridge)') / p50('docker run --rm (bridge)')).toFixed(2)}, ` +
      `none ${(p50('berth run --rm --network none') / p50('docker run --rm --network none')).toFixed(2)}`);
  }
} finally {
  await docker?.stop();
  spawnSync('ip', ['link', 'del', bridge]);
  // Sandboxes are released after each run returns (and the last release tops the pool up): wait
  // for that, empty the pool, then take the root's networks down.
  const { openRoot } = await import('../src/core/root.ts');
  const { Networks } = await import('../src/network/store.ts');
  const { Sandboxes } = await import('../src/network/sandbox.ts');
  const { poolSize } = await import('../src/network/sweep.ts');
  const root = openRoot(berthEnv.BERTH_ROOT);
  const nets = new Networks(root);
  const sbs = new Sandboxes(root, nets, (c) => path.join(root.dir, 'containers', c, 'hosts'));
  const settled = () => { const l = sbs.list(); return l.every((s) => s.pooled !== undefined) && l.length >= poolSize(); };
  for (const end = Date.now() + 60_000; Date.now() < end && !settled();) await new Promise((r) => setTimeout(r, 100));
  await sbs.drainPool();
  const sandboxes = path.join(root.dir, 'networks', 'sandboxes');
  for (const end = Date.now() + 60_000; Date.now() < end && fs.existsSync(sandboxes) && fs.readdirSync(sandboxes).filter((n) => n.endsWith('.json')).length;) await new Promise((r) => setTimeout(r, 100));
  for (const n of nets.list()) await nets.remove(n.Id, () => undefined).catch(() => undefined);
  await removeScopes([berthEnv.BERTH_ROOT]);
  fs.rmSync(work, { recursive: true, force: true });
}
