// The container lifecycle on a recording fake of the machine (test/helpers/fake-host.ts): every
// status transition, and each point where a crash (kill -9 of the CLI, the monitor, or a
// remover) can leave a container, recovered by the reconcile step. No root, no processes.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { BerthError } from '../../src/core/errors.ts';
import { canTransition, initialState, type ContainerRecord, type ContainerState } from '../../src/core/container.ts';
import { Containers } from '../../src/engine/containers.ts';
import { Engine } from '../../src/engine/engine.ts';
import { Events } from '../../src/engine/events.ts';
import { deriveStatus, type Facts } from '../../src/engine/container/status.ts';
import { FakeHost } from '../helpers/fake-host.ts';

let dir: string;
let host: FakeHost;
let cs: Containers;

function setup(): void {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-lifecycle-'));
  const engine = new Engine(dir);
  // A scratch image: no layers, so nothing is mounted or unpacked.
  const config = { architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/app'] }, rootfs: { type: 'layers' as const, diff_ids: [] } };
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  engine.images.registerLoaded({ configBytes, config, manifestBytes: new TextEncoder().encode('{"layers":[]}'), layerSizes: [], names: ['scratch:1'] });
  host = new FakeHost();
  cs = new Containers(engine.root, engine.images, () => host.cg, new Events(engine.root.dir), host);
}

/** The containers' events (the image set-up has its own). */
function events(): string[] {
  const file = path.join(dir, 'events.log');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.Type === 'container').map((e) => e.Action);
}

function saved(id: string): ContainerState | undefined {
  const f = path.join(dir, 'containers', id, 'state.json');
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : undefined;
}

const make = (extra: Parameters<Containers['create']>[0] extends infer O ? Partial<O> : never = {}) =>
  cs.create({ image: 'scratch:1', cmd: [], ...extra, host: { NetworkMode: 'none', ...extra.host } } as Parameters<Containers['create']>[0]);

/** The shim the start in progress spawns (a start awaits file I/O before it gets there). */
async function nextShim(before: number) {
  for (let i = 0; host.shims.length === before; i++) {
    if (i > 5000) throw new Error('no shim was spawned');
    await new Promise((res) => setTimeout(res, 1));
  }
  return host.shims.at(-1)!;
}

/** Starts detached and lets the command run. */
async function startRunning(r: ContainerRecord) {
  const before = host.shims.length;
  const p = cs.start(r);
  const shim = await nextShim(before);
  shim.run();
  await p;
  return shim;
}

describe('container lifecycle on a fake host', () => {
  beforeEach(setup);
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('create: created, its name claimed, a create event; a taken name is refused', async () => {
    const r = await make({ name: 'web' });
    assert.equal(cs.get('web').state.Status, 'created');
    assert.equal(cs.get(r.Id.slice(0, 8)).record.Name, 'web');
    assert.deepEqual(events(), ['create']);
    await assert.rejects(make({ name: 'web', host: { Mounts: [{ Type: 'volume', Source: 'data', Target: '/data', ReadOnly: false }] } }), (e: BerthError) => e.code === 'Conflict');
    assert.deepEqual(cs.volumes.list(), [], 'a refused create makes no volume');
    assert.deepEqual(cs.list(true).map((c) => c.record.Id), [r.Id]);
  });

  test('start: created -> running; the state is saved once the command runs, with its monitor', async () => {
    const r = await make();
    const shim = await startRunning(r);
    const c = cs.get(r.Id);
    assert.equal(c.state.Status, 'running');
    assert.equal(c.state.Pid, shim.init.pid);
    assert.deepEqual(c.state.Monitor, { pid: shim.monitor.pid, start: shim.monitor.start });
    assert.deepEqual(events(), ['create', 'start']);
    assert.ok(host.log.includes(`cgroup create ${r.Id.slice(0, 12)}`));
    assert.ok(host.log.includes('spawn /bin/app'));
    // Starting a running container is a no-op.
    assert.equal(await cs.start(r), undefined);
    assert.equal(host.shims.length, 1);
  });

  test('the command exits: running -> exited with its code, settled by the reconcile step only', async () => {
    const r = await make();
    const shim = await startRunning(r);
    shim.exit(3);
    // Reading derives the status and changes nothing: no event, the saved state still says running.
    assert.equal(cs.get(r.Id).state.Status, 'exited');
    assert.equal(cs.get(r.Id).state.ExitCode, 3);
    assert.equal(saved(r.Id)?.Status, 'running');
    assert.deepEqual(events(), ['create', 'start']);
    cs.reconcile();
    assert.equal(saved(r.Id)?.Status, 'exited');
    assert.equal(saved(r.Id)?.ExitCode, 3);
    assert.deepEqual(events(), ['create', 'start', 'die']);
    cs.reconcile(); // settled once: no second die
    assert.deepEqual(events(), ['create', 'start', 'die']);
  });

  test('exited -> running again, from a fresh exit file', async () => {
    const r = await make();
    (await startRunning(r)).exit(1);
    await startRunning(r);
    const c = cs.get(r.Id);
    assert.equal(c.state.Status, 'running');
    assert.equal(c.state.ExitCode, 0);
  });

  test('kill -9 of the monitor: exited 255, its cgroups removed when reconciled', async () => {
    const r = await make();
    const shim = await startRunning(r);
    host.crash(shim.monitor.pid);
    assert.equal(cs.get(r.Id).state.ExitCode, 255);
    assert.ok(host.cg.groups.has(r.Id), 'reading removes nothing');
    assert.deepEqual(cs.list(true).map((c) => c.state.Status), ['exited']);
    assert.ok(!host.cg.groups.has(r.Id));
    assert.equal(saved(r.Id)?.ExitCode, 255);
  });

  test('kill -9 of the monitor and the CLI (run): the next run sweeps the orphan by its empty cgroup', async () => {
    const r = await make();
    const shim = await startRunning(r);
    host.crash(shim.monitor.pid);
    cs.sweepOrphans();
    assert.equal(saved(r.Id)?.Status, 'exited');
    assert.ok(!host.cg.groups.has(r.Id));
  });

  test('stop: the stop signal to the init, then exited with 128+n; stop of a stopped container succeeds', async () => {
    const r = await make({ stopSignal: 'SIGINT' });
    const shim = await startRunning(r);
    await cs.stop(r.Id, 5);
    assert.ok(host.log.includes(`kill ${shim.init.pid} 2`));
    assert.equal(cs.get(r.Id).state.Status, 'exited');
    assert.equal(cs.get(r.Id).state.ExitCode, 130);
    assert.ok(fs.existsSync(path.join(dir, 'containers', r.Id, 'stopped')));
    assert.equal(await cs.stop(r.Id), r.Id);
    assert.deepEqual(events().filter((e) => e === 'stop'), ['stop'], 'no event for a no-op');
  });

  test('kill: a signal to the init; a stopped container refuses it', async () => {
    const r = await make();
    const shim = await startRunning(r);
    cs.kill(r.Id, 'TERM');
    assert.ok(host.log.includes(`kill ${shim.init.pid} 15`));
    assert.throws(() => cs.kill(r.Id), (e: BerthError) => e.code === 'Conflict');
    assert.throws(() => cs.kill(r.Id, 'NOPE'), (e: BerthError) => e.code === 'InvalidArgument');
  });

  test('pause and unpause: running -> paused -> running, through the freezer', async () => {
    const r = await make();
    await startRunning(r);
    await cs.pause(r.Id);
    assert.equal(cs.get(r.Id).state.Status, 'paused');
    await assert.rejects(cs.pause(r.Id), (e: BerthError) => e.code === 'Conflict');
    await cs.unpause(r.Id);
    assert.equal(cs.get(r.Id).state.Status, 'running');
    await assert.rejects(cs.unpause(r.Id), (e: BerthError) => e.code === 'Conflict');
    assert.deepEqual(host.log.filter((l) => l.startsWith('cgroup freeze') || l.startsWith('cgroup thaw')).map((l) => l.split(' ')[1]), ['freeze', 'thaw']);
    assert.deepEqual(events().slice(-2), ['pause', 'unpause']);
  });

  test('a paused container whose monitor died is exited', async () => {
    const r = await make();
    const shim = await startRunning(r);
    await cs.pause(r.Id);
    host.crash(shim.monitor.pid);
    assert.equal(cs.get(r.Id).state.Status, 'exited');
  });

  test('restart policy: between two runs the container is restarting (derived, never stored); rm -f wakes the monitor', async () => {
    const r = await make({ host: { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } } });
    const shim = await startRunning(r);
    shim.exit(1, { restart: true });
    const c = cs.get(r.Id);
    assert.equal(c.state.Status, 'restarting');
    assert.equal(c.state.ExitCode, 1);
    assert.equal(saved(r.Id)?.Status, 'running');
    await assert.rejects(cs.remove(r.Id, false), (e: BerthError) => e.code === 'Conflict');
    assert.throws(() => cs.top(r.Id), /restarting/);
    await cs.remove(r.Id, true);
    assert.ok(host.log.includes(`kill ${shim.monitor.pid} SIGTERM`));
    assert.throws(() => cs.get(r.Id), (e: BerthError) => e.code === 'NotFound');
  });

  test('rm: created -> removing -> gone, with its name and a destroy event; a running one needs force', async () => {
    const r = await make({ name: 'gone' });
    await cs.remove('gone', false);
    assert.throws(() => cs.get(r.Id), (e: BerthError) => e.code === 'NotFound');
    assert.ok(!fs.existsSync(path.join(dir, 'names', 'gone')));
    assert.deepEqual(events(), ['create', 'destroy']);
    const r2 = await make({ name: 'gone' }); // the name is free again
    const shim = await startRunning(r2);
    await assert.rejects(cs.remove(r2.Id, false), (e: BerthError) => e.code === 'Conflict');
    await cs.remove(r2.Id, true);
    assert.ok(!shim.init.alive && !shim.monitor.alive, 'its cgroup removal killed the init, and the monitor ended');
    assert.equal(cs.list(true).length, 0);
  });

  test('rm that fails half way leaves the container dead; a second rm ends it', async () => {
    const r = await make();
    await startRunning(r);
    host.cg.failRemove = true;
    await assert.rejects(cs.remove(r.Id, true), /busy/);
    assert.equal(cs.get(r.Id).state.Status, 'dead');
    assert.equal(cs.list(true)[0].state.Status, 'dead', 'reconciling leaves a dead container alone');
    host.cg.failRemove = false;
    await cs.remove(r.Id, false);
    assert.equal(cs.list(true).length, 0);
  });

  test('kill -9 of a remover after it marked the container removing: the reconcile step finishes the removal', async () => {
    const r = await make();
    const shim = await startRunning(r);
    const state = { ...saved(r.Id)!, Status: 'removing' as const };
    fs.writeFileSync(path.join(dir, 'containers', r.Id, 'state.json'), JSON.stringify(state));
    assert.equal(cs.get(r.Id).state.Status, 'removing', 'its monitor is still alive');
    host.crash(shim.monitor.pid);
    assert.throws(() => cs.get(r.Id), (e: BerthError) => e.code === 'NotFound');
    assert.ok(fs.existsSync(path.join(dir, 'containers', r.Id)), 'reading removed nothing');
    cs.reconcile();
    assert.ok(!fs.existsSync(path.join(dir, 'containers', r.Id)));
    assert.deepEqual(events().slice(-1), ['destroy']);
  });

  test('kill -9 of `run --rm` before its container started: the container is abandoned, and removed when reconciled', async () => {
    // The CLI that creates it is a process of its own here, so that it can die.
    const cli = host.newProc(1);
    const self = host.self;
    host.self = () => ({ pid: cli.pid, start: cli.start });
    const r = await make({ run: true, host: { AutoRemove: true } });
    host.self = self;
    assert.equal(cs.get(r.Id).state.Status, 'created');
    host.crash(cli.pid);
    assert.throws(() => cs.get(r.Id), (e: BerthError) => e.code === 'NotFound');
    assert.equal(cs.list(true).length, 0);
    assert.ok(!fs.existsSync(path.join(dir, 'containers', r.Id)));
  });

  test('kill -9 of a creator mid-create: its temporary directory is swept, its name free again', async () => {
    const cli = host.newProc(1);
    const tmp = path.join(dir, 'containers', `.new-${cli.pid}.${cli.start}.0123456789ab`);
    fs.mkdirSync(tmp, { recursive: true });
    fs.mkdirSync(path.join(dir, 'names'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'names', 'taken'), '0123456789ab'.padEnd(64, '0'));
    await assert.rejects(make({ name: 'taken' }), (e: BerthError) => e.code === 'Conflict', 'a live creator keeps its name');
    host.crash(cli.pid);
    cs.sweepCreates();
    assert.ok(!fs.existsSync(tmp));
    const r = await make({ name: 'taken' });
    assert.equal(r.Name, 'taken');
  });

  test('a start killed after its cgroups were made: the next start replaces the empty cgroups', async () => {
    const r = await make();
    host.cg.create(r.Id, {});
    const shim = await startRunning(r);
    assert.equal(cs.get(r.Id).state.Status, 'running');
    assert.deepEqual(host.log.filter((l) => l.startsWith('cgroup')).map((l) => l.split(' ')[1]), ['create', 'create', 'remove', 'create']);
    assert.ok(shim.init.alive);
  });

  test('a command that cannot run: exited 127 with the error, the state saved', async () => {
    const r = await make();
    const p = cs.start(r);
    (await nextShim(0)).fail(new BerthError('CommandNotFound', 'exec: "/bin/app": executable file not found in $PATH'));
    await assert.rejects(p, (e: BerthError) => e.code === 'CommandNotFound');
    assert.equal(saved(r.Id)?.Status, 'exited');
    assert.equal(saved(r.Id)?.ExitCode, 127);
    assert.match(saved(r.Id)!.Error, /not found/);
  });

  test('no monitor born: what the start acquired is undone (its cgroups)', async () => {
    const r = await make();
    host.spawnFails = true;
    await assert.rejects(cs.start(r), (e: BerthError) => e.code === 'Unavailable');
    assert.ok(!host.cg.groups.has(r.Id));
    assert.equal(saved(r.Id)?.Status, 'exited');
    assert.equal(saved(r.Id)?.ExitCode, 128);
  });

  test('rename claims the new name before freeing the old', async () => {
    const r = await make({ name: 'aa' });
    await make({ name: 'bb' });
    assert.throws(() => cs.rename('aa', 'bb'), (e: BerthError) => e.code === 'Conflict');
    cs.rename('aa', 'cc');
    assert.equal(cs.get('cc').record.Id, r.Id);
    assert.throws(() => cs.get('aa'), (e: BerthError) => e.code === 'NotFound');
    assert.deepEqual(events().slice(-1), ['rename']);
  });

  test('the listing index: one file, stale entries detected by their directory, a corrupt index rebuilt', async () => {
    const r = await make();
    const cdir = path.join(dir, 'containers', r.Id);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(cdir, old, old); // older than the racy window: cacheable
    assert.equal(cs.list(true)[0].state.Status, 'created');
    const index = path.join(dir, 'containers.index.json');
    const entry = () => JSON.parse(fs.readFileSync(index, 'utf8')).e[r.Id];
    assert.ok(entry(), 'cached');
    assert.equal(entry().c, undefined, 'no start claim');
    // A start claim is a file in the directory: the entry goes stale, and says so once re-read.
    fs.writeFileSync(path.join(cdir, 'starting'), '1 1');
    fs.utimesSync(cdir, old, new Date(Date.now() - 30_000));
    cs.list(true);
    assert.equal(entry().c, 1, 'a start claim cached');
    fs.rmSync(path.join(cdir, 'starting'));
    // A change by another process (a state saved) renames a file into the directory: seen.
    await startRunning(r);
    assert.equal(cs.list(true)[0].state.Status, 'running');
    fs.writeFileSync(index, '{not json');
    assert.equal(cs.list(true)[0].state.Status, 'running');
    assert.doesNotThrow(() => JSON.parse(fs.readFileSync(index, 'utf8')));
  });
});

describe('status as a pure function', () => {
  const record = { Id: 'a'.repeat(64), HostConfig: { AutoRemove: false }, Config: {} } as unknown as ContainerRecord;
  const now = new Date('2026-01-01T00:00:00Z');
  const live = (monitor: boolean, init = 0, owner = false) => ({ monitor, owner, init: () => init });
  const facts = (status: ContainerState['Status'], more: Partial<Facts> = {}, r = record): Facts => ({ record: r, state: { ...initialState(), Status: status, Pid: 5 }, ...more });

  test('every derived change is one the transition table allows', () => {
    const cases: Array<[Facts, ReturnType<typeof live>]> = [
      [facts('running'), live(false)],
      [facts('paused'), live(false)],
      [facts('running', {}, { ...record, HostConfig: { ...record.HostConfig, RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } } }), live(true, 0)],
    ];
    for (const [f, l] of cases) {
      const d = deriveStatus(f, l, now);
      assert.ok(d.state && canTransition(f.state.Status, d.state.Status), `${f.state.Status} -> ${d.state?.Status}`);
    }
  });

  test('a dead monitor: exited with the exit file (else 255), and the actions, nothing done', () => {
    const d = deriveStatus(facts('running', { exit: { exit: 7, signal: 0, oom: true }, exitTime: '2026-01-01T00:00:01.000Z' }), live(false), now);
    assert.equal(d.state?.Status, 'exited');
    assert.equal(d.state?.ExitCode, 7);
    assert.equal(d.state?.OOMKilled, true);
    assert.equal(d.state?.FinishedAt, '2026-01-01T00:00:01.000Z');
    assert.deepEqual(d.actions.map((a) => a.do), ['removeCgroups', 'event', 'save']);
    assert.equal(deriveStatus(facts('running'), live(false), now).state?.ExitCode, 255);
    const rm = deriveStatus(facts('running', {}, { ...record, HostConfig: { ...record.HostConfig, AutoRemove: true } }), live(false), now);
    assert.equal(rm.state, undefined);
    assert.deepEqual(rm.actions.map((a) => a.do), ['removeCgroups', 'event', 'destroy']);
  });

  test('live or settled containers imply nothing', () => {
    for (const s of ['created', 'exited', 'dead'] as const) assert.deepEqual(deriveStatus(facts(s), live(false), now).actions, []);
    assert.deepEqual(deriveStatus(facts('running'), live(true, 5), now), { state: facts('running').state, actions: [] });
    assert.deepEqual(deriveStatus(facts('removing'), live(true), now).actions, []);
    assert.deepEqual(deriveStatus(facts('removing'), live(false), now).actions.map((a) => a.do), ['removeCgroups', 'destroy']);
  });
});
