// Named crash points (src/util/crash.ts) in the other verbs: stop, exec, commit, load, network
// connect and volume create. After berth SIGKILLs itself at each step, the next commands find a
// consistent state (each object whole or absent, a running container still running), a retry
// of the interrupted command succeeds, and once everything is removed nothing leaked.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH, busyboxTar, collect, isRoot, TestRoot, type Result } from '../helpers/berth.ts';
import { OciLayout } from '../helpers/oci.ts';
import { hasRegistryTools, TestRegistry } from '../helpers/registry.ts';

describe('crash points in stop, exec, commit, load, network connect, volume create', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  const crashAt = (step: string, args: string[]): Promise<Result> =>
    collect(spawn(BERTH, args, { env: { ...root.env(), BERTH_TEST_CRASH: '1', BERTH_CRASH_AT: step }, stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
  const killedAt = async (step: string, args: string[]) => {
    const r = await crashAt(step, args);
    assert.equal(r.signal, 'SIGKILL', `did not reach ${step}: ${r.stderr}`);
  };
  const ok = async (args: string[]): Promise<string> => {
    const r = await root.run(args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const status = async (name: string) => JSON.parse(await ok(['inspect', name]))[0].State.Status as string;
  const lines = (s: string) => s.split('\n').filter(Boolean);

  for (const step of ['stop:marked', 'stop:signalled']) {
    test(`SIGKILL at ${step}: the container runs on (its init ignores SIGTERM), the next stop and start work`, async () => {
      const name = step.replace(/\W/g, '-');
      await ok(['run', '-d', '--name', name, 'busybox', 'sleep', '100']);
      await killedAt(step, ['stop', '-t', '5', name]);
      assert.equal(await status(name), 'running');
      await ok(['stop', '-t', '0', name]);
      assert.equal(await status(name), 'exited');
      await ok(['start', name]);
      assert.equal(await status(name), 'running');
      await ok(['rm', '-f', name]);
    });
  }

  test('SIGKILL at exec:started: the container runs on, exec works again, rm ends what the exec started', async () => {
    await ok(['run', '-d', '--name', 'exec-crash', 'busybox', 'sleep', '100']);
    // The exec's shim inherits berth's output: waited for by exit, not by its pipes' close.
    const out = fs.openSync(path.join(root.dir, 'exec-crash.out'), 'w');
    const child = spawn(BERTH, ['exec', 'exec-crash', 'sleep', '77'], { env: { ...root.env(), BERTH_TEST_CRASH: '1', BERTH_CRASH_AT: 'exec:started' }, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const [, signal] = await new Promise<[number | null, string | null]>((r) => child.on('exit', (c, s) => r([c, s])));
    assert.equal(signal, 'SIGKILL', fs.readFileSync(path.join(root.dir, 'exec-crash.out'), 'utf8'));
    assert.equal(await status('exec-crash'), 'running');
    assert.equal((await ok(['exec', 'exec-crash', 'echo', 'hi'])).trim(), 'hi');
    await ok(['rm', '-f', 'exec-crash']);
    const left = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\x0077\x00';
      } catch {
        return false;
      }
    });
    assert.deepEqual(left, [], 'the exec\'d process went with its container');
  });

  for (const step of ['image:layer-stored', 'image:blobs-stored', 'image:recorded']) {
    test(`SIGKILL at ${step} of commit: no tag without its image; a retry makes it whole`, async () => {
      const tag = `crash/commit-${step.split(':')[1]}:1`;
      const name = step.replace(/\W/g, '-');
      await ok(['create', '--name', name, 'busybox', 'sh', '-c', 'echo made > /made']);
      await killedAt(step, ['commit', name, tag]);
      assert.equal((await root.run(['image', 'inspect', tag])).code, 1, 'a tag is written last');
      await ok(['commit', name, tag]);
      assert.equal((await root.run(['run', '--rm', tag, 'true'])).code, 0);
      await ok(['rm', name]);
      await ok(['rmi', tag]);
    });
  }

  test('SIGKILL at commit:paused of a running container: the next command finds it running (thawed), not paused', async () => {
    await ok(['run', '-d', '--name', 'commit-paused', 'busybox', 'sleep', '100']);
    await killedAt('commit:paused', ['commit', 'commit-paused', 'crash/paused:1']);
    assert.equal(await status('commit-paused'), 'running');
    // Really thawed: a process of it runs (exec works), and a user's pause and unpause work.
    assert.equal((await ok(['exec', 'commit-paused', 'echo', 'thawed'])).trim(), 'thawed');
    await ok(['pause', 'commit-paused']);
    assert.equal(await status('commit-paused'), 'paused');
    await ok(['unpause', 'commit-paused']);
    await ok(['commit', 'commit-paused', 'crash/paused:1']);
    assert.equal(await status('commit-paused'), 'running');
    await ok(['rm', '-f', 'commit-paused']);
    await ok(['rmi', 'crash/paused:1']);
  });

  test('SIGKILL in load (layers stored, then image recorded): the image is absent or whole; a retry loads it', async () => {
    await ok(['create', '--name', 'load-src', 'busybox', 'sh']);
    await ok(['commit', 'load-src', 'crash/load:1']);
    await ok(['rm', 'load-src']);
    const tar = path.join(root.dir, 'load.tar');
    await ok(['save', '-o', tar, 'crash/load:1']);
    for (const step of ['load:layers-stored', 'image:recorded']) {
      await ok(['rmi', 'crash/load:1']);
      await killedAt(step, ['load', '-i', tar]);
      assert.equal((await root.run(['image', 'inspect', 'crash/load:1'])).code, 1, `${step}: no tag yet`);
      await ok(['load', '-i', tar]);
      assert.equal((await root.run(['run', '--rm', 'crash/load:1', 'true'])).code, 0, step);
    }
    await ok(['rmi', 'crash/load:1']);
    // The staging directories of the killed loads were swept by the next load.
    const tmp = path.join(root.dir, 'tmp');
    assert.deepEqual(fs.existsSync(tmp) ? fs.readdirSync(tmp).filter((n) => n.startsWith('load-')) : [], []);
  });

  for (const step of ['network-connect:attached', 'network-connect:view-written']) {
    test(`SIGKILL at ${step}: connect again converges on one interface; rm and network rm leave nothing`, async () => {
      const name = step.replace(/\W/g, '-');
      const net = `crashnet-${step.endsWith('attached') ? 'a' : 'v'}`;
      await ok(['network', 'create', net]);
      await ok(['run', '-d', '--name', name, 'busybox', 'sleep', '100']);
      await killedAt(step, ['network', 'connect', net, name]);
      assert.equal(await status(name), 'running');
      await ok(['network', 'connect', net, name]);
      const nets = Object.keys(JSON.parse(await ok(['inspect', name]))[0].NetworkSettings.Networks);
      assert.ok(nets.includes(net), nets.join(','));
      const ifaces = lines(await ok(['exec', name, 'ls', '/sys/class/net'])).filter((i) => i !== 'lo');
      assert.equal(ifaces.length, 2, ifaces.join(','));
      await ok(['rm', '-f', name]);
      await ok(['network', 'rm', net]);
    });
  }

  for (const step of ['volume-create:data-made', 'volume-create:stored']) {
    test(`SIGKILL at ${step}: the volume is whole or absent, its name usable, nothing half-made left`, async () => {
      const vname = step.replace(/\W/g, '-');
      await killedAt(step, ['volume', 'create', vname]);
      const listed = lines(await ok(['volume', 'ls', '-q'])).includes(vname);
      assert.equal(listed, step === 'volume-create:stored');
      if (listed) assert.equal(JSON.parse(await ok(['volume', 'inspect', vname]))[0].Name, vname);
      const vdir = path.join(root.dir, 'volumes');
      assert.deepEqual(fs.readdirSync(vdir).filter((n) => n !== vname), [], 'volume ls swept the killed create\'s directory');
      await ok(['volume', 'create', vname]);
      assert.equal(lines(await ok(['run', '--rm', '-v', `${vname}:/v`, 'busybox', 'sh', '-c', 'echo x > /v/f && cat /v/f'])).join(), 'x');
      await ok(['volume', 'rm', vname]);
      assert.deepEqual(fs.readdirSync(vdir), []);
    });
  }

  test('after all the crashes nothing leaked', async () => {
    assert.deepEqual(await ok(['ps', '-a', '-q']), '');
    assert.deepEqual(await root.until(() => root.leftovers(), (l) => l.length === 0, 10_000), []);
    assert.deepEqual(await root.eventually(async () => (await root.run(['ps', '-a']), root.netLeftovers()), (l) => l.length === 0, 30_000), []);
  });
});

describe('crash points in pull', { skip: !isRoot ? 'needs root' : !hasRegistryTools && 'needs docker-registry and skopeo' }, () => {
  let root: TestRoot;
  let reg: TestRegistry;
  before(async () => {
    root = new TestRoot();
    reg = await TestRegistry.start();
    const layoutDir = path.join(root.dir, 'layout');
    const lay = new OciLayout(layoutDir);
    const bb = lay.image({ layers: [{ tar: fs.readFileSync(busyboxTar()), compression: 'gzip' }], cmd: ['sh'] });
    lay.tag('busybox', { ...bb.manifest });
    await reg.push(layoutDir, 'busybox', 'crash/busybox:1');
  });
  after(async () => {
    await root?.cleanup();
    await reg?.stop();
  });

  test('SIGKILL after the layers, after the blobs, after the record: no tag without its image; a retry pulls it whole', async () => {
    const ref = `${reg.host}/crash/busybox:1`;
    for (const step of ['pull:layers-stored', 'image:blobs-stored', 'image:recorded']) {
      const r = await collect(spawn(BERTH, ['pull', ref], { env: { ...root.env(), BERTH_TEST_CRASH: '1', BERTH_CRASH_AT: step }, stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
      assert.equal(r.signal, 'SIGKILL', `did not reach ${step}: ${r.stderr}`);
      assert.equal((await root.run(['image', 'inspect', ref])).code, 1, `${step}: no tag yet`);
      const again = await root.run(['pull', ref]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal((await root.run(['run', '--rm', ref, 'true'])).code, 0, step);
      assert.equal((await root.run(['rmi', ref])).code, 0);
    }
    assert.deepEqual(root.leftovers(), []);
  });
});
