// Faults and hostile input found by trying berth as an attacker or an unlucky operator would
// (issue 21): each ends in a clear error, with nothing lost and nothing leaked.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';
import { DOCKER, skip, TestDaemon } from '../helpers/daemon.ts';
import { berthGroup } from '../../src/api/listen.ts';


describe('a missing or broken shim behind the daemon is a clear error within a second, without its host path', { skip }, () => {
  let root: TestRoot;
  // Outside the state root and the checkout (which the API already shows as <state root> and
  // <berth>): where an installation keeps its shim, which clients must not learn.
  let dir: string;
  const shims: Record<string, string> = {};
  const says: Record<string, RegExp> = {
    missing: /cannot start the shim \(no-such-shim\): no such file or directory/,
    unexecutable: /cannot start the shim \(shim-0644\): permission denied/,
    crashing: /the shim was killed by SIGSEGV without reporting the container's exit/,
  };
  /** A message names the shim, and not where it is. */
  const clear = (message: string, kind: string) => {
    assert.match(message, says[kind]);
    assert.ok(!message.includes(dir), message);
  };
  before(async () => {
    root = await TestRoot.withBusybox();
    // The layer images get mounted with the good shim first: the starts below then fail at the
    // shim itself, not only at the mount that precedes it (that is tested too, by `fresh`).
    assert.equal((await root.run(['run', '--rm', '--network', 'none', 'busybox', 'true'])).code, 0);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-shims-'));
    shims.missing = path.join(dir, 'no-such-shim');
    shims.unexecutable = path.join(dir, 'shim-0644');
    fs.writeFileSync(shims.unexecutable, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    shims.crashing = path.join(dir, 'shim-segv');
    fs.writeFileSync(shims.crashing, '#!/bin/sh\nkill -SEGV $$\n', { mode: 0o755 });
  });
  after(async () => {
    await root.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of ['missing', 'unexecutable', 'crashing']) {
    test(`${kind} shim: docker run --rm, wait next-exit and berth through the daemon end at once`, async () => {
      const d = new TestDaemon(root, { env: { BERTH_SHIM: shims[kind] } });
      await d.start();
      try {
        let t0 = Date.now();
        const run = await d.docker(['run', '--rm', '--network', 'none', 'busybox', 'true'], { timeoutMs: 10_000 });
        assert.ok(Date.now() - t0 < 3000, `docker run took ${Date.now() - t0} ms`);
        assert.notEqual(run.code, 0);
        clear(run.stderr, kind);
        assert.equal((await d.docker(['ps', '-aq'])).stdout, '', 'the --rm container is gone');

        // A waiter for the next exit hears of the failed start, with its message.
        const created = await d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } }));
        const id = JSON.parse(created.body).Id as string;
        const waiting = d.request('POST', `/containers/${id}/wait?condition=next-exit`);
        await new Promise((r) => setTimeout(r, 200));
        t0 = Date.now();
        const start = await d.request('POST', `/containers/${id}/start`);
        assert.ok(start.status >= 400, `start answered ${start.status}`);
        clear(JSON.parse(start.body).message, kind);
        const waited = await Promise.race([waiting, new Promise<undefined>((r) => setTimeout(r, 5000, undefined))]);
        assert.ok(waited, 'wait?condition=next-exit did not answer');
        assert.ok(Date.now() - t0 < 1500, `wait answered after ${Date.now() - t0} ms`);
        const body = JSON.parse(waited.body);
        assert.notEqual(body.StatusCode, 0);
        clear(body.Error?.Message ?? '', kind);
        clear(JSON.parse((await d.request('GET', `/containers/${id}/json`)).body).State.Error, kind);
        assert.equal((await d.request('DELETE', `/containers/${id}?force=1`)).status, 204);

        // berth through the daemon says why, rather than exiting 126 in silence.
        t0 = Date.now();
        const v = await d.berth(['version'], 10_000);
        assert.ok(Date.now() - t0 < 2000, `berth version took ${Date.now() - t0} ms`);
        assert.equal(v.code, 125);
        clear(v.stderr, kind);
      } finally {
        await d.stop();
      }
    });
  }

  test('the layer mount fails first on a fresh boot: the same clear error', async () => {
    await root.unmountLayers();
    const d = new TestDaemon(root, { env: { BERTH_SHIM: shims.missing } });
    await d.start();
    try {
      const t0 = Date.now();
      const run = await d.docker(['run', '--rm', '--network', 'none', 'busybox', 'true'], { timeoutMs: 10_000 });
      assert.ok(Date.now() - t0 < 3000, `docker run took ${Date.now() - t0} ms`);
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /mounting image layers: cannot start the shim \(no-such-shim\): no such file or directory/, run.stderr);
      assert.ok(!run.stderr.includes(dir), run.stderr);
      assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
    } finally {
      await d.stop();
    }
  });
});

/** A free TCP port on loopback (bound for a moment). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCerts(dir: string): void {
  const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  fs.writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=berth test CA', '-keyout', 'ca-key.pem', '-out', 'ca.pem']);
  for (const who of ['server', 'client']) {
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who}`, '-keyout', `${who}-key.pem`, '-out', `${who}.csr`]);
    ssl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1', '-extfile', `${who}.ext`, '-out', `${who}.pem`]);
  }
}

describe('who may reach the daemon', { skip }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  test('the unix socket is 0660, root and the berth group\'s (docker\'s convention)', async () => {
    const d = new TestDaemon(root);
    await d.start();
    try {
      const st = fs.statSync(d.socket);
      assert.equal(st.mode & 0o777, 0o660);
      assert.equal(st.uid, 0);
      assert.equal(st.gid, berthGroup() ?? 0);
    } finally {
      await d.stop();
    }
  });

  test('1,000 clients connecting at once are all accepted (listen backlog = somaxconn)', async () => {
    const d = new TestDaemon(root);
    await d.start();
    try {
      let refused = 0;
      let answered = 0;
      await Promise.all(Array.from({ length: 1000 }, () => new Promise<void>((resolve) => {
        const s = net.connect(d.socket);
        s.on('connect', () => s.end('GET /_ping HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n'));
        s.on('data', (b) => { if (b.toString().startsWith('HTTP/1.1 200')) answered++; });
        s.on('error', () => refused++);
        s.on('close', () => resolve());
      })));
      assert.equal(refused, 0, `${refused} of 1000 connections refused`);
      assert.equal(answered, 1000);
    } finally {
      await d.stop();
    }
  });

  test('TCP without TLS: a loud warning, and loopback only', async () => {
    const port = await freePort();
    const d = new TestDaemon(root, { args: ['-H', `tcp://127.0.0.1:${port}`] });
    await d.start();
    try {
      assert.match(d.log, /WARNING: the API on tcp:\/\/127\.0\.0\.1:\d+ is open to any process/);
      const v = await d.docker(['version', '--format', '{{.Server.APIVersion}}'], { host: `tcp://127.0.0.1:${port}` });
      assert.equal(v.stdout.trim(), '1.47', v.stderr);
    } finally {
      await d.stop();
    }
    const refused = await root.run(['daemon', '-H', `unix://${root.dir}/x.sock`, '-H', 'tcp://0.0.0.0:1'], { timeoutMs: 10_000 });
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /without --tlsverify/);
  });

  test('--tlsverify: the docker CLI with a client certificate gets in, without one it does not', async () => {
    const certs = fs.mkdtempSync(path.join(root.dir, 'certs-'));
    makeCerts(certs);
    const port = await freePort();
    const c = (f: string) => path.join(certs, f);
    const d = new TestDaemon(root, { args: ['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', c('ca.pem'), '--tlscert', c('server.pem'), '--tlskey', c('server-key.pem')] });
    await d.start();
    try {
      assert.doesNotMatch(d.log, /WARNING/);
      const host = `tcp://127.0.0.1:${port}`;
      const ok = await d.docker(['--tlsverify', '--tlscacert', c('ca.pem'), '--tlscert', c('client.pem'), '--tlskey', c('client-key.pem'), '-H', host, 'version', '--format', '{{.Server.APIVersion}}'], { host: '' });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout.trim(), '1.47');
      const ps = await d.docker(['--tlsverify', '--tlscacert', c('ca.pem'), '--tlscert', c('client.pem'), '--tlskey', c('client-key.pem'), '-H', host, 'run', '--rm', '--network', 'none', 'busybox', 'echo', 'over tls'], { host: '' });
      assert.equal(ps.stdout, 'over tls\n', ps.stderr + d.log);
      // No client certificate: the handshake fails. Plain HTTP: no answer either.
      const nocert = await d.docker(['--tlsverify', '--tlscacert', c('ca.pem'), '-H', host, 'version'], { host: '', env: { DOCKER_CERT_PATH: certs + '/none' } });
      assert.notEqual(nocert.code, 0);
      assert.doesNotMatch(nocert.stdout, /1\.47/);
      const plain = await d.docker(['-H', host, 'version', '--format', '{{.Server.APIVersion}}'], { host: '' });
      assert.notEqual(plain.code, 0);
    } finally {
      await d.stop();
    }
  });
});

describe('the state root is root\'s alone', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  /** cat as nobody (uid 65534, no groups): its exit status. */
  const catAsNobody = (file: string) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'cat', file], { stdio: 'ignore' }).status;

  test('names, image configs and container configs (with their Env) are unreadable to other users', async () => {
    fs.chmodSync(root.dir, 0o711); // as earlier versions made it: fixed when next opened
    fs.writeFileSync(path.join(root.dir, 'probe'), 'readable\n', { mode: 0o644 });
    assert.equal(catAsNobody(path.join(root.dir, 'probe')), 0, 'the probe must be readable through a 0711 root');
    const id = (await root.run(['create', '--name', 'secretive', '-e', 'PASSWORD=hunter2', 'busybox', 'true'])).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(fs.statSync(root.dir).mode & 0o777, 0o700);
    const image = fs.readdirSync(path.join(root.dir, 'images')).find((n) => n.endsWith('.json'))!;
    for (const f of ['probe', 'names/secretive', `images/${image}`, `containers/${id}/config.json`]) {
      assert.notEqual(catAsNobody(path.join(root.dir, f)), 0, `${f} is readable by nobody`);
    }
    // Files holding an environment are root's alone even where the directory is not.
    assert.equal(fs.statSync(path.join(root.dir, 'containers', id, 'config.json')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(root.dir, 'images', image)).mode & 0o777, 0o600);
    // The image's config blob (its id is the blob's digest) holds the same Env.
    assert.equal(fs.statSync(path.join(root.dir, 'content', 'blobs', 'sha256', image.replace(/\.json$/, ''))).mode & 0o777, 0o600);
    assert.equal((await root.run(['rm', id])).code, 0);
  });
});

describe('hostile API requests get dockerd\'s 400, never a host path', { skip }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  before(async () => {
    root = await TestRoot.withBusybox();
    d = new TestDaemon(root);
    await d.start();
  });
  after(async () => {
    await d.stop();
    await root.cleanup();
  });

  const create = (body: object, query = '') => d.request('POST', `/containers/create${query}`, JSON.stringify({ Image: 'busybox', Cmd: ['true'], ...body }));

  test('a 10,000-character container name', async () => {
    const r = await create({}, `?name=${'a'.repeat(10_000)}`);
    assert.equal(r.status, 400, r.body);
    assert.match(JSON.parse(r.body).message, /^Invalid container name \(a{64}\.\.\.\): at most 253 characters/);
    assert.ok(r.body.length < 300);
    const slash = await create({}, `?name=${encodeURIComponent('../../etc')}`);
    assert.equal(slash.status, 400);
    assert.equal(JSON.parse(slash.body).message, 'Invalid container name (../../etc), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
    const ok = await create({}, `?name=/${'b'.repeat(253)}`);
    assert.equal(ok.status, 201, ok.body);
    assert.equal((await d.request('DELETE', `/containers/${'b'.repeat(253)}`)).status, 204);
    const renamed = await d.request('POST', `/containers/${JSON.parse((await create({})).body).Id}/rename?name=${'c'.repeat(300)}`);
    assert.equal(renamed.status, 400);
  });

  test('CpusetCpus and CpusetMems are checked as dockerd checks them', async () => {
    const cases: Array<[object, string]> = [
      [{ CpusetMems: '0-100000' }, 'Invalid value 0-100000 for cpuset mems: value of out range, maximum is 8192'],
      [{ CpusetMems: '1-9223372036854775807' }, 'Invalid value 1-9223372036854775807 for cpuset mems: value of out range, maximum is 8192'],
      [{ CpusetCpus: '0-100000' }, 'Invalid value 0-100000 for cpuset cpus: value of out range, maximum is 8192'],
      [{ CpusetMems: 'abc' }, 'Invalid value abc for cpuset mems: invalid format: abc'],
      [{ CpusetMems: '4095' }, `Requested memory nodes are not available - requested 4095, available: ${fs.readFileSync('/sys/devices/system/node/online', 'utf8').trim()}`],
    ];
    for (const [host, message] of cases) {
      const r = await create({ HostConfig: host });
      assert.equal(r.status, 400, r.body);
      assert.equal(JSON.parse(r.body).message, message);
    }
  });

  test('error messages never show the state root', async () => {
    // A name the file system refuses: once a 500 naming the volume's directory under the root.
    const r = await d.request('POST', '/volumes/create', JSON.stringify({ Name: 'v'.repeat(300) }));
    assert.equal(r.status, 400, r.body);
    assert.match(JSON.parse(r.body).message, /^name too long/);
    assert.ok(!r.body.includes(root.dir), r.body);
  });

  test('nor the container\'s cgroup directory', async () => {
    // A quota the kernel refuses (over its 2^44 us maximum, which dockerd does not check at
    // create either): the error names the file by container.
    const quota = 2 ** 50;
    const id = JSON.parse((await create({ HostConfig: { NetworkMode: 'none', CpuQuota: quota } })).body).Id as string;
    const r = await d.request('POST', `/containers/${id}/start`);
    assert.equal(r.status, 400, r.body);
    const file = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'cpu.max' : 'cpu.cfs_quota_us'; // v2, v1
    assert.equal(JSON.parse(r.body).message, `the kernel rejected ${quota}${file === 'cpu.max' ? ' 100000' : ''} for <cgroup>/${id}/${file} (EINVAL)`);
    assert.equal((await d.request('DELETE', `/containers/${id}`)).status, 204);
  });
});

describe('clients that leave in the middle of an attach leave nothing open in the daemon', { skip }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  before(async () => {
    root = await TestRoot.withBusybox();
    d = new TestDaemon(root);
    await d.start();
  });
  after(async () => {
    await d.stop();
    await root.cleanup();
  });

  const fds = () => fs.readdirSync(`/proc/${d.pid}/fd`).length;

  test('20 docker attach clients killed: the daemon\'s fds come back (quiet and chatty, daemon and CLI started)', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'quiet', '--network', 'none', 'busybox', 'sleep', '600'])).code, 0);
    assert.equal((await d.docker(['run', '-d', '--name', 'chatty', '--network', 'none', 'busybox', 'sh', '-c', 'while :; do echo x; sleep 0.2; done'])).code, 0);
    assert.equal((await root.run(['run', '-d', '--name', 'cliquiet', '--network', 'none', 'busybox', 'sleep', '600'])).code, 0);
    assert.equal((await root.run(['run', '-d', '--name', 'clichatty', '--network', 'none', 'busybox', 'sh', '-c', 'while :; do echo y; sleep 0.2; done'])).code, 0);
    for (const name of ['quiet', 'chatty', 'cliquiet', 'clichatty']) {
      const before = fds();
      for (let i = 0; i < 20; i++) {
        const child = spawn(DOCKER, ['attach', name], { env: { ...process.env, DOCKER_HOST: `unix://${d.socket}` }, stdio: 'ignore' });
        await new Promise((r) => setTimeout(r, 150));
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
      const after = await root.until(fds, (n) => n <= before, 5000);
      assert.ok(after <= before, `${name}: the daemon had ${before} fds before 20 attaches, ${after} after`);
    }
    assert.equal((await d.docker(['rm', '-f', 'quiet', 'chatty', 'cliquiet', 'clichatty'])).code, 0);
  });
});

describe('the daemon killed in the middle of a start', { skip }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  const procs = (id: string) => root.cgroupDirs(id).flatMap((d) => {
    try {
      return fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  });

  test('SIGKILL at random points: a container that runs is listed running, and start is never refused', async () => {
    // How long a start through the daemon takes here, to spread the kills over it.
    let d = new TestDaemon(root);
    await d.start();
    const probe = (await root.run(['create', '--network', 'none', 'busybox', 'sleep', '30'])).stdout.trim();
    let t0 = Date.now();
    assert.equal((await d.request('POST', `/containers/${probe}/start`)).status, 204);
    const span = Math.max(100, (Date.now() - t0) * 1.5);
    await d.stop();
    assert.equal((await root.run(['rm', '-f', probe])).code, 0);
    let adopted = 0;
    for (let i = 0; i < 20; i++) {
      const id = (await root.run(['create', '--network', 'none', 'busybox', 'sleep', '30'])).stdout.trim();
      d = new TestDaemon(root);
      await d.start();
      const starting = d.request('POST', `/containers/${id}/start`).catch(() => undefined);
      t0 = Date.now();
      await new Promise((r) => setTimeout(r, Math.round(((i * 7) % 20) / 20 * span)));
      await d.stop('SIGKILL');
      await starting;
      await new Promise((r) => setTimeout(r, 300)); // a monitor spawned in time gets its container going
      const insp = await root.run(['inspect', '--format', '{{.State.Status}}', id]);
      assert.equal(insp.code, 0, insp.stderr);
      const status = insp.stdout.trim();
      const running = procs(id).length > 0;
      if (running) {
        adopted++;
        assert.equal(status, 'running', `try ${i}: its process runs, yet the container is ${status}`);
      }
      const start = await root.run(['start', id]);
      assert.equal(start.code, 0, `try ${i}: start refused: ${start.stderr}`);
      assert.equal((await root.run(['inspect', '--format', '{{.State.Status}}', id])).stdout.trim(), 'running');
      assert.equal((await root.run(['rm', '-f', id])).code, 0);
    }
    assert.ok(adopted > 0, 'no kill landed after the monitor was spawned');
    assert.deepEqual(root.leftovers(), []);
  });
});

describe('a state root on tmpfs', { skip }, () => {
  let root: TestRoot;
  let big: string;
  before(async () => {
    root = new TestRoot();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'berth-test', root.dir]);
    await root.importBusybox();
    // A layer bigger than what is left on the tmpfs: 30 MB that do not compress.
    const src = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-big-'));
    fs.mkdirSync(path.join(src, 'rootfs'));
    fs.writeFileSync(path.join(src, 'rootfs', 'blob'), crypto.randomBytes(30 << 20));
    big = path.join(src, 'big.tar');
    execFileSync('tar', ['-C', path.join(src, 'rootfs'), '-cf', big, '.']);
  });
  after(async () => {
    await root.run(['ps', '-a']);
    await root.unmountLayers();
    execFileSync('umount', [root.dir]);
    fs.rmSync(root.dir, { recursive: true, force: true });
    fs.rmSync(path.dirname(big), { recursive: true, force: true });
  });

  const layerMounts = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`/run/berth/layers/${root.key}/`));

  test('containers run: layers go through autoclear loop devices, and info says so', async () => {
    const r = await root.run(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'on tmpfs']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'on tmpfs\n');
    const mounts = layerMounts();
    assert.equal(mounts.length, 1);
    const dev = / - erofs (\/dev\/loop\d+) /.exec(mounts[0])?.[1];
    assert.ok(dev, mounts[0]);
    const sys = `/sys/block/${path.basename(dev)}/loop`;
    assert.equal(fs.readFileSync(`${sys}/autoclear`, 'utf8').trim(), '1');
    assert.match(fs.readFileSync(`${sys}/backing_file`, 'utf8'), new RegExp(`^${root.dir}/layers/`));
    const d = new TestDaemon(root);
    await d.start();
    try {
      const info = await d.docker(['info', '--format', '{{json .DriverStatus}}']);
      const status = new Map(JSON.parse(info.stdout) as Array<[string, string]>);
      assert.equal(status.get('Backing Filesystem'), 'tmpfs');
      assert.match(status.get('Layer images') ?? '', /^EROFS on loop devices/);
    } finally {
      await d.stop();
    }
    // Unmounted, the loop device is released with it (autoclear): nothing leaks.
    await root.unmountLayers();
    assert.deepEqual(layerMounts(), []);
    assert.ok(!fs.existsSync(`${sys}/backing_file`) || !fs.readFileSync(`${sys}/backing_file`, 'utf8').startsWith(root.dir), `${dev} still holds a layer`);
  });

  test('a full tmpfs: "no space left on device", no partial blob, layer or record, then it goes on', async () => {
    const files = () => execFileSync('find', [root.dir, '-type', 'f', '-not', '-name', 'events.log*'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    const before = files();
    const imported = await root.run(['import', big, 'big:1']);
    assert.equal(imported.code, 125);
    assert.equal(imported.stderr, 'berth: no space left on device.\n');
    assert.deepEqual(files(), before);
    // Through the daemon: docker load of the same layer gets the message, not a stack trace.
    const d = new TestDaemon(root);
    await d.start();
    try {
      const other = new TestRoot();
      try {
        assert.equal((await other.run(['import', big, 'big:1'])).code, 0);
        const archive = path.join(path.dirname(big), 'save.tar');
        assert.equal((await other.run(['save', '-o', archive, 'big:1'])).code, 0);
        const loaded = await d.docker(['load', '-i', archive]);
        assert.notEqual(loaded.code, 0);
        assert.match(loaded.stderr, /no space left on device/);
        assert.doesNotMatch(loaded.stderr, /\n\s+at /);
        assert.ok(!loaded.stderr.includes(root.dir), loaded.stderr);
      } finally {
        await other.cleanup();
      }
    } finally {
      await d.stop();
    }
    assert.deepEqual(files(), before);
    const r = await root.run(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'still fine']);
    assert.equal(r.stdout, 'still fine\n', r.stderr);
  });
});
