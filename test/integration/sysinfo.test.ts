// sysinfo(2) seen from inside (busybox `free` and `uptime` read it): with the resource views on,
// the container's monitor answers it from the container's cgroup (seccomp user notification), in
// agreement with the lxcfs files; with them off, or without a seccomp filter, the host's.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';
import { daemonWithBusybox, skip as daemonSkip, type TestDaemon } from '../helpers/daemon.ts';

const hasLxcfs = fs.existsSync('/usr/bin/lxcfs');
const hostMemKb = Math.floor(Number(/MemTotal:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]));
const hostUptime = () => Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

/** busybox free (in KiB): { total, used, free, shared, cache, available } of its Mem line, and the Swap line's total/free. */
function parseFree(out: string): { mem: number[]; swap: number[] } {
  const line = (name: string) => (new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(out)?.[1] ?? '').trim().split(/\s+/).map(Number);
  return { mem: line('Mem'), swap: line('Swap') };
}
const meminfo = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);

describe('sysinfo(2) in a container', { skip: (!isRoot && 'needs root') || (!hasLxcfs && 'needs lxcfs') }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  test('free shows the memory limit and agrees with the lxcfs /proc/meminfo; uptime is the container\'s', async () => {
    const r = await root.run(['run', '--rm', '-m', '256m', 'busybox', 'sh', '-c', 'free; echo ---; cat /proc/meminfo; echo ---; uptime; cat /proc/uptime']);
    assert.equal(r.code, 0, r.stderr);
    const [free, info, up] = r.stdout.split('---\n');
    const { mem, swap } = parseFree(free);
    assert.equal(mem[0], 262144, free);
    assert.equal(meminfo(info, 'MemTotal'), 262144);
    // Read a moment apart: the free memory moves a little between the two.
    assert.ok(Math.abs(mem[2] - meminfo(info, 'MemFree')) < 2048, `free ${mem[2]}, MemFree ${meminfo(info, 'MemFree')}`);
    assert.equal(mem[3], meminfo(info, 'Shmem'));
    assert.equal(swap[0], meminfo(info, 'SwapTotal'));
    assert.equal(swap[2], meminfo(info, 'SwapFree'));
    // busybox uptime: "HH:MM:SS up 0 min, ..." for a container seconds old on a host up for longer.
    if (hostUptime() > 120) assert.match(up, / up 0 min,/);
    assert.ok(Number(up.split('\n')[1].split(' ')[0]) < 10, up);
    assert.deepEqual(root.leftovers(), []);
  });

  test('uptime\'s load averages are the container\'s /proc/loadavg (lxcfs -l), not the host\'s; an exec\'s too', async () => {
    // uptime between two reads of /proc/loadavg (lxcfs samples every 5 s: one sample may fall
    // between them, then the later read decides). A new container's cgroup starts at 0.00,
    // where the host, running this suite, is rarely idle; then 6 s of a busy loop move it.
    // (lxcfs 5's /proc/loadavg ends without a newline: each read gets one of its own.)
    const l = 'cat /proc/loadavg; echo';
    const script = `${l}; uptime; ${l}; (while :; do :; done) & sleep 6; ${l}; uptime; ${l}; kill %1`;
    const loads = (line: string) => line.split(/\s+/).slice(0, 3).join(' ');
    const uptimeLoads = (line = '') => /load average: (\S+), (\S+), (\S+)/.exec(line)?.slice(1).join(' ') ?? '';
    const host = loads(fs.readFileSync('/proc/loadavg', 'utf8'));
    const r = await root.run(['run', '--rm', 'busybox', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter(Boolean);
    for (const at of [0, 3]) {
      const said = uptimeLoads(lines[at + 1]);
      assert.ok(said === loads(lines[at]) || said === loads(lines[at + 2]), `uptime "${said}", /proc/loadavg "${loads(lines[at])}" then "${loads(lines[at + 2])}" (host ${host})`);
    }
    assert.equal(loads(lines[0]), '0.00 0.00 0.00');
    assert.notEqual(loads(lines[5]), '0.00 0.00 0.00', r.stdout);
    // An exec's answer comes from its own monitor: the same loads.
    // (lxcfs tracks a cgroup from its first read on.)
    const id = (await root.run(['run', '-d', 'busybox', 'sh', '-c', 'cat /proc/loadavg; (while :; do :; done) & sleep 300'])).stdout.trim();
    try {
      await new Promise((r) => setTimeout(r, 6500));
      const e = await root.run(['exec', id, 'sh', '-c', `${l}; uptime; ${l}`]);
      const [before, up, after] = e.stdout.split('\n').filter(Boolean);
      assert.ok([loads(before), loads(after)].includes(uptimeLoads(up)), e.stdout);
      assert.notEqual(uptimeLoads(up), '0.00 0.00 0.00', e.stdout);
    } finally {
      assert.equal((await root.run(['rm', '-f', id])).code, 0);
    }
    // Without the views: the host's, as the kernel's /proc/loadavg shows them (rounded there,
    // truncated by busybox from sysinfo's: 0.01 apart at most).
    const off = await root.run(['run', '--rm', '--proc-views=false', 'busybox', 'sh', '-c', `${l}; uptime; ${l}`]);
    const [b, up, a] = off.stdout.split('\n').filter(Boolean);
    const near = (x: string, y: string) => x.split(' ').every((v, i) => Math.abs(Number(v) - Number(y.split(' ')[i])) <= 0.0101);
    assert.ok(near(loads(b), uptimeLoads(up)) || near(loads(a), uptimeLoads(up)), off.stdout);
    assert.deepEqual(root.leftovers(), []);
  });

  test('nproc follows the cpuset (the kernel\'s own affinity), cpuinfo the --cpus limit (lxcfs)', async () => {
    const r = await root.run(['run', '--rm', '--cpuset-cpus', '0', 'busybox', 'nproc']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1');
    const cpus = await root.run(['run', '--rm', '--cpus', '1', 'busybox', 'grep', '-c', '^processor', '/proc/cpuinfo']);
    assert.equal(cpus.stdout.trim(), '1', cpus.stderr);
  });

  test('--proc-views=false and --privileged: the host\'s numbers (no filter, and sysinfo still works)', async () => {
    for (const flags of [['--proc-views=false'], ['--privileged'], ['--security-opt', 'seccomp=unconfined']]) {
      const r = await root.run(['run', '--rm', '-m', '64m', ...flags, 'busybox', 'sh', '-c', 'free; uptime']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(parseFree(r.stdout).mem[0], hostMemKb, `${flags}: ${r.stdout}`);
      if (hostUptime() > 120) assert.doesNotMatch(r.stdout, / up 0 min,/);
    }
  });

  test('exec\'d processes see it too, also a child that outlives its exec, and an update at once; a restarted init too', async () => {
    const id = (await root.run(['run', '-d', '-m', '128m', 'busybox', 'sleep', '300'])).stdout.trim();
    try {
      const r = await root.run(['exec', id, 'free']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(parseFree(r.stdout).mem[0], 131072, r.stdout);
      // The exec's monitor ends with its command: the child it left behind is answered all the same.
      assert.equal((await root.run(['exec', id, 'sh', '-c', '(sleep 1; free > /tmp/late 2>&1) & exit 0'])).code, 0);
      await new Promise((r) => setTimeout(r, 1800));
      const out = (await root.run(['exec', id, 'cat', '/tmp/late'])).stdout;
      assert.equal(parseFree(out).mem[0], 131072, out);
      // update: the next answer follows the new limit (it is read from the cgroup each time).
      assert.equal((await root.run(['update', '-m', '256m', '--memory-swap', '512m', id])).code, 0);
      assert.equal(parseFree((await root.run(['exec', id, 'free'])).stdout).mem[0], 262144);
    } finally {
      assert.equal((await root.run(['rm', '-f', id])).code, 0);
    }
    // A restart policy: each life of the init gets its own filter and is answered.
    const c = (await root.run(['run', '-d', '-m', '96m', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'free | grep Mem; exit 1'])).stdout.trim();
    try {
      for (let i = 0; i < 150 && JSON.parse((await root.run(['inspect', c])).stdout)[0].State.Status !== 'exited'; i++) await new Promise((r) => setTimeout(r, 100));
      const logs = (await root.run(['logs', c])).stdout.trim().split('\n');
      assert.equal(logs.length, 3, logs.join('\n'));
      for (const l of logs) assert.equal(Number(l.trim().split(/\s+/)[1]), 98304, l);
    } finally {
      await root.run(['rm', '-f', c]);
    }
    assert.deepEqual(root.leftovers(), []);
  });
});

describe('sysinfo(2) across a daemon restart', { skip: daemonSkip || (!hasLxcfs && 'needs lxcfs') }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  daemonWithBusybox((r, daemon) => ((root = r), (d = daemon)));

  test('the monitor answers while the daemon is down and after it is back', async () => {
    const run = await d.docker(['run', '-d', '--name', 'si', '-m', '128m', 'busybox', 'sh', '-c', 'while true; do free | grep Mem > /tmp/m.new && mv /tmp/m.new /tmp/m; sleep 0.2; done']);
    assert.equal(run.code, 0, run.stderr);
    await d.stop('SIGKILL');
    // No daemon: the init's loop is answered by its monitor alone (the CLI reaches the root directly).
    // (Each line is renamed into place: a read never meets the file emptied by the redirection.)
    assert.equal((await root.run(['exec', 'si', 'rm', '-f', '/tmp/m'])).code, 0);
    await new Promise((r) => setTimeout(r, 800));
    const seen = await root.run(['exec', 'si', 'cat', '/tmp/m']);
    assert.equal(Number(seen.stdout.trim().split(/\s+/)[1]), 131072, seen.stdout + seen.stderr);
    await d.start();
    const again = await d.docker(['exec', 'si', 'free']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(parseFree(again.stdout).mem[0], 131072, again.stdout);
    assert.equal((await d.docker(['rm', '-f', 'si'])).code, 0);
  });
});
