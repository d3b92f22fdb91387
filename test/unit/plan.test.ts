import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capMask, DEFAULT_CAPS } from '../../src/kernel/capabilities.ts';
import { mountTable, propagationProblem } from '../../src/kernel/mounts.ts';
import { buildPlan, CLONE, encodePlan, type PlanInput } from '../../src/runtime/plan.ts';
import { MS } from '../../src/runtime/spec.ts';

function input(over: Partial<PlanInput['process']> = {}): PlanInput {
  return {
    rootfs: { type: 'overlay', source: 'overlay', target: '/c/rootfs', options: ['lowerdir=/l2:/l1', 'upperdir=/c/upper', 'workdir=/c/work'] },
    cgroupNamespace: true,
    cgroupJoin: ['/sys/fs/cgroup/memory/berth/k/id/tasks'],
    oomFile: '/sys/fs/cgroup/memory/berth/k/id/memory.oom_control',
    hostname: 'box',
    etcFiles: { hostname: '/c/hostname', hosts: '/c/hosts', resolv: '/c/resolv.conf' },
    process: { args: ['echo', 'hi'], env: ['PATH=/bin'], cwd: '/tmp', uid: 0, gid: 0, groups: [], caps: capMask(DEFAULT_CAPS), ...over },
    teardown: { rmdirs: ['/sys/fs/cgroup/memory/berth/k/id'], rmtree: ['/c'] },
  };
}

const names = (steps: string[][]) => steps.map((s) => s[0]);

test('the plan orders steps as the kernel needs them', () => {
  const steps = buildPlan(input());
  const n = names(steps);
  const at = (s: string) => n.indexOf(s);
  const ns = Number(steps[0][1]);
  for (const f of [CLONE.NEWNS, CLONE.NEWPID, CLONE.NEWUTS, CLONE.NEWIPC, CLONE.NEWNET, CLONE.NEWCGROUP]) assert.ok(ns & f);
  assert.ok(at('propagation') < at('mount') && at('mount') < at('root') && at('root') < at('mountin'));
  assert.ok(at('maskin') < at('pivot') && at('roin') < at('pivot'));
  // Limits and the cgroup namespace apply before any of the user's code runs.
  assert.ok(at('join') < at('propagation') && at('cgroupns') < at('user') && at('user') < at('exec'));
  // Bounding set dropped before the user switch (needs CAP_SETPCAP), capset after it.
  assert.ok(at('capbset') < at('user') && at('user') < at('capset'));
  assert.equal(n.at(-3), 'exec');
  assert.deepEqual(steps.at(-3), ['exec', 'echo', 'hi']);
  assert.deepEqual(steps.at(-1), ['rmtree', '/c']);
  const mounts = steps.filter((s) => s[0] === 'mountin').map((s) => s[2]);
  assert.deepEqual(mounts, ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys']);
  assert.ok(steps.some((s) => s[0] === 'maskin' && s[1] === '/proc/kcore'));
  assert.ok(steps.some((s) => s[0] === 'roin' && s[1] === '/proc/sys'));
});

test('a shareable /dev/shm: mounted on the host by the monitor, bound in, unmounted before the directory goes', () => {
  const steps = buildPlan({ ...input(), shareableShm: '/c/shm', shmSize: 8 << 20 });
  assert.deepEqual(steps.find((s) => s[0] === 'shm'), ['shm', '/c/shm', 'mode=1777,size=8192k']);
  assert.deepEqual(steps.find((s) => s[0] === 'bindin' && s[2] === '/dev/shm')?.[1], '/c/shm');
  assert.ok(!steps.some((s) => s[0] === 'mountin' && s[2] === '/dev/shm'));
  const n = names(steps);
  assert.ok(n.indexOf('umount') > n.indexOf('exec') && n.indexOf('umount') < n.indexOf('rmtree'));
  // One that joins another's IPC namespace binds that one's and mounts none of its own.
  const joined = buildPlan({ ...input(), shareableShm: '/c/shm', namespaces: { ipc: { path: '/proc/9/ns/ipc' }, shm: '/d/shm' } });
  assert.ok(!joined.some((s) => s[0] === 'shm' || s[0] === 'umount'));
  assert.deepEqual(joined.find((s) => s[0] === 'bindin' && s[2] === '/dev/shm')?.[1], '/d/shm');
});

test('capabilities: the 14 defaults for root, none effective for other users', () => {
  const root = buildPlan(input());
  const mask = capMask(DEFAULT_CAPS);
  assert.equal(DEFAULT_CAPS.length, 14);
  assert.deepEqual(root.find((s) => s[0] === 'capbset'), ['capbset', mask.toString(16)]);
  assert.deepEqual(root.find((s) => s[0] === 'capset'), ['capset', mask.toString(16), mask.toString(16), '0']);
  const user = buildPlan(input({ uid: 1000, gid: 1000, groups: [50] }));
  assert.deepEqual(user.find((s) => s[0] === 'capset'), ['capset', '0', '0', '0']);
  assert.deepEqual(user.find((s) => s[0] === 'user'), ['user', '1000', '1000', '50']);
  assert.throws(() => capMask(['CAP_NOPE']), /unknown capability/);
  assert.equal(capMask(['cap_chown', 'KILL']), (1n << 0n) | (1n << 5n));
});

test('wire encoding: length prefix, "=" + value + NUL per field, NUL per step; empty values survive', () => {
  const payload = '=a\0=b\0\0=mountin\0=\0\0';
  assert.equal(encodePlan([['a', 'b'], ['mountin', '']]).toString(), `${payload.length}\n${payload}`);
  assert.throws(() => encodePlan([['env', 'A=\0']]), /NUL/);
});

test('a shared bind is cloned before the namespace turns rslave and attached in the root; other binds are bound there', () => {
  const mounts: PlanInput['mounts'] = [
    { type: 'bind', source: '/h/shared', target: '/s', readonly: false, propagation: 'rshared' },
    { type: 'bind', source: '/h/slave', target: '/l', readonly: true, propagation: 'rslave' },
  ];
  const steps = buildPlan({ ...input(), mounts });
  const at = (name: string, arg?: string) => steps.findIndex((s) => s[0] === name && (arg === undefined || (s as readonly string[]).includes(arg)));
  assert.deepEqual(steps.filter((s) => s[0] === 'treeopen'), [['treeopen', '/h/shared', String(MS.REC)]]);
  assert.ok(at('treeopen') < at('propagation') && at('propagation') < at('mount'));
  assert.ok(at('root') < at('treein', '/s') && at('treein', '/s') < at('propin', '/s'));
  assert.equal(at('bindin', '/s'), -1);
  assert.ok(at('bindin', '/l') > at('root') && at('treein', '/l') === -1);
});

test('propagation needs a source mount that propagates: shared for shared, shared or slave for slave', () => {
  const line = (id: number, at: string, optional: string) => `${id} 1 8:1 / ${at} rw,relatime ${optional}- ext4 /dev/sda1 rw`;
  const table = mountTable([line(1, '/', ''), line(2, '/srv', 'shared:5 '), line(3, '/var/lib', 'master:7 '), line(4, '/srv/priv', '')].join('\n'));
  assert.equal(propagationProblem('/srv/a', 'rshared', table), undefined);
  assert.equal(propagationProblem('/srv/a', 'rslave', table), undefined);
  assert.equal(propagationProblem('/var/lib/x', 'rslave', table), undefined);
  assert.equal(propagationProblem('/var/lib/x', 'rshared', table), 'path /var/lib/x is mounted on /var/lib but it is not a shared mount');
  assert.equal(propagationProblem('/srv/priv/x', 'slave', table), 'path /srv/priv/x is mounted on /srv/priv but it is not a shared or slave mount');
  assert.equal(propagationProblem('/srvx', 'shared', table), 'path /srvx is mounted on / but it is not a shared mount');
  assert.equal(propagationProblem('/tmp', 'rprivate', table), undefined);
  assert.equal(propagationProblem('/tmp', undefined, table), undefined);
});
