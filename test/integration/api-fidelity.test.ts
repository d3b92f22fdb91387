// Details of the Engine API as dockerd answers them: privileged exec (every capability for that
// process, while the container's seccomp program and no-new-privileges still hold: dockerd's
// seccomp is container-wide), container sizes (SizeRw, SizeRootFs).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { collect, type TestRoot } from '../helpers/berth.ts';
import { daemonWithBusybox, skip, type TestDaemon } from '../helpers/daemon.ts';

const PYTHON = '/usr/bin/python3';
const hasPythonSdk = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import docker']).status === 0;

/** The capability bounding set this process holds: a privileged exec gets that much. */
const heldCaps = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
const field = (status: string, name: string) => new RegExp(`^${name}:\\s*(\\S+)$`, 'm').exec(status)?.[1];

describe('privileged exec', { skip }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  daemonWithBusybox((r, dd) => ((root = r), (d = dd)));

  test('docker exec --privileged: all capabilities, the container\'s seccomp; without it the container\'s capabilities', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'pe', '--network', 'none', 'busybox', 'sleep', '60'])).code, 0);
    const plain = await d.docker(['exec', 'pe', 'cat', '/proc/self/status']);
    const priv = await d.docker(['exec', '--privileged', 'pe', 'cat', '/proc/self/status']);
    assert.equal(field(plain.stdout, 'CapEff'), '00000000a80425fb'); // docker's default 14
    assert.equal(field(priv.stdout, 'CapEff'), heldCaps);
    assert.equal(field(priv.stdout, 'CapBnd'), heldCaps);
    assert.equal(field(priv.stdout, 'Seccomp'), '2'); // the container's filter, as dockerd keeps it
    // A capability the container lacks (NET_ADMIN) works in the privileged exec only.
    assert.notEqual((await d.docker(['exec', 'pe', 'ip', 'link', 'set', 'lo', 'mtu', '1280'])).code, 0);
    assert.equal((await d.docker(['exec', '--privileged', 'pe', 'ip', 'link', 'set', 'lo', 'mtu', '1280'])).code, 0);
    // berth's own CLI on the same root.
    const own = await root.run(['exec', '--privileged', 'pe', 'cat', '/proc/self/status']);
    assert.equal(field(own.stdout, 'CapEff'), heldCaps);
    assert.equal((await d.docker(['rm', '-f', 'pe'])).code, 0);
  });

  test('python3-docker exec_run(privileged=True) and exec inspect', { skip: !hasPythonSdk && 'needs python3-docker' }, async () => {
    const script = `
import docker, json
c = docker.DockerClient(base_url='unix://${d.socket}')
r = c.containers.run('busybox', 'sleep 60', detach=True, network_mode='none')
e = c.api.exec_create(r.id, ['grep', 'CapEff', '/proc/self/status'], privileged=True)
out = c.api.exec_start(e['Id'])
print(json.dumps({'out': out.decode(), 'privileged': c.api.exec_inspect(e['Id'])['ProcessConfig']['privileged']}))
r.remove(force=True)
`;
    const r = await collect(spawn(PYTHON, ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { out: string; privileged: boolean };
    assert.equal(got.out.trim(), `CapEff:\t${heldCaps}`);
    assert.equal(got.privileged, true);
  });
});

describe('exec streams framed as the start asks', { skip: skip || (!hasPythonSdk && 'needs python3-docker') }, () => {
  let d: TestDaemon;
  daemonWithBusybox((_r, dd) => (d = dd));

  test('an exec made with a tty and started without one sends its terminal\'s output in stdout frames (docker-py exec_start)', async () => {
    const script = `
import docker, json
c = docker.APIClient(base_url='unix://${d.socket}')
ct = c.create_container('busybox', 'cat', stdin_open=True, network_disabled=True)
c.start(ct)
e = c.exec_create(ct, ['sh', '-c', 'echo hello out; echo hello err >&2'], tty=True)
out = c.exec_start(e, demux=True)
e2 = c.exec_create(ct, ['printf', 'yay'], tty=True)
raw = c.exec_start(e2, tty=True)
c.remove_container(ct, force=True)
print(json.dumps([out[0].decode(), out[1], raw.decode()]))
`;
    const r = await collect(spawn(PYTHON, ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ['hello out\r\nhello err\r\n', null, 'yay']);
  });
});

describe('exec detach keys', { skip: skip || (!hasPythonSdk && 'needs python3-docker') }, () => {
  let d: TestDaemon;
  daemonWithBusybox((_r, dd) => (d = dd));

  test('ctrl-p ctrl-q (or the exec\'s DetachKeys) on a terminal end the client\'s stream; the command runs on', async () => {
    const script = `
import docker, json, time
c = docker.APIClient(base_url='unix://${d.socket}')
ct = c.create_container('busybox', 'cat', stdin_open=True, network_disabled=True)
c.start(ct)
out = []
for keys, send in ((None, b'\\x10\\x11'), ('ctrl-x', b'\\x18')):
    e = c.exec_create(ct, 'cat', tty=True, stdin=True, detach_keys=keys) if keys else c.exec_create(ct, 'cat', tty=True, stdin=True)
    s = c.exec_start(e, tty=True, socket=True)._sock
    s.sendall(send)
    s.settimeout(5)
    got = b''
    while True:
        d = s.recv(128)
        if not d: break
        got += d
    out.append([got.decode(), c.exec_inspect(e)['Running']])
c.remove_container(ct, force=True)
print(json.dumps(out))
`;
    const r = await collect(spawn(PYTHON, ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [['', true], ['', true]]);
  });
});

describe('container sizes', { skip }, () => {
  let d: TestDaemon;
  daemonWithBusybox((_r, dd) => (d = dd));

  test('list and inspect with size=1: SizeRw is the writable layer, SizeRootFs the image and it; absent without size', async () => {
    assert.equal((await d.docker(['run', '--name', 'sz', 'busybox', 'sh', '-c', 'head -c 1000000 /dev/zero > /big'])).code, 0);
    assert.equal((await d.docker(['create', '--name', 'fresh', 'busybox', 'true'])).code, 0);
    const image = JSON.parse((await d.request('GET', '/images/busybox/json')).body).Size as number;
    const list = JSON.parse((await d.request('GET', '/containers/json?all=1&size=1')).body) as Array<{ Names: string[]; SizeRw: number; SizeRootFs: number }>;
    const byName = new Map(list.map((c) => [c.Names[0], c]));
    assert.ok(byName.get('/sz')!.SizeRw >= 1_000_000 && byName.get('/sz')!.SizeRw < 1_100_000, String(byName.get('/sz')!.SizeRw));
    assert.equal(byName.get('/sz')!.SizeRootFs, image + byName.get('/sz')!.SizeRw);
    assert.equal(byName.get('/fresh')!.SizeRw, 0);
    assert.equal(byName.get('/fresh')!.SizeRootFs, image);
    const plain = JSON.parse((await d.request('GET', '/containers/json?all=1')).body) as object[];
    assert.ok(plain.every((c) => !('SizeRw' in c) && !('SizeRootFs' in c)));
    const inspect = JSON.parse((await d.request('GET', '/containers/sz/json?size=1')).body);
    assert.equal(inspect.SizeRw, byName.get('/sz')!.SizeRw);
    assert.equal(inspect.SizeRootFs, byName.get('/sz')!.SizeRootFs);
    const noSize = JSON.parse((await d.request('GET', '/containers/sz/json')).body);
    assert.ok(!('SizeRw' in noSize) && !('SizeRootFs' in noSize));
    const df = JSON.parse((await d.request('GET', '/system/df')).body) as { Containers: Array<{ Names: string[]; SizeRw: number; SizeRootFs: number }> };
    const dfSz = df.Containers.find((c) => c.Names[0] === '/sz')!;
    assert.deepEqual([dfSz.SizeRw, dfSz.SizeRootFs], [byName.get('/sz')!.SizeRw, byName.get('/sz')!.SizeRootFs]);
    assert.match((await d.docker(['ps', '-as', '--filter', 'name=sz', '--format', '{{.Size}}'])).stdout, /^1MB \(virtual \d/);
    // Container prune reports the writable layers' bytes it freed.
    const pruned = JSON.parse((await d.request('POST', '/containers/prune')).body) as { ContainersDeleted: string[]; SpaceReclaimed: number };
    assert.equal(pruned.ContainersDeleted.length, 2);
    assert.equal(pruned.SpaceReclaimed, byName.get('/sz')!.SizeRw);
    // A volume driver there is no plugin for: dockerd's 404.
    const vol = await d.request('POST', '/volumes/create', JSON.stringify({ Name: 'v', Driver: 'invalid.driver' }));
    assert.equal(vol.status, 404);
    assert.equal(JSON.parse(vol.body).message, 'create v: error looking up volume plugin invalid.driver: plugin "invalid.driver" not found');
  });
});

describe('commit and the user\'s pause', { skip }, () => {
  let d: TestDaemon;
  daemonWithBusybox((_r, dd) => (d = dd));

  const paused = async (name: string) => JSON.parse((await d.request('GET', `/containers/${name}/json`)).body).State.Paused as boolean;
  /** A commit slow enough to act during it (a large writable layer); resolves with its status. */
  async function slowCommit(name: string): Promise<{ done: Promise<number> }> {
    const done = d.request('POST', `/commit?container=${name}&repo=snap-${name}`).then((r) => r.status);
    const end = Date.now() + 20_000;
    while (!(await paused(name))) {
      if (Date.now() > end) throw new Error('the commit never paused the container');
      await new Promise((r) => setTimeout(r, 5));
    }
    return { done };
  }

  test('a pause during a commit holds after it; an unpause during a commit runs the container after it', async () => {
    for (const name of ['cp1', 'cp2']) {
      assert.equal((await d.docker(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'dd if=/dev/urandom of=/big bs=1M count=48 2>/dev/null; sleep 600'])).code, 0);
    }
    // Until the file is written, so the commit has something to take time over.
    for (const name of ['cp1', 'cp2']) {
      for (let i = 0; i < 200; i++) {
        if ((await d.docker(['exec', name, 'sh', '-c', 'test "$(stat -c %s /big)" = 50331648'])).code === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // The user's actions come from another process (berth's CLI on the same root): the daemon
    // hashing the snapshot would answer its own requests only after the commit.
    // The user pauses while the commit has it paused: accepted, and kept when the commit ends.
    const c1 = await slowCommit('cp1');
    const p1 = await d.root.run(['pause', 'cp1']);
    assert.equal(p1.code, 0, p1.stderr);
    assert.equal(await c1.done, 201);
    assert.equal(await paused('cp1'), true);
    assert.equal((await d.request('POST', '/containers/cp1/pause')).status, 409); // the user's pause now
    assert.equal((await d.request('POST', '/containers/cp1/unpause')).status, 204);
    assert.equal((await d.docker(['exec', 'cp1', 'true'])).code, 0); // thawed

    // The user unpauses while the commit has it paused: the snapshot stays frozen, then it runs.
    const c2 = await slowCommit('cp2');
    const u2 = await d.root.run(['unpause', 'cp2']);
    assert.equal(u2.code, 0, u2.stderr);
    assert.equal(await c2.done, 201);
    assert.equal(await paused('cp2'), false);
    assert.equal((await d.docker(['exec', 'cp2', 'true'])).code, 0);

    // Paused before the commit: still paused after it.
    assert.equal((await d.request('POST', '/containers/cp2/pause')).status, 204);
    assert.equal((await d.request('POST', '/commit?container=cp2&repo=snap-again')).status, 201);
    assert.equal(await paused('cp2'), true);
    assert.equal((await d.docker(['rm', '-f', 'cp1', 'cp2'])).code, 0);
    assert.equal((await d.docker(['rmi', '-f', 'snap-cp1', 'snap-cp2', 'snap-again'])).code, 0);
  });
});

describe('wait on a container with a restart policy', { skip }, () => {
  let d: TestDaemon;
  daemonWithBusybox((_r, dd) => (d = dd));

  test('answers when its run ends, though it restarts (docker-py test_create_with_restart_policy)', async () => {
    const r = await d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['sleep', '1'], HostConfig: { RestartPolicy: { Name: 'always' }, NetworkMode: 'none' } }));
    const id = JSON.parse(r.body).Id as string;
    assert.equal((await d.request('POST', `/containers/${id}/start`)).status, 204);
    const t0 = Date.now();
    const waited = await d.request('POST', `/containers/${id}/wait`);
    assert.deepEqual(JSON.parse(waited.body), { Error: null, StatusCode: 0 });
    assert.ok(Date.now() - t0 < 5000, `wait took ${Date.now() - t0} ms`);
    const rm = await d.request('DELETE', `/containers/${id}`);
    assert.equal(rm.status, 409);
    assert.match(JSON.parse(rm.body).message, /You cannot remove a (running|restarting) container/);
    assert.equal((await d.request('DELETE', `/containers/${id}?force=1`)).status, 204);
  });
});

describe('network create options', { skip }, () => {
  let d: TestDaemon;
  daemonWithBusybox((_r, dd) => (d = dd));

  test('Options are echoed by inspect and the MTU holds in the container; bad or unsupported options are refused; a duplicate name is a 409 from API 1.44 whatever CheckDuplicate says, and before only with CheckDuplicate', async () => {
    const create = (body: object) => d.request('POST', '/networks/create', JSON.stringify(body));
    const opts = { 'com.docker.network.driver.mtu': '1400', 'com.docker.network.bridge.enable_icc': 'true' };
    assert.equal((await create({ Name: 'optnet', Options: opts })).status, 201);
    assert.deepEqual(JSON.parse((await d.request('GET', '/networks/optnet')).body).Options, opts);
    const mtu = await d.docker(['run', '--rm', '--network', 'optnet', 'busybox', 'cat', '/sys/class/net/eth0/mtu']);
    assert.equal(mtu.stdout, '1400\n', mtu.stderr);
    for (const CheckDuplicate of [true, false]) {
      const dup = await create({ Name: 'optnet', CheckDuplicate });
      assert.equal(dup.status, 409);
      assert.equal(JSON.parse(dup.body).message, 'network with name optnet already exists');
    }
    const bad = await create({ Name: 'badnet', Options: { 'com.docker.network.driver.mtu': 'abc' } });
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /failed to parse com.docker.network.driver.mtu value: abc/);
    assert.equal((await create({ Name: 'iccnet', Options: { 'com.docker.network.bridge.enable_icc': 'false' } })).status, 400);
    const names = (JSON.parse((await d.request('GET', '/networks')).body) as Array<{ Name: string }>).map((n) => n.Name);
    assert.ok(!names.some((n) => ['badnet', 'iccnet'].includes(n)), names.join());
    // dockerd 20.10 (API 1.41): CheckDuplicate true is a 409, false (or left out, as docker-py and
    // compose 1.x do) makes a second network with a warning; the name is then ambiguous.
    const v41 = (body: object) => d.request('POST', '/v1.41/networks/create', JSON.stringify(body));
    assert.equal((await v41({ Name: 'optnet', CheckDuplicate: true })).status, 409);
    const second = await v41({ Name: 'optnet' });
    assert.equal(second.status, 201, second.body);
    const first = JSON.parse((await d.request('GET', '/networks')).body).find((n: { Name: string; Id: string }) => n.Name === 'optnet' && n.Id !== JSON.parse(second.body).Id).Id;
    assert.equal(JSON.parse(second.body).Warning, `Network with name optnet (id : ${first}) already exists`);
    const both = (JSON.parse((await d.request('GET', '/networks?filters={"name":["optnet"]}')).body) as Array<{ Id: string }>).map((n) => n.Id);
    assert.deepEqual(both.sort(), [first, JSON.parse(second.body).Id].sort());
    const ambiguous = await d.request('GET', '/v1.41/networks/optnet');
    assert.equal(ambiguous.status, 400);
    assert.equal(JSON.parse(ambiguous.body).message, 'network optnet is ambiguous (2 matches found based on name)');
    assert.notEqual((await d.docker(['run', '--rm', '--network', 'optnet', 'busybox', 'true'])).code, 0);
    assert.equal((await d.request('DELETE', `/networks/${JSON.parse(second.body).Id}`)).status, 204);
    assert.equal((await d.docker(['network', 'rm', 'optnet'])).code, 0);
  });
});

describe('HostConfig fields shown as given', { skip }, () => {
  let d: TestDaemon;
  daemonWithBusybox((_r, dd) => (d = dd));

  test('Isolation (only default on Linux) and VolumeDriver (docker-py test_create_with_isolation, test_create_with_volume_driver)', async () => {
    const create = (host: object) => d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: host }));
    const made = await create({ Isolation: 'default', VolumeDriver: 'foo' });
    assert.equal(made.status, 201, made.body);
    const id = JSON.parse(made.body).Id;
    const h = JSON.parse((await d.request('GET', `/containers/${id}/json`)).body).HostConfig;
    assert.deepEqual([h.Isolation, h.VolumeDriver], ['default', 'foo']);
    const plain = JSON.parse((await create({})).body).Id;
    const p = JSON.parse((await d.request('GET', `/containers/${plain}/json`)).body).HostConfig;
    assert.deepEqual([p.Isolation, p.VolumeDriver], ['', '']);
    const bad = await create({ Isolation: 'hyperv' });
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).message, 'Invalid isolation: "hyperv" - linux only supports \'default\'');
    for (const x of [id, plain]) assert.equal((await d.request('DELETE', `/containers/${x}`)).status, 204);
  });
});

describe('diff', { skip }, () => {
  let d: TestDaemon;
  daemonWithBusybox((_r, dd) => (d = dd));

  test('a container that only adds /test reports only that (/etc, copied up for /etc/hosts, is not a change: docker-py test_diff)', async () => {
    assert.equal((await d.docker(['run', '--name', 'df1', 'busybox', 'touch', '/test'])).code, 0);
    assert.deepEqual(JSON.parse((await d.request('GET', '/containers/df1/changes')).body), [{ Path: '/test', Kind: 1 }]);
    assert.equal((await d.docker(['run', '--name', 'df2', 'busybox', 'touch', '/etc/new'])).code, 0);
    assert.deepEqual(JSON.parse((await d.request('GET', '/containers/df2/changes')).body), [{ Path: '/etc', Kind: 0 }, { Path: '/etc/new', Kind: 1 }]);
    assert.equal((await d.docker(['rm', 'df1', 'df2'])).code, 0);
  });
});
