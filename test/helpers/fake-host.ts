// A recording fake of the engine's Host (engine/container/host.ts): processes are entries in a
// table, the shim is a handle whose init and monitor the test makes live or die, cgroups are a
// map. Everything the lifecycle does to the machine is appended to `log`, so a test can assert
// on the effects as well as on the statuses, in milliseconds and without root.
import * as fs from 'node:fs';
import { PassThrough } from 'node:stream';
import { BerthError } from '../../src/core/errors.ts';
import type { CgroupDriver, CgroupPaths, Limits, SysinfoSource } from '../../src/kernel/cgroups.ts';
import type { ProcessRef } from '../../src/kernel/process.ts';
import { parseSignal } from '../../src/kernel/signals.ts';
import type { Host } from '../../src/engine/container/host.ts';
import type { Step } from '../../src/runtime/plan.ts';
import type { ShimExit, ShimHandle, ShimStdio } from '../../src/runtime/shim.ts';

interface Proc {
  pid: number;
  start: number;
  parent: number;
  alive: boolean;
}

/** A monitor started on a plan, with its container's init. */
export class FakeShim {
  readonly monitor: Proc;
  readonly init: Proc;
  readonly plan: Step[];
  readonly handle: ShimHandle;
  private onStart!: (pid: number) => void;
  private onStartErr!: (e: unknown) => void;
  private onExit!: (e: ShimExit) => void;
  private onGone!: (code: number | null) => void;

  constructor(fake: FakeHost, plan: Step[], monitor: Proc, init: Proc) {
    this.plan = plan;
    this.monitor = monitor;
    this.init = init;
    const started = new Promise<number>((res, rej) => ((this.onStart = res), (this.onStartErr = rej)));
    const exited = new Promise<ShimExit>((res) => (this.onExit = res));
    const gone = new Promise<number | null>((res) => (this.onGone = res));
    started.catch(() => {});
    this.handle = {
      shimPid: monitor.pid, started, exited, gone,
      kill: (sig) => fake.log.push(`forward ${sig}`),
      close: () => fake.log.push('close'),
      detach: () => fake.log.push('detach'),
      stdio: { stdin: null, stdout: new PassThrough(), stderr: new PassThrough() },
    };
  }

  /** A plan record's value, e.g. the exit file. */
  step(name: string): string | undefined {
    return this.plan.find((s) => s[0] === name)?.[1];
  }

  /** The command runs. */
  run(): void {
    this.onStart(this.init.pid);
  }

  /** The command cannot run (the shim reports the failure, then exits). */
  fail(err: BerthError): void {
    this.init.alive = false;
    this.onStartErr(err);
    this.monitor.alive = false;
    this.onGone(1);
  }

  /** The init ends: the monitor records its exit and, without a restart policy, ends too. */
  exit(code: number, opts: { restart?: boolean } = {}): void {
    this.init.alive = false;
    const file = this.step('exitfile');
    if (file) fs.writeFileSync(file, JSON.stringify({ exit: code, signal: 0, oom: false }));
    this.onExit({ exit: code, signal: 0, oom: false });
    if (opts.restart) return;
    this.monitor.alive = false;
    this.onGone(0);
  }
}

class FakeCgroups implements CgroupDriver {
  readonly version = 2 as const;
  readonly groups = new Map<string, { pids: number[]; frozen: boolean }>();
  failRemove = false;
  private readonly fake: FakeHost;
  constructor(fake: FakeHost) {
    this.fake = fake;
  }
  create(id: string, _limits: Limits): CgroupPaths {
    this.fake.log.push(`cgroup create ${id.slice(0, 12)}`);
    if (this.groups.has(id)) throw new BerthError('AlreadyExists', `cgroup ${id} exists`);
    this.groups.set(id, { pids: [], frozen: false });
    return this.paths(id);
  }
  update(id: string, _limits: Limits): void {
    this.fake.log.push(`cgroup update ${id.slice(0, 12)}`);
  }
  paths(id: string): CgroupPaths {
    return { procs: [`/fake/${id}/cgroup.procs`], dirs: [`/fake/${id}`], oom: `/fake/${id}/memory.events` } as CgroupPaths;
  }
  sysinfoSource(id: string): SysinfoSource {
    return { version: 2, memory: `/fake/${id}`, memoryRoot: '/fake', pids: `/fake/${id}`, cpu: `/fake/${id}/cgroup.procs` };
  }
  remove(id: string): boolean {
    this.fake.log.push(`cgroup remove ${id.slice(0, 12)}`);
    if (this.failRemove) throw new BerthError('Internal', `cannot remove cgroup ${id}: busy`);
    const g = this.groups.get(id);
    for (const pid of g?.pids ?? []) this.fake.exitProcess(pid);
    return this.groups.delete(id);
  }
  list(): string[] {
    return [...this.groups.keys()];
  }
  oomKilled(): number {
    return 0;
  }
  async freeze(id: string, frozen: boolean): Promise<void> {
    this.fake.log.push(`cgroup ${frozen ? 'freeze' : 'thaw'} ${id.slice(0, 12)}`);
    const g = this.groups.get(id);
    if (g) g.frozen = frozen;
  }
  pids(id: string): number[] {
    return (this.groups.get(id)?.pids ?? []).filter((p) => this.fake.procs.get(p)?.alive);
  }
  stats() {
    return { memoryUsage: 0, memoryLimit: 0, cpuNanos: 0, pids: 0 };
  }
}

export class FakeHost implements Host {
  readonly log: string[] = [];
  readonly procs = new Map<number, Proc>();
  readonly cg: FakeCgroups;
  readonly shims: FakeShim[] = [];
  /** The next spawn fails to start a process at all (no monitor is born). */
  spawnFails = false;
  private nextPid = 100;
  private time = Date.parse('2026-01-02T03:04:05.000Z');
  private readonly me: Proc;

  constructor() {
    this.cg = new FakeCgroups(this);
    this.me = this.newProc(1);
  }

  newProc(parent: number): Proc {
    const p = { pid: this.nextPid++, start: 1000 + this.nextPid, parent, alive: true };
    this.procs.set(p.pid, p);
    return p;
  }

  /** A process ends; its monitor's shim (if it is an init) records the exit as the real one does. */
  exitProcess(pid: number, code = 137): void {
    const shim = this.shims.find((s) => s.init.pid === pid && s.init.alive);
    if (shim) shim.exit(code);
    const p = this.procs.get(pid);
    if (p) p.alive = false;
  }

  /** kill -9 of a process (a monitor, a CLI): it is gone, with nothing written. */
  crash(pid: number): void {
    this.log.push(`crash ${pid}`);
    const p = this.procs.get(pid);
    if (p) p.alive = false;
    // The init dies with its monitor (pdeathsig).
    for (const s of this.shims) if (s.monitor.pid === pid) s.init.alive = false;
  }

  isAlive(ref: ProcessRef | undefined): boolean {
    const p = ref && this.procs.get(ref.pid);
    return !!p && p.alive && p.start === ref!.start;
  }
  parentPid(pid: number): number {
    const p = this.procs.get(pid);
    return p?.alive ? p.parent : -1;
  }
  refOf(pid: number): ProcessRef {
    const p = this.procs.get(pid);
    return { pid, start: p?.alive ? p.start : 0 };
  }
  self(): ProcessRef {
    return { pid: this.me.pid, start: this.me.start };
  }
  kill(pid: number, signal: NodeJS.Signals | number): void {
    this.log.push(`kill ${pid} ${signal}`);
    const p = this.procs.get(pid);
    if (!p?.alive) throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
    if (signal === 'SIGWINCH' || signal === 0) return;
    const n = typeof signal === 'number' ? signal : parseSignal(signal);
    const monitorOf = this.shims.find((s) => s.monitor.pid === pid);
    // A monitor in a restart back-off wakes up and, its stop marker set, ends.
    if (monitorOf) {
      monitorOf.monitor.alive = false;
      return;
    }
    this.exitProcess(pid, 128 + n);
  }
  spawn(plan: Step[], _stdio: ShimStdio): ShimHandle {
    this.log.push(`spawn ${plan.find((s) => s[0] === 'exec')?.slice(1).join(' ') ?? ''}`);
    if (this.spawnFails) {
      const err = new BerthError('Unavailable', 'cannot start the shim');
      const failed = Promise.reject(err);
      failed.catch(() => {});
      return { shimPid: 0, started: failed, exited: failed, gone: Promise.resolve(null), kill: () => {}, close: () => {}, detach: () => {}, stdio: { stdin: null, stdout: null, stderr: null } };
    }
    const monitor = this.newProc(this.me.pid);
    const init = this.newProc(monitor.pid);
    const shim = new FakeShim(this, plan, monitor, init);
    // The init joins its cgroup (the plan's cgroup.procs files name it).
    const join = plan.filter((s) => s[0] === 'join').map((s) => s[1]).join(' ');
    for (const [id, g] of this.cg.groups) if (join.includes(id)) g.pids.push(init.pid);
    this.shims.push(shim);
    return shim.handle;
  }
  cgroups(): CgroupDriver {
    return this.cg;
  }
  sandboxes(): never {
    throw new Error('the fake host has no networks: use --network none');
  }
  now(): Date {
    this.time += 1000;
    return new Date(this.time);
  }
  /** No lxcfs on the fake machine: containers start without resource views. */
  async acquireViews(user: string): Promise<string> {
    this.log.push(`views ${user.slice(0, 12)}`);
    return 'no lxcfs here';
  }
  releaseViews(user: string): void {
    this.log.push(`views release ${user.slice(0, 12)}`);
  }
  holdViews(): void {} // never called: the fake has no views
}
