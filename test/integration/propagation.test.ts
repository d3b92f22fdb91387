// Bind mount propagation between the host and a container, as the CRI's Mount Propagation specs
// check it: a host directory bound on itself and made shared (the test's own, under its private
// root), given to a privileged container that mounts in it while the host mounts in it too.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';

/** Mount points under dir, as the host (this process) sees them. */
function mountsUnder(dir: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(`${dir}/`));
}

describe('bind mount propagation', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  /** A directory bound on itself with the given propagation (as critest makes it); cleaned up by undo. */
  function hostDir(name: string, propagation: 'rshared' | 'rprivate'): { src: string; undo: () => void } {
    const src = path.join(root.dir, name);
    fs.mkdirSync(path.join(src, 'c'), { recursive: true });
    fs.mkdirSync(path.join(src, 'h'));
    execFileSync('mount', ['--rbind', src, src]);
    execFileSync('mount', [`--make-${propagation}`, src]);
    // Deepest first; whatever the container left mounted on the host goes too.
    const undo = () => {
      for (const m of mountsUnder(src).reverse()) execFileSync('umount', ['-l', m]);
      execFileSync('umount', ['-l', src]);
    };
    return { src, undo };
  }

  /** Runs a privileged container on src at /mnt, mounts a tmpfs in it from each side, and says
   * which side saw which: [host sees the container's, container sees the host's]. */
  async function exchange(name: string, src: string, propagation: string): Promise<[boolean, boolean]> {
    const run = await root.run(['run', '-d', '--name', name, '--privileged', '-v', `${src}:/mnt:${propagation}`, 'busybox', 'sleep', '600']);
    assert.equal(run.code, 0, run.stderr);
    const inside = await root.run(['exec', name, 'sh', '-c', 'mount -t tmpfs tmpfs /mnt/c && touch /mnt/c/from-container']);
    assert.equal(inside.code, 0, inside.stderr);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(src, 'h')]);
    fs.writeFileSync(path.join(src, 'h', 'from-host'), '');
    const seen = await root.run(['exec', name, 'sh', '-c', 'test -e /mnt/h/from-host && echo yes || echo no']);
    const hostSees = fs.existsSync(path.join(src, 'c', 'from-container'));
    assert.equal((await root.run(['rm', '-f', name])).code, 0);
    return [hostSees, seen.stdout.trim() === 'yes'];
  }

  test('rshared: mounts made in the container reach the host and the host\'s reach the container', async () => {
    const { src, undo } = hostDir('shared', 'rshared');
    try {
      assert.deepEqual(await exchange('both', src, 'rshared'), [true, true]);
      // The container's mount stays on the host after it is gone (as with runc), and only that one.
      assert.deepEqual(mountsUnder(src).sort(), [path.join(src, 'c'), path.join(src, 'h')]);
    } finally {
      undo();
    }
    assert.deepEqual(root.leftovers(), []);
  });

  test('rslave: the host\'s mounts reach the container, the container\'s never reach the host; rprivate: neither', async () => {
    const { src, undo } = hostDir('slave', 'rshared');
    try {
      assert.deepEqual(await exchange('slave', src, 'rslave'), [false, true]);
      assert.deepEqual(mountsUnder(src), [path.join(src, 'h')]);
      execFileSync('umount', [path.join(src, 'h')]);
      assert.deepEqual(await exchange('private', src, 'rprivate'), [false, false]);
      assert.deepEqual(mountsUnder(src), [path.join(src, 'h')]);
    } finally {
      undo();
    }
    assert.deepEqual(root.leftovers(), []);
  });

  test('a shared bind needs a shared source mount, a slave one a shared or slave one (as dockerd says)', async () => {
    const { src, undo } = hostDir('private', 'rprivate');
    try {
      const shared = await root.run(['run', '--rm', '-v', `${src}:/mnt:rshared`, 'busybox', 'true']);
      assert.notEqual(shared.code, 0);
      assert.match(shared.stderr, new RegExp(`path ${src} is mounted on ${src} but it is not a shared mount`));
      const slave = await root.run(['run', '--rm', '-v', `${src}:/mnt:slave`, 'busybox', 'true']);
      assert.match(slave.stderr, /is not a shared or slave mount/);
      assert.equal((await root.run(['run', '--rm', '-v', `${src}:/mnt:rprivate`, 'busybox', 'true'])).code, 0);
      // Only a start checks: `cp` into the stopped container binds without propagation.
      assert.equal((await root.run(['create', '--name', 'cp', '-v', `${src}:/mnt:rshared`, 'busybox'])).code, 0);
      fs.writeFileSync(path.join(root.dir, 'f'), 'x');
      const cp = await root.run(['cp', path.join(root.dir, 'f'), 'cp:/mnt/f']);
      assert.equal(cp.code, 0, cp.stderr);
      assert.equal(fs.readFileSync(path.join(src, 'f'), 'utf8'), 'x');
      assert.equal((await root.run(['rm', 'cp'])).code, 0);
      assert.deepEqual(mountsUnder(src), []);
    } finally {
      undo();
    }
    assert.deepEqual(root.leftovers(), []);
  });
});
