import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { capMask, DEFAULT_CAPS } from '../../src/kernel/capabilities.ts';
import { buildExecPlan, buildHoldPlan, buildHostPlan, buildPlan, buildRuntimePlan, type PlanInput } from '../../src/runtime/plan.ts';
import { errorFromShim } from '../../src/runtime/shim.ts';
import { arity, planErrors, STEPS, type StepName, type StepPhase } from '../../src/runtime/steps.ts';

const NATIVE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../native');

/** native/steps.c's table: `{ "name", MIN, MAX, STEP_PHASE, handler },` one row a line. */
function cTable(): Map<string, { min: number; max: number | undefined; phase: string; handler: string }> {
  const src = fs.readFileSync(path.join(NATIVE, 'steps.c'), 'utf8');
  const rows = new Map<string, { min: number; max: number | undefined; phase: string; handler: string }>();
  for (const m of src.matchAll(/\{\s*"(\w+)",\s*(-?\d+),\s*(-?\d+),\s*STEP_(\w+),\s*(\w+)\s*\}/g)) {
    assert.ok(!rows.has(m[1]), `${m[1]} is listed twice in steps.c`);
    rows.set(m[1], { min: Number(m[2]), max: m[3] === '-1' ? undefined : Number(m[3]), phase: m[4].toLowerCase().replace(/_/g, '-'), handler: m[5] });
  }
  return rows;
}

test('the C table of plan steps and the TypeScript one agree: names, argument counts, phases', () => {
  const c = cTable();
  assert.ok(c.size > 50, `only ${c.size} rows parsed from steps.c`);
  assert.deepEqual([...c.keys()].sort(), Object.keys(STEPS).sort());
  for (const [name, row] of c) {
    const want = arity(name as StepName);
    assert.deepEqual({ name, min: row.min, max: row.max }, { name, ...want });
    const phase: StepPhase = STEPS[name as StepName].phase;
    assert.equal(row.phase, phase, name);
    // The monitor's records have no handler in the init; every init step has one.
    const monitors = phase === 'parent' || phase === 'monitor';
    assert.equal(row.handler === 'NULL', monitors, `${name}: handler ${row.handler}`);
    if (!monitors) assert.equal(row.handler, `do_${name}`);
  }
});

test('every record the monitor looks up by name is one of its steps in the table', () => {
  const src = fs.readdirSync(NATIVE).filter((f) => f.endsWith('.c')).map((f) => fs.readFileSync(path.join(NATIVE, f), 'utf8')).join('\n');
  const looked = new Set([...src.matchAll(/field\(p, "(\w+)"\)/g)].map((m) => m[1]));
  assert.ok(looked.size > 10);
  for (const name of looked) {
    assert.ok(Object.hasOwn(STEPS, name), `the monitor reads "${name}", which is no step`);
    assert.ok(['parent', 'monitor'].includes(STEPS[name as StepName].phase), `${name} is the init's step, read by the monitor`);
  }
});

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    rootfs: { type: 'overlay', source: 'overlay', target: '/c/rootfs', options: ['lowerdir=/l2:/l1', 'upperdir=/c/upper', 'workdir=/c/work'] },
    cgroupNamespace: true,
    cgroupJoin: ['/sys/fs/cgroup/berth/k/id/cgroup.procs'],
    oomFile: '/sys/fs/cgroup/berth/k/id/memory.events',
    hostname: 'box',
    etcFiles: { hostname: '/c/hostname', hosts: '/c/hosts', resolv: '/c/resolv.conf' },
    process: { args: ['echo', 'hi'], env: ['PATH=/bin'], cwd: '/tmp', uid: 0, gid: 0, groups: [], caps: capMask(DEFAULT_CAPS), tty: { rows: 24, cols: 80, interactive: true } },
    exitFile: '/c/exit.json',
    log: { path: '/c/log.json', tee: true, maxSize: 1000, maxFiles: 2 },
    attachSocket: '/c/attach.sock',
    restart: { policy: 'on-failure', max: 3, stopMarker: '/c/stopped', pidFile: '/c/pid' },
    health: { planFile: '/c/health.plan', intervalMs: 1000, timeoutMs: 1000, retries: 3, startPeriodMs: 0, file: '/c/health.json' },
    userns: { uidMap: '0 100000 65536', gidMap: '0 100000 65536', idmounts: [['/l1', '/c/l1']], rootId: 100000 },
    devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, mode: 0o666, uid: 0, gid: 0 }],
    sysctls: { 'net.ipv4.ip_forward': '1' },
    mounts: [{ type: 'bind', source: '/data', target: '/data', readonly: true }, { type: 'tmpfs', source: '', target: '/run', readonly: false }],
    readonlyRoot: true,
    teardown: { rmdirs: ['/sys/fs/cgroup/berth/k/id'], rmtree: ['/c'], release: ['/bin/berth', 'release', 'id'], rmscope: ['/sys/fs/cgroup/x'] },
    ...over,
  };
}

test('the plans the engine builds pass the checks the shim makes before the clone', () => {
  const proc = input().process;
  const plans = {
    container: buildPlan(input()),
    plain: buildPlan(input({ userns: undefined, process: { ...proc, tty: undefined }, readonlyRoot: false })),
    exec: buildExecPlan({ pid: 42, cgroupJoin: ['/x/cgroup.procs'], process: proc, userns: '/proc/42/ns/user' }),
    hold: buildHoldPlan(input().rootfs),
    host: buildHostPlan({ args: ['berth', 'ps'], env: [], cwd: '/', tty: { rows: 1, cols: 1, interactive: true } }),
    runtime: buildRuntimePlan(input(), ['runc', 'run', 'x'], '/c/init.pid'),
  };
  for (const [kind, steps] of Object.entries(plans)) assert.deepEqual(planErrors(steps), [], kind);
});

test('the checks find an unknown step, a wrong argument count and a step on the wrong side of the pivot', () => {
  assert.deepEqual(planErrors([['mountn', 'a']]), ['step 0: unknown step "mountn"']);
  assert.deepEqual(planErrors([['toString']]), ['step 0: unknown step "toString"']);
  assert.deepEqual(planErrors([['root']]), ['step 0 (root): 0 arguments, wants 1']);
  assert.deepEqual(planErrors([['log', 'p', '1', '2', '3', 'cri', '5']]), ['step 0 (log): 6 arguments, wants 2..5']);
  assert.deepEqual(planErrors([['exec', 'sh', '-c', 'x']]), []);
  assert.deepEqual(planErrors([['cwd', '/'], ['pivot'], ['maskin', '/x'], ['exec', 'true']]),
    ['step 0 (cwd): before the pivot', 'step 2 (maskin): after the pivot']);
  assert.deepEqual(planErrors([['pivot'], ['chroot']]), ['step 1 (chroot): a second pivot']);
});

test('a failed step reads as what it was doing, not as its name in the plan', () => {
  const err = (step: string, arg: string) => errorFromShim({ step, arg, errno: 40, message: 'Too many levels of symbolic links' }, ['sh']).message;
  assert.equal(err('mountin', '/proc'), 'container setup failed: mounting /proc: Too many levels of symbolic links');
  assert.equal(err('bindin', '/etc/hostname'), 'container setup failed: binding /etc/hostname: Too many levels of symbolic links');
  assert.equal(err('clone', '1234'), 'container setup failed: clone 1234: Too many levels of symbolic links');
  for (const [name, def] of Object.entries(STEPS)) assert.ok(def.says.trim() && def.says !== name, name);
});
