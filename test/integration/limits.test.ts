// cgroup limits are written where the kernel enforces them, and enforced.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collect, isRoot, TestRoot } from '../helpers/berth.ts';

describe('resource limits', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  test('-m, --pids-limit, --cpus, --cpu-shares reach the container\'s cgroups', async () => {
    const child = root.spawn(['run', '--rm', '--name', 'limited', '-m', '64m', '--pids-limit', '50', '--cpus', '0.5', '--cpu-shares', '512', 'busybox', 'sleep', '3']);
    const done = collect(child, 30_000);
    const idFile = path.join(root.dir, 'names', 'limited');
    const id = await root.until(() => (fs.existsSync(idFile) ? fs.readFileSync(idFile, 'utf8') : ''), (v) => v.length === 64);
    const dirs = await root.until(() => root.cgroupDirs(id), (d) => d.some((x) => fs.existsSync(path.join(x, 'cgroup.procs')) && fs.readFileSync(path.join(x, 'cgroup.procs'), 'utf8').trim() !== ''));
    const read = (file: string) => {
      for (const d of dirs) if (fs.existsSync(path.join(d, file))) return fs.readFileSync(path.join(d, file), 'utf8').trim();
      return undefined;
    };
    const v2 = dirs.some((d) => fs.existsSync(path.join(d, 'cgroup.controllers')) && !d.includes('/unified/'));
    if (v2) {
      assert.equal(read('memory.max'), String(64 << 20));
      assert.equal(read('pids.max'), '50');
      assert.equal(read('cpu.max'), '50000 100000');
    } else {
      assert.equal(read('memory.limit_in_bytes'), String(64 << 20));
      assert.equal(read('pids.max'), '50');
      assert.equal(read('cpu.cfs_quota_us'), '50000');
      assert.equal(read('cpu.shares'), '512');
    }
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(root.cgroupDirs(id), []);
  });

  test('exceeding the memory limit is an OOM kill: status 137', async () => {
    const r = await root.run(['run', '--rm', '-m', '16m', '--memory-swap', '16m', 'busybox', 'sh', '-c', 'tail /dev/zero']);
    assert.equal(r.code, 137, r.stderr);
    assert.deepEqual(root.leftovers(), []);
  });

  test('the pids limit stops a fork bomb', async () => {
    const r = await root.run(['run', '--rm', '--pids-limit', '8', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 5 & done 2>&1; echo done']);
    assert.match(r.stdout + r.stderr, /can't fork|Resource temporarily unavailable|fork/i);
    assert.deepEqual(root.leftovers(), []);
  });
});
