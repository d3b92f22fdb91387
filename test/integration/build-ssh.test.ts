// RUN --mount=type=ssh with a real ssh-agent holding a fresh key: the host's ssh-add (with the
// libraries it needs) is copied into a busybox stage, and `ssh-add -l` inside the RUN must list
// the key. Also: a named id with its own target, owner and mode for a non-root USER; required and
// optional mounts without an agent; the Engine API, which carries no session; and nothing of the
// agent left in the image or the scratch space.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';
import { builder } from '../helpers/build.ts';
import { daemonFor } from '../helpers/daemon.ts';

const hasAgent = spawnSync('sh', ['-c', 'command -v ssh-agent && command -v ssh-add && command -v ssh-keygen']).status === 0;

describe('build: RUN --mount=type=ssh', { skip: (!isRoot && 'needs root') || (!hasAgent && 'needs openssh-client') }, () => {
  let root: TestRoot;
  let work = '';
  let agent: ChildProcess | undefined;
  let sock = '';
  let fingerprint = '';
  let dir = '';

  const { build, out, scratchLeft } = builder(() => root);
  const dockerfile = (text: string) => fs.writeFileSync(path.join(dir, 'Dockerfile'), text);
  // The stage with ssh-add in it: the binary and the libraries ldd names, at their own paths.
  const BASE = 'FROM busybox AS tools\nCOPY --parents usr lib lib64 /\n';

  before(async () => {
    root = await TestRoot.withBusybox();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ssh-'));
    sock = path.join(work, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    await root.until(() => fs.existsSync(sock), (x) => x, 10_000);
    const key = path.join(work, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'berth-test-key', '-f', key]);
    execFileSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
    fingerprint = execFileSync('ssh-keygen', ['-lf', `${key}.pub`], { encoding: 'utf8' }).split(' ')[1];
    dir = path.join(work, 'ctx');
    const bin = fs.realpathSync('/usr/bin/ssh-add');
    const libs = execFileSync('ldd', [bin], { encoding: 'utf8' }).split('\n').map((l) => /(\/\S+) \(0x/.exec(l)?.[1]).filter((p): p is string => !!p);
    for (const [from, to] of [[bin, 'usr/bin/ssh-add'], ...libs.map((l) => [l, l.slice(1)])]) {
      fs.mkdirSync(path.dirname(path.join(dir, to)), { recursive: true });
      fs.copyFileSync(from, path.join(dir, to));
      fs.chmodSync(path.join(dir, to), 0o755);
    }
  });
  after(async () => {
    if (agent?.pid && agent.exitCode === null) agent.kill();
    await root.cleanup();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('--ssh default: ssh-add -l lists the agent\'s key at /run/buildkit/ssh_agent.0; the image keeps nothing of it', async () => {
    dockerfile(`${BASE}RUN --mount=type=ssh echo "$SSH_AUTH_SOCK" > /where && ssh-add -l > /keys\n`);
    const r = await build(['-t', 'ssh:1', '--ssh', 'default', dir], { env: { SSH_AUTH_SOCK: sock } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await out('ssh:1', 'cat', '/where'), '/run/buildkit/ssh_agent.0\n');
    assert.match(await out('ssh:1', 'cat', '/keys'), new RegExp(`^256 ${fingerprint.replace(/[+/]/g, '\\$&')} berth-test-key \\(ED25519\\)\n$`));
    assert.equal(await out('ssh:1', 'sh', '-c', 'ls -A /run/buildkit 2>/dev/null; env | grep -c SSH_AUTH_SOCK || true'), '0\n');
    assert.deepEqual(scratchLeft(), []);
  });

  test('--ssh <id>=<socket>: a target, uid and mode for a non-root USER; another id is not forwarded', async () => {
    dockerfile(`${BASE}USER 1000\nRUN --mount=type=ssh,id=work,target=/tmp/agent,uid=1000,mode=0600 stat -c '%u %a' /tmp/agent > /tmp/st && SSH_AUTH_SOCK=/tmp/agent ssh-add -l > /tmp/keys\n`);
    const r = await build(['-t', 'ssh:2', '--ssh', `work=${sock}`, dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await out('ssh:2', 'cat', '/tmp/st'), '1000 600\n');
    assert.match(await out('ssh:2', 'cat', '/tmp/keys'), /berth-test-key/);
    // The default agent is not the "work" one: required=true fails, naming the id.
    dockerfile(`${BASE}RUN --mount=type=ssh,required=true ssh-add -l\n`);
    const missing = await build(['--ssh', `work=${sock}`, dir]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no SSH agent "default" forwarded from the client/);
    // Without required, the mount is left out (BuildKit's default): the RUN finds no agent.
    dockerfile(`${BASE}RUN --mount=type=ssh test ! -e /run/buildkit/ssh_agent.0 && ! ssh-add -l\n`);
    assert.equal((await build([dir])).code, 0);
    assert.deepEqual(scratchLeft(), []);
  });

  test('--ssh <id>=<key file>: loaded into an agent of the RUN\'s own, gone afterwards; a key with a passphrase is refused', async () => {
    dockerfile(`${BASE}RUN --mount=type=ssh ssh-add -l > /keys\n`);
    const r = await build(['-t', 'ssh:3', '--ssh', `default=${path.join(work, 'id_ed25519')}`, dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(await out('ssh:3', 'cat', '/keys'), new RegExp(fingerprint.replace(/[+/]/g, '\\$&')));
    const agents = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(root.dir) && l.includes('ssh-agent'));
    assert.deepEqual(agents, []);
    const locked = path.join(work, 'locked');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret-pass', '-f', locked]);
    const bad = await build(['--no-cache', '--ssh', `default=${locked}`, dir]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /key files with a passphrase are not supported/);
    assert.deepEqual(scratchLeft(), []);
  });

  describe('through the daemon', () => {
    const daemon = daemonFor(() => root);
    const post = (body: Buffer) =>
      new Promise<string>((resolve, reject) => {
        const req = http.request({ socketPath: daemon().socket, path: '/build?t=api:ssh', method: 'POST', headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end(body);
      });

    test('POST /build: an ssh mount fails clearly (no session carries an agent) unless required=false', async () => {
      const api = fs.mkdtempSync(path.join(work, 'api-'));
      fs.writeFileSync(path.join(api, 'Dockerfile'), 'FROM busybox\nRUN --mount=type=ssh echo ran-$((1+1))\n');
      const failed = await post(execFileSync('tar', ['-C', api, '-c', '.']));
      assert.match(failed, /"error":".*no SSH agent can be forwarded through the Engine API.*required=false/);
      assert.doesNotMatch(failed, /ran-2/);
      fs.writeFileSync(path.join(api, 'Dockerfile'), 'FROM busybox\nRUN --mount=type=ssh,required=false echo "sock=$SSH_AUTH_SOCK"; test ! -e /run/buildkit/ssh_agent.0\n');
      const ok = await post(execFileSync('tar', ['-C', api, '-c', '.']));
      assert.match(ok, /sock=\/run\/buildkit\/ssh_agent\.0/);
      assert.match(ok, /Successfully tagged api:ssh/);
      assert.deepEqual(scratchLeft(), []);
    });
  });
});
