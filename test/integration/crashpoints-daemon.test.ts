// Named crash points (src/util/crash.ts) in the daemon: `berth daemon`, started with the switch,
// SIGKILLs itself at a step of an API create, start, stop, rm or exec. The next daemon (and the
// docker CLI through it) must find the state consistent: the container listed at most once, with
// a status that fits what happened, its name usable again; a container that was running before
// (a bystander) still running; and once everything is removed, nothing leaked.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pidsRunning, TestRoot } from '../helpers/berth.ts';
import { skip, TestDaemon } from '../helpers/daemon.ts';

describe('crash points in the daemon', { skip }, () => {
  let root: TestRoot;
  before(async () => {
    root = await TestRoot.withBusybox();
    assert.equal((await root.run(['run', '-d', '--name', 'bystander', 'busybox', 'sleep', '1000'])).code, 0);
  });
  after(() => root.cleanup());

  const body = (cmd: string[]) => JSON.stringify({ Image: 'busybox', Cmd: cmd });

  /** A daemon told to die at `step`, sent the requests in turn: it must die at the last one. */
  async function killedAt(step: string, ...requests: Array<[string, string, string?]>): Promise<void> {
    const d = new TestDaemon(root, { env: { BERTH_TEST_CRASH: '1', BERTH_CRASH_AT: step } });
    await d.start();
    let answer: unknown;
    for (const [method, p, b] of requests) answer = await d.request(method, p, b).catch((e: Error) => e.message);
    assert.equal(await Promise.race([d.gone(), new Promise((r) => setTimeout(r, 10_000, 'still up'))]), 'SIGKILL', `did not reach ${step}: ${JSON.stringify(answer)} ${d.log}`);
  }

  /** The next daemon: `fn` with it, after checking that the bystander runs on. */
  async function next(fn: (d: TestDaemon) => Promise<void>): Promise<void> {
    const d = new TestDaemon(root);
    await d.start();
    try {
      assert.equal(await status(d, 'bystander'), 'running');
      await fn(d);
    } finally {
      await d.stop();
    }
  }

  const ok = async (d: TestDaemon, args: string[]): Promise<string> => {
    const r = await d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  /** The container's status, as listed (at most once, inspectable then), or undefined when it is not. */
  async function status(d: TestDaemon, name: string): Promise<string | undefined> {
    const list = await d.request('GET', '/containers/json?all=1');
    const rows = (JSON.parse(list.body) as Array<{ Names: string[]; State: string }>).filter((c) => c.Names.includes(`/${name}`));
    assert.ok(rows.length <= 1, `${name} listed ${rows.length} times`);
    if (!rows.length) return undefined;
    const insp = await d.request('GET', `/containers/${name}/json`);
    assert.equal(insp.status, 200, insp.body);
    assert.equal(JSON.parse(insp.body).State.Status, rows[0].State);
    return rows[0].State;
  }

  /** The name works again through the docker CLI: removed (if there), taken anew, removed. */
  async function reusable(d: TestDaemon, name: string): Promise<void> {
    const rm = await d.docker(['rm', '-f', name]);
    assert.ok(rm.code === 0 || /No such container/.test(rm.stderr), `rm -f ${name}: ${rm.stderr}`);
    await ok(d, ['create', '--name', name, 'busybox', 'true']);
    await ok(d, ['rm', name]);
    assert.equal(await status(d, name), undefined);
  }

  for (const step of ['create:name-reserved', 'create:filled', 'create:stored']) {
    test(`SIGKILL at ${step} of POST /containers/create`, async () => {
      const name = `d-${step.replace(/\W/g, '-')}`;
      await killedAt(step, ['POST', `/containers/create?name=${name}`, body(['sleep', '100'])]);
      await next(async (d) => {
        // Only a container whose directory was published may be listed, and then as created.
        assert.equal(await status(d, name), step === 'create:stored' ? 'created' : undefined);
        await reusable(d, name);
      });
    });
  }

  for (const step of ['start:network-ready', 'start:cgroups-created', 'start:monitor-spawned', 'start:state-saved']) {
    test(`SIGKILL at ${step} of POST /containers/{id}/start`, async () => {
      const name = `d-${step.replace(/\W/g, '-')}`;
      assert.equal((await root.run(['create', '--name', name, 'busybox', 'sleep', '100'])).code, 0);
      await killedAt(step, ['POST', `/containers/${name}/start`]);
      // Before the monitor exists nothing ran; after, the monitor runs the container and is adopted.
      const spawned = step === 'start:monitor-spawned' || step === 'start:state-saved';
      await next(async (d) => {
        const s = await status(d, name);
        if (spawned) assert.equal(s, 'running');
        else assert.ok(s === 'created' || s === 'exited', `${name} is ${s}`);
        // The next start (after a stop) is not refused as "being started by another command".
        if (spawned) await ok(d, ['stop', '-t', '0', name]);
        await ok(d, ['start', name]);
        assert.equal(await status(d, name), 'running');
        await reusable(d, name);
      });
    });
  }

  for (const step of ['stop:marked', 'stop:signalled']) {
    test(`SIGKILL at ${step} of POST /containers/{id}/stop: it runs on (its init ignores SIGTERM)`, async () => {
      const name = `d-${step.replace(/\W/g, '-')}`;
      assert.equal((await root.run(['run', '-d', '--name', name, 'busybox', 'sleep', '100'])).code, 0);
      await killedAt(step, ['POST', `/containers/${name}/stop?t=5`]);
      await next(async (d) => {
        assert.equal(await status(d, name), 'running');
        await ok(d, ['stop', '-t', '0', name]);
        assert.equal(await status(d, name), 'exited');
        await ok(d, ['start', name]);
        assert.equal(await status(d, name), 'running');
        await reusable(d, name);
      });
    });
  }

  for (const step of ['rm:removing-saved', 'rm:cgroups-removed', 'rm:hidden', 'rm:dir-removed']) {
    test(`SIGKILL at ${step} of DELETE /containers/{id}?force=1`, async () => {
      const name = `d-${step.replace(/\W/g, '-')}`;
      assert.equal((await root.run(['run', '-d', '--name', name, 'busybox', 'sleep', '100'])).code, 0);
      await killedAt(step, ['DELETE', `/containers/${name}?force=1`]);
      await next(async (d) => {
        // Half removed is `removing` (or `dead`, which only another rm ends), never running again.
        const s = await status(d, name);
        assert.ok(s === undefined || ['removing', 'dead', 'exited'].includes(s), `${name} is ${s}`);
        if (step === 'rm:hidden' || step === 'rm:dir-removed') assert.equal(s, undefined);
        await reusable(d, name);
      });
    });
  }

  test('SIGKILL at exec:started of POST /exec/{id}/start: the container runs on, exec works again, rm ends what the exec started', async () => {
    assert.equal((await root.run(['run', '-d', '--name', 'd-exec', 'busybox', 'sleep', '100'])).code, 0);
    const d = new TestDaemon(root, { env: { BERTH_TEST_CRASH: '1', BERTH_CRASH_AT: 'exec:started' } });
    await d.start();
    const made = await d.request('POST', '/containers/d-exec/exec', JSON.stringify({ Cmd: ['sleep', '7717'], AttachStdout: true }));
    assert.equal(made.status, 201, made.body);
    await d.request('POST', `/exec/${JSON.parse(made.body).Id}/start`, JSON.stringify({ Detach: false })).catch(() => undefined);
    assert.equal(await d.gone(), 'SIGKILL', d.log);
    await next(async (d) => {
      assert.equal(await status(d, 'd-exec'), 'running');
      assert.equal((await ok(d, ['exec', 'd-exec', 'echo', 'hi'])).trim(), 'hi');
      await ok(d, ['rm', '-f', 'd-exec']);
    });
    assert.deepEqual(pidsRunning(['sleep', '7717']), [], 'the exec\'d process went with its container');
  });

  test('after all the crashes nothing leaked', async () => {
    assert.equal((await root.run(['rm', '-f', 'bystander'])).code, 0);
    assert.equal((await root.run(['ps', '-a', '-q'])).stdout, '');
    assert.deepEqual(await root.until(() => root.leftovers(), (l) => l.length === 0, 10_000), []);
    assert.deepEqual(await root.eventually(async () => (await root.run(['ps', '-a']), root.netLeftovers()), (l) => l.length === 0, 30_000), []);
  });
});
