import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { v1LimitFiles } from '../../src/kernel/cgroup-v1.ts';
import { blkioToIoWeight, sharesToWeight, v2LimitFiles } from '../../src/kernel/cgroup-v2.ts';
import { detectCgroups, neededControllers, v1DeviceWrites, type CgroupDriver } from '../../src/kernel/cgroups.ts';

const MiB = 1024 * 1024;
const SCOPE = 'berth/0123abcd';
const read = (f: string) => fs.readFileSync(f, 'utf8');

/** One mountinfo line, in the kernel's format (with an optional field, as systemd hosts have). */
const mount = (n: number, at: string, fstype: string, superOpts: string) =>
  `${n} 31 0:${n} / ${at.replace(/ /g, '\\040')} rw,nosuid,nodev,noexec,relatime shared:${n} - ${fstype} ${fstype} ${superOpts}`;

function tmpTree(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cg-'));
}

describe('detection from mountinfo', () => {
  test('hybrid v1: one hierarchy per mount, co-mounted controllers once, unused ones skipped', () => {
    const r = '/sys/fs/cgroup';
    const info = [
      mount(25, '/', 'ext4', 'rw'),
      mount(31, r, 'tmpfs', 'rw,mode=755'),
      mount(32, `${r}/cpu,cpuacct`, 'cgroup', 'rw,cpu,cpuacct'),
      mount(34, `${r}/cpuset`, 'cgroup', 'rw,cpuset'),
      mount(35, `${r}/memory`, 'cgroup', 'rw,memory'),
      mount(36, `${r}/devices`, 'cgroup', 'rw,devices'),
      mount(37, `${r}/free zer`, 'cgroup', 'rw,freezer'),
      mount(38, `${r}/blkio`, 'cgroup', 'rw,blkio'),
      mount(39, `${r}/pids`, 'cgroup', 'rw,pids'),
      mount(40, `${r}/systemd`, 'cgroup', 'rw,xattr,name=systemd'),
      mount(41, `${r}/unified`, 'cgroup2', 'rw,nsdelegate'),
      mount(42, '/mnt/memory-again', 'cgroup', 'rw,memory'), // a bind mount of the same hierarchy
      '',
    ].join('\n');
    const cg = detectCgroups(SCOPE, { mountinfo: info });
    assert.equal(cg.version, 1);
    const leaf = (h: string) => `${r}/${h}/${SCOPE}/c1`;
    const dirs = [leaf('cpu,cpuacct'), leaf('cpuset'), leaf('memory'), leaf('devices'), leaf('free zer'), leaf('blkio'), leaf('pids')];
    assert.deepEqual(cg.paths('c1'), { dirs, procs: dirs.map((d) => `${d}/cgroup.procs`), oom: `${leaf('memory')}/memory.oom_control` });
  });

  test('cgroup2 at the cgroup root is pure v2; elsewhere (hybrid "unified") it is not', () => {
    const v2 = detectCgroups(SCOPE, { mountinfo: mount(30, '/sys/fs/cgroup', 'cgroup2', 'rw,nsdelegate,memory_recursiveprot') + '\n' });
    assert.equal(v2.version, 2);
    const d = `/sys/fs/cgroup/${SCOPE}/c1`;
    assert.deepEqual(v2.paths('c1'), { dirs: [d], procs: [`${d}/cgroup.procs`], oom: `${d}/memory.events` });
    const custom = detectCgroups(SCOPE, { mountinfo: mount(30, '/x/cg', 'cgroup2', 'rw') + '\n', root: '/x/cg' });
    assert.equal(custom.version, 2);
    assert.deepEqual(custom.paths('c1').dirs, [`/x/cg/${SCOPE}/c1`]);
    const hybrid = detectCgroups(SCOPE, { mountinfo: [mount(35, '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory'), mount(41, '/sys/fs/cgroup/unified', 'cgroup2', 'rw')].join('\n') });
    assert.equal(hybrid.version, 1);
  });

  test('bad scopes and ids are rejected before touching anything', () => {
    for (const s of ['/berth/x', 'berth/../x', 'berth//x', '', 'berth/'])
      assert.throws(() => detectCgroups(s, { mountinfo: '' }), { code: 'InvalidArgument' }, s);
    // Only an OCI bundle's cgroupsPath may name a cgroup right under a hierarchy's root.
    assert.equal(detectCgroups('', { mountinfo: '', topLevel: true }).version, 1);
    const cg = detectCgroups(SCOPE, { mountinfo: '' });
    for (const id of ['', '..', '../x', 'a/b', '.x']) {
      assert.throws(() => cg.paths(id), { code: 'InvalidArgument' }, id);
      assert.throws(() => cg.create(id, {}), { code: 'InvalidArgument' }, id);
      assert.throws(() => cg.remove(id), { code: 'InvalidArgument' }, id);
    }
  });
});

describe('limit files', () => {
  test('v1: memsw after the memory limit, docker\'s 2x default, period before quota', () => {
    assert.deepEqual(v1LimitFiles({}), []);
    assert.deepEqual(v1LimitFiles({ memory: 64 * MiB, cpuQuota: 50000, cpuPeriod: 200000, cpuShares: 512, pids: 50 }), [
      ['memory', 'memory.limit_in_bytes', String(64 * MiB), false],
      ['memory', 'memory.memsw.limit_in_bytes', String(128 * MiB), true],
      ['cpu', 'cpu.cfs_period_us', '200000', false],
      ['cpu', 'cpu.cfs_quota_us', '50000', false],
      ['cpu', 'cpu.shares', '512', false],
      ['pids', 'pids.max', '50', false],
    ]);
    assert.deepEqual(v1LimitFiles({ memory: 64 * MiB, memorySwap: -1 })[1], ['memory', 'memory.memsw.limit_in_bytes', '-1', true]);
    assert.deepEqual(v1LimitFiles({ memory: 64 * MiB, memorySwap: 100 * MiB })[1], ['memory', 'memory.memsw.limit_in_bytes', String(100 * MiB), true]);
    // absent, 0 and -1 all mean unlimited: the fresh cgroup's default, so nothing is written.
    assert.deepEqual(v1LimitFiles({ pids: 0, memorySwap: -1 }), []);
    assert.deepEqual(v1LimitFiles({ pids: -1 }), []);
  });

  test('v2: swap alone, cpu.max pairs, shares mapped to weight', () => {
    assert.deepEqual(v2LimitFiles({ memory: 64 * MiB, cpuQuota: 50000, cpuShares: 1024, pids: 50 }), [
      ['memory.max', String(64 * MiB), false],
      ['memory.swap.max', String(64 * MiB), true],
      ['cpu.max', '50000 100000', false],
      ['cpu.weight', '39', false],
      ['pids.max', '50', false],
    ]);
    assert.deepEqual(v2LimitFiles({ memory: 64 * MiB, memorySwap: 100 * MiB })[1], ['memory.swap.max', String(36 * MiB), true]);
    assert.deepEqual(v2LimitFiles({ memory: 64 * MiB, memorySwap: 64 * MiB })[1], ['memory.swap.max', '0', true]);
    assert.deepEqual(v2LimitFiles({ memory: 64 * MiB, memorySwap: -1 })[1], ['memory.swap.max', 'max', true]);
    assert.deepEqual(v2LimitFiles({ cpuPeriod: 50000 }), [['cpu.max', 'max 50000', false]]);
    assert.deepEqual(v2LimitFiles({ cpuQuota: 25000, cpuPeriod: 50000 }), [['cpu.max', '25000 50000', false]]);
    assert.equal(sharesToWeight(2), 1);
    assert.equal(sharesToWeight(1024), 39);
    assert.equal(sharesToWeight(262144), 10000);
    assert.equal(sharesToWeight(1), 1);
    assert.equal(sharesToWeight(10_000_000), 10000);
  });
});

describe('v1 driver on a fake tree', () => {
  let t: string;
  let info: string;
  const hier = ['cpu,cpuacct', 'memory', 'freezer', 'pids'];
  before(() => {
    t = tmpTree();
    for (const h of hier) fs.mkdirSync(path.join(t, h));
    info = hier.map((h, i) => mount(32 + i, `${t}/${h}`, 'cgroup', `rw,${h}`)).join('\n') + '\n' + mount(40, `${t}/systemd`, 'cgroup', 'rw,name=systemd');
  });
  after(() => fs.rmSync(t, { recursive: true, force: true }));

  test('create makes the scope and one leaf per hierarchy, with the limits written', () => {
    const cg = detectCgroups(SCOPE, { mountinfo: info });
    const p = cg.create('c1', { memory: 64 * MiB, cpuQuota: 50000, cpuShares: 512, pids: 50 });
    assert.deepEqual(p, cg.paths('c1'));
    assert.deepEqual(p.dirs, hier.map((h) => `${t}/${h}/${SCOPE}/c1`));
    const [cpu, mem, freezer, pids] = p.dirs;
    assert.equal(read(`${mem}/memory.limit_in_bytes`), String(64 * MiB));
    assert.equal(fs.existsSync(`${mem}/memory.memsw.limit_in_bytes`), false, 'memsw is only written where the kernel has it');
    assert.equal(read(`${cpu}/cpu.cfs_quota_us`), '50000');
    assert.equal(fs.existsSync(`${cpu}/cpu.cfs_period_us`), false, 'the default period is the kernel\'s');
    assert.equal(read(`${cpu}/cpu.shares`), '512');
    assert.equal(read(`${pids}/pids.max`), '50');
    assert.deepEqual(fs.readdirSync(freezer), []);
    // Intermediates carry no limits.
    for (const h of hier) {
      assert.deepEqual(fs.readdirSync(`${t}/${h}/berth`), ['0123abcd']);
      assert.deepEqual(fs.readdirSync(`${t}/${h}/${SCOPE}`), ['c1']);
    }
    assert.deepEqual(cg.list(), ['c1']);
    assert.throws(() => cg.create('c1', {}), { code: 'AlreadyExists' });
    assert.deepEqual(v1DeviceWrites('all'), []);
    const dw = v1DeviceWrites(undefined);
    assert.deepEqual(dw[0], ['devices.deny', 'a'], 'everything is denied before anything is allowed');
    assert.ok(dw.some(([f, v]) => f === 'devices.allow' && v === 'c 1:3 rwm'));
    assert.ok(!dw.some(([, v]) => v.startsWith('b ') && v.includes('r')), 'no block device is usable');
    assert.equal(read(`${mem}/memory.limit_in_bytes`), String(64 * MiB), 'a failed create leaves an existing cgroup alone');
    const p2 = cg.create('c2', {});
    assert.deepEqual(fs.readdirSync(p2.dirs[1]), []);
    assert.deepEqual(cg.list(), ['c1', 'c2']);
  });

  test('a scope only sees its own cgroups', () => {
    assert.deepEqual(detectCgroups('berth/other', { mountinfo: info }).list(), []);
    assert.equal(detectCgroups('berth/other', { mountinfo: info }).remove('c1'), false);
    assert.equal(fs.existsSync(`${t}/memory/${SCOPE}/c1`), true);
  });

  test('a requested limit without its controller fails before anything is made; an unrequested one is skipped', () => {
    const noPids = info.split('\n').filter((l) => !l.includes('rw,pids')).join('\n');
    const cg = detectCgroups(SCOPE, { mountinfo: noPids });
    assert.throws(() => cg.create('c3', { pids: 10 }), { code: 'FailedPrecondition', message: /pids/ });
    assert.equal(fs.existsSync(`${t}/memory/${SCOPE}/c3`), false);
    assert.equal(cg.create('c3', { pids: -1, memory: 8 * MiB }).dirs.length, 3);
  });

  test('bad limit combinations are InvalidArgument', () => {
    const cg = detectCgroups(SCOPE, { mountinfo: info });
    assert.throws(() => cg.create('c4', { memorySwap: 100 * MiB }), { code: 'InvalidArgument', message: /Memory limit/ });
    assert.throws(() => cg.create('c4', { memory: 100 * MiB, memorySwap: 50 * MiB }), { code: 'InvalidArgument', message: /memoryswap/ });
    assert.equal(fs.existsSync(`${t}/memory/${SCOPE}/c4`), false);
  });

  test('a failure part-way removes the leaves made so far', () => {
    // The last hierarchy's mount point is gone: the first three leaves were already made.
    const withGone = info.split('\n').filter((l) => !l.includes(`${t}/pids `)).join('\n') + '\n' + mount(50, `${t}/missing`, 'cgroup', 'rw,pids');
    const cg = detectCgroups(SCOPE, { mountinfo: withGone });
    assert.equal(cg.paths('c5').dirs.at(-1), `${t}/missing/${SCOPE}/c5`);
    assert.throws(() => cg.create('c5', {}), { code: 'FailedPrecondition', message: /missing/ });
    for (const h of hier) assert.equal(fs.existsSync(`${t}/${h}/${SCOPE}/c5`), false, h);
  });

  test('oomKilled reads the oom_kill line; absent is 0', () => {
    const cg = detectCgroups(SCOPE, { mountinfo: info });
    const p = cg.paths('c1');
    assert.equal(cg.oomKilled(p), 0);
    fs.writeFileSync(p.oom, 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n');
    assert.equal(cg.oomKilled(p), 3);
    assert.equal(cg.oomKilled(cg.paths('nope')), 0);
  });

  test('remove of a missing cgroup is fine', () => {
    const cg = detectCgroups(SCOPE, { mountinfo: info });
    assert.equal(cg.remove('nope'), false);
  });
});

describe('block I/O, cpuset and memory reservation limits', () => {
  const loop = { major: 7, minor: 3 };
  const l = {
    blkioWeight: 300, blkioWeightDevice: [{ ...loop, rate: 200 }],
    writeBps: [{ ...loop, rate: 1 << 20 }], readIops: [{ ...loop, rate: 100 }], readBps: [{ major: 8, minor: 0, rate: 5000 }],
    cpusetCpus: '0', cpusetMems: '0', memoryReservation: 64 * MiB, swappiness: 0, oomKillDisable: true,
  };
  test('v1: weights (CFQ or BFQ file, whichever exists), one throttle line per device and kind', () => {
    assert.deepEqual(v1LimitFiles(l).filter(([c]) => c === 'blkio'), [
      ['blkio', 'blkio.weight', '300', true], ['blkio', 'blkio.bfq.weight', '300', true],
      ['blkio', 'blkio.weight_device', '7:3 200', true], ['blkio', 'blkio.bfq.weight_device', '7:3 200', true],
      ['blkio', 'blkio.throttle.read_bps_device', '8:0 5000', false],
      ['blkio', 'blkio.throttle.write_bps_device', `7:3 ${1 << 20}`, false],
      ['blkio', 'blkio.throttle.read_iops_device', '7:3 100', false],
    ]);
    assert.deepEqual(v1LimitFiles(l).filter(([c]) => c !== 'blkio'), [
      ['memory', 'memory.soft_limit_in_bytes', String(64 * MiB), false], ['memory', 'memory.swappiness', '0', false],
      ['memory', 'memory.oom_control', '1', false], ['cpuset', 'cpuset.cpus', '0', false], ['cpuset', 'cpuset.mems', '0', false],
    ]);
  });
  test('v2: io.weight on its own scale, io.bfq.weight on docker\'s, one io.max line per device', () => {
    assert.equal(blkioToIoWeight(10), 1);
    assert.equal(blkioToIoWeight(1000), 10000);
    assert.deepEqual(v2LimitFiles(l), [
      ['memory.low', String(64 * MiB), false], ['cpuset.cpus', '0', false], ['cpuset.mems', '0', false],
      ['io.weight', `default ${blkioToIoWeight(300)}`, true], ['io.bfq.weight', '300', true],
      ['io.weight', `7:3 ${blkioToIoWeight(200)}`, true], ['io.bfq.weight', '7:3 200', true],
      ['io.max', '8:0 rbps=5000', false], ['io.max', `7:3 wbps=${1 << 20} riops=100`, false],
    ]);
  });
  test('the controllers they need', () => {
    assert.deepEqual(neededControllers({ writeBps: l.writeBps }), ['blkio']);
    assert.deepEqual(neededControllers({ cpusetCpus: '0' }), ['cpuset']);
  });
});

describe('v2 driver on a fake tree', () => {
  let t: string;
  let info: string;
  before(() => {
    t = tmpTree();
    fs.writeFileSync(`${t}/cgroup.controllers`, 'cpuset cpu io memory hugetlb pids rdma misc\n');
    fs.writeFileSync(`${t}/cgroup.subtree_control`, 'cpu memory\n');
    fs.writeFileSync(`${t}/cgroup.procs`, '1\n');
    info = mount(30, t, 'cgroup2', 'rw,nsdelegate') + '\n';
  });
  after(() => fs.rmSync(t, { recursive: true, force: true }));

  test('create enables memory, pids, cpu, io and cpuset down to the scope, then writes the leaf', () => {
    const cg = detectCgroups(SCOPE, { mountinfo: info, root: t });
    assert.equal(cg.version, 2);
    const p = cg.create('c1', { memory: 64 * MiB, cpuQuota: 50000, cpuShares: 512, pids: 50 });
    const leaf = `${t}/${SCOPE}/c1`;
    assert.deepEqual(p, { procs: [`${leaf}/cgroup.procs`], dirs: [leaf], oom: `${leaf}/memory.events` });
    assert.equal(read(`${t}/cgroup.subtree_control`), '+pids +io +cpuset', 'only what the root lacked');
    assert.equal(read(`${t}/berth/cgroup.subtree_control`), '+memory +pids +cpu +io +cpuset');
    assert.equal(read(`${t}/${SCOPE}/cgroup.subtree_control`), '+memory +pids +cpu +io +cpuset');
    assert.equal(read(`${leaf}/memory.max`), String(64 * MiB));
    assert.equal(fs.existsSync(`${leaf}/memory.swap.max`), false);
    assert.equal(read(`${leaf}/cpu.max`), '50000 100000');
    assert.equal(read(`${leaf}/cpu.weight`), String(sharesToWeight(512)));
    assert.equal(read(`${leaf}/pids.max`), '50');
    assert.equal(fs.existsSync(`${leaf}/cgroup.subtree_control`), false, 'the leaf delegates nothing');
    // Once the scope delegates everything, later creates do not walk up (nor rewrite) the tree.
    fs.writeFileSync(`${t}/berth/cgroup.subtree_control`, 'memory pids cpu');
    cg.create('c2', {});
    assert.equal(read(`${t}/berth/cgroup.subtree_control`), 'memory pids cpu');
    assert.deepEqual(cg.list(), ['c1', 'c2']);
    assert.throws(() => cg.create('c1', {}), { code: 'AlreadyExists' });
  });

  test('a controller the root lacks fails only the limits that need it', () => {
    const t2 = tmpTree();
    try {
      fs.writeFileSync(`${t2}/cgroup.controllers`, 'cpu memory\n');
      fs.writeFileSync(`${t2}/cgroup.subtree_control`, '');
      const cg = detectCgroups(SCOPE, { mountinfo: mount(30, t2, 'cgroup2', 'rw') + '\n', root: t2 });
      assert.throws(() => cg.create('c1', { pids: 5 }), { code: 'FailedPrecondition', message: /pids/ });
      assert.equal(fs.existsSync(`${t2}/${SCOPE}/c1`), false);
      cg.create('c1', { memory: 8 * MiB, cpuShares: 100 });
      assert.equal(read(`${t2}/cgroup.subtree_control`), '+memory +cpu');
      assert.equal(read(`${t2}/${SCOPE}/c1/memory.max`), String(8 * MiB));
    } finally {
      fs.rmSync(t2, { recursive: true, force: true });
    }
  });

  test('oomKilled reads memory.events', () => {
    const cg = detectCgroups(SCOPE, { mountinfo: info, root: t });
    const p = cg.paths('c1');
    fs.writeFileSync(p.oom, 'low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\noom_group_kill 0\n');
    assert.equal(cg.oomKilled(p), 1);
    assert.equal(cg.oomKilled(cg.paths('nope')), 0);
    assert.equal(cg.remove('nope'), false);
  });
});

describe('v1 cpuset on a fake tree', () => {
  let t: string;
  before(() => {
    t = tmpTree();
    fs.mkdirSync(`${t}/cpuset`);
    fs.writeFileSync(`${t}/cpuset/cpuset.cpus`, '0-1\n');
    fs.writeFileSync(`${t}/cpuset/cpuset.mems`, '0\n');
  });
  after(() => fs.rmSync(t, { recursive: true, force: true }));

  test('a scope another process has just made, its cpus not yet copied, still gives the leaf cpus and mems', () => {
    // The other process's mkdir of the scope, before its copy of cpus and mems (a new cpuset
    // cgroup's files are empty): a leaf copied from that would be empty and refuse tasks (ENOSPC).
    fs.mkdirSync(`${t}/cpuset/${SCOPE}`, { recursive: true });
    for (const d of ['berth', SCOPE]) for (const f of ['cpuset.cpus', 'cpuset.mems']) fs.writeFileSync(`${t}/cpuset/${d}/${f}`, '\n');
    const cg = detectCgroups(SCOPE, { mountinfo: mount(34, `${t}/cpuset`, 'cgroup', 'rw,cpuset') + '\n' });
    const [leaf] = cg.create('c1', {}).dirs;
    assert.equal(leaf, `${t}/cpuset/${SCOPE}/c1`);
    for (const d of [`${t}/cpuset/berth`, `${t}/cpuset/${SCOPE}`, leaf]) {
      assert.equal(read(`${d}/cpuset.cpus`).trim(), '0-1', d);
      assert.equal(read(`${d}/cpuset.mems`).trim(), '0', d);
    }
  });
});

// ---- the real kernel (root only) ----

const mountinfo = fs.existsSync('/proc/self/mountinfo') ? read('/proc/self/mountinfo') : '';
const isRoot = process.getuid?.() === 0;
const hasV1Memory = mountinfo.split('\n').some((l) => / - cgroup \S+ .*\bmemory\b/.test(l));
const unified = mountinfo.split('\n').find((l) => / - cgroup2 /.test(l) && l.split(' ')[4] !== '/sys/fs/cgroup')?.split(' ')[4];

function sleeper(): { child: ChildProcess; exited: Promise<NodeJS.Signals | null> } {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  return { child, exited: new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal))) };
}

/** Removes the scope dirs this test made (and `berth` where it made that too). */
function scopeCleanup(cg: CgroupDriver, bases: string[], scope: string, hadBerth: Set<string>): void {
  for (const id of cg.list()) cg.remove(id);
  for (const b of bases) {
    try {
      fs.rmdirSync(`${b}/${scope}`);
    } catch {}
    if (!hadBerth.has(b))
      try {
        fs.rmdirSync(`${b}/berth`);
      } catch {}
  }
}

describe('cgroup v1 on this kernel', { skip: !(isRoot && hasV1Memory) && 'needs root and a cgroup v1 memory hierarchy' }, () => {
  const scope = `berth/test-${randomBytes(4).toString('hex')}`;
  let cg: CgroupDriver;
  let bases: string[] = [];
  const hadBerth = new Set<string>();
  let child: ChildProcess | undefined;
  before(() => {
    cg = detectCgroups(scope);
    bases = cg.paths('x').dirs.map((d) => d.slice(0, -`/${scope}/x`.length));
    for (const b of bases) if (fs.existsSync(`${b}/berth`)) hadBerth.add(b);
  });
  after(() => {
    child?.kill('SIGKILL');
    scopeCleanup(cg, bases, scope, hadBerth);
  });

  test('limits land in the kernel; remove kills what runs there and removes every dir', async () => {
    assert.equal(cg.version, 1);
    const p = cg.create('c1', { memory: 64 * MiB, pids: 50, cpuQuota: 50000 });
    const file = (name: string) => {
      const d = p.dirs.find((x) => fs.existsSync(`${x}/${name}`));
      assert.ok(d, name);
      return read(`${d}/${name}`).trim();
    };
    assert.equal(file('memory.limit_in_bytes'), String(64 * MiB));
    if (p.dirs.some((d) => fs.existsSync(`${d}/memory.memsw.limit_in_bytes`))) assert.equal(file('memory.memsw.limit_in_bytes'), String(128 * MiB));
    assert.equal(file('pids.max'), '50');
    assert.equal(file('cpu.cfs_quota_us'), '50000');
    assert.equal(file('cpu.cfs_period_us'), '100000');
    assert.equal(cg.oomKilled(p), 0);
    assert.deepEqual(cg.list(), ['c1']);

    const s = sleeper();
    child = s.child;
    for (const f of p.procs) fs.writeFileSync(f, String(child.pid));
    for (const f of p.procs) assert.deepEqual(read(f).trim().split('\n'), [String(child.pid)], f);
    assert.equal(cg.remove('c1'), true);
    for (const d of p.dirs) assert.equal(fs.existsSync(d), false, d);
    assert.equal(await s.exited, 'SIGKILL');
    assert.deepEqual(cg.list(), []);
    assert.equal(cg.remove('c1'), false);
  });

  test('a value the kernel rejects is InvalidArgument naming file and value, and nothing is left', () => {
    assert.throws(() => cg.create('bad', { cpuQuota: 500 }), { code: 'InvalidArgument', message: /cpu\.cfs_quota_us.*500|500.*cpu\.cfs_quota_us/ });
    for (const d of cg.paths('bad').dirs) assert.equal(fs.existsSync(d), false, d);
  });
});

describe('cgroup v2 on this kernel (the hybrid "unified" mount)', { skip: !(isRoot && unified) && 'needs root and a cgroup2 mount besides /sys/fs/cgroup' }, () => {
  const scope = `berth/test-${randomBytes(4).toString('hex')}`;
  let cg: CgroupDriver;
  let hadBerth = new Set<string>();
  let child: ChildProcess | undefined;
  before(() => {
    cg = detectCgroups(scope, { root: unified });
    if (fs.existsSync(`${unified}/berth`)) hadBerth = new Set([unified!]);
  });
  after(() => {
    child?.kill('SIGKILL');
    scopeCleanup(cg, [unified!], scope, hadBerth);
  });

  test('create, join, remove (cgroup.kill) on a real cgroup2 tree', async () => {
    assert.equal(cg.version, 2);
    const available = read(`${unified}/cgroup.controllers`).trim();
    if (!available.includes('pids')) assert.throws(() => cg.create('c1', { pids: 5 }), { code: 'FailedPrecondition' });
    const p = cg.create('c1', {});
    const s = sleeper();
    child = s.child;
    fs.writeFileSync(p.procs[0], String(child.pid));
    assert.equal(read(p.procs[0]).trim(), String(child.pid));
    assert.equal(cg.remove('c1'), true);
    assert.equal(fs.existsSync(p.dirs[0]), false);
    assert.equal(await s.exited, 'SIGKILL');
  });
});
