import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import AjvModule from 'ajv';
import { loadProject } from '../../src/compose/load.ts';
import { configHash, containerLabels } from '../../src/compose/labels.ts';
import { createOptions, extraEndpoints, stopTimeout, warnings } from '../../src/compose/options.ts';
import { COMPOSE_SCHEMA } from '../../src/compose/schema.ts';
import { planService } from '../../src/compose/up.ts';
import type { ProjectContainer } from '../../src/compose/observe.ts';

function project(text: string) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-opts-'));
  fs.writeFileSync(path.join(d, 'compose.yaml'), text);
  fs.writeFileSync(path.join(d, 'web.env'), 'FROM_FILE=1\nA=file\n');
  return loadProject({ cwd: d, env: { HOSTVAR: 'h' }, projectName: 'shop' });
}

const naming = { containerOf: (s: string) => `id-of-${s}`, fileOf: (kind: string, n: string) => `/files/${kind}/${n}` };

test('our schema is a valid draft-07 schema (validation skips this check at run time)', () => {
  const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as new (o: object) => { compile(s: object): unknown };
  assert.doesNotThrow(() => new Ajv({ strict: false, validateSchema: true }).compile(COMPOSE_SCHEMA));
});

test('every attribute a single node honours becomes a create option', () => {
  const p = project(`
services:
  web:
    image: busybox
    command: httpd -f
    entrypoint: ["/bin/sh", "-c"]
    environment: {A: env, B: "2", HOSTVAR: null}
    env_file: web.env
    ports: ["127.0.0.1:8080:80", "53:53/udp"]
    expose: [9000]
    volumes: [data:/data, ./conf:/conf:ro, /anon, {type: tmpfs, target: /t, tmpfs: {size: 1048576}}]
    tmpfs: /run:size=64m
    networks: {front: {aliases: [www], ipv4_address: 10.99.0.5}, back: null}
    healthcheck: {test: "wget -q localhost", interval: 2s, timeout: 1s, retries: 3, start_period: 5s}
    restart: on-failure:3
    deploy: {resources: {limits: {cpus: "0.5", memory: 64m, pids: 100}}}
    user: "1000:1000"
    working_dir: /srv
    hostname: webhost
    labels: {tier: front}
    stop_signal: SIGINT
    stop_grace_period: 1m30s
    tty: true
    stdin_open: true
    privileged: false
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    security_opt: [no-new-privileges]
    read_only: true
    sysctls: [net.core.somaxconn=1024]
    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 512}
    dns: 1.1.1.1
    dns_search: [example.com]
    extra_hosts: {db.local: 10.0.0.2}
    logging: {driver: json-file, options: {max-size: 10m, max-file: "3"}}
    secrets: [token]
    configs: [{source: conf, target: /etc/app.conf}]
    init: true
    shm_size: 128m
    pid: host
    uts: host
    mem_reservation: 32m
    mem_swappiness: 10
    oom_kill_disable: true
    cpuset: "0"
    cpu_rt_runtime: 400ms
    cgroup_parent: kube.slice
    blkio_config: {weight: 300, device_read_bps: [{path: /dev/sda, rate: 12mb}], device_write_iops: [{path: /dev/sda, rate: 30}]}
networks: {front: {ipam: {config: [{subnet: 10.99.0.0/24}]}}, back: {}}
volumes: {data: {}}
secrets: {token: {environment: HOSTVAR}}
configs: {conf: {content: "x=1"}}
`);
  const s = p.services.web;
  const o = createOptions(p, 'web', s, 'shop-web-1', { l: '1' }, naming);
  assert.equal(o.image, 'busybox');
  assert.deepEqual(o.cmd, ['httpd', '-f']);
  assert.deepEqual(o.entrypoint, ['/bin/sh', '-c']);
  assert.deepEqual(o.env?.sort(), ['A=env', 'B=2', 'FROM_FILE=1', 'HOSTVAR=h']);
  assert.equal(o.name, 'shop-web-1');
  assert.deepEqual(o.labels, { tier: 'front', l: '1' });
  assert.deepEqual(o.healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 2e9, Timeout: 1e9, Retries: 3, StartPeriod: 5e9 });
  assert.deepEqual(o.endpoint, { Aliases: ['web', 'www'], IPv4Address: '10.99.0.5', MacAddress: undefined });
  assert.deepEqual(extraEndpoints(p, 'web', s), { shop_back: { Aliases: ['web'] } });
  assert.deepEqual(o.expose?.sort(), ['53/udp', '80/tcp', '9000/tcp']);
  assert.equal(o.user, '1000:1000');
  assert.equal(o.workdir, '/srv');
  assert.equal(o.hostname, 'webhost');
  assert.equal(o.stopSignal, 'SIGINT');
  assert.equal(stopTimeout(s), 90);
  assert.equal(o.tty, true);
  assert.equal(o.openStdin, true);
  const h = o.host!;
  assert.equal(h.NetworkMode, 'shop_front');
  assert.deepEqual(h.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '53' }] });
  assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.equal(h.NanoCpus, 5e8);
  assert.equal(h.Memory, 64 * 1024 * 1024);
  assert.equal(h.PidsLimit, 100);
  assert.deepEqual(h.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(h.CapDrop, ['ALL']);
  assert.deepEqual(h.SecurityOpt, ['no-new-privileges']);
  assert.equal(h.ReadonlyRootfs, true);
  assert.deepEqual(h.Sysctls, { 'net.core.somaxconn': '1024' });
  assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'nproc', Soft: 512, Hard: 512 }]);
  assert.deepEqual(h.Dns, ['1.1.1.1']);
  assert.deepEqual(h.DnsSearch, ['example.com']);
  assert.deepEqual(h.ExtraHosts, ['db.local:10.0.0.2']);
  assert.deepEqual(h.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
  assert.deepEqual(h.Mounts, [
    { Type: 'volume', Source: 'shop_data', Target: '/data', ReadOnly: false },
    { Type: 'bind', Source: path.join(p.workingDir, 'conf'), Target: '/conf', ReadOnly: true },
    { Type: 'volume', Source: '', Target: '/anon', ReadOnly: false, Anonymous: true },
    { Type: 'tmpfs', Source: '', Target: '/t', ReadOnly: false, TmpfsOptions: 'size=1048576' },
    { Type: 'tmpfs', Source: '', Target: '/run', ReadOnly: false, TmpfsOptions: 'size=64m' },
    { Type: 'bind', Source: '/files/secret/token', Target: '/run/secrets/token', ReadOnly: true },
    { Type: 'bind', Source: '/files/config/conf', Target: '/etc/app.conf', ReadOnly: true },
  ]);
  // The options the engine has docker's flags for.
  assert.equal(h.Init, true);
  assert.equal(h.ShmSize, 128 * 1024 * 1024);
  assert.equal(h.PidMode, 'host');
  assert.equal(h.UTSMode, 'host');
  assert.equal(h.MemoryReservation, 32 * 1024 * 1024);
  assert.equal(h.MemorySwappiness, 10);
  assert.equal(h.OomKillDisable, true);
  assert.equal(h.CpusetCpus, '0');
  assert.equal(h.CpuRealtimeRuntime, 400000);
  assert.equal(h.CgroupParent, 'kube.slice');
  assert.equal(h.BlkioWeight, 300);
  assert.deepEqual(h.BlkioDeviceReadBps, [{ Path: '/dev/sda', Rate: 12 * 1024 * 1024 }]);
  assert.deepEqual(h.BlkioDeviceWriteIOps, [{ Path: '/dev/sda', Rate: 30 }]);
  assert.deepEqual(warnings('web', s), []);
});

test('attributes that would change what runs are refused', () => {
  const cases: Array<[string, RegExp]> = [
    ['uts: other', /uts: other is not supported/],
    ['logging: {driver: syslog}', /logging driver "syslog"/],
    ['ports: ["8000-8010:80"]', /published port range 8000-8010/],
    ['volumes: [{type: npipe, source: x, target: /x}]', /volume of type npipe/],
  ];
  for (const [attr, want] of cases) {
    const p = project(`services:\n  a:\n    image: busybox\n    ${attr}\n`);
    assert.throws(() => createOptions(p, 'a', p.services.a, 'x', {}, naming), want, attr);
  }
  const p = project('services:\n  a: {image: busybox, network_mode: "service:b"}\n  b: {image: busybox}\n');
  assert.equal(createOptions(p, 'a', p.services.a, 'x', {}, naming).host?.NetworkMode, 'container:id-of-b');
  // Another service's pid and ipc namespaces and volumes, by its container; each is a dependency.
  const q = project('services:\n  a: {image: busybox, pid: "service:b", ipc: "service:b", volumes_from: ["b:ro", "container:other"]}\n  b: {image: busybox, ipc: shareable}\n');
  const h = createOptions(q, 'a', q.services.a, 'x', {}, naming).host!;
  assert.deepEqual([h.PidMode, h.IpcMode, h.VolumesFrom], ['container:id-of-b', 'container:id-of-b', ['id-of-b:ro', 'other']]);
  assert.deepEqual(Object.keys(q.services.a.depends_on ?? {}), ['b']);
});

test('the config hash follows what containers are made from, not scale or order', () => {
  const a = project('services:\n  w: {image: busybox, command: [a], scale: 1, depends_on: [x]}\n  x: {image: busybox}\n').services.w;
  const b = project('services:\n  w: {depends_on: [x], scale: 3, command: [a], image: busybox}\n  x: {image: busybox}\n').services.w;
  const c = project('services:\n  w: {image: busybox, command: [b]}\n').services.w;
  assert.equal(configHash(a), configHash(b));
  assert.notEqual(configHash(a), configHash(c));
});

test('plan: keep what matches, recreate what changed, add and remove to reach the scale', () => {
  const p = project('services:\n  w: {image: busybox, scale: 2}\n');
  const hash = configHash(p.services.w);
  const c = (n: number, h: string) => ({ id: `c${n}`, name: `shop-w-${n}`, service: 'w', number: n, oneoff: false, hash: h }) as unknown as ProjectContainer;
  let plan = planService(p, 'w', [c(1, hash), c(3, 'old')], {});
  assert.deepEqual([plan.keep.map((x) => x.number), plan.recreate.map((x) => x.number), plan.create, plan.remove.map((x) => x.number)], [[1], [3], [], []]);
  plan = planService(p, 'w', [c(1, hash)], { scale: { w: 3 } });
  assert.deepEqual(plan.create, [2, 3]);
  plan = planService(p, 'w', [c(1, hash), c(2, hash), c(3, hash)], { scale: { w: 1 } });
  assert.deepEqual(plan.remove.map((x) => x.number), [2, 3]);
  plan = planService(p, 'w', [c(1, hash)], { forceRecreate: true, scale: { w: 1 } });
  assert.deepEqual(plan.recreate.map((x) => x.number), [1]);
  // Made from another image than the service's now (rebuilt or pulled): recreated.
  const from = (n: number, image: string) => ({ ...c(n, hash), record: { Image: image, Config: { Labels: { 'com.docker.compose.image': image } } } }) as unknown as ProjectContainer;
  plan = planService(p, 'w', [from(1, 'sha256:new'), from(2, 'sha256:old')], {}, 'sha256:new');
  assert.deepEqual([plan.keep.map((x) => x.number), plan.recreate.map((x) => x.number)], [[1], [2]]);
  const labels = containerLabels(p, 'w', p.services.w, 2, false, 'sha256:abc');
  assert.equal(labels['com.docker.compose.container-number'], '2');
  assert.equal(labels['com.docker.compose.oneoff'], 'False');
  assert.equal(labels['com.docker.compose.config-hash'], hash);
});
