// The Engine API as real clients use it beyond the docker CLI's everyday flows: Debian's python
// SDK (python3-docker), dockerode and the docker CLI against `berth daemon`, checked against
// what dockerd answers (statuses, messages, shapes).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { busyboxTar, collect, TestRoot } from '../helpers/berth.ts';
import { TestDaemon, daemonWithBusybox, skip } from '../helpers/daemon.ts';

const PYTHON = '/usr/bin/python3';
const hasPythonSdk = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import docker']).status === 0;

/** Runs python with the SDK's client `c` (and the low-level `api`) on the daemon; returns what it prints. */
async function py(d: TestDaemon, code: string): Promise<string> {
  const prelude = `import docker, json, sys, time\nc = docker.DockerClient(base_url='unix://${d.socket}')\napi = c.api\n`;
  const r = await collect(spawn(PYTHON, ['-c', prelude + code], { stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
  assert.equal(r.code, 0, `python failed: ${r.stderr}`);
  return r.stdout;
}

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

describe('the API daemon as SDKs use it', { skip }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  daemonWithBusybox((r, dd) => ((root = r), (d = dd)));

  test('swarm, service, secret, config, node and task endpoints answer as dockerd outside a swarm; no plugins', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['GET', '/swarm', 503, NOT_MANAGER],
      ['POST', '/swarm/leave?force=1', 503, 'This node is not part of a swarm'],
      ['POST', '/swarm/init', 400, 'invalid ListenAddr "": invalid empty address'],
      ['GET', '/swarm/unlockkey', 503, NOT_MANAGER],
      ['POST', '/swarm/update', 400, 'invalid swarm version \'\': strconv.ParseUint: parsing "": invalid syntax'],
      ['GET', '/nodes', 503, NOT_MANAGER],
      ['DELETE', '/nodes/x', 503, NOT_MANAGER],
      ['GET', '/services', 503, NOT_MANAGER],
      ['POST', '/services/create', 503, NOT_MANAGER],
      ['POST', '/services/x/update?version=1', 503, NOT_MANAGER],
      ['GET', '/services/x/logs', 500, 'Bad parameters: you must choose at least one stream'],
      ['GET', '/tasks', 503, NOT_MANAGER],
      ['GET', '/tasks/x', 503, NOT_MANAGER],
      ['GET', '/secrets', 503, NOT_MANAGER],
      ['POST', '/secrets/x/update', 400, 'invalid secret version'],
      ['GET', '/configs/x', 503, NOT_MANAGER],
      ['GET', '/plugins/x/json', 404, 'plugin "x" not found'],
      ['DELETE', '/plugins/x', 404, 'plugin "x" not found'],
      ['POST', '/plugins/x/disable', 404, 'plugin "x" not found'],
    ];
    for (const [method, p, status, message] of cases) {
      const r = await d.request(method, `/v1.47${p}`, method === 'POST' ? '{}' : undefined);
      assert.equal(r.status, status, `${method} ${p}: ${r.body}`);
      assert.equal(JSON.parse(r.body).message, message, `${method} ${p}`);
    }
    assert.equal((await d.request('GET', '/plugins')).body.trim(), '[]');
    const leave = await d.docker(['swarm', 'leave']);
    assert.notEqual(leave.code, 0);
    assert.match(leave.stderr, /This node is not part of a swarm/);
    assert.match((await d.docker(['node', 'ls'])).stderr, /This node is not a swarm manager/);
    assert.equal((await d.docker(['plugin', 'ls', '--format', '{{.Name}}'])).stdout, '');
    if (!hasPythonSdk) return;
    // The python SDK's network tests tear down with swarm.leave(force=True), which takes
    // dockerd's 503 for "not in a swarm"; without force it is an APIError.
    const out = await py(d, `
print(c.swarm.leave(force=True))
try:
    c.swarm.leave()
except docker.errors.APIError as e:
    print(e.status_code, e.explanation)
print(c.plugins.list())
print(json.dumps(c.info()['Swarm']['LocalNodeState']))
`);
    assert.equal(out, 'True\n503 This node is not part of a swarm\n[]\n"inactive"\n');
  });

  test('kill of a stopped container is a 409 in docker\'s words; exec of a file that cannot run is 126 with its message', { skip: !hasPythonSdk && 'needs python3-docker' }, async () => {
    const out = await py(d, `
x = c.containers.create('busybox', 'true', name='stopped')
try:
    x.kill()
except docker.errors.APIError as e:
    print(e.status_code, e.explanation)
x.remove()
r = c.containers.run('busybox', 'sleep 60', detach=True, name='execs')
r.exec_run(['sh', '-c', 'echo "#!/bin/sh" > /tmp/x; chmod 644 /tmp/x'])
for cmd in ['/tmp/x', '/etc']:
    res = r.exec_run(cmd)
    print(res.exit_code, res.output.decode().strip())
res = r.exec_run('nosuchcommand')
print(res.exit_code in (126, 127))
print([r.exec_run('echo hi').output for i in range(5)])
r.remove(force=True)
`);
    const lines = out.split('\n');
    assert.match(lines[0], /^409 Cannot kill container: [0-9a-f]{64}: Container [0-9a-f]{64} is not running$/);
    // runc's words, as dockerd passes them on.
    assert.match(lines[1], /^126 OCI runtime exec failed: exec failed: unable to start container process: exec: "\/tmp\/x": permission denied: unknown$/);
    assert.match(lines[2], /^126 .*"\/etc": permission denied: unknown$/);
    assert.equal(lines[3], 'True');
    // Output right behind the 101: the SDK reads the headers buffered, then the raw socket.
    assert.equal(lines[4], "[b'hi\\n', b'hi\\n', b'hi\\n', b'hi\\n', b'hi\\n']");
  });

  test('docker update: limits written into a running container\'s cgroup, restart policy and inspect updated', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'upd', '-m', '32m', 'busybox', 'sleep', '60'])).code, 0);
    const up = await d.docker(['update', '--memory', '64m', '--memory-swap', '128m', '--cpu-shares', '512', '--pids-limit', '50', '--restart', 'on-failure:2', 'upd']);
    assert.equal(up.code, 0, up.stderr);
    const f = await d.docker(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'upd']);
    assert.equal(f.stdout.trim(), `${64 << 20} ${128 << 20} 512 50 on-failure:2`);
    const id = (await d.docker(['inspect', '-f', '{{.Id}}', 'upd'])).stdout.trim();
    const v1 = `/sys/fs/cgroup/memory/berth/${root.key}/${id}/memory.limit_in_bytes`;
    const v2 = `/sys/fs/cgroup/berth/${root.key}/${id}/memory.max`;
    const file = fs.existsSync(v1) ? v1 : v2;
    assert.equal(fs.readFileSync(file, 'utf8').trim(), String(64 << 20));
    const pids = fs.existsSync(`/sys/fs/cgroup/pids/berth/${root.key}/${id}/pids.max`) ? `/sys/fs/cgroup/pids/berth/${root.key}/${id}/pids.max` : `/sys/fs/cgroup/berth/${root.key}/${id}/pids.max`;
    assert.equal(fs.readFileSync(pids, 'utf8').trim(), '50');
    const small = await d.request('POST', '/containers/upd/update', JSON.stringify({ Memory: 1024 }));
    assert.equal(small.status, 400);
    assert.match(JSON.parse(small.body).message, /Minimum memory limit allowed is 6MB/);
    assert.equal((await d.request('POST', '/containers/nosuch/update', '{}')).status, 404);
    const ok = await d.request('POST', '/containers/upd/update', JSON.stringify({ CpuShares: 256 }));
    assert.deepEqual(JSON.parse(ok.body), { Warnings: [] });
    assert.equal((await d.docker(['rm', '-f', 'upd'])).code, 0);
    // The CPU limit as dockerd 20.10 answers (its messages, side by side): quota and period kept
    // as given (NanoCpus 0), the two ways exclude each other, CFS bounds at create and update.
    assert.equal((await d.docker(['create', '--name', 'cfs', '--cpu-quota', '50000', 'busybox', 'true'])).code, 0);
    const cfs = await d.docker(['inspect', '-f', '{{.HostConfig.NanoCpus}} {{.HostConfig.CpuQuota}} {{.HostConfig.CpuPeriod}}', 'cfs']);
    assert.equal(cfs.stdout.trim(), '0 50000 0');
    const nano = await d.docker(['update', '--cpus', '2', 'cfs']);
    assert.match(nano.stderr, /Error response from daemon: Cannot update container [0-9a-f]{64}: Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set/);
    const period = await d.docker(['update', '--cpu-period', '600', 'cfs']);
    assert.match(period.stderr, /Error response from daemon: CPU cfs period can not be less than 1ms \(i\.e\. 1000\) or larger than 1s \(i\.e\. 1000000\)\n/);
    const both = await d.docker(['create', '--cpus', '1', '--cpu-quota', '50000', 'busybox', 'true']);
    assert.match(both.stderr, /Error response from daemon: Conflicting options: Nano CPUs and CPU Quota cannot both be set/);
    const low = await d.docker(['create', '--cpu-quota', '500', 'busybox', 'true']);
    assert.match(low.stderr, /Error response from daemon: CPU cfs quota can not be less than 1ms \(i\.e\. 1000\)/);
    assert.equal((await d.docker(['create', '--name', 'cfsp', '--cpu-period', '50000', 'busybox', 'true'])).code, 0);
    assert.equal((await d.docker(['inspect', '-f', '{{.HostConfig.CpuPeriod}}', 'cfsp'])).stdout.trim(), '50000');
    assert.equal((await d.docker(['rm', 'cfs', 'cfsp'])).code, 0);
  });

  test('archive: HEAD gives the stat header, PUT unpacks a tar (python SDK put_archive), GET returns it', { skip: !hasPythonSdk && 'needs python3-docker' }, async () => {
    const out = await py(d, `
import io, tarfile, base64
r = c.containers.run('busybox', 'sleep 60', detach=True, name='arch')
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as t:
    data = b'put through the SDK\\n'
    info = tarfile.TarInfo('hello.txt'); info.size = len(data); t.addfile(info, io.BytesIO(data))
print(r.put_archive('/tmp', buf.getvalue()))
print(r.exec_run('cat /tmp/hello.txt').output.decode().strip())
stream, stat = r.get_archive('/tmp/hello.txt')
print(stat['name'], stat['size'])
head = c.api.head(api._url('/containers/{0}/archive', r.id), params={'path': '/tmp'})
st = json.loads(base64.b64decode(head.headers['X-Docker-Container-Path-Stat']))
print(head.status_code, st['name'], bool(st['mode'] & (1 << 31)))
print(c.api.head(api._url('/containers/{0}/archive', r.id), params={'path': '/nosuch'}).status_code)
r.remove(force=True)
`);
    assert.equal(out, 'True\nput through the SDK\nhello.txt 20\n200 tmp True\n404\n');
  });

  test('PID, IPC and UTS namespaces of the host or of another container; volumes-from', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'holder', '-v', '/shared', 'busybox', 'sh', '-c', 'echo from-holder > /shared/f; sleep 60'])).code, 0);
    const joined = await d.docker(['run', '--rm', '--pid', 'container:holder', 'busybox', 'ps', '-o', 'comm']);
    assert.equal(joined.code, 0, joined.stderr);
    assert.match(joined.stdout, /^sleep$/m); // the holder's processes are there
    const host = await d.docker(['run', '--rm', '--pid', 'host', 'busybox', 'sh', '-c', 'ls /proc | grep -c "^[0-9]"']);
    assert.ok(Number(host.stdout) > 10, host.stdout + host.stderr);
    const uts = await d.docker(['run', '--rm', '--uts', 'host', 'busybox', 'hostname']);
    assert.equal(uts.stdout.trim(), os.hostname());
    const ipcHost = await d.docker(['run', '--rm', '--ipc', 'host', 'busybox', 'readlink', '/proc/self/ns/ipc']);
    assert.equal(ipcHost.stdout.trim(), fs.readlinkSync('/proc/self/ns/ipc'));
    const ipc = await d.docker(['run', '--rm', '--ipc', 'container:holder', 'busybox', 'readlink', '/proc/self/ns/ipc']);
    const holderIpc = (await d.docker(['exec', 'holder', 'readlink', '/proc/self/ns/ipc'])).stdout;
    assert.equal(ipc.stdout, holderIpc);
    assert.equal((await d.docker(['inspect', '-f', '{{.HostConfig.PidMode}}/{{.HostConfig.IpcMode}}', 'holder'])).stdout.trim(), '/private');
    const vf = await d.docker(['run', '--rm', '--volumes-from', 'holder:ro', 'busybox', 'sh', '-c', 'cat /shared/f; touch /shared/g']);
    assert.equal(vf.stdout, 'from-holder\n');
    assert.match(vf.stderr, /Read-only file system/);
    const bad = await d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { PidMode: 'container:nosuch' } }));
    assert.equal(bad.status, 404);
    assert.equal((await d.docker(['rm', '-f', 'holder'])).code, 0);
  });

  test('--init: docker-init is pid 1, reaps orphans, forwards signals; --shm-size; bind propagation', async () => {
    const ps = await d.docker(['run', '--rm', '--init', 'busybox', 'ps', '-o', 'pid,comm']);
    assert.match(ps.stdout, /^\s*1 docker-init$/m);
    // The orphan's parent is pid 1: without an init that reaps, `exec sleep` would leave a zombie.
    assert.equal((await d.docker(['run', '-d', '--init', '--name', 'reap', 'busybox', 'sh', '-c', '(sleep 0.2 &); exec sleep 30'])).code, 0);
    await new Promise((r) => setTimeout(r, 1000));
    assert.doesNotMatch((await d.docker(['exec', 'reap', 'ps', '-o', 'stat,comm'])).stdout, /^Z/m);
    const t0 = Date.now();
    assert.equal((await d.docker(['stop', 'reap'])).code, 0);
    assert.ok(Date.now() - t0 < 5000, 'SIGTERM reached the command through the init');
    assert.equal((await d.docker(['inspect', '-f', '{{.HostConfig.Init}} {{.State.ExitCode}}', 'reap'])).stdout.trim(), 'true 143');
    assert.equal((await d.docker(['rm', 'reap'])).code, 0);
    assert.equal((await d.docker(['run', '--rm', '--init', 'busybox', 'nonexist'])).code, 127);

    const shm = await d.docker(['run', '--rm', '--shm-size', '128m', 'busybox', 'df', '-k', '/dev/shm']);
    assert.match(shm.stdout, /shm\s+131072 /);

    const dir = fs.mkdtempSync(path.join(root.dir, 'bind-'));
    // As dockerd, a shared bind needs a shared source: refused on the test's private root, then
    // given one (the directory bound on itself and made shared).
    const refused = await d.docker(['run', '--rm', '-v', `${dir}:/bp:rw,rshared`, 'busybox', 'true']);
    assert.match(refused.stderr, /is mounted on .* but it is not a shared mount/);
    spawnSync('mount', ['--bind', dir, dir]);
    spawnSync('mount', ['--make-shared', dir]);
    const shared = await d.docker(['run', '--rm', '-v', `${dir}:/bp:rw,rshared`, 'busybox', 'grep', ' /bp ', '/proc/self/mountinfo']);
    spawnSync('umount', ['-l', dir]);
    assert.match(shared.stdout, / shared:\d+ /);
    const priv = await d.docker(['run', '--rm', '--mount', `type=bind,src=${dir},dst=/bp,bind-propagation=private`, 'busybox', 'grep', ' /bp ', '/proc/self/mountinfo']);
    assert.doesNotMatch(priv.stdout, /shared:/);
    assert.equal((await d.docker(['create', '--name', 'prop', '-v', `${dir}:/bp:rslave`, 'busybox'])).code, 0);
    assert.equal((await d.docker(['inspect', '-f', '{{range .Mounts}}{{.Propagation}}{{end}}', 'prop'])).stdout.trim(), 'rslave');
    assert.equal((await d.docker(['rm', 'prop'])).code, 0);
  });

  test('log drivers: none (logs refused as dockerd does, attach still works), local (read back), an unknown one refused', async () => {
    const none = await d.docker(['run', '--name', 'nolog', '--log-driver', 'none', 'busybox', 'echo', 'attached-output']);
    assert.equal(none.stdout, 'attached-output\n');
    const logs = await d.docker(['logs', 'nolog']);
    assert.notEqual(logs.code, 0);
    assert.match(logs.stderr, /configured logging driver does not support reading/);
    assert.equal((await d.request('GET', '/containers/nolog/logs?stdout=1')).status, 501);
    assert.equal((await d.docker(['run', '--name', 'loc', '--log-driver', 'local', 'busybox', 'echo', 'kept'])).code, 0);
    assert.equal((await d.docker(['logs', 'loc'])).stdout, 'kept\n');
    assert.equal((await d.docker(['inspect', '-f', '{{.HostConfig.LogConfig.Type}}', 'loc'])).stdout.trim(), 'local');
    const unknown = await d.docker(['run', '--log-driver', 'foo', 'busybox', 'true']);
    assert.match(unknown.stderr, /error looking up logging plugin foo: plugin "foo" not found/);
    assert.equal((await d.docker(['rm', 'nolog', 'loc'])).code, 0);
  });

  test('OpenStdin without an attached client keeps stdin open (run -di, SDK stdin_open); a later attach feeds it', async () => {
    assert.equal((await d.docker(['run', '-di', '--name', 'cat1', 'busybox', 'cat'])).code, 0);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', 'cat1'])).stdout.trim(), 'true');
    const ex = await d.docker(['exec', 'cat1', 'echo', 'still here']);
    assert.equal(ex.stdout, 'still here\n');
    // docker attach with input: cat echoes it (the container's stdin is still open).
    const att = spawn('/usr/local/bin/docker', ['attach', 'cat1'], { env: { ...process.env, DOCKER_HOST: `unix://${d.socket}` }, stdio: ['pipe', 'pipe', 'pipe'] });
    let seen = '';
    att.stdout!.on('data', (b) => (seen += b));
    await new Promise((r) => setTimeout(r, 500));
    att.stdin!.write('fed later\n');
    await root.until(() => seen, (s) => s.includes('fed later'), 5000);
    assert.match(seen, /fed later/);
    att.kill();
    assert.equal((await d.docker(['rm', '-f', 'cat1'])).code, 0);
    if (!hasPythonSdk) return;
    const out = await py(d, `
r = c.containers.run('busybox', 'cat', stdin_open=True, detach=True)
time.sleep(0.5)
r.reload()
print(r.status, r.exec_run('echo in').output)
r.remove(force=True)
`);
    assert.equal(out, "running b'in\\n'\n");
  });

  test('prune and list filters (containers, volumes, networks), commit changes in one value, attach logs without a stream, diff kinds (python SDK)', { skip: !hasPythonSdk && 'needs python3-docker' }, async () => {
    const out = await py(d, `
lg = c.containers.run('busybox', ['sh', '-c', 'echo hello-logs; mkdir /newdir; rm -rf /home; echo > /etc/passwd'], detach=True, name='lg')
lg.wait()
print(lg.attach(logs=True, stream=False))
print(sorted((x['Path'], x['Kind']) for x in lg.diff() if x['Path'] in ('/newdir', '/home', '/etc/passwd')))
img = lg.commit('committed', changes='CMD ["echo","y"]\\nENV B=c')
print(img.attrs['Config']['Cmd'], [e for e in img.attrs['Config']['Env'] if e.startswith('B=')])
print(c.containers.run('committed', remove=True))
x = c.containers.create('busybox', 'true', labels={'k': 'v'})
y = c.containers.create('busybox', 'true')
r = c.containers.prune(filters={'until': '1h'})
print(y.id in (r['ContainersDeleted'] or []))
r = c.containers.prune(filters={'label!': 'k'})
print(y.id in r['ContainersDeleted'], x.id in r['ContainersDeleted'], lg.id in r['ContainersDeleted'])
r = c.containers.prune(filters={'label': 'k=v'})
print(r['ContainersDeleted'] == [x.id])
v = c.volumes.create(labels={'a': '1'})
w = c.volumes.create()
r = c.volumes.prune(filters={'label': 'a=1', 'all': 'true'})
print(v.id in r['VolumesDeleted'], w.id in r['VolumesDeleted'])
w.remove()
c.images.remove('committed')
named = c.volumes.create('named', labels={'k': 'v'})
print([x.name for x in c.volumes.list(filters={'label': 'k=v'})], 'named' in [x.name for x in c.volumes.list(filters={'dangling': True})])
named.remove()
n = c.networks.create('filtered', labels={'l': '1'})
print([x.name for x in c.networks.list(names=['filtered'])], [x.name for x in c.networks.list(filters={'label': 'l=1'})], sorted(x.name for x in c.networks.list(filters={'type': 'builtin'})))
n.remove()
h = c.containers.create('busybox', 'true', healthcheck={'test': ['CMD', 'true'], 'interval': 1000000000})
print(h.attrs['Config']['Healthcheck'])
h.remove()
`);
    assert.equal(out, [
      "b'hello-logs\\n'",
      "[('/etc/passwd', 0), ('/home', 2), ('/newdir', 1)]",
      "['echo', 'y'] ['B=c']",
      "b'y\\n'",
      'False',
      'True False True',
      'True',
      'True False',
      "['named'] True",
      "['filtered'] ['filtered'] ['bridge', 'host', 'none']",
      "{'Test': ['CMD', 'true'], 'Interval': 1000000000}",
      '',
    ].join('\n'));
  });

  test('detach keys end an attachment to a terminal, the container running on (python SDK)', { skip: !hasPythonSdk && 'needs python3-docker' }, async () => {
    const out = await py(d, `
import socket
r = c.containers.run('busybox', 'sh', tty=True, stdin_open=True, detach=True)
s = api.attach_socket(r.id, params={'stdin': 1, 'stdout': 1, 'stream': 1, 'detachKeys': 'ctrl-a,a'})._sock
s.settimeout(5)
time.sleep(0.3)
s.sendall(b'echo hi-$((1+1))\\n')
time.sleep(0.5)
print(b'hi-2' in s.recv(1000))
s.sendall(b'\\x01a')
while s.recv(1000): pass
r.reload()
print(r.status)
try:
    api.attach_socket(r.id, params={'stdin': 1, 'stream': 1, 'detachKeys': 'ctrl-1'})
except docker.errors.APIError as e:
    print(e.status_code, e.explanation)
r.remove(force=True)
`);
    assert.equal(out, 'True\nrunning\n400 Invalid detach keys (ctrl-1) provided\n');
  });

  test('legacy links: the alias in /etc/hosts, docker\'s variables (and a MAC address as older clients give it); refused to a missing or stopped container; removed by DELETE ?link=1', { skip: !fs.existsSync('/usr/lib/cni/bridge') && 'needs the CNI plugins' }, async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'linked', '-e', 'SECRET=s1', '--expose', '80', 'busybox', 'sleep', '60'])).code, 0);
    const ip = (await d.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'linked'])).stdout.trim();
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    const r = await d.docker(['run', '--rm', '--name', 'linker', '--link', 'linked:db', 'busybox', 'sh', '-c', 'env | grep ^DB_ | sort; grep -w db /etc/hosts']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, [
      'DB_ENV_SECRET=s1', 'DB_NAME=/linker/db', `DB_PORT=tcp://${ip}:80`, `DB_PORT_80_TCP=tcp://${ip}:80`, `DB_PORT_80_TCP_ADDR=${ip}`,
      'DB_PORT_80_TCP_PORT=80', 'DB_PORT_80_TCP_PROTO=tcp', `${ip}\tdb`, '',
    ].join('\n'));
    // Config.MacAddress without an endpoint (the python SDK's mac_address) is the container's.
    if (hasPythonSdk) assert.equal(await py(d, `print(c.containers.run('busybox', 'cat /sys/class/net/eth0/address', mac_address='02:42:ac:11:00:42', remove=True))`), "b'02:42:ac:11:00:42\\n'\n");
    const missing = await d.docker(['run', '--rm', '--link', 'nosuch:db', 'busybox', 'true']);
    assert.match(missing.stderr, /could not get container for nosuch/);
    assert.equal((await d.docker(['create', '--name', 'child', '--link', 'linked:db', 'busybox', 'true'])).code, 0);
    assert.equal((await d.docker(['inspect', '-f', '{{json .HostConfig.Links}}', 'child'])).stdout.trim(), '["/linked:/child/db"]');
    assert.equal((await d.request('DELETE', '/containers/child/db?link=1')).status, 204);
    assert.equal((await d.docker(['inspect', '-f', '{{json .HostConfig.Links}}', 'child'])).stdout.trim(), 'null');
    assert.equal((await d.docker(['stop', '-t', '0', 'linked'])).code, 0);
    const stopped = await d.docker(['run', '--rm', '--link', 'linked:db', 'busybox', 'true']);
    assert.match(stopped.stderr, /Cannot link to a non running container: \/linked/);
    // An --rm container whose start failed is removed (docker run waits for that).
    assert.equal((await d.docker(['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').sort().join(' ').trim(), 'child linked');
    assert.equal((await d.docker(['rm', 'child', 'linked'])).code, 0);
  });

  test('legacy link removal and other container routes answer as dockerd', async () => {
    // Env "KEY" without a value: kept as given (the client looked it up), not in the process's environment.
    const env = await d.request('POST', '/containers/create?name=envc', JSON.stringify({ Image: 'busybox', Env: ['NOPE', 'X=1'], Cmd: ['env'] }));
    assert.equal(env.status, 201);
    assert.deepEqual(JSON.parse((await d.request('GET', '/containers/envc/json')).body).Config.Env, ['NOPE', 'X=1']);
    const run = await d.docker(['start', '-a', 'envc']);
    assert.match(run.stdout, /^X=1$/m);
    assert.doesNotMatch(run.stdout, /NOPE/);
    assert.equal((await d.docker(['rm', 'envc'])).code, 0);
    assert.equal((await d.docker(['create', '--name', 'parent', 'busybox', 'true'])).code, 0);
    const r = await d.request('DELETE', '/containers/parent/db?link=1');
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body).message, 'No such container: parent/db');
    assert.equal((await d.request('DELETE', '/containers/nosuch/db?link=1')).status, 404);
    assert.equal((await d.docker(['rm', 'parent'])).code, 0);
    assert.deepEqual(root.leftovers(), []);
  });
});

describe('docker-compose 1.29 (Debian\'s) runs a three-service app', { skip: skip || (!fs.existsSync('/usr/bin/docker-compose') && 'needs docker-compose') || (!fs.existsSync('/usr/lib/cni/bridge') && 'needs the CNI plugins') }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  daemonWithBusybox((r, dd) => ((root = r), (d = dd)));

  test('up (service_healthy, volumes_from, init, a published port), ps, exec, run --rm, restart, stop, start, up again, down -v', async () => {
    const dir = fs.mkdtempSync(path.join(root.dir, 'app-'));
    fs.writeFileSync(path.join(dir, 'docker-compose.yml'), [
      'version: "3.8"',
      'services:',
      '  db:',
      '    image: busybox',
      '    command: sh -c "echo db up; exec httpd -f -p 8080"',
      '    init: true',
      '    healthcheck: { test: ["CMD", "true"], interval: 1s, retries: 3 }',
      '    volumes: [ "data:/data" ]',
      '  web:',
      '    image: busybox',
      '    command: sh -c "echo web up; exec sleep 300"',
      '    init: true',
      '    depends_on: { db: { condition: service_healthy } }',
      '    ports: [ "8080" ]',
      '  worker:',
      '    image: busybox',
      '    command: sleep 300',
      '    init: true',
      '    volumes_from: [ db ]',
      'volumes: { data: {} }',
      '',
    ].join('\n'));
    const compose = (args: string[]) => collect(spawn('/usr/bin/docker-compose', ['-p', 'app', ...args], { cwd: dir, env: { ...process.env, DOCKER_HOST: `unix://${d.socket}` }, stdio: ['ignore', 'pipe', 'pipe'] }), 120_000);
    const ok = async (args: string[]) => {
      const r = await compose(args);
      assert.equal(r.code, 0, `docker-compose ${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    await ok(['up', '-d']);
    const ps = await ok(['ps']);
    assert.match(ps.stdout, /app_db_1 .* Up \(healthy\)/);
    assert.match(ps.stdout, /app_web_1 .* Up .*->8080\/tcp/);
    assert.equal((await ok(['exec', '-T', 'web', 'echo', 'hi'])).stdout, 'hi\n');
    assert.match((await ok(['run', '--rm', 'worker', 'sh', '-c', 'echo ran; ls -d /data'])).stdout, /ran\n\/data/);
    await ok(['restart', 'worker']);
    await ok(['stop']);
    await ok(['start']);
    assert.match((await ok(['up', '-d'])).stderr, /app_web_1 is up-to-date/);
    assert.match((await ok(['logs', 'db'])).stdout, /db up/);
    await ok(['down', '-v']);
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
    assert.equal((await d.docker(['volume', 'ls', '-q'])).stdout, '');
    await root.until(() => root.leftovers(), (l) => l.length === 0, 5000);
    assert.deepEqual(root.leftovers(), []);
  });
});

describe('berth\'s answers have dockerd\'s shapes (a private dockerd, side by side)', { skip: skip || (!fs.existsSync('/usr/sbin/dockerd') && 'needs dockerd (Debian docker.io)') }, () => {
  test('inspect, lists, info, version and system df: the same keys with the same types', async () => {
    const root = await TestRoot.withBusybox();
    const berth = new TestDaemon(root);
    const real = await RealDockerd.start();
    try {
      await berth.start();
      const loaded = await real.docker(['import', '--change', 'CMD ["sh"]', busyboxTar(), 'busybox:latest']);
      assert.equal(loaded.code, 0, loaded.stderr);
      const create = ['create', '--name', 'same', '-e', 'A=b', '-l', 'k=v', '--tmpfs', '/run', '--stop-timeout', '5', '--cpuset-cpus', '0', '--health-cmd', 'true', '-v', '/data', '--network', 'none', 'busybox', 'sleep', '100'];
      for (const x of [berth, real]) {
        assert.equal((await x.docker(create)).code, 0);
        assert.equal((await x.docker(['volume', 'create', '--label', 'l=1', 'vol'])).code, 0);
      }
      const paths = ['/containers/same/json', '/containers/json?all=1', '/images/json', '/images/busybox/json', '/volumes', '/volumes/vol', '/networks/none', '/info', '/version', '/system/df'];
      const diffs: string[] = [];
      for (const p of paths) {
        const [a, b] = await Promise.all([real.request(p), berth.request('GET', `/v1.41${p}`)]);
        assert.equal(b.status, 200, `${p}: ${b.body}`);
        const want = shape(JSON.parse(a.body));
        const have = shape(JSON.parse(b.body));
        for (const [k, t] of want) if (!have.has(k) && !KNOWN.some((re) => re.test(k))) diffs.push(`${p}: berth lacks ${k} (${t})`);
        for (const [k, t] of want) if (have.has(k) && have.get(k) !== t && t !== 'null' && have.get(k) !== 'null') diffs.push(`${p}: ${k} is ${have.get(k)}, dockerd's ${t}`);
      }
      assert.deepEqual(diffs, []);
    } finally {
      await berth.stop();
      await real.stop();
      await root.cleanup();
    }
  });
});

/**
 * Where berth differs from dockerd on purpose: maps keyed by what each daemon has (runtimes),
 * and an image's overlay directories (berth's layers are EROFS images, not overlay2 dirs).
 */
const KNOWN = [/^\.Runtimes\./, /^\.GraphDriver\.Data\./];

/** Every key path of a JSON value with its type; arrays by their first element; maps keyed by ids normalised. */
function shape(v: unknown, p = '', out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(v)) {
    // Every element: lists come in no set order, and one element may have a map another lacks.
    for (const e of v) shape(e, `${p}[]`, out);
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      // Labels, Env-like maps and per-id maps: their keys are data, not shape.
      const key = /(Labels|Options|Attributes|Volumes|Tmpfs|Containers|Config|Data|IndexConfigs)$/.test(p) && !/^[A-Z]/.test(k) ? '*' : k;
      const kp = `${p}.${key}`;
      const type = x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x;
      if (type !== 'null' || !out.has(kp)) out.set(kp, type); // a null in one element does not hide another's type
      shape(x, kp, out);
    }
  }
  return out;
}

/** A private dockerd (Debian's docker.io) on its own socket and directories, without networking of its own. */
class RealDockerd {
  readonly socket: string;
  private readonly dir: string;
  private child?: ReturnType<typeof spawn>;
  log = '';
  private constructor(dir: string) {
    this.dir = dir;
    this.socket = path.join(dir, 'dockerd.sock');
  }

  static async start(): Promise<RealDockerd> {
    const x = new RealDockerd(fs.mkdtempSync(path.join(os.tmpdir(), 'berth-dockerd-')));
    x.child = spawn('/usr/sbin/dockerd', ['--data-root', path.join(x.dir, 'data'), '--exec-root', path.join(x.dir, 'exec'), '-H', `unix://${x.socket}`,
      '--pidfile', path.join(x.dir, 'pid'), '--iptables=false', '--bridge=none', '--ip-masq=false'], { stdio: ['ignore', 'pipe', 'pipe'] });
    x.child.stdout!.on('data', (b) => (x.log += b));
    x.child.stderr!.on('data', (b) => (x.log += b));
    const end = Date.now() + 30_000;
    while (!(await x.request('/_ping').then((r) => r.status === 200, () => false))) {
      if (Date.now() > end || x.child.exitCode !== null) throw new Error(`dockerd did not come up: ${x.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return x;
  }

  request(p: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      http.get({ socketPath: this.socket, path: p }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
  }

  docker(args: string[]) {
    return collect(spawn('/usr/local/bin/docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: path.join(this.dir, 'cfg') }, stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    // Its containers go with it; the test's are only created, never started.
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
    await new Promise((r) => setTimeout(r, 200));
    for (const m of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((mp) => mp?.startsWith(this.dir)).reverse()) {
      spawnSync('umount', ['-l', m]);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
