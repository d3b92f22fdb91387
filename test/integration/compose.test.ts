// berth compose on a three-service app (web with a published port and a healthcheck, db with a
// named volume, worker waiting for web to be healthy), then docker-compose 1.29 (Debian's
// Python client) driving the same kind of app through berth's daemon.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH, collect, isRoot, TestRoot, type Result } from '../helpers/berth.ts';

const DOCKER_COMPOSE = '/usr/bin/docker-compose';
const port = 20000 + Math.floor(Math.random() * 20000);

// Each long-running command ends at once on SIGTERM (sh as pid 1 ignores it otherwise).
const forever = (cmd: string) => JSON.stringify(['sh', '-c', `trap 'exit 0' TERM; ${cmd}; sleep 1000 & wait`]);
const app = (dbMessage = 'db up') => `
services:
  web:
    image: busybox
    command: ${forever('mkdir -p /www && echo hello > /www/index.html && httpd -p 8080 -h /www')}
    ports: ["127.0.0.1:${port}:8080"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/"]
      interval: 1s
      timeout: 3s
      retries: 10
  db:
    image: busybox
    command: ${forever(`echo ${dbMessage}; date >> /data/log`)}
    volumes: [data:/data]
  worker:
    image: busybox
    command: ${forever('echo worker sees $$(wget -q -O- http://web:8080/)')}
    depends_on:
      web: {condition: service_healthy}
      db: {condition: service_started}
volumes:
  data:
`;

const skip = !isRoot ? 'needs root' : false;

describe('berth compose', { skip }, () => {
  let root: TestRoot;
  let dir: string;
  const compose = (args: string[], opts: { input?: string } = {}) => root.run(['compose', '-f', path.join(dir, 'compose.yaml'), '-p', 'shop', ...args], { ...opts, timeoutMs: 120_000 });
  const ids = async () => {
    const r = await compose(['ps', '-a', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return Object.fromEntries(r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((x: { Name: string; ID: string }) => [x.Name, x.ID]));
  };

  before(async () => {
    root = await TestRoot.withBusybox();
    dir = fs.mkdtempSync(path.join(root.dir, 'app-'));
    fs.writeFileSync(path.join(dir, 'compose.yaml'), app());
  });
  after(async () => {
    await root?.cleanup();
  });

  test('bad projects fail clearly before anything is created', async () => {
    const bad = path.join(dir, 'bad.yaml');
    const cases: Array<[string, RegExp]> = [
      ['services:\n  a: {image: busybox, ports: [true]}\n', /bad\.yaml: services\.a\.ports\[0\] must be a number, a string or a mapping/],
      ['services:\n  a: {image: busybox, depends_on: [b]}\n  b: {image: busybox, depends_on: [a]}\n', /dependency cycle detected/],
      ['services:\n  a: {image: "busybox:${NOPE:?set NOPE first}"}\n', /required variable NOPE is missing a value: set NOPE first/],
      ['services:\n  a: {image: busybox, volumes_from: [b]}\n', /service "a" refers to undefined service b/],
      ['services:\n  a: {image: busybox, logging: {driver: syslog}}\n', /the logging driver "syslog"/],
    ];
    for (const [text, want] of cases) {
      fs.writeFileSync(bad, text);
      const r = await root.run(['compose', '-f', bad, '-p', 'bad', 'up', '-d']);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, want);
    }
    // A port a host process listens on.
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(port + 1, '127.0.0.1', r));
    try {
      fs.writeFileSync(bad, `services:\n  a: {image: busybox, ports: ["127.0.0.1:${port + 1}:80"]}\n  b: {image: busybox, command: [sleep, "1"]}\n`);
      const r = await root.run(['compose', '-f', bad, '-p', 'bad', 'up', '-d']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, new RegExp(`service "a": Bind for 127.0.0.1:${port + 1} failed: port is already allocated`));
    } finally {
      srv.close();
    }
    assert.equal((await root.run(['ps', '-aq'])).stdout, '');
    assert.doesNotMatch((await root.run(['network', 'ls'])).stdout, /bad_default/);
  });

  test('up -d starts the app in dependency order; ps, logs, exec, run --rm', async () => {
    const up = await compose(['up', '-d']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /Container shop-web-1 {2}Healthy/);
    // worker started after web was healthy, and reached it by its service name.
    assert.ok(up.stderr.indexOf('Container shop-web-1  Healthy') < up.stderr.indexOf('Container shop-worker-1  Created'), up.stderr);
    const ps = await compose(['ps']);
    assert.match(ps.stdout, /shop-web-1 .* web .*Up .*\(healthy\)\s+127\.0\.0\.1:\d+->8080\/tcp/);
    assert.match(ps.stdout, /shop-db-1 .* db /);
    const body = await new Promise<string>((resolve, reject) => http.get(`http://127.0.0.1:${port}/`, (res) => {
      let t = '';
      res.on('data', (d) => (t += d)).on('end', () => resolve(t));
    }).on('error', reject));
    assert.equal(body, 'hello\n');
    const logs = await root.eventually(() => compose(['logs', '--no-color']), (r) => /worker sees hello/.test(r.stdout));
    assert.match(logs.stdout, /^shop-worker-1 +\| worker sees hello$/m);
    assert.match(logs.stdout, /^shop-db-1 +\| db up$/m);
    const exec = await compose(['exec', '-T', 'web', 'cat', '/www/index.html']);
    assert.equal(exec.stdout, 'hello\n', exec.stderr);
    const run = await compose(['run', '--rm', '-e', 'X=42', 'worker', 'sh', '-c', 'echo run $X; wget -q -O- http://web:8080/']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'run 42\nhello\n');
    assert.deepEqual(Object.keys(await ids()).sort(), ['shop-db-1', 'shop-web-1', 'shop-worker-1']);
    // The labels docker compose v2 reads.
    const inspect = JSON.parse((await root.run(['inspect', 'shop-db-1'])).stdout)[0];
    const l = inspect.Config.Labels;
    assert.equal(l['com.docker.compose.project'], 'shop');
    assert.equal(l['com.docker.compose.service'], 'db');
    assert.equal(l['com.docker.compose.container-number'], '1');
    assert.equal(l['com.docker.compose.oneoff'], 'False');
    assert.match(l['com.docker.compose.config-hash'], /^[a-f0-9]{64}$/);
    const cfg = await compose(['config', '--services']);
    assert.deepEqual(cfg.stdout.trim().split('\n').sort(), ['db', 'web', 'worker']);
  });

  test('a second up changes nothing; a changed service alone is recreated; scale', async () => {
    const before = await ids();
    const again = await compose(['up', '-d']);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /Creat|Recreat|Remov/);
    assert.deepEqual(await ids(), before);

    fs.writeFileSync(path.join(dir, 'compose.yaml'), app('db up again'));
    const changed = await compose(['up', '-d']);
    assert.equal(changed.code, 0, changed.stderr);
    const after = await ids();
    assert.notEqual(after['shop-db-1'], before['shop-db-1']);
    assert.equal(after['shop-web-1'], before['shop-web-1']);
    assert.equal(after['shop-worker-1'], before['shop-worker-1']);
    // The named volume outlived the recreation: two lines from two runs of db.
    const lines = await root.eventually(() => compose(['exec', '-T', 'db', 'cat', '/data/log']), (r) => r.stdout.trim().split('\n').length === 2);
    assert.equal(lines.stdout.trim().split('\n').length, 2);

    const up3 = await compose(['up', '-d', '--scale', 'worker=3']);
    assert.equal(up3.code, 0, up3.stderr);
    assert.deepEqual(Object.keys(await ids()).filter((n) => n.includes('worker')).sort(), ['shop-worker-1', 'shop-worker-2', 'shop-worker-3']);
    await compose(['up', '-d']);
    assert.deepEqual(Object.keys(await ids()).filter((n) => n.includes('worker')), ['shop-worker-1']);
  });

  test('stop / start, and berth through its daemon sees the same project', async () => {
    assert.equal((await compose(['stop'])).code, 0);
    assert.equal((await compose(['ps'])).stdout.split('\n').filter(Boolean).length, 1); // the header
    assert.equal((await compose(['start'])).code, 0);
    const d = await startDaemon(root);
    try {
      const r = await collect(spawn(BERTH, ['compose', '-f', path.join(dir, 'compose.yaml'), '-p', 'shop', 'ps', '--services'], { env: { ...process.env, BERTH_HOST: `unix://${d.socket}`, BERTH_ROOT: '' }, stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n').sort(), ['db', 'web', 'worker']);
    } finally {
      await d.stop();
    }
  });

  test('a failed up leaves what started running and names what failed', async () => {
    const f = path.join(dir, 'fail.yaml');
    fs.writeFileSync(f, [
      'services:',
      `  sick: {image: busybox, command: ${forever('true')}, healthcheck: {test: [CMD, "false"], interval: 1s, retries: 1}}`,
      '  needy: {image: busybox, command: [echo, never], depends_on: {sick: {condition: service_healthy}}}',
    ].join('\n'));
    const r = await root.run(['compose', '-f', f, '-p', 'fail', 'up', '-d'], { timeoutMs: 60_000 });
    assert.equal(r.code, 125);
    assert.match(r.stderr, /service "needy": dependency failed to start: container fail-sick-1 is unhealthy/);
    const ps = await root.run(['compose', '-p', 'fail', 'ps', '-a', '--format', '{{.Name}} {{.State}}']);
    assert.equal(ps.stdout, 'fail-sick-1 running\n');
    // -p alone (no file) names the project: down takes all of it.
    assert.equal((await root.run(['compose', '-p', 'fail', 'down', '-t', '1'])).code, 0);
    assert.equal((await root.run(['compose', '-p', 'fail', 'ps', '-aq'])).stdout, '');
  });

  test('down -v leaves nothing of the project', async () => {
    const down = await compose(['down', '-v']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal((await root.run(['ps', '-aq'])).stdout, '');
    assert.doesNotMatch((await root.run(['network', 'ls'])).stdout, /shop_default/);
    assert.doesNotMatch((await root.run(['volume', 'ls'])).stdout, /shop_data/);
    assert.deepEqual(root.leftovers(), []);
    await root.until(() => root.netLeftovers(), (l) => l.length === 0, 20_000);
    assert.deepEqual(root.netLeftovers(), []);
  });
});

interface Daemon {
  socket: string;
  stop(): Promise<void>;
}

async function startDaemon(root: TestRoot): Promise<Daemon> {
  const socket = path.join(root.dir, 'd.sock');
  const child: ChildProcess = spawn(BERTH, ['daemon', '-H', `unix://${socket}`], { env: root.env(), stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  const end = Date.now() + 15_000;
  while (!fs.existsSync(socket) || !(await new Promise((r) => net.connect(socket).on('connect', function (this: net.Socket) { this.end(); r(true); }).on('error', () => r(false))))) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`daemon did not come up: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    socket,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

describe('docker-compose 1.29 through berth daemon', { skip: skip || (!fs.existsSync(DOCKER_COMPOSE) && 'needs docker-compose') }, () => {
  let root: TestRoot;
  let dir: string;
  let d: Daemon;
  const dc = (args: string[]): Promise<Result> =>
    collect(spawn(DOCKER_COMPOSE, ['-f', path.join(dir, 'compose.yaml'), '-p', 'legacy', ...args], { env: { ...process.env, DOCKER_HOST: `unix://${d.socket}` }, stdio: ['ignore', 'pipe', 'pipe'] }), 120_000);

  before(async () => {
    root = await TestRoot.withBusybox();
    dir = fs.mkdtempSync(path.join(root.dir, 'app-'));
    fs.writeFileSync(path.join(dir, 'compose.yaml'), app().replace(String(port), String(port + 2)));
    d = await startDaemon(root);
  });
  after(async () => {
    await d?.stop();
    await root?.cleanup();
  });

  test('up -d, ps, exec -T, run --rm, scale, down: as against dockerd', async () => {
    const up = await dc(['up', '-d']);
    assert.equal(up.code, 0, up.stderr);
    const ps = await dc(['ps']);
    assert.match(ps.stdout, /legacy_web_1 .*Up \(healthy\)/);
    assert.equal(ps.stdout.match(/legacy_db_1/g)?.length, 1, ps.stdout);
    const exec = await dc(['exec', '-T', 'web', 'cat', '/www/index.html']);
    assert.equal(exec.stdout, 'hello\n', exec.stderr);
    const run = await dc(['run', '--rm', 'worker', 'wget', '-q', '-O-', 'http://web:8080/']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /hello/);
    const scale = await dc(['up', '-d', '--scale', 'worker=2']);
    assert.equal(scale.code, 0, scale.stderr);
    assert.match((await dc(['ps'])).stdout, /legacy_worker_2/);
    // berth compose recognises the other tool's app by its labels.
    const mine = await root.run(['compose', '-f', path.join(dir, 'compose.yaml'), '-p', 'legacy', 'ps', '--services']);
    assert.deepEqual(mine.stdout.trim().split('\n').sort(), ['db', 'web', 'worker']);
    const down = await dc(['down', '-v']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal((await root.run(['ps', '-aq'])).stdout, '');
    assert.doesNotMatch((await root.run(['volume', 'ls'])).stdout, /legacy_data/);
    assert.doesNotMatch((await root.run(['network', 'ls'])).stdout, /legacy_default/);
  });

  test('docker-compose 1.29 takes over an app berth compose started (recreating it), and takes it down', async () => {
    const mine = await root.run(['compose', '-f', path.join(dir, 'compose.yaml'), '-p', 'legacy', 'up', '-d'], { timeoutMs: 120_000 });
    assert.equal(mine.code, 0, mine.stderr);
    const up = await dc(['up', '-d']);
    assert.equal(up.code, 0, up.stderr);
    assert.match((await dc(['ps'])).stdout, /legacy_web_1 .*Up \(healthy\)/);
    const down = await dc(['down', '-v']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal((await root.run(['ps', '-aq'])).stdout, '');
  });
});
