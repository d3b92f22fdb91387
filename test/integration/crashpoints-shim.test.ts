// Named crash points in the shim (native/crash.c): the container's monitor, started with
// BERTH_TEST_CRASH=1 BERTH_CRASH_AT=shim:<step> (passed on by berth only when it has them), SIGKILLs
// itself at a step of a start or an exec. Its child dies with it (PDEATHSIG): the command that
// started it must end with a clear error (or the recorded exit) at once, the next command must find
// the container once with the status that fits, an exec's container must run on, and once
// everything is removed nothing may be left of what the monitor would have torn down.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { BERTH, collect, pidsRunning, TestRoot, type Result } from '../helpers/berth.ts';
import { skip, TestDaemon } from '../helpers/daemon.ts';

describe('crash points in the shim', { skip }, () => {
  let root: TestRoot;
  before(async () => {
    root = await TestRoot.withBusybox();
    assert.equal((await root.run(['run', '-d', '--name', 'bystander', 'busybox', 'sleep', '1000'])).code, 0);
  });
  after(() => root.cleanup());

  const crashEnv = (step: string) => ({ BERTH_TEST_CRASH: '1', BERTH_CRASH_AT: `shim:${step}` });
  /** berth, its monitor told to die at `step`; timed (nothing may wait for a dead monitor). */
  async function crashAt(step: string, args: string[]): Promise<Result & { ms: number }> {
    const t0 = Date.now();
    const r = await collect(spawn(BERTH, args, { env: { ...root.env(), ...crashEnv(step) }, stdio: ['ignore', 'pipe', 'pipe'] }), 20_000);
    return { ...r, ms: Date.now() - t0 };
  }
  const ok = async (args: string[]): Promise<string> => {
    const r = await root.run(args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** The container's status, from a fresh command: listed once, and inspect agrees. */
  async function status(name: string): Promise<string> {
    const rows = (await ok(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).split('\n').filter((l) => l.split(' ')[0] === name);
    assert.equal(rows.length, 1, `${name} listed ${rows.length} times`);
    const s = JSON.parse(await ok(['inspect', name]))[0].State;
    assert.equal(s.Status, rows[0].split(' ')[1]);
    return s.Status;
  }
  const killedMessage = /shim .*killed by SIGKILL/;

  for (const step of ['setup', 'cloned']) {
    test(`start: the monitor killed at ${step} (before the command ran) is a clear error; the next start works`, async () => {
      const name = `s-${step}`;
      await ok(['create', '--name', name, 'busybox', 'sleep', '100']);
      const r = await crashAt(step, ['start', name]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, killedMessage);
      assert.ok(r.ms < 5000, `start took ${r.ms} ms`);
      assert.equal(await status(name), 'exited');
      await ok(['start', name]);
      assert.equal(await status(name), 'running');
      assert.equal(await status('bystander'), 'running');
      await ok(['rm', '-f', name]);
    });
  }

  test('start: the monitor killed once the command runs takes it down (PDEATHSIG): exited, and the next start works', async () => {
    await ok(['create', '--name', 's-started', 'busybox', 'sleep', '4343']);
    const r = await crashAt('started', ['start', 's-started']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await root.eventually(() => status('s-started'), (s) => s === 'exited'), 'exited');
    assert.equal(pidsRunning(['sleep', '4343']).length, 0, 'the container\'s process went with its monitor');
    await ok(['start', 's-started']);
    assert.equal(await status('s-started'), 'running');
    await ok(['rm', '-f', 's-started']);
  });

  test('start -a: the monitor killed after the exit, before recording it, is an error; after recording it, the recorded exit', async () => {
    await ok(['create', '--name', 's-exited', 'busybox', 'sh', '-c', 'exit 3']);
    const lost = await crashAt('exited', ['start', '-a', 's-exited']);
    assert.equal(lost.code, 125);
    assert.match(lost.stderr, killedMessage);
    assert.equal(await status('s-exited'), 'exited');
    const recorded = await crashAt('exit-recorded', ['start', '-a', 's-exited']);
    assert.equal(recorded.code, 3, recorded.stderr);
    assert.equal(JSON.parse(await ok(['inspect', 's-exited']))[0].State.ExitCode, 3);
    await ok(['rm', 's-exited']);
  });

  for (const step of ['cloned', 'started', 'exited']) {
    test(`exec: the exec's monitor killed at ${step} is a clear error; the container runs on and exec works again`, async () => {
      const name = `x-${step}`;
      await ok(['run', '-d', '--name', name, 'busybox', 'sleep', '100']);
      const r = await crashAt(step, ['exec', name, 'sh', '-c', 'sleep 0.2; echo done']);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, killedMessage);
      assert.ok(r.ms < 5000, `exec took ${r.ms} ms`);
      assert.equal(await status(name), 'running');
      assert.equal((await ok(['exec', name, 'echo', 'hi'])).trim(), 'hi');
      await ok(['rm', '-f', name]);
    });
  }

  test('through the daemon: docker start and docker exec end with the error, the daemon stays up', async () => {
    const d = new TestDaemon(root, { env: crashEnv('cloned') });
    await d.start();
    try {
      assert.equal((await d.docker(['create', '--name', 'api-start', 'busybox', 'sleep', '100'])).code, 0);
      const started = await d.docker(['start', 'api-start'], { timeoutMs: 10_000 });
      assert.notEqual(started.code, 0);
      assert.match(started.stderr, /killed by SIGKILL/);
      assert.equal((await d.docker(['inspect', '--format', '{{.State.Status}}', 'api-start'])).stdout.trim(), 'exited');
      const exec = await d.docker(['exec', 'bystander', 'echo', 'hi'], { timeoutMs: 10_000 });
      assert.notEqual(exec.code, 0);
      assert.ok(await d.ping(), 'the daemon is up');
      assert.equal((await d.docker(['rm', 'api-start'])).code, 0);
    } finally {
      await d.stop();
    }
    assert.equal(await status('bystander'), 'running');
  });

  test('after all the crashes nothing leaked', async () => {
    await ok(['rm', '-f', 'bystander']);
    assert.equal(await ok(['ps', '-a', '-q']), '');
    assert.deepEqual(await root.until(() => root.leftovers(), (l) => l.length === 0, 10_000), []);
    assert.deepEqual(await root.eventually(async () => (await root.run(['ps', '-a']), root.netLeftovers()), (l) => l.length === 0, 30_000), []);
  });
});
