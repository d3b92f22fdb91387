// berth killed mid-run: the container's monitor carries on or, if it died too, the next
// invocation cleans up. Two state roots never see or disturb each other.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collect, isRoot, TestRoot } from '../helpers/berth.ts';

function monitorPid(root: TestRoot, id: string): number {
  const state = JSON.parse(fs.readFileSync(path.join(root.dir, 'containers', id, 'state.json'), 'utf8'));
  return state.Monitor.pid;
}

async function startNamed(root: TestRoot, name: string, args: string[], rm = true) {
  const child = root.spawn(['run', ...(rm ? ['--rm'] : []), '--name', name, 'busybox', ...args]);
  const done = collect(child, 60_000).catch(() => undefined);
  const idFile = path.join(root.dir, 'names', name);
  const id = await root.until(() => (fs.existsSync(idFile) ? fs.readFileSync(idFile, 'utf8') : ''), (v) => v.length === 64);
  await root.until(() => fs.existsSync(path.join(root.dir, 'containers', id, 'state.json')), (v) => v);
  return { child, id, done };
}

describe('crash recovery', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  test('kill -9 of berth: the container keeps running under its monitor, then is cleaned up', async () => {
    const { child, id } = await startNamed(root, 'survivor', ['sleep', '2']);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited; // not 'close': the container still holds the stdout pipe
    const ps = await root.run(['ps', '--format', '{{.Names}} {{.State}}']);
    assert.match(ps.stdout, /survivor running/);
    // The monitor tears the --rm container down when it exits, with no berth process around.
    const left = await root.until(() => root.leftovers(), (l) => l.length === 0, 10_000);
    assert.deepEqual(left, []);
    assert.equal(fs.existsSync(path.join(root.dir, 'names', 'survivor')), true); // freed lazily
    assert.equal((await root.run(['run', '--rm', '--name', 'survivor', 'busybox', 'true'])).code, 0);
    void id;
  });

  test('kill -9 of a foreground berth run: the container finishes under its monitor and shows its real exit status', async () => {
    const { child, id } = await startNamed(root, 'orphaned', ['sh', '-c', 'sleep 1; echo done; exit 7'], false);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    const st = await root.eventually(() => root.run(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'orphaned']), (r) => r.stdout === 'exited 7\n');
    assert.equal(st.stdout, 'exited 7\n');
    assert.equal((await root.run(['logs', 'orphaned'])).stdout, 'done\n');
    assert.deepEqual(root.cgroupDirs(id), []);
    assert.equal((await root.run(['rm', 'orphaned'])).code, 0);
  });

  test('kill -9 of berth and the monitor: the container dies with it and the next ps cleans', async () => {
    const { child, id, done } = await startNamed(root, 'victim', ['sleep', '60']);
    const shim = monitorPid(root, id);
    child.kill('SIGKILL');
    process.kill(shim, 'SIGKILL');
    await done;
    assert.ok(root.leftovers().length > 0);
    const ps = await root.run(['ps', '-a', '--format', '{{.Names}}']);
    assert.doesNotMatch(ps.stdout, /victim/);
    assert.deepEqual(root.leftovers(), []);
  });

  test('kill -9 of berth and the monitor: the next run cleans without listing every container', async () => {
    // run sweeps only what a dead run can leave (cgroups without a live process), not every
    // container; a detached container of another run must be left alone.
    const keep = await root.run(['run', '-d', '--name', 'bystander', 'busybox', 'sleep', '60']);
    assert.equal(keep.code, 0, keep.stderr);
    const { child, id, done } = await startNamed(root, 'victim2', ['sleep', '60']);
    const shim = monitorPid(root, id);
    child.kill('SIGKILL');
    process.kill(shim, 'SIGKILL');
    await done;
    assert.ok(root.cgroupDirs(id).length > 0 && fs.existsSync(path.join(root.dir, 'containers', id)));
    const r = await root.run(['run', '--rm', 'busybox', 'true']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(root.cgroupDirs(id), []);
    assert.equal(fs.existsSync(path.join(root.dir, 'containers', id)), false);
    // The same for a container that was not --rm: it is exited with docker's 255, its cgroups gone.
    const { child: c2, id: id2, done: d2 } = await startNamed(root, 'victim3', ['sleep', '60'], false);
    c2.kill('SIGKILL');
    process.kill(monitorPid(root, id2), 'SIGKILL');
    await d2;
    assert.equal((await root.run(['create', 'busybox', 'true'])).code, 0);
    assert.deepEqual(root.cgroupDirs(id2), []);
    assert.match(fs.readFileSync(path.join(root.dir, 'containers', id2, 'state.json'), 'utf8'), /"Status":"exited".*"ExitCode":255/);
    assert.match((await root.run(['inspect', '-f', '{{.State.Status}}', 'bystander'])).stdout, /^running\n$/);
    assert.equal((await root.run(['rm', '-f', 'bystander', 'victim3'])).code, 0);
    const rest = (await root.run(['ps', '-a', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    if (rest.length) assert.equal((await root.run(['rm', ...rest])).code, 0);
    assert.deepEqual(root.leftovers(), []);
  });

  test('a start killed after making the cgroups leaves a container that starts again', async () => {
    assert.equal((await root.run(['create', '--name', 'restartable', 'busybox', 'echo', 'ran'])).code, 0);
    const id = fs.readFileSync(path.join(root.dir, 'names', 'restartable'), 'utf8');
    // What such a start leaves: the container's (empty) cgroups in every hierarchy berth uses,
    // found from a running container's.
    const ref = (await root.run(['run', '-d', 'busybox', 'sleep', '60'])).stdout.trim();
    for (const d of root.cgroupDirs(ref)) fs.mkdirSync(d.replace(ref, id), { recursive: true }); // co-mounted controllers share one
    assert.ok(root.cgroupDirs(id).length > 0);
    const s = await root.run(['start', '-a', 'restartable']);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, 'ran\n');
    assert.equal((await root.run(['rm', '-f', 'restartable', ref])).code, 0);
    assert.deepEqual(root.leftovers(), []);
  });

  test('rm -f stops a running container and removes everything', async () => {
    const { id, done } = await startNamed(root, 'forced', ['sleep', '60']);
    const rm = await root.run(['rm', '-f', 'forced']);
    assert.equal(rm.code, 0, rm.stderr);
    const r = await done;
    assert.equal(r?.code, 137);
    assert.deepEqual(await root.until(() => root.leftovers(), (l) => l.length === 0), []);
    void id;
  });

  test('two roots never see each other\'s containers', async () => {
    const other = new TestRoot();
    try {
      await other.importBusybox();
      const { done } = await startNamed(root, 'mine', ['sleep', '2']);
      const ps = await other.run(['ps', '-a', '-q']);
      assert.equal(ps.stdout, '');
      assert.equal((await other.run(['rm', '-f', 'mine'])).code, 1);
      const still = await root.run(['ps', '--format', '{{.Names}}']);
      assert.match(still.stdout, /mine/);
      assert.equal((await done)?.code, 0);
    } finally {
      await other.cleanup();
    }
  });
});
