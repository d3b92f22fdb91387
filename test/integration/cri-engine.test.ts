// What the CRI needs of the engine, each through berth's CLI or the Docker API on its own: the
// pause image, CRI-format logs, cgroup parents, masked/read-only paths, namespace sharing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { collect, isRoot, REPO, TestRoot } from '../helpers/berth.ts';

const NODE = process.execPath;

describe('cri engine additions', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  /** ensurePauseImage in a process of its own (as the daemon and a CLI would call it). */
  const ensurePause = () =>
    collect(spawn(NODE, ['-e', `const { Engine } = await import(${JSON.stringify(`${REPO}/src/engine/engine.ts`)});
const { ensurePauseImage } = await import(${JSON.stringify(`${REPO}/src/engine/pause.ts`)});
const e = new Engine(process.env.BERTH_ROOT); const ref = await ensurePauseImage(e); console.log(ref, e.images.resolve(ref).id);`, '--input-type=module'], { env: root.env(), stdio: ['ignore', 'pipe', 'pipe'] }), 30_000);

  test('pause image: made once by concurrent callers, runs as pid 1, reaps orphans, stops at once on SIGTERM', async () => {
    const [a, b] = await Promise.all([ensurePause(), ensurePause()]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(a.stdout, b.stdout, 'both callers got the same image');
    const [ref, id] = a.stdout.trim().split(' ');
    assert.match(ref, /^berth\.local\/pause:/);
    assert.equal((await ensurePause()).stdout, a.stdout, 'idempotent');
    const images = await root.run(['images', '--format', '{{.Repository}} {{.ID}}']);
    assert.equal(images.stdout.split('\n').filter((l) => l.startsWith('berth.local/pause ')).length, 1);
    assert.equal((await root.run(['image', 'inspect', '-f', '{{json .Config.Entrypoint}} {{len .RootFS.Layers}}', ref])).stdout.trim(), '["/pause"] 1');
    assert.ok(id.startsWith('sha256:'));

    assert.equal((await root.run(['run', '-d', '--name', 'pod', ref])).code, 0);
    // A container in the pod's pid namespace leaves orphans: they become the pause process's
    // children, and it reaps them.
    const kid = await root.run(['run', '-d', '--name', 'kid', '--pid', 'container:pod', 'busybox', 'sh', '-c', '(sleep 2 &); (sleep 2 &); exec sleep 30']);
    assert.equal(kid.code, 0, kid.stderr);
    const ps = async () => (await root.run(['exec', 'kid', 'ps', '-o', 'pid,ppid,stat,args'])).stdout;
    const orphans = (out: string) => out.split('\n').filter((l) => /^\s*\d+\s+1\s+\S+\s+sleep 2$/.test(l)).length;
    const during = await root.eventually(ps, (out) => orphans(out) === 2);
    assert.equal(orphans(during), 2, during);
    assert.match(during, /^\s*1\s+0\s+S\s+\/pause$/m);
    const afterwards = await root.eventually(ps, (out) => !/sleep 2$/m.test(out), 10_000);
    assert.doesNotMatch(afterwards, /sleep 2$/m);
    assert.doesNotMatch(afterwards, /^\s*\d+\s+\d+\s+Z/m, 'the orphans were reaped, not left as zombies');
    assert.equal((await root.run(['rm', '-f', 'kid'])).code, 0);
    const t0 = Date.now();
    assert.equal((await root.run(['stop', 'pod'])).code, 0);
    const stopMs = Date.now() - t0;
    assert.ok(stopMs < 2000, `stop took ${stopMs} ms`);
    assert.equal((await root.run(['inspect', '-f', '{{.State.ExitCode}}', 'pod'])).stdout.trim(), '0');
    assert.equal((await root.run(['rm', 'pod'])).code, 0);
    assert.deepEqual(root.leftovers(), []);
  });
});
