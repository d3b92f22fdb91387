// `compose up -d` then `down -v` of a three-service app (web publishing a port with a
// healthcheck, db with a named volume, worker depending on both), side by side: berth compose
// (in-process) against docker-compose 1.29 on a private dockerd. Runs are interleaved.
// Docker's project network gets a bridge named berth* (driver_opts), as the machine's rules ask.
// Usage: node bench/compose.ts [--runs N] [--no-docker]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BERTH, benchArgs, busyboxWork, interleave, latencyTable, quiet, removeScopes } from './common.ts';
import { dockerd, type Dockerd } from './dockerd.ts';

const { runs, wantDocker } = benchArgs(5);
const { work, tar } = busyboxWork();
const berthEnv = { ...process.env, BERTH_ROOT: path.join(work, 'berth'), BERTH_NETNS_POOL: '0' };
quiet(BERTH, ['import', '--change', 'CMD ["sh"]', tar, 'bench/busybox:1'], berthEnv);

const forever = (cmd: string) => JSON.stringify(['sh', '-c', `trap 'exit 0' TERM; ${cmd}; sleep 1000 & wait`]);
const app = path.join(work, 'app');
fs.mkdirSync(app);
fs.writeFileSync(path.join(app, 'compose.yaml'), `
services:
  web:
    image: bench/busybox:1
    command: ${forever('httpd -p 8080 -h /')}
    ports: ["127.0.0.1:28080:8080"]
    healthcheck: {test: ["CMD", "true"], interval: 5s}
  db:
    image: bench/busybox:1
    command: ${forever('date >> /data/log')}
    volumes: [data:/data]
  worker:
    image: bench/busybox:1
    command: ${forever('echo working')}
    depends_on: [web, db]
volumes:
  data:
`);
fs.writeFileSync(path.join(app, 'docker.yaml'), `
networks:
  default:
    driver_opts: {com.docker.network.bridge.name: berthdcbench0}
`);

let docker: Dockerd | undefined;
if (wantDocker) {
  try {
    docker = await dockerd(work);
    quiet('docker', ['-H', docker.host, 'import', '--change', 'CMD ["sh"]', tar, 'bench/busybox:1']);
  } catch (err) {
    console.error(`docker: not compared (${(err as Error).message})`);
    docker = undefined;
  }
}

const berthCompose = (verb: string[]) => quiet(BERTH, ['compose', '-f', path.join(app, 'compose.yaml'), '-p', 'bench', ...verb], berthEnv);
const tools: Array<[string, () => void]> = [['berth compose', () => (berthCompose(['up', '-d']), berthCompose(['down', '-v']))]];
if (docker) {
  const env = { ...process.env, DOCKER_HOST: docker.host };
  const dc = (verb: string[]) => quiet('docker-compose', ['-f', path.join(app, 'compose.yaml'), '-f', path.join(app, 'docker.yaml'), '-p', 'bench', ...verb], env);
  tools.push(['docker-compose 1.29', () => (dc(['up', '-d']), dc(['down', '-v']))]);
}

try {
  const times = interleave(tools, runs);
  console.log(`\ncompose up -d + down -v, three services, ${runs} runs each after 3 warm-ups, interleaved (${os.cpus().length} CPUs, ${os.release()})\n`);
  console.log(latencyTable(times, 'tool'));
} finally {
  await docker?.stop();
  await removeScopes([path.join(work, 'berth')]);
  fs.rmSync(work, { recursive: true, force: true });
}
