// `update --restart` on a running container: its monitor follows the new policy from the init's
// next exit, not from the next start.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';

describe('update --restart applies at once', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());
  const state = async (id: string) => {
    const [c] = JSON.parse((await root.run(['inspect', id])).stdout);
    return { status: c.State.Status as string, restarts: c.RestartCount as number, code: c.State.ExitCode as number };
  };
  const until = async (id: string, ok: (s: Awaited<ReturnType<typeof state>>) => boolean) => {
    for (let i = 0; i < 100; i++) {
      const s = await state(id);
      if (ok(s)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    return state(id);
  };

  test('no -> always: the running container restarts at its exit; always -> no: it then stays down', async () => {
    const id = (await root.run(['run', '-d', 'busybox', 'sh', '-c', 'sleep 1; exit 3'])).stdout.trim();
    try {
      assert.equal((await root.run(['update', '--restart', 'always', id])).code, 0);
      const restarted = await until(id, (s) => s.restarts >= 1);
      assert.ok(restarted.restarts >= 1 && restarted.status !== 'exited', JSON.stringify(restarted));
      assert.equal((await root.run(['update', '--restart', 'no', id])).code, 0);
      const before = (await state(id)).restarts;
      const down = await until(id, (s) => s.status === 'exited');
      assert.deepEqual({ status: down.status, code: down.code }, { status: 'exited', code: 3 });
      await new Promise((r) => setTimeout(r, 1500)); // a back-off's worth: no restart after all
      const after = await state(id);
      assert.equal(after.status, 'exited');
      assert.ok(after.restarts <= before + 1, `${before} -> ${after.restarts}`);
    } finally {
      await root.run(['rm', '-f', id]);
    }
  });

  test('on-failure:1 given to a running container: one restart, then it stays down', async () => {
    const id = (await root.run(['run', '-d', 'busybox', 'sh', '-c', 'sleep 1; exit 2'])).stdout.trim();
    try {
      assert.equal((await root.run(['update', '--restart', 'on-failure:1', id])).code, 0);
      const down = await until(id, (s) => s.status === 'exited' && s.restarts === 1);
      assert.deepEqual(down, { status: 'exited', restarts: 1, code: 2 });
      // The next start runs with the record's policy (the file went with the start).
      assert.equal((await root.run(['update', '--restart', 'no', id])).code, 0);
      assert.equal((await root.run(['start', id])).code, 0);
      const again = await until(id, (s) => s.status === 'exited');
      assert.equal(again.status, 'exited');
    } finally {
      await root.run(['rm', '-f', id]);
    }
    assert.deepEqual(root.leftovers(), []);
  });
});
