// The API daemons side by side, one client: `docker run --rm --network none IMAGE true` with the
// same docker CLI against `berth daemon` and against a throwaway dockerd, on the same busybox
// root filesystem, interleaved so machine noise hits both alike.
// Usage: node bench/daemon.ts [--runs N] [--no-docker]
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BERTH, benchArgs, busyboxWork, interleave, latencyTable, quiet, removeScopes } from './common.ts';
import { dockerd, type Dockerd } from './dockerd.ts';

const { runs, wantDocker } = benchArgs(40);
const sh = quiet;
const { work, tar } = busyboxWork();
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
  const times = interleave(tools, runs);
  console.log(`\ndocker run --rm --network none IMAGE true, docker CLI, ${runs} runs each, interleaved (${os.cpus().length} CPUs, ${os.release()})\n`);
  console.log(latencyTable(times, 'daemon'));
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  await docker?.stop();
  await removeScopes([berthRoot]);
  fs.rmSync(work, { recursive: true, force: true });
}
