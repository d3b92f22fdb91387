// sysinfo(2) as the container's: the filter that sends it to the monitor, the plan's records, where
// the drivers say the totals are, and the monitor's answer for cgroup trees of both versions
// (made in a temp directory, so v2 is tested on this hybrid host too).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { capMask, DEFAULT_CAPS } from '../../src/kernel/capabilities.ts';
import { CgroupV1 } from '../../src/kernel/cgroup-v1.ts';
import { CgroupV2 } from '../../src/kernel/cgroup-v2.ts';
import { notifyProgram, toHex } from '../../src/kernel/seccomp.ts';
import { SYSCALLS_X86_64 as NR } from '../../src/kernel/syscalls-x86_64.ts';
import { buildExecPlan, buildPlan, buildRuntimePlan, type PlanInput, type ProcessSpec } from '../../src/runtime/plan.ts';
import { planErrors } from '../../src/runtime/steps.ts';
import { check, run, RET } from '../helpers/bpf.ts';

const USER_NOTIF = 0x7fc00000;
const SHIM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../native/build/berth-shim');

test('the notify filter sends sysinfo to the listener and allows everything else, other ABIs included', () => {
  const prog = notifyProgram(['sysinfo']);
  check(prog);
  assert.equal(run(prog, { nr: NR.sysinfo }), USER_NOTIF);
  for (const name of ['read', 'uname', 'getrusage', 'times', 'clone3']) assert.equal(run(prog, { nr: NR[name] }), RET.ALLOW, name);
  // i386's sysinfo is another number under another arch: the profile's filter decides it.
  assert.equal(run(prog, { nr: 116, arch: 0x40000003 }), RET.ALLOW);
  const two = notifyProgram(['sysinfo', 'uname']);
  check(two);
  assert.equal(run(two, { nr: NR.uname }), USER_NOTIF);
  assert.equal(run(two, { nr: NR.sysinfo }), USER_NOTIF);
  assert.equal(run(two, { nr: NR.getpid }), RET.ALLOW);
  assert.throws(() => notifyProgram(['no_such_call']), { code: 'InvalidArgument' });
});

const source = { version: 1 as const, memory: '/cg/memory/berth/k/id', memoryRoot: '/cg/memory', pids: '/cg/pids/berth/k/id', cpu: '/cg/cpu/berth/k/id/tasks' };

function input(proc: Partial<ProcessSpec>, over: Partial<PlanInput> = {}): PlanInput {
  return {
    rootfs: { type: 'overlay', source: 'overlay', target: '/c/rootfs', options: ['lowerdir=/l1', 'upperdir=/c/upper', 'workdir=/c/work'] },
    cgroupNamespace: true,
    cgroupJoin: ['/cg/memory/berth/k/id/tasks'],
    hostname: 'box',
    etcFiles: { hostname: '/c/hostname', hosts: '/c/hosts', resolv: '/c/resolv.conf' },
    process: { args: ['free'], env: [], cwd: '/', uid: 0, gid: 0, groups: [], caps: capMask(DEFAULT_CAPS), ...proc },
    teardown: { rmdirs: [] },
    ...over,
  };
}

describe('plans', () => {
  const notify = { program: toHex(notifyProgram(['sysinfo'])), source };
  const seccomp = 'aa'.repeat(8);

  test('the filter right after the profile\'s, and the monitor\'s record; the uptime is the pid namespace\'s', () => {
    for (const noNewPrivileges of [false, true]) {
      const steps = buildPlan(input({ seccomp, notify, noNewPrivileges }));
      assert.deepEqual(planErrors(steps), []);
      const at = steps.findIndex((s) => s[0] === 'notify');
      assert.deepEqual(steps[at - 1], ['seccomp', seccomp]);
      assert.deepEqual(steps[at], ['notify', notify.program]);
      assert.deepEqual(steps.filter((s) => s[0] === 'sysinfo'), [['sysinfo', '1', source.memory, source.memoryRoot, source.pids]]);
      assert.deepEqual(steps.filter((s) => s[0] === 'sysloads'), [['sysloads', source.cpu]]);
      assert.ok(steps.findIndex((s) => s[0] === 'sysinfo') < steps.findIndex((s) => s[0] === 'join'));
    }
    const host = buildPlan(input({ seccomp, notify }, { namespaces: { pid: 'host' } }));
    assert.deepEqual(host.find((s) => s[0] === 'sysinfo')?.[5], '-1');
    const joined = buildPlan(input({ seccomp, notify }, { namespaces: { pid: { path: '/proc/4242/ns/pid' } } }));
    assert.deepEqual(joined.find((s) => s[0] === 'sysinfo')?.[5], '4242');
  });

  test('an exec (and a health probe) counts its uptime from the container\'s init', () => {
    const steps = buildExecPlan({ pid: 77, cgroupJoin: [], process: input({ seccomp, notify }).process });
    assert.deepEqual(planErrors(steps), []);
    assert.deepEqual(steps.find((s) => s[0] === 'sysinfo'), ['sysinfo', '1', source.memory, source.memoryRoot, source.pids, '77']);
    assert.deepEqual(steps.find((s) => s[0] === 'sysloads'), ['sysloads', source.cpu]);
    assert.ok(steps.some((s) => s[0] === 'notify'));
    const probe = buildExecPlan({ pid: '%PID%', cgroupJoin: [], process: input({ seccomp, notify }).process });
    assert.equal(probe.find((s) => s[0] === 'sysinfo')?.[5], '%PID%');
  });

  test('none without a seccomp filter (unconfined) or without notify; none under another runtime', () => {
    for (const proc of [{ notify }, { seccomp }]) {
      const steps = buildPlan(input(proc));
      assert.ok(!steps.some((s) => s[0] === 'sysinfo' || s[0] === 'sysloads' || s[0] === 'notify'), JSON.stringify(proc));
    }
    const other = buildRuntimePlan(input({ seccomp, notify }), ['runc', 'run'], '/c/pid');
    assert.ok(!other.some((s) => s[0] === 'sysinfo' || s[0] === 'notify'));
  });
});

test('the drivers: v1 reads the memory and pids hierarchies (and joins the cpu one), v2 one directory', () => {
  const v1 = new CgroupV1([{ mount: '/cg/memory', controllers: ['memory'], cpuset: false }, { mount: '/cg/pids', controllers: ['pids'], cpuset: false }, { mount: '/cg/cpu', controllers: ['cpu'], cpuset: false }], 'berth/k');
  assert.deepEqual(v1.sysinfoSource('id'), source);
  const noPids = new CgroupV1([{ mount: '/cg/memory', controllers: ['memory'], cpuset: false }], 'berth/k');
  assert.equal(noPids.sysinfoSource('id').pids, '');
  assert.equal(noPids.sysinfoSource('id').cpu, '');
  const v2 = new CgroupV2('/cg2', 'berth/k');
  assert.deepEqual(v2.sysinfoSource('id'), { version: 2, memory: '/cg2/berth/k/id', memoryRoot: '/cg2', pids: '/cg2/berth/k/id', cpu: '/cg2/berth/k/id/cgroup.procs' });
  assert.throws(() => v1.sysinfoSource('../x'), { code: 'InvalidArgument' });
});

describe('the monitor\'s answer for a cgroup tree (berth-shim sysinfo)', { skip: !fs.existsSync(SHIM) && 'native/build/berth-shim not built' }, () => {
  const hostMem = os.totalmem();
  const tree = (files: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-sysinfo-'));
    for (const [f, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), text);
    }
    return dir;
  };
  const answer = (args: string[]) => JSON.parse(execFileSync(SHIM, ['sysinfo', ...args], { encoding: 'utf8' }));

  test('v2: the lowest memory.max on the way up, memory.current used, shmem shared, pids.current procs', () => {
    const dir = tree({
      'memory.max': 'max\n', // the root has none; a parent's limit binds a child without one
      'pod/memory.max': '536870912\n',
      'pod/c/memory.max': 'max\n',
      'pod/c/memory.current': '1048576\n',
      'pod/c/memory.stat': 'anon 100\nfile 4096\nshmem_thp 1\nshmem 8192\n',
      'pod/c/memory.swap.max': '268435456\n',
      'pod/c/memory.swap.current': '4096\n',
      'pod/c/pids.current': '3\n',
    });
    try {
      const si = answer(['2', `${dir}/pod/c`, dir, `${dir}/pod/c`]);
      assert.equal(si.mem_unit, 1);
      assert.equal(si.totalram, Math.min(536870912, hostMem));
      assert.equal(si.freeram, si.totalram - 1048576);
      assert.equal(si.sharedram, 8192);
      assert.equal(si.bufferram, 0);
      assert.equal(si.procs, 3);
      // The swap shown is at most the host's (none here if it has none).
      assert.ok(si.totalswap <= 268435456 && si.freeswap <= si.totalswap);
      assert.ok(si.uptime <= 1, `uptime ${si.uptime}: the age of the reaper (this process)`);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  test('v1: limit_in_bytes (its huge "unlimited" is the host\'s memory), usage, total_shmem; no pids hierarchy keeps the host\'s count', () => {
    const dir = tree({
      'memory.limit_in_bytes': '9223372036854771712\n',
      'berth/k/c/memory.limit_in_bytes': '268435456\n',
      'berth/k/c/memory.usage_in_bytes': '2097152\n',
      'berth/k/c/memory.stat': 'cache 1\nshmem 2\ntotal_cache 4096\ntotal_shmem 12288\n',
      'berth/k/c/memory.memsw.limit_in_bytes': '536870912\n',
      'berth/k/c/memory.memsw.usage_in_bytes': '2097152\n',
      'berth/k/c/memory.swappiness': '60\n',
      'berth/k/u/memory.limit_in_bytes': '9223372036854771712\n',
      'berth/k/u/memory.usage_in_bytes': '0\n',
    });
    try {
      const si = answer(['1', `${dir}/berth/k/c`, dir, '', '-1']);
      assert.equal(si.totalram, 268435456);
      assert.equal(si.freeram, 268435456 - 2097152);
      assert.equal(si.sharedram, 12288);
      assert.ok(si.totalswap <= 536870912);
      assert.equal(si.freeswap, si.totalswap); // memsw usage == memory usage: no swap used
      assert.ok(si.uptime > 1, 'reaper -1: the host\'s uptime');
      const unlimited = answer(['1', `${dir}/berth/k/u`, dir, '']);
      assert.equal(unlimited.totalram, hostMem);
      assert.equal(unlimited.freeram, hostMem);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  test('a memory cgroup that is gone: an error (the monitor then lets the real syscall run)', () => {
    assert.throws(() => execFileSync(SHIM, ['sysinfo', '2', '/nonexistent/c', '/nonexistent', ''], { stdio: 'pipe' }));
  });
});
