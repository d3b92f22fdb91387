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
  return Number(fs.readFileSync(path.join(lxcfsDir(), 'lxcfs.pid'), 'utf8').split(' ')[0]);
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
    // Bound from the new instance's prepared files (the dead one's stay until lxcfs stops).
    const views = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m?.endsWith('/proc/meminfo') && m.startsWith(`${lxcfsDir()}/views-${lxcfsPid()}-`));
    assert.equal(views.length, 1);
    assert.equal((await root.run(['rm', '-f', id])).code, 0);
    assert.deepEqual(root.leftovers(), []);
  });

  test('a container whose monitor was killed (its root not touched again) does not keep lxcfs up', async () => {
    const other = await TestRoot.withBusybox();
    try {
      const r = await other.run(['run', '-d', 'busybox', 'sleep', '1000']);
      assert.equal(r.code, 0, r.stderr);
      const pid = JSON.parse((await other.run(['inspect', r.stdout.trim()])).stdout)[0].State.Pid as number;
      const monitor = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      process.kill(monitor, 'SIGKILL');
      process.kill(pid, 'SIGKILL');
      await root.until(() => fs.existsSync(`/proc/${pid}`) || fs.existsSync(`/proc/${monitor}`), (alive) => !alive);
      // Nobody gives its user back (a release already lingering may drop it first): the next last container's end stops lxcfs all the same.
      berthWith({ BERTH_LXCFS_LINGER: '0' }, ['run', '--rm', 'busybox', 'true']);
      const mnt = path.join(lxcfsDir(), 'mnt');
      const mounted = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mnt);
      assert.equal(await root.until(mounted, (m) => !m, 10_000), false);
      assert.equal(fs.readdirSync(path.join(lxcfsDir(), 'users')).some((u) => u.endsWith(r.stdout.trim())), false, 'the dead user is dropped');
    } finally {
      await other.cleanup();
    }
  });

  test('lxcfs stops after its last container (BERTH_LXCFS_LINGER=0), its mount and its prepared view files with it', async () => {
    berthWith({ BERTH_LXCFS_LINGER: '0' }, ['run', '--rm', 'busybox', 'true']);
    // Anything mounted under the lxcfs directory: its mount, the views' tmpfs and their binds.
    const mounted = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4]?.startsWith(`${lxcfsDir()}/`));
    const views = () => fs.readdirSync(lxcfsDir()).filter((n) => n.startsWith('views-'));
    assert.equal(await root.until(() => mounted() || views().length > 0, (m) => !m, 10_000), false, views().join(' '));
    assert.equal(fs.existsSync(path.join(lxcfsDir(), 'lxcfs.pid')), false);
  });
});

describe('block I/O, the other resource flags, update', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  let loop = '';
  let image = '';
  before(async () => {
    root = await TestRoot.withBusybox();
    image = path.join(root.dir, 'loop.img');
    fs.writeFileSync(image, Buffer.alloc(0));
    fs.truncateSync(image, 32 << 20);
    loop = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
  });
  after(async () => {
    if (loop) execFileSync('losetup', ['-d', loop]);
    await root.cleanup();
  });
  const cgroupFile = (id: string, file: string) => {
    for (const d of root.cgroupDirs(id)) if (fs.existsSync(path.join(d, file))) return fs.readFileSync(path.join(d, file), 'utf8').trim();
    return undefined;
  };

  test('--device-write-bps: 2 MB written under 1 MB/s take their time, without the limit less', async () => {
    const t0 = Date.now();
    const r = await root.run(['run', '--rm', '--device', `${loop}:/dev/xvda`, '--device-write-bps', `${loop}:1mb`, 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/xvda', 'bs=512k', 'count=4', 'oflag=direct']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - t0 >= 1500, `took ${Date.now() - t0} ms`);
    const fast = Date.now();
    assert.equal((await root.run(['run', '--rm', '--device', `${loop}:/dev/xvda`, 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/xvda', 'bs=512k', 'count=4', 'oflag=direct'])).code, 0);
    assert.ok(Date.now() - fast < Date.now() - t0);
    assert.deepEqual(root.leftovers(), []);
  });

  test('the flags reach the cgroup files and inspect; a path that is no block device is refused', async () => {
    const id = (await root.run(['run', '-d', '--device-read-iops', `${loop}:100`, '--device-read-bps', `${loop}:2mb`, '--blkio-weight', '300',
      '--cpuset-cpus', '0', '--cpu-period', '50000', '--cpu-quota', '25000', '--memory-reservation', '64m', '--memory-swappiness', '0',
      '--oom-kill-disable', '--shm-size', '16m', 'busybox', 'sleep', '30'])).stdout.trim();
    const [major, minor] = fs.readFileSync(`/sys/class/block/${path.basename(loop)}/dev`, 'utf8').trim().split(':');
    if (root.cgroupDirs(id).some((d) => d.includes('/blkio/'))) {
      assert.equal(cgroupFile(id, 'blkio.throttle.read_iops_device'), `${major}:${minor} 100`);
      assert.equal(cgroupFile(id, 'blkio.throttle.read_bps_device'), `${major}:${minor} ${2 << 20}`);
      assert.equal(cgroupFile(id, 'cpuset.cpus'), '0');
      assert.equal(cgroupFile(id, 'cpu.cfs_period_us'), '50000');
      assert.equal(cgroupFile(id, 'cpu.cfs_quota_us'), '25000');
      assert.equal(cgroupFile(id, 'memory.soft_limit_in_bytes'), String(64 << 20));
      assert.equal(cgroupFile(id, 'memory.swappiness'), '0');
      assert.match(cgroupFile(id, 'memory.oom_control')!, /oom_kill_disable 1/);
    }
    const shm = await root.run(['exec', id, 'df', '-k', '/dev/shm']);
    assert.match(shm.stdout, /16384/);
    const h = JSON.parse((await root.run(['inspect', id])).stdout)[0].HostConfig;
    assert.deepEqual(h.BlkioDeviceReadIOps, [{ Path: loop, Rate: 100 }]);
    assert.equal(h.BlkioWeight, 300);
    assert.equal(h.CpusetCpus, '0');
    assert.equal(h.CpuPeriod, 50000);
    assert.equal(h.MemoryReservation, 64 << 20);
    assert.equal(h.MemorySwappiness, 0);
    assert.equal(h.OomKillDisable, true);
    assert.equal(h.ShmSize, 16 << 20);
    assert.equal((await root.run(['rm', '-f', id])).code, 0);
    const bad = await root.run(['run', '--rm', '--device-write-bps', '/dev/null:1mb', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /not a valid block device/);
    const warned = await root.run(['run', '--rm', '--kernel-memory', '64m', 'busybox', 'true']);
    assert.equal(warned.code, 0);
    assert.match(warned.stderr, /kernel memory limit is deprecated/);
    assert.deepEqual(root.leftovers(), []);
  });

  test('update: cgroup, record, inspect and the /proc views together; a refused value keeps the old limits', async () => {
    const id = (await root.run(['run', '-d', '-m', '256m', 'busybox', 'sleep', '30'])).stdout.trim();
    const u = await root.run(['update', '-m', '512m', '--cpus', '1', '--pids-limit', '200', '--restart', 'unless-stopped', id]);
    assert.equal(u.code, 0, u.stderr);
    if (root.cgroupDirs(id).some((d) => d.includes('/memory/'))) {
      assert.equal(cgroupFile(id, 'memory.limit_in_bytes'), String(512 << 20));
      assert.equal(cgroupFile(id, 'pids.max'), '200');
    }
    const h = JSON.parse((await root.run(['inspect', id])).stdout)[0].HostConfig;
    assert.equal(h.Memory, 512 << 20);
    assert.equal(h.NanoCpus, 1e9);
    assert.equal(h.PidsLimit, 200);
    assert.equal(h.RestartPolicy.Name, 'unless-stopped');
    if (hasLxcfs) assert.match((await root.run(['exec', id, 'head', '-1', '/proc/meminfo'])).stdout, /524288 kB/);
    const refused = await root.run(['update', '--cpuset-cpus', '1000', id]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /cpuset\.cpus|cpuset/);
    assert.equal(JSON.parse((await root.run(['inspect', id])).stdout)[0].HostConfig.CpusetCpus, '');
    assert.equal((await root.run(['rm', '-f', id])).code, 0);
    assert.deepEqual(root.leftovers(), []);
  });
});
