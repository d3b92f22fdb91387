// What clients read of a container's output is all of it. Once `wait` answers, the log holds
// everything the container wrote (docker's guarantee, which docker-py's `containers.run` relies
// on): read after the wait, and read through a follow stream opened before the wait whose
// container is removed before the stream is read. An exec's first bytes reach a client that
// reads the 101 through a buffered reader (docker-py), however late it reads it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { describe, test } from 'node:test';
import { collect } from '../helpers/berth.ts';
import { daemonWithBusybox, skip, type TestDaemon } from '../helpers/daemon.ts';

const PYTHON = '/usr/bin/python3';
const hasPythonSdk = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import docker']).status === 0;

/** The payloads of docker's multiplexed frames, concatenated. */
function demux(buf: Buffer): string {
  let out = '';
  for (let i = 0; i + 8 <= buf.length; ) {
    const n = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + n).toString();
    i += 8 + n;
  }
  return out;
}

/** A streamed GET: resolves with the response once its headers are in; `body` ends with it. */
function openStream(d: TestDaemon, p: string): Promise<{ body: Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath: d.socket, path: p }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      resolve({ body: new Promise((r) => res.on('end', () => r(Buffer.concat(chunks)))) });
    }).on('error', reject);
  });
}

describe('logs are complete once wait answers', { skip }, () => {
  let d: TestDaemon;
  daemonWithBusybox((_r, dd) => (d = dd));

  async function create(cmd: string[]): Promise<string> {
    const r = await d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: cmd }));
    assert.equal(r.status, 201, r.body);
    return JSON.parse(r.body).Id;
  }

  test('create, start, wait, logs: 30 runs of echo', async () => {
    for (let i = 0; i < 30; i++) {
      const id = await create(['sh', '-c', 'echo hi']);
      assert.equal((await d.request('POST', `/containers/${id}/start`)).status, 204);
      assert.equal(JSON.parse((await d.request('POST', `/containers/${id}/wait`)).body).StatusCode, 0);
      const logs = await d.request('GET', `/containers/${id}/logs?stdout=1&stderr=1`);
      assert.equal(demux(Buffer.from(logs.body, 'latin1')), 'hi\n', `run ${i}`);
      assert.equal((await d.request('DELETE', `/containers/${id}`)).status, 204);
    }
  });

  test('a follow stream opened after start, read after wait and remove, has the output (docker-py run(remove=True)): 20 runs', async () => {
    // The output comes after the stream's first read, and the container is removed before the
    // stream's next poll: the stream must still deliver it.
    for (let i = 0; i < 20; i++) {
      const id = await create(['sh', '-c', 'sleep 0.02; echo hi']);
      assert.equal((await d.request('POST', `/containers/${id}/start`)).status, 204);
      const stream = await openStream(d, `/containers/${id}/logs?stdout=1&stderr=1&follow=1`);
      assert.equal(JSON.parse((await d.request('POST', `/containers/${id}/wait`)).body).StatusCode, 0);
      assert.equal((await d.request('DELETE', `/containers/${id}`)).status, 204);
      assert.equal(demux(await stream.body), 'hi\n', `run ${i}`);
    }
  });

  test('python3-docker containers.run, 25 runs with remove, 5 without', { skip: !hasPythonSdk && 'needs python3-docker' }, async () => {
    const script = `
import docker
c = docker.DockerClient(base_url='unix://${d.socket}')
bad = []
for i in range(30):
    remove = i % 6 != 5
    out = c.containers.run('busybox', ['sh', '-c', 'sleep 0.02; echo hi'], remove=remove)
    if out != b'hi\\n':
        bad.append((i, remove, out))
c.containers.prune()
print(bad)
`;
    const r = await collect(spawn(PYTHON, ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] }), 120_000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[]\n');
  });
});

describe('an exec\'s first output reaches a client that reads the 101 late', { skip: skip || (!hasPythonSdk && 'needs python3-docker') }, () => {
  let d: TestDaemon;
  daemonWithBusybox((_r, dd) => (d = dd));

  test('python3-docker exec_run, with and without a tty, the client 100 ms late to read the headers: 10 runs each', async () => {
    // docker-py reads the 101 through http.client's buffered reader, then reads the raw socket
    // under it: anything sent before it read the headers would be in that buffer, lost. A
    // client slow to be scheduled (a loaded machine) is made deterministic here by a sleep.
    const script = `
import docker, http.client, time
c = docker.DockerClient(base_url='unix://${d.socket}')
r = c.containers.run('busybox', 'sleep 600', detach=True)
begin = http.client.HTTPResponse.begin
def late(self):
    time.sleep(0.1)
    return begin(self)
http.client.HTTPResponse.begin = late
bad = []
for i in range(10):
    for tty in (False, True):
        out = r.exec_run(['echo', 'x'], tty=tty).output
        if out != (b'x\\r\\n' if tty else b'x\\n'):
            bad.append((i, tty, out))
http.client.HTTPResponse.begin = begin
r.remove(force=True)
print(bad)
`;
    const r = await collect(spawn(PYTHON, ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] }), 120_000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[]\n');
  });
});
