// kill -9 of berth at random points while containers are created, started and removed:
// afterwards every container is fully there or fully gone, and nothing leaks.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collect, isRoot, REPO, TestRoot } from '../helpers/berth.ts';

/** Live processes running this checkout's shim (monitors), whoever started them. */
function shimPids(): number[] {
  const shim = path.join(REPO, 'native/build/berth-shim');
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return fs.readlinkSync(`/proc/${p}/exe`) === shim;
    } catch {
      return false;
    }
  }).map(Number);
}

describe('crash loop', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  test('SIGKILL of berth mid-operation never leaves a half container or a leak', async () => {
    // Kill points spread over one whole operation as long as it takes on this machine now (a
    // loaded machine makes every step slower): from before the engine loads to after the start.
    const t0 = Date.now();
    assert.equal((await root.run(['run', '--rm', 'busybox', 'true'])).code, 0);
    const span = Math.max(250, (Date.now() - t0) * 1.2);
    const monitors = shimPids();
    const ops: string[][] = [];
    for (let i = 0; i < 36; i++) {
      const kind = i % 4;
      if (kind === 0) ops.push(['run', '--rm', '--name', `c${i}`, 'busybox', 'sleep', '0.3']);
      else if (kind === 1) ops.push(['run', '-d', '--name', `c${i}`, 'busybox', 'sleep', '0.3']);
      else if (kind === 2) ops.push(['create', '--name', `c${i}`, 'busybox', 'true']);
      else ops.push(['rm', '-f', `c${i - 2}`]);
    }
    let killed = 0;
    for (let i = 0; i < ops.length; i++) {
      const child = root.spawn(ops[i]);
      const done = collect(child, 30_000);
      const delay = Math.round((((i * 37) % 250) / 250) * span); // a deterministic spread over 0..span
      await new Promise((r) => setTimeout(r, delay));
      if (child.kill('SIGKILL')) killed++;
      await done.catch(() => undefined);
    }
    assert.ok(killed > 10, `only ${killed} operations were interrupted`);
    assert.ok(fs.existsSync(path.join(root.dir, 'containers')), 'no operation got as far as creating a container');
    await new Promise((r) => setTimeout(r, 1000)); // running containers finish their sleep

    // Reconcile, then check consistency: every listed container is complete and inspectable.
    const ps = await root.run(['ps', '-a', '--format', '{{.ID}}', '--no-trunc']);
    assert.equal(ps.code, 0, ps.stderr);
    const ids = ps.stdout.split('\n').filter(Boolean);
    for (const id of ids) {
      const insp = await root.run(['inspect', id]);
      assert.equal(insp.code, 0, `container ${id} is not whole: ${insp.stderr}`);
      assert.notEqual(JSON.parse(insp.stdout)[0].State.Status, 'running');
    }
    // No half-created container, and no half-removed one once the removals in flight (an --rm
    // container's monitor finishing) are done.
    const entries = await root.until(() => fs.readdirSync(path.join(root.dir, 'containers')), (l) => !l.some((n) => n.startsWith('.')), 10_000);
    assert.deepEqual(entries.filter((n) => n.startsWith('.')), []);
    assert.deepEqual(entries.sort(), [...ids].sort());
    // Every name points at a container that exists.
    const names = fs.existsSync(path.join(root.dir, 'names')) ? fs.readdirSync(path.join(root.dir, 'names')) : [];
    for (const n of names) {
      assert.ok(ids.includes(fs.readFileSync(path.join(root.dir, 'names', n), 'utf8')), `stale name ${n}`);
    }
    if (ids.length) assert.equal((await root.run(['rm', '-f', ...ids])).code, 0);
    assert.deepEqual(root.leftovers(), []);
    // No monitor outlived its container (the containers' own processes went with their cgroups).
    assert.deepEqual(await root.until(() => shimPids().filter((p) => !monitors.includes(p)), (l) => l.length === 0), []);
    // Networks too (the default bridge: kills landed mid CNI ADD as well): released by the
    // reconciles above, asynchronously.
    assert.deepEqual(await root.eventually(async () => (await root.run(['ps', '-a']), root.netLeftovers()), (l) => l.length === 0, 30_000), []);
  });
});
