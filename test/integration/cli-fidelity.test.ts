// The docker CLI's common flows against `berth daemon`, where their output differed from a
// dockerd's side by side: image ls by repository, ps's command column, inspect's NetworkMode,
// cp, kill and rename messages, `run --rm` of a command that cannot start, and the events dockerd emits
// for exec, attach, stop, copies, images and prune.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { TestRoot } from '../helpers/berth.ts';
import { daemonWithBusybox, skip, type TestDaemon } from '../helpers/daemon.ts';

describe('docker CLI output as dockerd gives it', { skip }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  daemonWithBusybox((r, dd) => ((root = r), (d = dd)));

  test('image ls REPO lists only that repository\'s tags of an image with several names', async () => {
    assert.equal((await d.docker(['tag', 'busybox', 'bb:t1'])).code, 0);
    const ls = await d.docker(['image', 'ls', 'bb', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.equal(ls.stdout, 'bb:t1\n');
    const all = await d.docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.deepEqual(all.stdout.trim().split('\n').sort(), ['bb:t1', 'busybox:latest']);
    assert.equal((await d.docker(['rmi', 'bb:t1'])).code, 0);
  });

  test('ps quotes arguments with spaces; inspect keeps NetworkMode "default"; cp and kill name the container', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'qq', 'busybox', 'sh', '-c', 'sleep 300'])).code, 0);
    const ps = await d.docker(['ps', '--no-trunc', '--format', '{{.Command}}', '--filter', 'name=qq']);
    assert.equal(ps.stdout, '"sh -c \'sleep 300\'"\n');
    const mode = await d.docker(['inspect', '-f', '{{.HostConfig.NetworkMode}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}', 'qq']);
    assert.equal(mode.stdout, 'default bridge\n');
    const cp = await d.docker(['cp', 'qq:/nonexist', path.join(root.dir, 'x')]);
    assert.equal(cp.code, 1);
    assert.match(cp.stderr, /Could not find the file \/nonexist in container qq$/m);
    const rename = await d.docker(['rename', 'qq', 'bad name']);
    assert.match(rename.stderr, /^Error response from daemon: Error when allocating new name: Invalid container name \(\/bad name\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed$/m);
    assert.equal((await d.docker(['rm', '-f', 'qq'])).code, 0);
    const kill = await d.docker(['kill', 'qq']);
    assert.equal(kill.code, 1);
    assert.match(kill.stderr, /^Error response from daemon: Cannot kill container: qq: No such container: qq$/m);
  });

  test('create body keys in any case, as Go decodes them (docker-py sends CPURealtimePeriod)', async () => {
    const made = await d.request('POST', '/containers/create?name=rt', JSON.stringify({ image: 'busybox', Cmd: ['true'], HostConfig: { CPURealtimePeriod: 1000, CPURealtimeRuntime: 500 } }));
    assert.equal(made.status, 201, made.body);
    const h = JSON.parse((await d.request('GET', '/containers/rt/json')).body).HostConfig;
    assert.deepEqual([h.CpuRealtimePeriod, h.CpuRealtimeRuntime], [1000, 500]);
    assert.equal((await d.request('DELETE', '/containers/rt')).status, 204);
  });

  test('commit: --change EXPOSE/ENV/VOLUME over the container\'s config; a commit right after a short run\'s start', async () => {
    assert.equal((await d.docker(['run', '--name', 'cm', '-e', 'A=1', 'busybox', 'true'])).code, 0);
    const c = await d.docker(['commit', '-c', 'EXPOSE 8000', '-c', 'ENV B=c', '-c', 'VOLUME /data', 'cm', 'cm:1']);
    assert.equal(c.code, 0, c.stderr);
    const cfg = JSON.parse((await d.docker(['image', 'inspect', '-f', '{{json .Config}}', 'cm:1'])).stdout);
    assert.deepEqual(cfg.ExposedPorts, { '8000/tcp': {} });
    assert.deepEqual(cfg.Volumes, { '/data': {} });
    assert.ok(cfg.Env.includes('A=1') && cfg.Env.includes('B=c'), cfg.Env.join(' ')); // ENV adds to the container's
    // Where it came from: Parent (any version), the container and its config (before API 1.45).
    const cid = (await d.docker(['inspect', '-f', '{{.Id}}', 'cm'])).stdout.trim();
    const parent = (await d.docker(['inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim();
    const old = JSON.parse((await d.request('GET', '/v1.41/images/cm:1/json')).body);
    assert.deepEqual([old.Container, old.ContainerConfig.Image, old.Parent], [cid, 'busybox', parent]);
    const now = JSON.parse((await d.request('GET', '/v1.47/images/cm:1/json')).body);
    assert.deepEqual(['Container' in now, now.Parent], [false, parent]);
    // Started and committed at once: the command ends during the commit (its cgroup goes).
    for (let i = 0; i < 5; i++) {
      assert.equal((await d.request('POST', `/containers/create?name=quick${i}`, JSON.stringify({ Image: 'busybox', Cmd: ['true'] }))).status, 201);
      assert.equal((await d.request('POST', `/containers/quick${i}/start`)).status, 204);
      const r = await d.request('POST', `/commit?container=quick${i}`, '{}');
      assert.equal(r.status, 201, r.body);
      assert.equal((await d.docker(['rm', '-f', `quick${i}`])).code, 0);
      assert.equal((await d.docker(['rmi', JSON.parse(r.body).Id])).code, 0);
    }
    assert.equal((await d.docker(['rm', 'cm'])).code, 0);
    assert.equal((await d.docker(['rmi', 'cm:1'])).code, 0);
  });

  test('a load that fails answers 200 with an error line; a failed RUN in the classic builder\'s words', async () => {
    const load = await d.request('POST', '/images/load', 'abc', { 'Content-Type': 'application/x-tar' });
    assert.equal(load.status, 200);
    assert.ok(JSON.parse(load.body.trim()).error, load.body);
    const dir = path.join(root.dir, 'ctx');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\nRUN exit 3\n');
    const b = await d.docker(['build', dir], { env: { DOCKER_BUILDKIT: '0' } });
    assert.equal(b.code, 3, b.stderr);
    assert.match(b.stderr, /The command '\/bin\/sh -c exit 3' returned a non-zero code: 3/);
  });

  test('an endpoint\'s DriverOpts, LinkLocalIPs and Links are kept and shown by inspect (docker-py\'s endpoint config)', async () => {
    assert.equal((await d.docker(['network', 'create', 'epnet'])).code, 0);
    const ep = { DriverOpts: { 'com.docker-py.setting': 'on' }, IPAMConfig: { LinkLocalIPs: ['169.254.8.8'] }, Links: ['up:bar'] };
    const made = await d.request('POST', '/containers/create?name=ep', JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'epnet' }, NetworkingConfig: { EndpointsConfig: { epnet: ep } } }));
    assert.equal(made.status, 201, made.body);
    const net = JSON.parse((await d.request('GET', '/containers/ep/json')).body).NetworkSettings.Networks.epnet;
    assert.deepEqual([net.DriverOpts, net.IPAMConfig, net.Links], [ep.DriverOpts, ep.IPAMConfig, ep.Links]);
    assert.equal((await d.docker(['rm', 'ep'])).code, 0);
    assert.equal((await d.docker(['network', 'rm', 'epnet'])).code, 0);
  });

  test('run --rm of a missing command: the start\'s error once, exit 127, no wait error', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = await d.docker(['run', '--rm', '--name', 'gone', 'busybox', 'nosuchcmd']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /executable file not found/);
    assert.doesNotMatch(r.stderr, /Error waiting for container/);
    const ev = await d.docker(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'container=gone', '--format', '{{.Action}}']);
    assert.equal(ev.stdout, 'create\nattach\ndestroy\n');
  });

  test('events: exec start/die, attach, the kills of a stop, archive copies, image tag/untag/save/load, prune', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    assert.equal((await d.docker(['run', '--name', 'att', 'busybox', 'true'])).code, 0);
    assert.equal((await d.docker(['run', '-d', '--name', 'ev', 'busybox', 'sleep', '300'])).code, 0);
    assert.equal((await d.docker(['exec', 'ev', 'sh', '-c', 'exit 3'])).code, 3);
    assert.equal((await d.docker(['exec', 'ev', 'nosuchcmd'])).code, 127);
    const file = path.join(root.dir, 'cpfile');
    fs.writeFileSync(file, 'x');
    assert.equal((await d.docker(['cp', file, 'ev:/tmp/'])).code, 0);
    assert.equal((await d.docker(['cp', 'ev:/tmp/cpfile', path.join(root.dir, 'back')])).code, 0);
    assert.equal((await d.docker(['tag', 'busybox', 'bb:ev'])).code, 0);
    assert.equal((await d.docker(['rmi', 'bb:ev'])).code, 0);
    const tar = path.join(root.dir, 'save.tar');
    assert.equal((await d.docker(['save', '-o', tar, 'busybox'])).code, 0);
    assert.equal((await d.docker(['load', '-i', tar])).code, 0);
    assert.equal((await d.docker(['stop', '-t', '1', 'ev'])).code, 0);
    assert.equal((await d.docker(['container', 'prune', '-f'])).code, 0);
    const until = Math.floor(Date.now() / 1000) + 1;
    const ev = await d.docker(['events', '--since', String(since), '--until', String(until), '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}{{with .Actor.Attributes.exitCode}} {{.}}{{end}}']);
    const lines = ev.stdout.trim().split('\n').map((l) => l.replace(/ <no value>$/, ''));
    const imageId = (await d.docker(['inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim();
    const expect = [
      'container attach att', 'container start att',
      'container exec_create: sh -c exit 3 ev', 'container exec_start: sh -c exit 3 ev', 'container exec_die ev 3',
      'container exec_create: nosuchcmd  ev', 'container exec_start: nosuchcmd  ev',
      'container extract-to-dir ev', 'container archive-path ev',
      'image tag bb:ev', `image untag ${imageId}`, `image save ${imageId}`, `image load ${imageId}`,
      'container kill ev', 'container die ev 137', 'container stop ev', 'container prune',
    ];
    // In this order (other events between them).
    let at = 0;
    for (const e of expect) {
      const i = lines.indexOf(e, at);
      assert.ok(i >= 0, `"${e}" missing after line ${at} in:\n${lines.join('\n')}`);
      at = i + 1;
    }
    // A command that could not start has no exec_die (dockerd's events).
    assert.equal(lines.filter((l) => l.startsWith('container exec_die')).length, 1);
  });
});
