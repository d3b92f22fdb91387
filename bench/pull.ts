// Pull of a real ~200 MB image (a Debian minbase root filesystem from debootstrap, one gzip
// layer) from the CNCF registry on loopback: `berth pull` against `docker pull` from the same
// registry, interleaved, each into an empty store every run.
// Usage: node bench/pull.ts [--runs 3] [--no-docker]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OciLayout } from '../test/helpers/oci.ts';
import { TestRegistry } from '../test/helpers/registry.ts';
import { BERTH } from './common.ts';
import { dockerd, type Dockerd } from './dockerd.ts';

const args = process.argv.slice(2);
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 3;
const CACHE = '/var/cache/berth-bench/debian-minbase.tar';

function rootfs(): string {
  if (fs.existsSync(CACHE)) return CACHE;
  console.error('building a Debian minbase root filesystem with debootstrap (once, ~1 min)...');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-minbase-'));
  try {
    execFileSync('debootstrap', ['--variant=minbase', 'bookworm', dir], { stdio: 'ignore' });
    fs.mkdirSync(path.dirname(CACHE), { recursive: true });
    execFileSync('tar', ['--numeric-owner', '-C', dir, '-cf', `${CACHE}.tmp`, '.']);
    fs.renameSync(`${CACHE}.tmp`, CACHE);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return CACHE;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function timed(cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr}`);
  return performance.now() - t0;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pullbench-'));
const tar = fs.readFileSync(rootfs());
const layout = new OciLayout(path.join(work, 'layout'));
const img = layout.image({ layers: [{ tar, compression: 'gzip' }], cmd: ['bash'] });
layout.tag('bench', img.manifest);
const reg = await TestRegistry.start();
let docker: Dockerd | undefined;
try {
  const ref = `${reg.host}/debian:bench`;
  execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout.dir}:bench`, `docker://${ref}`]);
  if (!args.includes('--no-docker')) {
    try {
      docker = await dockerd(work);
    } catch (err) {
      console.error(`docker: not compared (${(err as Error).message})`);
    }
  }
  const b: number[] = [];
  const d: number[] = [];
  for (let i = 0; i < runs; i++) {
    const env = { ...process.env, BERTH_ROOT: path.join(work, `berth-${i}`) };
    b.push(timed(BERTH, ['pull', '-q', ref], env));
    spawnSync(BERTH, ['rmi', ref], { env, stdio: 'ignore' });
    fs.rmSync(env.BERTH_ROOT, { recursive: true, force: true });
    if (docker) {
      d.push(timed('docker', ['-H', docker.host, 'pull', '-q', ref]));
      spawnSync('docker', ['-H', docker.host, 'rmi', ref], { stdio: 'ignore' });
    }
  }
  const size = img.layers[0].size;
  console.log(`\npull of a ${(tar.length / 1e6).toFixed(0)} MB root filesystem (${(size / 1e6).toFixed(0)} MB gzip, one layer), ${runs} runs, ${os.cpus().length} CPUs\n`);
  console.log('| tool | median | berth / tool |\n|---|---|---|');
  console.log(`| berth pull | ${(median(b) / 1000).toFixed(2)} s | 1.00 |`);
  if (d.length) console.log(`| docker pull | ${(median(d) / 1000).toFixed(2)} s | ${(median(b) / median(d)).toFixed(2)} |`);
} finally {
  await docker?.stop();
  await reg.stop();
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    try {
      fs.rmdirSync(path.join('/sys/fs/cgroup', h, 'berth/docker-bench'));
    } catch {}
  }
  fs.rmSync(work, { recursive: true, force: true });
}
