// The kernel resource layer seen from inside: resource views (lxcfs) that follow the container's
// limits and start time; what happens when lxcfs is missing or dies.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lxcfsDir } from '../../src/kernel/lxcfs.ts';
import { isRoot, TestRoot } from '../helpers/berth.ts';

const hasLxcfs = fs.existsSync('/usr/bin/lxcfs');
const hostMemKb = Number(/MemTotal:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]);

function lxcfsPid(): number {
  return Number(fs.readFileSync(path.join(lxcfsDir(), 'lxcfs.pid'), 'utf8'));
}

describe('resource views', { skip: (!isRoot && 'needs root') || (!hasLxcfs && 'needs lxcfs') }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());
  const berthWith = (env: Record<string, string>, args: string[]) =>
    execFileSync(path.join(import.meta.dirname, '../../bin/berth'), args, { env: { ...root.env(), ...env }, encoding: 'utf8' });

  test('/proc/meminfo shows the memory limit, /proc/cpuinfo and cpu/online the CPU limit', async () => {
    const r = await root.run(['run', '--rm', '-m', '256m', '--cpus', '1', 'busybox', 'sh', '-c',
      'head -1 /proc/meminfo; grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online; grep -c "^cpu[0-9]" /proc/stat']);
    assert.equal(r.code, 0, r.stderr);
    const [mem, cpus, online, statCpus] = r.stdout.trim().split('\n');
    assert.match(mem, /^MemTotal:\s+262144 kB$/);
    assert.equal(cpus, '1');
    assert.equal(online, '0');
    assert.equal(statCpus, '1');
    assert.deepEqual(root.leftovers(), []);
  });

  test('/proc/uptime is the container\'s: it starts near 0', async () => {
    const r = await root.run(['run', '--rm', 'busybox', 'cat', '/proc/uptime']);
    assert.equal(r.code, 0, r.stderr);
    const host = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const seen = Number(r.stdout.split(' ')[0]);
    assert.ok(seen < 5 && host > 60, `container uptime ${seen}, host ${host}`);
  });

  test('--proc-views=false and BERTH_PROC_VIEWS=0: the host\'s files, as docker shows them', async () => {
    const flag = await root.run(['run', '--rm', '-m', '64m', '--proc-views=false', 'busybox', 'head', '-1', '/proc/meminfo']);
    assert.equal(Number(/(\d+)/.exec(flag.stdout)![1]), hostMemKb, flag.stderr);
    const env = berthWith({ BERTH_PROC_VIEWS: '0' }, ['run', '--rm', '-m', '64m', 'busybox', 'head', '-1', '/proc/meminfo']);
    assert.equal(Number(/(\d+)/.exec(env)![1]), hostMemKb);
  });

  test('a dead lxcfs: the running container keeps running, the next start brings it back', async () => {
    const id = (await root.run(['run', '-d', '-m', '128m', 'busybox', 'sleep', '60'])).stdout.trim();
    const first = lxcfsPid();
    process.kill(first, 'SIGKILL');
    await root.until(() => fs.existsSync(`/proc/${first}/stat`) && !fs.readFileSync(`/proc/${first}/stat`, 'utf8').includes(') Z'), (alive) => !alive);
    // Reads of the views fail (as under LXD); the container itself runs on.
    const broken = await root.run(['exec', id, 'cat', '/proc/meminfo']);
    assert.notEqual(broken.code, 0);
    assert.equal((await root.run(['exec', id, 'true'])).code, 0);
    const r = await root.run(['run', '--rm', '-m', '64m', 'busybox', 'head', '-1', '/proc/meminfo']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^MemTotal:\s+65536 kB/);
    assert.notEqual(lxcfsPid(), first);
    assert.equal((await root.run(['rm', '-f', id])).code, 0);
    assert.deepEqual(root.leftovers(), []);
  });

  test('lxcfs stops after its last container (BERTH_LXCFS_LINGER=0), its mount with it', async () => {
    berthWith({ BERTH_LXCFS_LINGER: '0' }, ['run', '--rm', 'busybox', 'true']);
    const mnt = path.join(lxcfsDir(), 'mnt');
    const mounted = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mnt);
    assert.equal(await root.until(mounted, (m) => !m, 10_000), false);
    assert.equal(fs.existsSync(path.join(lxcfsDir(), 'lxcfs.pid')), false);
  });
});
