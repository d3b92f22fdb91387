// The API daemon with the real docker CLI as its client: the commands a docker user types,
// unchanged, against `berth daemon` on a private socket and state root.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH, busyboxTar, collect, isRoot, TestRoot } from '../helpers/berth.ts';
import { OciLayout } from '../helpers/oci.ts';
import { hasRegistryTools, TestRegistry } from '../helpers/registry.ts';
import { TestDaemon, daemonWithBusybox, DOCKER, skip } from '../helpers/daemon.ts';

describe('the API daemon, driven by the docker CLI', { skip }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  daemonWithBusybox((r, dd) => ((root = r), (d = dd)));

  test('version, info and _ping speak docker', async () => {
    const v = await d.docker(['version', '--format', '{{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Os}}']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), '1.47 1.24 linux');
    const info = await d.docker(['info', '--format', '{{.Swarm.LocalNodeState}} {{.OSType}} {{.Images}}']);
    assert.equal(info.stdout.trim(), 'inactive linux 1');
    assert.equal((await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout, 'busybox:latest\n');
    const head = await d.request('HEAD', '/_ping');
    assert.equal(head.status, 200);
    assert.equal(head.headers['api-version'], '1.47');
    assert.equal(head.headers.ostype, 'linux');
    assert.equal((await d.request('GET', '/v1.24/_ping')).body, 'OK');
    assert.equal((await d.request('GET', '/v1.12/_ping')).status, 400);
    const st = fs.statSync(d.socket);
    assert.equal(st.mode & 0o777, 0o660);
  });

  test('run --rm: both streams apart, the exit status, nothing left behind', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.deepEqual(root.leftovers(), []);
    const missing = await d.docker(['run', '--rm', 'busybox', 'nosuchcommand']);
    assert.equal(missing.code, 127, missing.stderr);
    assert.match(missing.stderr, /executable file not found/);
    const image = await d.docker(['run', '--rm', 'nosuchimage:1', 'true']);
    assert.notEqual(image.code, 0);
    // Host devices as the docker CLI sends them (HostConfig.Devices).
    const dev = await d.docker(['run', '--rm', '--device', '/dev/null:/dev/mynull:rw', 'busybox', 'sh', '-c', 'stat -c %t:%T /dev/mynull && echo x > /dev/mynull && echo written']);
    assert.equal(dev.stdout, '1:3\nwritten\n', dev.stderr);
    // docker container prune: the stopped ones go.
    const made = (await d.docker(['create', '--name', 'prunable', 'busybox', 'true'])).stdout.trim();
    const pruned = await d.docker(['container', 'prune', '-f']);
    assert.match(pruned.stdout, new RegExp(`Deleted Containers:\n${made}\n`), pruned.stderr);
    assert.deepEqual(root.leftovers(), []);
  });

  test('run -i feeds stdin; run -t and exec -t get a terminal of the client\'s size', async () => {
    const r = await d.docker(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'tr a-z A-Z; echo done'], { input: 'hello daemon\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'HELLO DAEMON\ndone\n');
    const t = await d.dockerTty(['run', '-it', '--rm', 'busybox', 'sh', '-c', 'sleep 0.3; stty size; tty'], 41, 123);
    assert.equal(t.code, 0, t.stdout + t.stderr);
    assert.match(t.stdout, /41 123\r?\n\/dev\/pts\/0/);
    assert.equal((await d.docker(['run', '-d', '--name', 'tty-host', 'busybox', 'sleep', '60'])).code, 0);
    const e = await d.dockerTty(['exec', '-it', 'tty-host', 'sh', '-c', 'sleep 0.3; stty size'], 33, 99);
    assert.match(e.stdout, /33 99/);
    assert.equal((await d.docker(['rm', '-f', 'tty-host'])).code, 0);
  });

  test('run -d, ps filters, logs (-f ends with the container), exec, inspect, stop, wait, rm', async () => {
    const run = await d.docker(['run', '-d', '--name', 'ticker', '-l', 'app=tick', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; i=0; while [ $i -lt 200 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    const ps = await d.docker(['ps', '--filter', 'label=app=tick', '--format', '{{.ID}} {{.Names}} {{.Status}}']);
    assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)} ticker Up`));
    assert.equal((await d.docker(['ps', '-q', '--filter', 'label=app=other'])).stdout, '');
    await root.eventually(() => d.docker(['logs', 'ticker']), (r) => r.stdout.includes('tick 2'));
    const noexec = await d.docker(['exec', 'ticker', 'nosuchbinary']);
    assert.equal(noexec.code, 127, noexec.stdout + noexec.stderr);
    assert.match(noexec.stdout + noexec.stderr, /executable file not found/);
    const exec = await d.docker(['exec', 'ticker', 'sh', '-c', 'echo in-exec $$; exit 4']);
    assert.equal(exec.code, 4);
    assert.match(exec.stdout, /^in-exec \d+\n$/);
    const cat = await d.docker(['exec', '-i', 'ticker', 'cat'], { input: 'through exec\n' });
    assert.equal(cat.stdout, 'through exec\n');
    const inspect = JSON.parse((await d.docker(['inspect', 'ticker'])).stdout)[0];
    assert.equal(inspect.Id, id);
    assert.equal(inspect.State.Status, 'running');
    assert.equal(inspect.Config.Labels.app, 'tick');
    assert.deepEqual(inspect.Mounts, []);
    const follow = d.docker(['logs', '-f', '--tail', '1', 'ticker']);
    await new Promise((r) => setTimeout(r, 500));
    const stop = await d.docker(['stop', '-t', '5', 'ticker']);
    assert.equal(stop.code, 0, stop.stderr);
    const followed = await follow;
    assert.equal(followed.code, 0);
    assert.match(followed.stdout, /tick \d+\n/);
    const wait = await d.docker(['wait', 'ticker']);
    assert.equal(wait.stdout.trim(), '0');
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'ticker'])).stdout.trim(), 'exited 0');
    assert.equal((await d.docker(['rm', 'ticker'])).code, 0);
    assert.match((await d.docker(['inspect', 'ticker'])).stderr, /No such/);
  });

  test('cp both ways through the archive API, never through a symlink in the container', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'files', 'busybox', 'sh', '-c', 'mkdir -p /data/sub; echo a > /data/a; ln -s /etc /data/etclink; sleep 60'])).code, 0);
    await root.eventually(() => d.docker(['exec', 'files', 'ls', '/data/etclink']), (r) => r.code === 0);
    const out = fs.mkdtempSync(path.join(root.dir, 'cp-'));
    const cpOut = await d.docker(['cp', 'files:/data', out]);
    assert.equal(cpOut.code, 0, cpOut.stderr);
    assert.equal(fs.readFileSync(path.join(out, 'data/a'), 'utf8'), 'a\n');
    assert.equal(fs.readlinkSync(path.join(out, 'data/etclink')), '/etc');
    const src = path.join(out, 'in.txt');
    fs.writeFileSync(src, 'copied in\n');
    assert.equal((await d.docker(['cp', src, 'files:/data/sub/'])).code, 0);
    assert.equal((await d.docker(['exec', 'files', 'cat', '/data/sub/in.txt'])).stdout, 'copied in\n');
    // /data/etclink -> /etc is the container's /etc, never the host's.
    const marker = `berth-cp-${process.pid}.txt`;
    fs.renameSync(src, path.join(out, marker));
    assert.equal((await d.docker(['cp', path.join(out, marker), 'files:/data/etclink/'])).code, 0);
    assert.equal(fs.existsSync(path.join('/etc', marker)), false);
    assert.equal((await d.docker(['exec', 'files', 'cat', `/etc/${marker}`])).stdout, 'copied in\n');
    assert.equal((await d.docker(['rm', '-f', 'files'])).code, 0);
    // testcontainers copies files into a container before starting it.
    assert.equal((await d.docker(['create', '--name', 'prepared', 'busybox', 'cat', '/config.txt'])).code, 0);
    fs.writeFileSync(path.join(out, 'config.txt'), 'prepared before start\n');
    assert.equal((await d.docker(['cp', path.join(out, 'config.txt'), 'prepared:/'])).code, 0);
    assert.equal((await d.docker(['start', '-a', 'prepared'])).stdout, 'prepared before start\n');
    assert.equal((await d.docker(['rm', 'prepared'])).code, 0);
  });

  test('pause, rename, restart, top, stats, diff, commit, export and import', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'worker', 'busybox', 'sh', '-c', 'echo made > /made.txt; rm /etc/group; sleep 60'])).code, 0);
    await root.eventually(() => d.docker(['exec', 'worker', 'cat', '/made.txt']), (r) => r.code === 0);
    assert.equal((await d.docker(['pause', 'worker'])).code, 0);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', 'worker'])).stdout.trim(), 'paused');
    assert.equal((await d.docker(['unpause', 'worker'])).code, 0);
    assert.equal((await d.docker(['rename', 'worker', 'worker2'])).code, 0);
    const top = await d.docker(['top', 'worker2']);
    assert.match(top.stdout, /sleep 60/);
    const stats = await d.docker(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'worker2']);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /^worker2 [1-9]\d*$/m);
    const diff = (await d.docker(['diff', 'worker2'])).stdout;
    assert.match(diff, /^A \/made\.txt$/m);
    assert.match(diff, /^D \/etc\/group$/m);
    const commit = await d.docker(['commit', '-c', 'CMD ["cat", "/made.txt"]', 'worker2', 'committed:1']);
    assert.equal(commit.code, 0, commit.stderr);
    assert.match(commit.stdout, /^sha256:[a-f0-9]{64}$/m);
    assert.equal((await d.docker(['run', '--rm', 'committed:1'])).stdout, 'made\n');
    const exported = path.join(root.dir, 'export.tar');
    assert.equal((await d.docker(['export', '-o', exported, 'worker2'])).code, 0);
    const imported = await d.docker(['import', '-c', 'CMD ["cat", "/made.txt"]', exported, 'imported:1']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal((await d.docker(['run', '--rm', 'imported:1'])).stdout, 'made\n');
    const started = (await d.docker(['inspect', '-f', '{{.State.StartedAt}}', 'worker2'])).stdout;
    assert.equal((await d.docker(['restart', '-t', '1', 'worker2'])).code, 0);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', 'worker2'])).stdout.trim(), 'true');
    assert.notEqual((await d.docker(['inspect', '-f', '{{.State.StartedAt}}', 'worker2'])).stdout, started);
    assert.equal((await d.docker(['rm', '-f', 'worker2'])).code, 0);
    assert.equal((await d.docker(['rmi', 'committed:1', 'imported:1'])).code, 0);
  });

  test('volumes and the fixed networks', async () => {
    assert.equal((await d.docker(['volume', 'create', 'vol1'])).stdout.trim(), 'vol1');
    assert.equal((await d.docker(['run', '--rm', '-v', 'vol1:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f'])).code, 0);
    assert.equal((await d.docker(['run', '--rm', '-v', 'vol1:/data', 'busybox', 'cat', '/data/f'])).stdout, 'kept\n');
    assert.match((await d.docker(['volume', 'ls', '--format', '{{.Name}}'])).stdout, /^vol1$/m);
    assert.equal(JSON.parse((await d.docker(['volume', 'inspect', 'vol1'])).stdout)[0].Driver, 'local');
    assert.equal((await d.docker(['volume', 'rm', 'vol1'])).code, 0);
    const nets = (await d.docker(['network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(nets, ['bridge', 'host', 'none']);
  });

  test('events stream what happens, with the container\'s labels', async () => {
    const until = String(Math.floor(Date.now() / 1000) + 4);
    const events = d.docker(['events', '--format', '{{json .}}', '--filter', 'type=container', '--filter', 'label=ev=1', '--until', until], { timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 700));
    // --network none: the three runs must fit in the watcher's 4 s (no CNI work to wait for).
    assert.equal((await d.docker(['run', '--rm', '--network', 'none', '-l', 'ev=1', 'busybox', 'true'])).code, 0);
    await d.docker(['run', '--rm', '--network', 'none', '-l', 'ev=2', 'busybox', 'true']);
    // The CLI, in its own process, on the same root: its events reach the daemon's watchers too.
    assert.equal((await root.run(['run', '--rm', '--network', 'none', '-l', 'ev=1', '--name', 'from-cli', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
    const out = (await events).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const actions = out.map((e) => e.Action);
    assert.deepEqual(actions.filter((a) => ['create', 'start', 'die', 'destroy'].includes(a)), ['create', 'start', 'die', 'destroy', 'create', 'start', 'die', 'destroy']);
    const cliDie = out.filter((e) => e.Action === 'die').at(-1);
    assert.equal(cliDie.Actor.Attributes.name, 'from-cli');
    assert.equal(cliDie.Actor.Attributes.exitCode, '3');
    // Replayed from the journal with --since.
    const replay = await d.docker(['events', '--since', '1m', '--until', String(Math.floor(Date.now() / 1000)), '--filter', 'container=from-cli', '--format', '{{.Action}}']);
    assert.deepEqual(replay.stdout.split('\n').filter(Boolean), ['create', 'start', 'die', 'destroy']);
    const die = out.find((e) => e.Action === 'die');
    assert.equal(die.Actor.Attributes.ev, '1');
    assert.equal(die.Actor.Attributes.exitCode, '0');
    assert.equal(die.Actor.Attributes.image, 'busybox');
  });

  test('bad requests get a 4xx with a message; the daemon keeps serving and nothing changes', async () => {
    const bad = await d.request('POST', '/v1.47/containers/create', '{"Image": "busybox",');
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /invalid JSON/);
    const text = await d.request('POST', '/containers/create', '{"Image":"busybox","Cmd":["true"]}', { 'Content-Type': 'text/plain' });
    assert.equal(text.status, 400);
    const shares = await d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { CpuShares: -1 } }));
    assert.equal(shares.status, 400);
    // another container's namespace that does not exist: 404 No such container, as dockerd
    const ipc = await d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { IpcMode: 'container:nope' } }));
    assert.equal(ipc.status, 404);
    assert.equal(JSON.parse(ipc.body).message, 'No such container: nope');
    assert.equal((await d.request('GET', '/containers/nosuch/json')).status, 404);
    assert.equal((await d.request('GET', '/no/such/path')).status, 404);
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
    const run = await d.docker(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '60']);
    assert.equal(run.code, 0);
    const kill = await d.request('POST', '/containers/victim/kill?signal=SIG42');
    assert.equal(kill.status, 400);
    assert.match(JSON.parse(kill.body).message, /Invalid signal/);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', 'victim'])).stdout.trim(), 'true');
    assert.equal((await d.request('POST', '/containers/victim/start')).status, 304);
    assert.equal((await d.docker(['rm', '-f', 'victim'])).code, 0);
    assert.equal(await d.ping(), true);
  });

  test('an exec whose client leaves mid-stream runs to its end (its output no longer held back)', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'streamer', 'busybox', 'sleep', '120'])).code, 0);
    // 50 MB through a client that reads 100 bytes and goes: the exec must still finish.
    const cut = await collect(spawn('sh', ['-c', `${DOCKER} exec streamer sh -c 'yes | head -c 50000000; echo finished > /tmp/done' | head -c 100 > /dev/null`],
      { env: { ...process.env, DOCKER_HOST: `unix://${d.socket}` }, stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
    assert.equal(cut.code, 0, cut.stderr);
    const done = await root.eventually(() => d.docker(['exec', 'streamer', 'cat', '/tmp/done']), (r) => r.stdout === 'finished\n', 30_000);
    assert.equal(done.stdout, 'finished\n');
    assert.equal((await d.docker(['rm', '-f', 'streamer'])).code, 0);
  });

  test('kill -9 of the daemon leaves containers running, and a new daemon manages them', async () => {
    const run = await d.docker(['run', '-d', '--name', 'survivor', 'busybox', 'sh', '-c', 'trap "exit 7" TERM; while true; do sleep 0.1; done']);
    assert.equal(run.code, 0, run.stderr);
    await d.stop('SIGKILL');
    // The CLI, without any daemon, sees it running.
    const ps = await root.run(['ps', '--format', '{{.Names}} {{.State}}']);
    assert.match(ps.stdout, /^survivor running$/m);
    await d.start();
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', 'survivor'])).stdout.trim(), 'running');
    assert.equal((await d.docker(['exec', 'survivor', 'echo', 'still here'])).stdout, 'still here\n');
    assert.equal((await d.docker(['stop', 'survivor'])).code, 0);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.ExitCode}}', 'survivor'])).stdout.trim(), '7');
    assert.equal((await d.docker(['rm', 'survivor'])).code, 0);
    assert.deepEqual(root.leftovers(), []);
  });
});

describe('the API daemon pulls from a registry', { skip: skip || (!hasRegistryTools && 'needs docker-registry and skopeo') }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  let reg: TestRegistry;
  let locked: TestRegistry;

  before(async () => {
    root = new TestRoot();
    d = new TestDaemon(root);
    await d.start();
    reg = await TestRegistry.start();
    const layout = path.join(root.dir, 'layout');
    const lay = new OciLayout(layout);
    const img = lay.image({ layers: [{ tar: fs.readFileSync(busyboxTar()), compression: 'gzip' }], cmd: ['sh'] });
    lay.tag('bb', img.manifest);
    await reg.push(layout, 'bb', 'tools/busybox:1');
    locked = await TestRegistry.start({ auth: 'basic', users: { alice: 'wonder-land-1' } });
    await locked.push(layout, 'bb', 'private/busybox:1');
  });
  after(async () => {
    await d?.stop();
    await reg?.stop();
    await locked?.stop();
    await root?.cleanup();
  });

  test('docker pull and docker run of a missing image go through the registry', async () => {
    const ref = `${reg.host}/tools/busybox:1`;
    const pull = await d.docker(['pull', ref]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /Digest: sha256:[a-f0-9]{64}/);
    assert.match(pull.stdout, /Downloaded newer image/);
    const images = await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.match(images.stdout, new RegExp(`^${reg.host}/tools/busybox:1$`, 'm'));
    assert.equal((await d.docker(['rmi', ref])).code, 0);
    const run = await d.docker(['run', '--rm', ref, 'echo', 'pulled and ran']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.endsWith('pulled and ran\n'), true, run.stdout);
    // distribution inspect: what the registry holds, nothing pulled
    const dist = await d.request('GET', `/v1.47/distribution/${ref}/json`);
    assert.equal(dist.status, 200, dist.body);
    const body = JSON.parse(dist.body);
    assert.match(body.Descriptor.digest, /^sha256:[a-f0-9]{64}$/);
    assert.equal(body.Descriptor.size > 0, true);
    assert.deepEqual(body.Platforms, [{ architecture: 'amd64', os: 'linux' }]);
    assert.equal((await d.request('GET', `/v1.47/distribution/${reg.host}/tools/nosuch:1/json`)).status, 404);
    const none = await d.docker(['pull', `${reg.host}/tools/nosuch:1`]);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /not found|unknown/i);
  });

  test('docker login, then pulls with the client\'s credentials (X-Registry-Auth); a wrong password is refused', async () => {
    const ref = `${locked.host}/private/busybox:1`;
    const anon = await d.docker(['pull', ref]);
    assert.notEqual(anon.code, 0);
    const wrong = await d.docker(['login', '-u', 'alice', '--password-stdin', locked.host], { input: 'nope\n' });
    assert.notEqual(wrong.code, 0);
    const login = await d.docker(['login', '-u', 'alice', '--password-stdin', locked.host], { input: 'wonder-land-1\n' });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    // The daemon's own copy goes: the pull must work from the header the CLI sends.
    fs.rmSync(path.join(root.dir, 'auth.json'), { force: true });
    const pull = await d.docker(['pull', ref]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(fs.existsSync(path.join(root.dir, 'auth.json')), false);
  });

  test('docker push (with the client\'s credentials), save, load, image prune, system df', async () => {
    const ref = `${reg.host}/tools/busybox:1`;
    assert.equal((await d.docker(['pull', ref])).code, 0);
    // push to the locked registry: needs the login, and what arrives is readable by skopeo.
    const target = `${locked.host}/pushed/busybox:2`;
    assert.equal((await d.docker(['tag', ref, target])).code, 0);
    const push = await d.docker(['push', target]);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /2: digest: sha256:[a-f0-9]{64} size: \d+/);
    const inspect = spawnSync('/usr/bin/skopeo', ['inspect', '--tls-verify=false', '--creds', 'alice:wonder-land-1', `docker://${target}`], { encoding: 'utf8' });
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.match(inspect.stdout, /"Digest": "sha256:[a-f0-9]{64}"/);
    // save -> load into a second daemon's root -> run.
    const tarFile = path.join(root.dir, 'saved.tar');
    const save = await d.docker(['save', '-o', tarFile, target]);
    assert.equal(save.code, 0, save.stderr);
    const other = new TestDaemon(new TestRoot());
    try {
      await other.start();
      const load = await other.docker(['load', '-i', tarFile]);
      assert.equal(load.code, 0, load.stderr);
      assert.match(load.stdout, new RegExp(`Loaded image: ${target.replace(/[.]/g, '\\.')}`));
      assert.equal((await other.docker(['run', '--rm', target, 'echo', 'loaded and ran'])).stdout, 'loaded and ran\n');
    } finally {
      await other.stop();
      await other.root.cleanup();
    }
    // df sees the image; prune -a removes every unused one.
    const df = await d.docker(['system', 'df', '--format', '{{.Type}} {{.TotalCount}}']);
    assert.match(df.stdout, /^Images [1-9]/m);
    const prune = await d.docker(['image', 'prune', '-a', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, /Total reclaimed space/);
    assert.equal((await d.docker(['images', '-q'])).stdout, '');
  });
});

describe('the API daemon, driven by dockerode (an SDK from npm)', { skip }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  daemonWithBusybox((r, dd) => ((root = r), (d = dd)));

  test('create, attach (raw 200 stream), start, wait, logs, exec, remove', async () => {
    const { default: Docker } = await import('dockerode');
    const docker = new Docker({ socketPath: d.socket });
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'read line; echo "got $line"; echo oops >&2; exit 2'], OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, AttachStderr: true, Labels: { sdk: 'dockerode' } });
    const stream = await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
    let out = '';
    let err = '';
    const { Writable } = await import('node:stream');
    docker.modem.demuxStream(stream, new Writable({ write: (b, _e, cb) => ((out += b), cb()) }), new Writable({ write: (b, _e, cb) => ((err += b), cb()) }));
    const waited = c.wait({ condition: 'next-exit' }); // registered before start, as docker run does
    await c.start();
    stream.write('hello sdk\n');
    const result = await waited;
    assert.equal(result.StatusCode, 2);
    await root.until(() => out + err, (s) => s.includes('oops'), 2000);
    assert.equal(out, 'got hello sdk\n');
    assert.equal(err, 'oops\n');
    const logs = (await c.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    assert.match(logs.toString('latin1'), /got hello sdk/);
    const info = await c.inspect();
    assert.equal(info.State.ExitCode, 2);
    assert.equal(info.Config.Labels.sdk, 'dockerode');
    await c.remove();

    const runner = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '60'] });
    await runner.start();
    const exec = await runner.exec({ Cmd: ['sh', '-c', 'echo from exec; exit 6'], AttachStdout: true, AttachStderr: true });
    const es = await exec.start({ hijack: true, stdin: false });
    let eout = '';
    docker.modem.demuxStream(es, new Writable({ write: (b, _e, cb) => ((eout += b), cb()) }), new Writable({ write: (_b, _e, cb) => cb() }));
    await new Promise((r) => es.on('end', r));
    assert.equal(eout, 'from exec\n');
    assert.equal((await exec.inspect()).ExitCode, 6);
    const missing = await runner.exec({ Cmd: ['nosuchbinary'], AttachStdout: true });
    const ms = await missing.start({ hijack: true, stdin: false });
    let mout = '';
    docker.modem.demuxStream(ms, new Writable({ write: (b, _e, cb) => ((mout += b), cb()) }), new Writable({ write: (_b, _e, cb) => cb() }));
    await new Promise((r) => ms.on('end', r));
    assert.match(mout, /executable file not found/);
    assert.equal((await missing.inspect()).ExitCode, 127);
    await runner.remove({ force: true });
    assert.deepEqual(root.leftovers(), []);
  });
});

describe('the API daemon, driven by testcontainers (its own flow, unchanged)', { skip }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  daemonWithBusybox((r, dd) => ((root = r), (d = dd)));

  test('copy before start, wait for a log line, exec, logs, stop', async () => {
    // testcontainers reads these when first used; its reaper image cannot be pulled offline.
    process.env.DOCKER_HOST = `unix://${d.socket}`;
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    const { GenericContainer, Wait } = await import('testcontainers');
    const c = await new GenericContainer('busybox')
      .withCommand(['sh', '-c', 'echo ready; cat /opt/greeting; sleep 30'])
      .withCopyContentToContainer([{ content: 'hello testcontainers\n', target: '/opt/greeting' }])
      .withLabels({ suite: 'tc' })
      .withWaitStrategy(Wait.forLogMessage('ready'))
      .start();
    const r = await c.exec(['cat', '/opt/greeting']);
    assert.deepEqual([r.exitCode, r.stdout], [0, 'hello testcontainers\n']);
    const missing = await c.exec(['nosuchbinary']);
    assert.equal(missing.exitCode, 127);
    assert.match(missing.output, /executable file not found/);
    let logs = '';
    const stream = await c.logs();
    stream.on('data', (chunk: string) => (logs += chunk));
    await root.until(() => logs, (l) => l.includes('hello testcontainers'), 3000);
    assert.equal(logs, 'ready\nhello testcontainers\n');
    await c.stop();
    assert.equal((await d.docker(['ps', '-aq', '--filter', 'label=suite=tc'])).stdout, '');
  });

  test('testcontainers: an exposed port on a random host port, waited for until it listens, then reached', async () => {
    // (testcontainers keeps the first daemon it was pointed at: this is the same one as above.)
    const { GenericContainer, Wait } = await import('testcontainers');
    const c = await new GenericContainer('busybox')
      .withCommand(['sh', '-c', 'mkdir /w && echo hi-tc > /w/index.html && exec httpd -f -p 80 -h /w'])
      .withExposedPorts(80)
      .withWaitStrategy(Wait.forListeningPorts())
      .start();
    const port = c.getMappedPort(80);
    assert.ok(port >= 32768 && port <= 60999, String(port));
    const body = await new Promise<string>((resolve, reject) => {
      http.get(`http://${c.getHost()}:${port}/`, (res) => {
        let b = '';
        res.setEncoding('utf8').on('data', (x: string) => (b += x)).on('end', () => resolve(b));
      }).on('error', reject);
    });
    assert.equal(body, 'hi-tc\n');
    await c.stop();
    assert.deepEqual(await root.until(() => root.netLeftovers(), (l) => l.length === 0, 20_000), []);
  });
});

describe('the API daemon: networks through the docker CLI', { skip: skip || (!fs.existsSync('/usr/lib/cni/bridge') && 'needs the CNI plugins') }, () => {
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

  test('network create, a published port, docker port, names by DNS, network ls/inspect/rm; nothing left', async () => {
    const sub = `10.252.${process.pid % 250}`;
    const created = await d.docker(['network', 'create', '--subnet', `${sub}.0/24`, '--label', 'suite=net', 'app']);
    assert.equal(created.code, 0, created.stderr);
    const web = await d.docker(['run', '-d', '--name', 'web', '--network', 'app', '-p', '127.0.0.1::80', 'busybox', 'sh', '-c', 'mkdir /w && echo hi > /w/index.html && exec httpd -f -p 80 -h /w']);
    assert.equal(web.code, 0, web.stderr);
    const port = await d.docker(['port', 'web', '80']);
    const m = /^127\.0\.0\.1:(\d+)$/m.exec(port.stdout);
    assert.ok(m, port.stdout + port.stderr);
    const body = await root.eventually(() => new Promise<string>((resolve) => {
      http.get(`http://127.0.0.1:${m[1]}/`, (res) => {
        let b = '';
        res.setEncoding('utf8').on('data', (x: string) => (b += x)).on('end', () => resolve(b));
      }).on('error', (e) => resolve(e.message));
    }), (b) => b === 'hi\n');
    assert.equal(body, 'hi\n');
    const ns = await d.docker(['run', '--rm', '--network', 'app', 'busybox', 'nslookup', 'web']);
    assert.match(ns.stdout, new RegExp(`Address: ${sub.replace(/\./g, '\\.')}\\.\\d+`), ns.stdout + ns.stderr);
    const ls = await d.docker(['network', 'ls', '--format', '{{.Name}}']);
    assert.deepEqual(ls.stdout.split('\n').filter(Boolean).sort(), ['app', 'bridge', 'host', 'none']);
    const insp = JSON.parse((await d.docker(['network', 'inspect', 'app'])).stdout)[0];
    assert.equal(insp.IPAM.Config[0].Subnet, `${sub}.0/24`);
    assert.deepEqual(insp.Labels, { suite: 'net' });
    assert.equal(Object.keys(insp.Containers).length, 1);
    assert.equal((await d.docker(['rm', '-f', 'web'])).code, 0);
    const rm = await d.docker(['network', 'rm', 'app']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(await root.until(() => root.netLeftovers(), (l) => l.length === 0, 20_000), []);
  });
});

// The berth CLI itself through a daemon: the same command, run by the daemon on its state root,
// its streams, terminal, signals and status carried over the API.
describe('berth through the daemon (BERTH_HOST, -H, a user who is not root)', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  daemonWithBusybox((r, dd) => ((root = r), (d = dd)));
  // A client with no state root of its own: everything it sees comes through the socket.
  const client = (args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; wrap?: string[] } = {}) => {
    const env = { PATH: process.env.PATH, BERTH_HOST: `unix://${d.socket}`, ...opts.env };
    const [cmd, ...pre] = opts.wrap ?? [BERTH];
    const child = spawn(cmd, [...pre, ...(opts.wrap ? [BERTH] : []), ...args], { env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    return collect(child, 60_000);
  };

  test('commands, streams apart, exit statuses and stdin, as in-process', async () => {
    const images = await client(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.equal(images.code, 0, images.stderr);
    assert.equal(images.stdout, 'busybox:latest\n');
    const r = await client(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal((await client(['run', '--rm', 'busybox', 'nosuchcommand'])).code, 127);
    const piped = await client(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'tr a-z A-Z'], { input: 'from stdin\n' });
    assert.equal(piped.stdout, 'FROM STDIN\n', piped.stderr);
    // A container made through the daemon is the daemon's root's, seen by the in-process CLI too.
    assert.equal((await client(['run', '-d', '--name', 'viaclient', 'busybox', 'sleep', '60'])).code, 0);
    assert.match((await root.run(['ps', '--format', '{{.Names}}'])).stdout, /viaclient/);
    assert.match((await client(['-H', `unix://${d.socket}`, 'exec', 'viaclient', 'echo', 'in-exec'], { env: { BERTH_HOST: '' } })).stdout, /in-exec/);
    // Only a command that reads stdin gets ours: a script's loop keeps the rest of its input.
    const loop = await collect(spawn('sh', ['-c', `printf 'a\\nb\\nc\\n' | while read x; do ${BERTH} images -q >/dev/null; echo "got $x"; done`], { env: { PATH: process.env.PATH, BERTH_HOST: `unix://${d.socket}` }, stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
    assert.equal(loop.stdout, 'got a\ngot b\ngot c\n', loop.stderr);
    for (const [args, env, msg] of [
      [['--root', '/tmp/x', 'ps'], {}, /cannot be combined/],
      [['-H'], {}, /needs a daemon address/],
      [['-H', 'ftp://x', 'ps'], { BERTH_HOST: '' }, /invalid daemon address/],
    ] as Array<[string[], NodeJS.ProcessEnv, RegExp]>) {
      const r2 = await client(args, { env });
      assert.equal(r2.code, 125, args.join(' '));
      assert.match(r2.stderr, msg);
    }
    const bad = await client(['nosuchverb']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /'nosuchverb' is not a berth command/);
    assert.equal((await client(['rm', '-f', 'viaclient'])).code, 0);
    // The daemon takes commands, not global flags (its state root is its own), and never another daemon.
    for (const Cmd of [['--root', '/tmp', 'ps'], ['daemon']]) {
      const refused = await d.request('POST', '/berth/cli', JSON.stringify({ Cmd }));
      assert.equal(refused.status, 400, refused.body);
    }
    assert.deepEqual(root.leftovers(), []);
  });

  test('a terminal of the client\'s size; signals reach the command', async () => {
    const cmd = `stty rows 31 cols 97; exec ${BERTH} run --rm -it busybox sh -c 'tty; stty size; exit 4'`;
    const t = await collect(spawn('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env: { PATH: process.env.PATH, BERTH_HOST: `unix://${d.socket}` }, stdio: ['pipe', 'pipe', 'pipe'] }), 60_000);
    assert.match(t.stdout, /\/dev\/pts\/0/);
    assert.match(t.stdout, /31 97/);
    assert.equal(t.code, 4, t.stdout + t.stderr);
    // SIGINT to the client: the command (here a foreground run) passes it to its container.
    const child = spawn(BERTH, ['run', '--rm', 'busybox', 'sh', '-c', 'trap "exit 5" INT; echo ready; sleep 30 & wait'], { env: { PATH: process.env.PATH, BERTH_HOST: `unix://${d.socket}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    const done = collect(child, 30_000);
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b));
    await root.until(() => out, (o) => o.includes('ready'), 15_000);
    child.kill('SIGINT');
    assert.equal((await done).code, 5);
    // A client that dies takes its command with it: no `logs -f` left running in the daemon.
    assert.equal((await root.run(['run', '-d', '--name', 'talker', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.2; done'])).code, 0);
    const follower = spawn(BERTH, ['logs', '-f', 'talker'], { env: { PATH: process.env.PATH, BERTH_HOST: `unix://${d.socket}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    let ticks = '';
    follower.stdout!.on('data', (b: Buffer) => (ticks += b));
    await root.until(() => ticks, (o) => o.includes('tick'), 15_000);
    const remoteSide = () => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return cmd.includes('logs') && cmd.includes('talker') && Number(p) !== follower.pid;
      } catch {
        return false;
      }
    });
    assert.ok(remoteSide().length > 0, 'the command runs in the daemon');
    follower.kill('SIGKILL');
    assert.deepEqual(await root.until(remoteSide, (l) => l.length === 0, 15_000), []);
    await root.run(['rm', '-f', 'talker']);
    // A daemon killed under a command: the next daemon ends the orphaned command (a foreground
    // run; its container lives on, as when an in-process berth run is killed).
    const orphanClient = spawn(BERTH, ['run', '--name', 'orphan', 'busybox', 'sleep', '60'], { env: { PATH: process.env.PATH, BERTH_HOST: `unix://${d.socket}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    orphanClient.on('error', () => {});
    const orphanCli = () => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== orphanClient.pid).filter((p) => {
      try {
        const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return cmd.includes('run') && cmd.includes('orphan');
      } catch {
        return false;
      }
    });
    await root.until(orphanCli, (l) => l.length > 0, 15_000);
    await d.stop('SIGKILL');
    orphanClient.kill('SIGKILL');
    assert.ok(orphanCli().length > 0, 'the command outlives the daemon that ran it');
    await d.start();
    assert.deepEqual(await root.until(orphanCli, (l) => l.length === 0, 15_000), [], 'the next daemon ends it');
    await root.run(['rm', '-f', 'orphan']);
  });

  test('a user who is not root, given the socket\'s group, uses berth through it', async () => {
    // The group may reach the socket; the state root around it is root's alone (0700), so the
    // client reaches it through a hard link outside, as /run/berth/berth.sock would be.
    fs.chownSync(d.socket, 0, 65534);
    const outside = path.join(os.tmpdir(), `berth-test-${process.pid}.sock`);
    fs.rmSync(outside, { force: true });
    fs.linkSync(d.socket, outside);
    const env = { BERTH_HOST: `unix://${outside}` };
    const r = await client(['run', '--rm', 'busybox', 'echo', 'hello from nobody'], { env, wrap: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from nobody\n');
    const denied = await client(['ps'], { env, wrap: ['setpriv', '--reuid=65534', '--regid=65533', '--clear-groups'] });
    fs.rmSync(outside);
    assert.equal(denied.code, 125);
    assert.match(denied.stderr, /cannot reach the daemon/);
  });
});
