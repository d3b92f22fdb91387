// Named crash points (src/util/crash.ts): berth SIGKILLs itself at a chosen step of create, start
// and rm. After each crash the next commands must find a consistent state (the container listed
// at most once, whole when listed, with a status that fits what happened; its name usable again)
// and, once everything is removed, nothing leaked: no files, cgroups, mounts, monitors, networks.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { BERTH, collect, isRoot, TestRoot, type Result } from '../helpers/berth.ts';

describe('crash points', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  /** berth, told to die at `step`. */
  const crashAt = (step: string, args: string[]): Promise<Result> =>
    collect(spawn(BERTH, args, { env: { ...root.env(), BERTH_TEST_CRASH: '1', BERTH_CRASH_AT: step }, stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);

  const ok = async (args: string[]): Promise<string> => {
    const r = await root.run(args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  /** Every container as "name status", from a fresh command (which reconciles what it finds). */
  async function listed(name: string): Promise<string[]> {
    const out = await ok(['ps', '-a', '--format', '{{.Names}} {{.State}}']);
    return out.split('\n').filter((l) => l.split(' ')[0] === name);
  }

  /** The container is listed at most once, inspectable when listed, and its status is one of `allowed`. */
  async function consistent(name: string, allowed: string[]): Promise<string | undefined> {
    const rows = await listed(name);
    assert.ok(rows.length <= 1, `${name} listed ${rows.length} times: ${rows.join(', ')}`);
    if (!rows.length) return undefined;
    const insp = JSON.parse(await ok(['inspect', name]))[0];
    assert.ok(allowed.includes(insp.State.Status), `${name} is ${insp.State.Status}, expected one of ${allowed.join(', ')}`);
    return insp.State.Status;
  }

  /** The name works again: removed (if there) and then taken by a new container, itself removed. */
  async function reusable(name: string): Promise<void> {
    const rm = await root.run(['rm', '-f', name]);
    assert.ok(rm.code === 0 || /No such container/.test(rm.stderr), `rm -f ${name}: ${rm.stderr}`);
    await ok(['create', '--name', name, 'busybox', 'true']);
    await ok(['rm', name]);
    assert.deepEqual(await listed(name), []);
  }

  for (const step of ['create:name-reserved', 'create:filled', 'create:stored']) {
    test(`SIGKILL at ${step}`, async () => {
      const name = step.replace(/\W/g, '-');
      const r = await crashAt(step, ['create', '--name', name, 'busybox', 'sleep', '100']);
      assert.equal(r.signal, 'SIGKILL', `did not reach ${step}: ${r.stderr}`);
      const status = await consistent(name, ['created']);
      // Only a container whose directory was published may be listed.
      if (step !== 'create:stored') assert.equal(status, undefined);
      await reusable(name);
    });
  }

  for (const step of ['start:network-ready', 'start:cgroups-created', 'start:monitor-spawned', 'start:state-saved']) {
    test(`SIGKILL at ${step}`, async () => {
      const name = step.replace(/\W/g, '-');
      await ok(['create', '--name', name, 'busybox', 'sleep', '100']);
      const r = await crashAt(step, ['start', name]);
      assert.equal(r.signal, 'SIGKILL', `did not reach ${step}: ${r.stderr}`);
      // Before the monitor exists nothing ran; after, the monitor runs the container and is adopted.
      const spawned = step === 'start:monitor-spawned' || step === 'start:state-saved';
      const status = await consistent(name, spawned ? ['running'] : ['created', 'exited']);
      assert.ok(status);
      // The next start (or stop) is not refused as "being started by another command".
      if (spawned) await ok(['stop', '-t', '0', name]);
      await ok(['start', name]);
      assert.equal(await consistent(name, ['running']), 'running');
      await reusable(name);
    });
  }

  for (const step of ['rm:removing-saved', 'rm:cgroups-removed', 'rm:hidden', 'rm:dir-removed']) {
    test(`SIGKILL at ${step}`, async () => {
      const name = step.replace(/\W/g, '-');
      await ok(['run', '-d', '--name', name, 'busybox', 'sleep', '100']);
      const r = await crashAt(step, ['rm', '-f', name]);
      assert.equal(r.signal, 'SIGKILL', `did not reach ${step}: ${r.stderr}`);
      // Half removed is `removing` (or `dead`, which only another rm ends), never running again.
      const status = await consistent(name, ['removing', 'dead', 'exited']);
      if (step === 'rm:hidden' || step === 'rm:dir-removed') assert.equal(status, undefined);
      await reusable(name);
    });
  }

  test('after all the crashes nothing leaked', async () => {
    assert.deepEqual(await ok(['ps', '-a', '-q']), '');
    assert.deepEqual(await root.until(() => root.leftovers(), (l) => l.length === 0, 10_000), []);
    assert.deepEqual(await root.eventually(async () => (await root.run(['ps', '-a']), root.netLeftovers()), (l) => l.length === 0, 30_000), []);
  });
});
