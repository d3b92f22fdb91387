// berth compose on an app that uses the rest of what the issue lists: include, extends from
// another file, networks with fixed addresses and aliases, the container attributes a single
// node honours, secrets and configs (file, environment, content), depends_on conditions, --wait,
// profiles and orphans; and the verbs not covered by compose.test.ts (top, port, images, ls, cp,
// pause, restart, kill, wait, rm, events, config --volumes, ps --format json).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';

const skip = !isRoot ? 'needs root' : false;
const forever = JSON.stringify(['sh', '-c', "trap 'exit 0' TERM; sleep 1000 & wait"]);
const subnet = `172.29.${100 + Math.floor(Math.random() * 100)}`;

const FILES: Record<string, string> = {
  'lib/base.yaml': `
services:
  base:
    image: busybox
    environment: {FROM_BASE: "yes"}
    working_dir: /tmp
    user: "1000:1000"
`,
  'lib/included.yaml': `
services:
  side:
    image: busybox
    command: ${forever}
    networks:
      back: {aliases: [sidecar]}
networks:
  back:
    ipam: {config: [{subnet: ${subnet}.0/24}]}
    labels: {com.example.net: "back"}
`,
  'secret.txt': 'from-file',
  'compose.yaml': `
name: feat
include: [lib/included.yaml]
services:
  app:
    extends: {file: lib/base.yaml, service: base}
    command: ${forever}
    hostname: apphost
    networks:
      back: {ipv4_address: ${subnet}.10}
      default: {}
    extra_hosts: ["gw.example:10.0.0.1"]
    dns: [192.0.2.53]
    cap_drop: [ALL]
    read_only: true
    tmpfs: [/scratch]
    ulimits: {nofile: {soft: 1024, hard: 2048}}
    deploy: {resources: {limits: {memory: 64m, cpus: "0.5", pids: 50}}}
    stop_signal: SIGUSR1
    stop_grace_period: 1s
    labels: {com.example.x: "1"}
    secrets: [s_file, s_env, {source: s_content, target: renamed, uid: "1000", gid: "1000", mode: 0400}]
    configs: [{source: c_content, target: /etc/app.conf}]
    volumes: [data:/data]
    depends_on:
      side: {condition: service_started}
      migrate: {condition: service_completed_successfully}
  migrate:
    image: busybox
    command: ["sh", "-c", "echo migrated"]
  web:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; mkdir -p /www; echo hi > /www/index.html; httpd -f -p 8080 -h /www & wait"]
    ports: ["127.0.0.1::8080"]
    healthcheck: {test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/"], interval: 1s, retries: 10}
  dbg:
    image: busybox
    profiles: [debug]
    command: ${forever}
volumes:
  data:
secrets:
  s_file: {file: ./secret.txt}
  s_env: {environment: FEAT_SECRET}
  s_content: {content: "inline secret"}
configs:
  c_content: {content: "conf=1"}
`,
};

describe('berth compose: attributes and verbs', { skip }, () => {
  let root: TestRoot;
  let dir: string;
  const compose = (args: string[], file = 'compose.yaml') => root.run(['compose', '-f', path.join(dir, file), ...args], { timeoutMs: 120_000 });
  const exec = async (cmd: string) => {
    const r = await compose(['exec', '-T', 'app', 'sh', '-c', cmd]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    root = await TestRoot.withBusybox();
    dir = fs.mkdtempSync(path.join(root.dir, 'app-'));
    for (const [f, text] of Object.entries(FILES)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), text);
    }
    process.env.FEAT_SECRET = 'from-env';
  });
  after(async () => {
    delete process.env.FEAT_SECRET;
    await root?.cleanup();
  });

  test('up --wait: include, extends from another file, networks, attributes, secrets and configs', async () => {
    const up = await compose(['up', '-d', '--wait']);
    assert.equal(up.code, 0, up.stderr);
    // migrate completed before app was created; web was healthy before --wait returned.
    assert.ok(up.stderr.indexOf('Container feat-migrate-1  Exited') < up.stderr.indexOf('Container feat-app-1  Created'), up.stderr);
    assert.match(up.stderr, /Container feat-web-1 {2}Healthy/);
    assert.equal(await exec('id -u; id -g; pwd; hostname; echo $FROM_BASE'), '1000\n1000\n/tmp\napphost\nyes\n');
    assert.match(await exec('cat /etc/hosts'), /^10\.0\.0\.1\tgw\.example$/m);
    assert.match(await exec('cat /etc/hosts'), new RegExp(`^${subnet.replace(/\./g, '\\.')}\\.\\d+\\s.*\\bsidecar\\b`, 'm'));
    assert.equal(await exec('grep nameserver /etc/resolv.conf'), 'nameserver 192.0.2.53\n');
    assert.match(await exec('ip -4 addr'), new RegExp(`inet ${subnet.replace(/\./g, '\\.')}\\.10/24`));
    assert.match(await exec('touch /x 2>&1 || true'), /Read-only file system/);
    assert.equal(await exec('touch /scratch/y && echo ok; ulimit -n; ulimit -Hn'), 'ok\n1024\n2048\n');
    assert.equal(await exec('cat /run/secrets/s_file; echo; cat /run/secrets/s_env; echo; cat /run/secrets/renamed; echo; cat /etc/app.conf'), 'from-file\nfrom-env\ninline secret\nconf=1');
    // uid, gid and mode of a content secret (0400: YAML's leading zero is octal, as for compose).
    assert.equal(await exec('stat -c "%u %g %a" /run/secrets/renamed'), '1000 1000 400\n');
    const inspect = JSON.parse((await root.run(['inspect', 'feat-app-1'])).stdout)[0];
    assert.equal(inspect.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(inspect.HostConfig.NanoCpus, 500_000_000);
    assert.equal(inspect.HostConfig.PidsLimit, 50);
    assert.deepEqual(inspect.HostConfig.CapDrop, ['ALL']);
    assert.equal(inspect.Config.StopSignal, 'SIGUSR1');
    // The grace period stays with the container: an orphan's removal waits that long, not 10 s.
    assert.equal(inspect.Config.StopTimeout, 1);
    assert.equal(inspect.Config.Labels['com.example.x'], '1');
    const net = JSON.parse((await root.run(['network', 'inspect', 'feat_back'])).stdout)[0];
    assert.equal(net.Labels['com.example.net'], 'back');
    assert.equal(net.Labels['com.docker.compose.network'], 'back');
    assert.deepEqual((await compose(['config', '--volumes'])).stdout, 'data\n');
    assert.deepEqual((await compose(['config', '--services'])).stdout.trim().split('\n').sort(), ['app', 'migrate', 'side', 'web']);
  });

  test('ps --format json has docker compose v2\'s fields; top, port, images, ls, cp', async () => {
    const ps = await compose(['ps', '--format', 'json', 'web']);
    const row = JSON.parse(ps.stdout);
    assert.deepEqual(Object.keys(row), ['Command', 'CreatedAt', 'ExitCode', 'Health', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Name', 'Names', 'Networks',
      'Ports', 'Project', 'Publishers', 'RunningFor', 'Service', 'Size', 'State', 'Status']);
    assert.equal(row.Name, 'feat-web-1');
    assert.equal(row.Project, 'feat');
    assert.equal(row.Service, 'web');
    assert.equal(row.State, 'running');
    assert.equal(row.Health, 'healthy');
    assert.equal(row.ID.length, 12);
    assert.equal(row.Networks, 'feat_default');
    assert.equal(row.Publishers.length, 1);
    assert.deepEqual({ ...row.Publishers[0], PublishedPort: 0 }, { URL: '127.0.0.1', TargetPort: 8080, PublishedPort: 0, Protocol: 'tcp' });
    assert.equal(row.Ports, `127.0.0.1:${row.Publishers[0].PublishedPort}->8080/tcp`);
    const port = await compose(['port', 'web', '8080']);
    assert.equal(port.stdout, `127.0.0.1:${row.Publishers[0].PublishedPort}\n`);
    const app = JSON.parse((await compose(['ps', '--format', 'json', 'app'])).stdout);
    assert.equal(app.LocalVolumes, '1');
    assert.equal(app.Networks, 'feat_back,feat_default');

    const top = await compose(['top', 'app']);
    assert.match(top.stdout, /^feat-app-1\nUID +PID +PPID/);
    assert.match(top.stdout, /sleep 1000/);
    assert.match((await compose(['images'])).stdout, /feat-app-1 +busybox +latest/);
    // migrate ran to completion: compose ls counts it.
    assert.match((await root.run(['compose', 'ls'])).stdout, /^feat +running\(3\), exited\(1\) +.*compose\.yaml$/m);
    fs.writeFileSync(path.join(dir, 'in.txt'), 'copied in\n');
    assert.equal((await compose(['cp', path.join(dir, 'in.txt'), 'side:/tmp/in.txt'])).code, 0);
    assert.equal((await compose(['cp', 'side:/tmp/in.txt', path.join(dir, 'out.txt')])).code, 0);
    assert.equal(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8'), 'copied in\n');
  });

  test('pause, unpause, restart, kill, wait, rm; events --json names the service', async () => {
    assert.equal((await compose(['pause', 'side'])).code, 0);
    assert.equal((await compose(['ps', '--format', '{{.State}}', 'side'])).stdout, 'paused\n');
    assert.equal((await compose(['unpause', 'side'])).code, 0);
    const events = root.spawn(['compose', '-f', path.join(dir, 'compose.yaml'), 'events', '--json']);
    let seen = '';
    events.stdout!.on('data', (d) => (seen += d));
    await new Promise((r) => setTimeout(r, 500));
    const restart = await compose(['restart', 'side']);
    assert.equal(restart.code, 0, restart.stderr);
    await root.until(() => seen, (s) => /"action":"start"/.test(s), 10_000);
    events.kill();
    const start = seen.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.action === 'start');
    assert.equal(start.service, 'side');
    assert.equal(start.attributes.name, 'feat-side-1');

    assert.equal((await compose(['kill', '-s', 'KILL', 'side'])).code, 0);
    // wait's status is the container's (compose v2 prints nothing).
    assert.equal((await compose(['wait', 'side'])).code, 137);
    assert.equal((await compose(['rm', '-f', 'side'])).code, 0);
    assert.equal((await compose(['ps', '-a', '--format', '{{.Name}}', 'side'])).stdout, '');
  });

  test('profiles, orphans: reported, removed by up --remove-orphans; depends_on failures stop dependants', async () => {
    // --wait-timeout: a service that is not healthy in time fails up, as compose says it.
    fs.writeFileSync(path.join(dir, 'slow.yaml'), `name: slow\nservices:\n  s: {image: busybox, command: ${forever}, healthcheck: {test: [CMD, "false"], interval: 30s}}\n`);
    const slow = await compose(['up', '-d', '--wait', '--wait-timeout', '1'], 'slow.yaml');
    assert.equal(slow.code, 125);
    assert.match(slow.stderr, /application not healthy after 1s/);
    assert.equal((await compose(['down', '-t', '0'], 'slow.yaml')).code, 0);

    const dbg = await compose(['--profile', 'debug', 'up', '-d', 'dbg']);
    assert.equal(dbg.code, 0, dbg.stderr);
    fs.writeFileSync(path.join(dir, 'smaller.yaml'), `name: feat\nservices:\n  web: {image: busybox, command: ${forever}}\n`);
    const warned = await compose(['up', '-d'], 'smaller.yaml');
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /Found orphan containers \(\[.*feat-app-1.*\]\) for this project/);
    const removed = await compose(['up', '-d', '--remove-orphans'], 'smaller.yaml');
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stderr, /Container feat-app-1 {2}Removed/);
    assert.deepEqual((await compose(['ps', '-a', '--format', '{{.Name}}'], 'smaller.yaml')).stdout, 'feat-web-1\n');

    fs.writeFileSync(path.join(dir, 'failing.yaml'), [
      'name: feat',
      'services:',
      '  web: {image: busybox, command: ["sh", "-c", "exit 3"]}',
      '  after: {image: busybox, command: [echo, never], depends_on: {web: {condition: service_completed_successfully}}}',
    ].join('\n'));
    const failed = await compose(['up', '-d'], 'failing.yaml');
    assert.equal(failed.code, 125);
    assert.match(failed.stderr, /service "web" didn't complete successfully: exit 3/);
    assert.equal((await compose(['ps', '-a', '--format', '{{.Name}}', 'after'], 'failing.yaml')).stdout, '');

    const down = await compose(['down', '-v', '--remove-orphans', '-t', '1'], 'failing.yaml');
    assert.equal(down.code, 0, down.stderr);
    assert.equal((await root.run(['ps', '-aq'])).stdout, '');
    assert.doesNotMatch((await root.run(['network', 'ls'])).stdout, /feat_/);
    assert.doesNotMatch((await root.run(['volume', 'ls'])).stdout, /feat_data/);
  });

  test('network_mode service:x follows a recreated x; container_name cannot be scaled', async () => {
    const nm = (v: string) => `name: nm\nservices:\n  a: {image: busybox, container_name: nm-fixed, command: ${forever}, environment: {V: "${v}"}}\n  b: {image: busybox, network_mode: "service:a", command: ${forever}}\n`;
    fs.writeFileSync(path.join(dir, 'nm.yaml'), nm('1'));
    assert.equal((await compose(['up', '-d'], 'nm.yaml')).code, 0);
    fs.writeFileSync(path.join(dir, 'nm.yaml'), nm('2'));
    const up = await compose(['up', '-d'], 'nm.yaml');
    assert.equal(up.code, 0, up.stderr);
    // b's namespace was the old a's: b is recreated into the new one.
    assert.match(up.stderr, /Container nm-b-1 {2}Recreated/);
    const a = JSON.parse((await root.run(['inspect', 'nm-fixed'])).stdout)[0];
    const b = JSON.parse((await root.run(['inspect', 'nm-b-1'])).stdout)[0];
    assert.equal(b.HostConfig.NetworkMode, `container:${a.Id}`);
    assert.equal(b.State.Status, 'running');
    const scaled = await compose(['up', '-d', '--scale', 'a=2'], 'nm.yaml');
    assert.equal(scaled.code, 125);
    assert.match(scaled.stderr, /service "a": container_name "nm-fixed" cannot be given to 2 containers/);
    assert.doesNotMatch(scaled.stderr, /Creating/);
    assert.equal((await compose(['down', '-t', '1'], 'nm.yaml')).code, 0);
  });

  test('init, shm_size, and another service\'s ipc (with its /dev/shm), pid and volumes', async () => {
    fs.writeFileSync(path.join(dir, 'ns.yaml'), `name: ns
services:
  holder:
    image: busybox
    ipc: shareable
    shm_size: 8m
    volumes: [/shared]
    command: ["sh", "-c", "echo held > /dev/shm/mark; echo vol > /shared/f; trap 'exit 0' TERM; sleep 1000 & wait"]
  joiner:
    image: busybox
    init: true
    ipc: "service:holder"
    pid: "service:holder"
    volumes_from: ["holder:ro"]
    command: ${forever}
`);
    const up = await compose(['up', '-d'], 'ns.yaml');
    assert.equal(up.code, 0, up.stderr);
    assert.doesNotMatch(up.stderr, /ignored|not supported/);
    const sh = async (cmd: string) => (await root.run(['exec', 'ns-joiner-1', 'sh', '-c', cmd])).stdout;
    // Its /dev/shm is the holder's (8m), it sees the holder's processes, and its volume read-only.
    assert.equal(await root.eventually(() => sh('cat /dev/shm/mark'), (o) => o !== '', 5000), 'held\n');
    assert.equal(await sh("df -k /dev/shm | tail -1 | awk '{print $2}'"), '8192\n');
    assert.match(await sh('ps -o args'), /sleep 1000/);
    assert.equal(await sh('cat /shared/f; touch /shared/x 2>/dev/null || echo ro'), 'vol\nro\n');
    const inspect = JSON.parse((await root.run(['inspect', 'ns-joiner-1'])).stdout)[0];
    assert.equal(inspect.HostConfig.Init, true);
    assert.match(inspect.HostConfig.PidMode, /^container:[0-9a-f]{64}$/);
    assert.equal((await compose(['down', '-t', '1'], 'ns.yaml')).code, 0);
  });

  test('external networks and volumes: a missing one stops up before anything is made; present ones are used, and kept by down -v', async () => {
    fs.writeFileSync(path.join(dir, 'ext.yaml'), [
      'name: ext',
      'services:',
      `  a: {image: busybox, command: ${forever}, networks: [default, outside], volumes: ["kept:/kept"]}`,
      'networks:',
      '  outside: {external: true, name: berth-test-outside}',
      'volumes:',
      '  kept: {external: true, name: berth-test-kept}',
    ].join('\n'));
    const missing = await compose(['up', '-d'], 'ext.yaml');
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /network berth-test-outside declared as external, but could not be found/);
    assert.doesNotMatch((await root.run(['network', 'ls'])).stdout, /ext_default/);
    assert.equal((await root.run(['network', 'create', 'berth-test-outside'])).code, 0);
    const noVolume = await compose(['up', '-d'], 'ext.yaml');
    assert.match(noVolume.stderr, /external volume "berth-test-kept" not found/);
    assert.doesNotMatch((await root.run(['network', 'ls'])).stdout, /ext_default/);
    assert.equal((await root.run(['volume', 'create', 'berth-test-kept'])).code, 0);
    const up = await compose(['up', '-d'], 'ext.yaml');
    assert.equal(up.code, 0, up.stderr);
    const nets = JSON.parse((await root.run(['inspect', 'ext-a-1'])).stdout)[0].NetworkSettings.Networks;
    assert.deepEqual(Object.keys(nets).sort(), ['berth-test-outside', 'ext_default']);
    assert.equal((await compose(['down', '-v', '-t', '1'], 'ext.yaml')).code, 0);
    assert.match((await root.run(['network', 'ls'])).stdout, /berth-test-outside/);
    assert.match((await root.run(['volume', 'ls'])).stdout, /berth-test-kept/);
    assert.equal((await root.run(['network', 'rm', 'berth-test-outside'])).code, 0);
    assert.equal((await root.run(['volume', 'rm', 'berth-test-kept'])).code, 0);
  });
});
