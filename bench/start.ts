// Start latency, side by side in one run: `berth run --rm IMAGE true` against `runc run` on the
// same busybox root filesystem and, where a Docker daemon can be started, against
// `docker run --rm --network none`; and berth-runtime, berth's OCI runtime, against runc on the
// same bundle; berth with and without its resource views. Runs are interleaved so machine noise
// hits every tool alike.
// Usage: node bench/start.ts [--runs N] [--no-docker]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BERTH, REPO, benchArgs, busyboxWork, interleave, latencyTable, quiet, removeScopes } from './common.ts';
import { dockerd, type Dockerd } from './dockerd.ts';

const { runs, wantDocker } = benchArgs(50);
const sh = quiet;
const { work, tar } = busyboxWork();

// berth: its own state root.
const berthEnv = { ...process.env, BERTH_ROOT: path.join(work, 'berth') };
sh(BERTH, ['import', tar, 'bench/busybox:1'], berthEnv);

// runc: a standard bundle from `runc spec`, running `true` with no terminal.
const bundle = path.join(work, 'bundle');
fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
execFileSync('tar', ['-C', path.join(bundle, 'rootfs'), '-xf', tar]);
execFileSync('runc', ['spec'], { cwd: bundle });
const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
spec.process.terminal = false;
spec.process.args = ['true'];
spec.linux.cgroupsPath = 'berth/bench-runc';
fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
const runcRoot = path.join(work, 'runc-state');
// berth-runtime: the same bundle (root filesystem, process), in berth's own cgroup subtree.
const ociBundle = path.join(work, 'bundle-berth');
fs.mkdirSync(ociBundle);
fs.writeFileSync(path.join(ociBundle, 'config.json'), JSON.stringify({ ...spec, root: { path: path.join(bundle, 'rootfs'), readonly: true }, linux: { ...spec.linux, cgroupsPath: undefined } }));
const ociRoot = path.join(work, 'berth-runtime-state');

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

const tools: Array<[string, () => void]> = [
  // --network none on both sides: start cost without networking (bench/network.ts has the bridge).
  ['berth run --rm', () => sh(BERTH, ['run', '--rm', '--network', 'none', 'bench/busybox:1', 'true'], berthEnv)],
  // The resource views' cost (lxcfs binds, the sysinfo filter and its listener): the same without them.
  ['berth run --rm --proc-views=false', () => sh(BERTH, ['run', '--rm', '--network', 'none', '--proc-views=false', 'bench/busybox:1', 'true'], berthEnv)],
  ['runc run', () => sh('runc', ['--root', runcRoot, 'run', '--bundle', bundle, `b${process.pid}`])],
  ['berth-runtime run', () => sh(path.join(REPO, 'bin/berth-runtime'), ['--root', ociRoot, 'run', '--bundle', ociBundle, `b${process.pid}`])],
];
if (docker) {
  const host = docker.host;
  tools.push(['docker run --rm --network none', () => sh('docker', ['-H', host, 'run', '--rm', '--network', 'none', 'bench/busybox:1', 'true'])]);
}

try {
  const times = interleave(tools, runs);
  console.log(`\nstart latency, ${runs} runs each, interleaved (${os.cpus().length} CPUs, ${os.release()})\n`);
  console.log(latencyTable(times, 'tool'));
} finally {
  await docker?.stop();
  // The engine keeps its per-root cgroup scope; a benchmark's root is gone after this run.
  await removeScopes([berthEnv.BERTH_ROOT], ['berth/docker-bench', 'berth/bench-runc']);
  fs.rmSync(work, { recursive: true, force: true });
}
