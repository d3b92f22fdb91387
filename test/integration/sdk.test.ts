// Docker's python SDK (Debian's python3-docker) against `berth daemon`: what docker-py's own
// integration suite exercises and berth answered differently from dockerd (issue 16).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { collect, isRoot, TestRoot } from '../helpers/berth.ts';
import { TestDaemon } from '../helpers/daemon.ts';

const PYTHON = '/usr/bin/python3';
const hasSdk = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import docker']).status === 0;
const skip = !isRoot ? 'needs root' : !hasSdk ? 'needs python3-docker' : false;

describe('python3-docker against berth daemon', { skip }, () => {
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

  /** Runs a python body with `c` an APIClient on the daemon; its stdout is the last line's JSON. */
  async function py(body: string): Promise<unknown> {
    const script = `import docker, json\nc = docker.APIClient(base_url='unix://${d.socket}', version='auto')\n${body}\n`;
    const r = await collect(spawn(PYTHON, ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  }

  test('network list filters: name, partial id, label, type, driver', async () => {
    const out = await py(`
a = c.create_network('sdk-net-a', labels={'k': 'v'})['Id']
b = c.create_network('sdk-net-b')['Id']
ids = lambda l: sorted(n['Id'] for n in l)
try:
    print(json.dumps({
        'a': a, 'b': b,
        'name': ids(c.networks(names=['sdk-net-a'])),
        'id': ids(c.networks(ids=[b[:8]])),
        'label': ids(c.networks(filters={'label': 'k=v'})),
        'custom': sorted(n['Name'] for n in c.networks(filters={'type': 'custom'})),
        'builtin': sorted(n['Name'] for n in c.networks(filters={'type': 'builtin'})),
        'bridges': len(c.networks(filters={'driver': 'bridge'})),
        'all': len(c.networks()),
    }))
finally:
    c.remove_network(a); c.remove_network(b)
`) as Record<string, unknown>;
    assert.deepEqual(out.name, [out.a]);
    assert.deepEqual(out.id, [out.b]);
    assert.deepEqual(out.label, [out.a]);
    assert.deepEqual(out.custom, ['sdk-net-a', 'sdk-net-b']);
    assert.deepEqual(out.builtin, ['bridge', 'host', 'none']);
    assert.equal(out.bridges, 3);
    assert.equal(out.all, 5);
  });
  test("a stopped container's volume is reached by get_archive and put_archive", async () => {
    const out = await py(`
import io, tarfile
ctr = c.create_container('busybox', 'sh -c "echo inside > /vol1/data.txt"', volumes=['/vol1'])
try:
    c.start(ctr); c.wait(ctr)
    strm, stat = c.get_archive(ctr, '/vol1/data.txt')
    t = tarfile.open(fileobj=io.BytesIO(b''.join(strm)))
    got = t.extractfile('data.txt').read().decode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as w:
        info = tarfile.TarInfo('put.txt'); info.size = 3; w.addfile(info, io.BytesIO(b'put'))
    put = c.put_archive(ctr, '/vol1', buf.getvalue())
    strm2, _ = c.get_archive(ctr, '/vol1/put.txt')
    back = tarfile.open(fileobj=io.BytesIO(b''.join(strm2))).extractfile('put.txt').read().decode()
    print(json.dumps({'got': got, 'size': stat['size'], 'put': put, 'back': back}))
finally:
    c.remove_container(ctr, v=True)
`) as Record<string, unknown>;
    assert.deepEqual(out, { got: 'inside\n', size: 7, put: true, back: 'put' });
  });
  test('kill (SIGKILL) answers once the container is down: inspect right after shows it exited', async () => {
    const out = await py(`
ctr = c.create_container('busybox', ['sleep', '9999'])
try:
    c.start(ctr); c.kill(ctr)
    s = c.inspect_container(ctr)['State']
    print(json.dumps({'running': s['Running'], 'code': s['ExitCode'], 'status': s['Status']}))
finally:
    c.remove_container(ctr, force=True)
`);
    assert.deepEqual(out, { running: false, code: 137, status: 'exited' });
  });
});
