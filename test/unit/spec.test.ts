// The OCI runtime spec: reading config.json, mount options, and the plan a bundle turns into.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DEVICE_RULES } from '../../src/kernel/devices.ts';
import { ociLimits, ociProcess } from '../../src/runtime/oci.ts';
import { CLONE, MS, specPlan, type SpecHost, type Step } from '../../src/runtime/plan.ts';
import { defaultSpec, mountOptions, parseSpec, type OciSpec } from '../../src/runtime/spec.ts';

const host: SpecHost = { rootfs: { type: 'bind', source: '/b/rootfs', target: '/b/rootfs', options: [] }, cgroupJoin: ['/cg/cgroup.procs'] };
const names = (steps: Step[]): string[] => steps.map((s) => s[0]);

function spec(edit: (s: OciSpec) => void = () => {}): OciSpec {
  const s = defaultSpec();
  s.process!.terminal = false;
  edit(s);
  return parseSpec(JSON.stringify(s));
}

test('mount options: flags, propagation and filesystem data apart', () => {
  assert.deepEqual(mountOptions(['nosuid', 'noexec', 'mode=755', 'size=65536k']), { flags: MS.NOSUID | MS.NOEXEC, propagation: 0, data: 'mode=755,size=65536k', bind: false });
  assert.deepEqual(mountOptions(['rbind', 'ro', 'rprivate'], 'none'), { flags: MS.BIND | MS.REC | MS.RDONLY, propagation: MS.PRIVATE | MS.REC, data: '', bind: true });
  // Later options win, as with mount(8).
  assert.equal(mountOptions(['ro', 'rw']).flags & MS.RDONLY, 0);
  assert.equal(mountOptions([], 'bind').bind, true);
});

test('config.json is checked before anything is made', () => {
  const bad: Array<[(s: any) => void, RegExp]> = [
    [(s) => (s.ociVersion = '2.0.0'), /unsupported ociVersion/],
    [(s) => delete s.root, /root.path/],
    [(s) => (s.process.args = []), /process.args/],
    [(s) => (s.process.cwd = 'relative'), /process.cwd/],
    [(s) => (s.mounts[0].destination = 'proc'), /absolute/],
    [(s) => s.linux.namespaces.push({ type: 'pid' }), /listed twice/],
    [(s) => (s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'uts')), /uts namespace/],
    [(s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]), /user namespace/],
  ];
  for (const [edit, want] of bad) {
    const s: any = defaultSpec();
    edit(s);
    assert.throws(() => parseSpec(JSON.stringify(s)), want);
  }
  assert.throws(() => parseSpec('{'), /not valid JSON/);
});

test('a bundle\'s plan: mounts in the config\'s order, standard nodes right after /dev, masks, then the fifo and pivot_root', () => {
  const steps = specPlan(spec(), ociProcess(spec().process!), { ...host, execFifo: '/run/x/exec.fifo' });
  const n = names(steps);
  const at = (s: string) => n.indexOf(s);
  const flags = Number(steps[0][1]);
  for (const f of [CLONE.NEWNS, CLONE.NEWPID, CLONE.NEWUTS, CLONE.NEWIPC, CLONE.NEWNET]) assert.ok(flags & f);
  assert.deepEqual(steps.filter((s) => s[0] === 'mountin').map((s) => s[2]),
    ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
  assert.ok(at('join') < at('cgroupns') && at('cgroupns') < at('propagation') && at('propagation') < at('mount'));
  const dev = steps.findIndex((s) => s[0] === 'mountin' && s[2] === '/dev');
  assert.equal(at('mknodin'), dev + 1, 'the standard nodes come with /dev, before anything is mounted in it');
  assert.ok(n.lastIndexOf('mountin') < at('maskin') && at('roin') < at('fifo'));
  assert.ok(at('fifo') < at('pivot') && at('pivot') < at('fifowait') && at('fifowait') < at('capbset') && at('capbset') < at('exec'));
  // root.readonly: the root is remounted read-only, after everything is mounted on it.
  const ro = steps.findIndex((s) => s[0] === 'mount' && Number(s[4]) & MS.REMOUNT);
  assert.ok(ro > n.lastIndexOf('mountin') && ro < at('pivot'));
});

test('namespaces by path are joined with their type checked; no mount namespace means chroot and a detach at the end', () => {
  const s = spec((x) => {
    x.linux!.namespaces = [{ type: 'network', path: '/proc/1/ns/net' }, { type: 'pid', path: '/proc/1/ns/pid' }, { type: 'uts' }];
  });
  const steps = specPlan(s, ociProcess(s.process!), host);
  assert.equal(Number(steps[0][1]), CLONE.NEWUTS);
  assert.deepEqual(steps.find((x) => x[0] === 'setns'), ['setns', '/proc/1/ns/net', String(CLONE.NEWNET)]);
  assert.deepEqual(steps.find((x) => x[0] === 'pidns'), ['pidns', '/proc/1/ns/pid']);
  assert.ok(!names(steps).includes('pivot') && names(steps).includes('chroot'));
  assert.ok(!names(steps).includes('propagation'), 'the host\'s mounts keep their propagation');
  assert.deepEqual(steps.find((x) => x[0] === 'umount'), ['umount', '/b/rootfs']);
  assert.ok(!names(steps).includes('loopback'), 'a joined network namespace is left as it is');
});

test('hooks: prestart and createRuntime in the monitor, createContainer before pivot_root, startContainer after the fifo', () => {
  const h = (p: string) => [{ path: p, args: [p, 'a'], env: ['K=V'], timeout: 5 }];
  const s = spec((x) => {
    x.hooks = { prestart: h('/pre'), createRuntime: h('/cr'), createContainer: h('/cc'), startContainer: h('/sc') };
  });
  const steps = specPlan(s, ociProcess(s.process!), { ...host, execFifo: '/f', hookState: (st) => `{"status":"${st}","pid":%PID%}` });
  const hooks = steps.filter((x) => x[0] === 'hook');
  assert.deepEqual(hooks.map((x) => [x[1], x[4]]), [['monitor', '/pre'], ['monitor', '/cr'], ['container', '/cc'], ['container', '/sc']]);
  assert.deepEqual(hooks[0], ['hook', 'monitor', '{"status":"created","pid":%PID%}', '5', '/pre', '2', '/pre', 'a', 'K=V']);
  const n = names(steps);
  // The monitor's hooks run at hooksync: every mount made, before pivot_root.
  assert.ok(n.lastIndexOf('mountin') < n.indexOf('hooksync') && n.indexOf('hooksync') < n.indexOf('pivot'));
  assert.ok(steps.indexOf(hooks[2]) < n.indexOf('pivot'));
  // startContainer: from the container's root, so with the process's identity and filter only.
  assert.ok(steps.indexOf(hooks[3]) > n.indexOf('fifowait') && steps.indexOf(hooks[3]) > n.indexOf('capset') && steps.indexOf(hooks[3]) < n.indexOf('exec'));
});

test('process: capability sets as given, rlimits by name, resources as limits', () => {
  const p = ociProcess({ user: { uid: 0, gid: 0, additionalGids: [5] }, cwd: '/', args: ['x'], capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], ambient: [] },
    rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }] });
  assert.equal(p.caps, (1n << 5n) | 1n);
  assert.equal(p.capSets!.effective, 1n << 5n);
  assert.deepEqual(p.rlimits, [[7, 10, 20]]);
  assert.deepEqual(p.groups, [5]);
  assert.throws(() => ociProcess({ user: { uid: 0, gid: 0 }, cwd: '/', rlimits: [{ type: 'RLIMIT_NOFILE', soft: 30, hard: 20 }] }), /above the hard limit/);
  const limits = ociLimits(spec((x) => {
    x.linux!.resources = { memory: { limit: 1 << 26 }, pids: { limit: 20 }, devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 200, access: 'rw' }] };
  }));
  assert.equal(limits.memory, 1 << 26);
  assert.equal(limits.pids, 20);
  assert.ok(Array.isArray(limits.devices) && limits.devices.includes('c 10:200 rw') && limits.devices.includes('c 1:3 rwm'));
  // No device rules at all: the standard nodes only; everything only when the config allows it.
  assert.deepEqual(ociLimits(spec((x) => delete x.linux!.resources)).devices, DEFAULT_DEVICE_RULES);
  assert.equal(ociLimits(spec((x) => (x.linux!.resources = { devices: [{ allow: true, access: 'rwm' }] }))).devices, 'all');
});
