// berth-runtime as containerd's runtime binary: Debian's containerd (its own config, state, root
// and socket under a temp dir) with the runc shim v2 running bin/berth-runtime, driven by ctr.
// The shim is the subreaper that must see every exit (the init's and each exec's), and it reads
// why a call failed from the runtime's --log file; the shim's stdio is not ours to write to.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cgroupMounts } from '../../src/kernel/cgroups.ts';
import { parentPid } from '../../src/kernel/process.ts';
import { collect, isRoot, REPO, TestRoot, type Result } from '../helpers/berth.ts';

const RUNTIME = path.join(REPO, 'bin/berth-runtime');
const IMAGE = 'docker.io/library/busybox:latest';
const has = (cmd: string) => {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const skip = !isRoot ? 'needs root' : !has('containerd') || !has('ctr') ? 'needs containerd and ctr (Debian: containerd)' : false;

let work: string;
let sock: string;
let containerd: ChildProcess | undefined;
// Each container's cgroup is under this, so the test removes exactly what it made.
let cgScope: string;

function ctr(args: string[], timeoutMs = 30_000): Promise<Result> {
  return collect(spawn('ctr', ['--address', sock, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
}

async function ok(args: string[]): Promise<string> {
  const r = await ctr(args);
  assert.equal(r.code, 0, `ctr ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** ctr run with berth-runtime as the runc shim's binary, its state under our temp dir. */
function runArgs(id: string, extra: string[], cmd: string[]): string[] {
  return ['run', '--runtime', 'io.containerd.runc.v2', '--runc-binary', RUNTIME, '--runc-root', path.join(work, 'runtime-root'),
    '--cgroup', `/${cgScope}/${id}`, ...extra, IMAGE, id, ...cmd];
}

async function taskStatus(id: string): Promise<{ pid: number; status: string } | undefined> {
  const line = (await ok(['task', 'ls'])).split('\n').find((l) => l.split(/\s+/)[0] === id);
  if (!line) return undefined;
  const [, pid, status] = line.trim().split(/\s+/);
  return { pid: Number(pid), status };
}

/** The shims of our containerd (by their -address argument): ended by pid in the cleanup. */
function ourShims(): number[] {
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
    try {
      const argv = fs.readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0');
      return argv[0].endsWith('containerd-shim-runc-v2') && argv[argv.indexOf('-address') + 1] === sock;
    } catch {
      return false;
    }
  }).map(Number);
}

describe('berth-runtime under containerd (runc shim v2, BinaryName)', { skip }, () => {
  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ctd-'));
    sock = path.join(work, 'containerd.sock');
    cgScope = `berth/ctd-test-${process.pid}`;
    const config = [
      'version = 2', `root = ${JSON.stringify(path.join(work, 'root'))}`, `state = ${JSON.stringify(path.join(work, 'state'))}`,
      // ctr needs no CRI; the CRI plugin would also want a network config.
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]', `  address = ${JSON.stringify(sock)}`, '[ttrpc]', `  address = ${JSON.stringify(sock + '.ttrpc')}`,
      '[debug]', '  address = ""', '[metrics]', '  address = ""',
    ].join('\n');
    fs.writeFileSync(path.join(work, 'config.toml'), config + '\n');
    const logFd = fs.openSync(path.join(work, 'containerd.log'), 'w');
    containerd = spawn('containerd', ['--config', path.join(work, 'config.toml')], { stdio: ['ignore', logFd, logFd] });
    fs.closeSync(logFd);
    for (let i = 0; !fs.existsSync(sock); i++) {
      if (i > 200 || containerd.exitCode !== null) throw new Error(`containerd did not start: ${fs.readFileSync(path.join(work, 'containerd.log'), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // The image: busybox from a berth root, saved as a docker archive, imported by ctr.
    const root = await TestRoot.withBusybox();
    try {
      const saved = await root.run(['save', '-o', path.join(work, 'busybox.tar'), 'busybox:latest']);
      assert.equal(saved.code, 0, saved.stderr);
    } finally {
      await root.cleanup();
    }
    await ok(['images', 'import', path.join(work, 'busybox.tar')]);
  });

  after(async () => {
    if (!work) return;
    for (const pid of ourShims()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    if (containerd && containerd.exitCode === null) {
      containerd.kill('SIGKILL');
      await new Promise((r) => containerd!.once('exit', r));
    }
    // containerd's snapshot and task mounts under its root and state, deepest first.
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m?.startsWith(work + '/'));
    for (const m of mounts.reverse()) execFileSync('umount', ['-l', m]);
    // Containers a failed test left: their processes (in our cgroups only), then the cgroups.
    const dirs = cgroupMounts().map((m) => path.join(m, cgScope)).filter((d) => fs.existsSync(d));
    const leaves = dirs.flatMap((dir) => fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(dir, d.name)));
    for (const leaf of leaves) {
      for (const pid of fs.readFileSync(`${leaf}/cgroup.procs`, 'utf8').split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {}
      }
    }
    for (const d of [...leaves, ...dirs]) {
      for (let i = 0; i < 100; i++) {
        try {
          fs.rmdirSync(d);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('a container runs, its output and exit status reach ctr', async () => {
    const r = await ctr(runArgs('fg', ['--rm'], ['sh', '-c', 'echo hello; exit 3']));
    assert.equal(r.stdout, 'hello\n', r.stderr);
    assert.equal(r.code, 3, r.stderr);
  });

  test('with no stdio (the shim gives the runtime /dev/null), the exit is still seen', async () => {
    const r = await ctr(runArgs('nullio', ['--rm', '--null-io'], ['sh', '-c', 'exit 7']));
    assert.equal(r.code, 7, r.stdout + r.stderr);
  });

  test("the runtime's error reaches ctr through --log", async () => {
    const r = await ctr(['run', '--runtime', 'io.containerd.runc.v2', '--runc-binary', RUNTIME, '--runc-root', path.join(work, 'runtime-root'),
      '--cgroup', 'system.slice:berth:bad', IMAGE, 'bad', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /OCI runtime create failed: cgroupsPath "system\.slice:berth:bad": systemd cgroup paths are not supported/);
    await ok(['containers', 'rm', 'bad']);
  });

  test('a detached container: its init is the shim\'s child; execs, kill and delete are seen', async () => {
    await ok(runArgs('bg', ['-d'], ['sleep', '1000']));
    const t = await taskStatus('bg');
    assert.equal(t?.status, 'RUNNING');
    // No monitor of ours in between: the shim (a subreaper) is the init's parent.
    const parent = parentPid(t!.pid);
    assert.ok(ourShims().includes(parent), `the init's parent ${parent} is not our containerd's shim (${ourShims().join(',')})`);

    const e = await ctr(['task', 'exec', '--exec-id', 'e1', 'bg', 'sh', '-c', 'echo in-exec; exit 5']);
    assert.equal(e.stdout, 'in-exec\n', e.stderr);
    assert.equal(e.code, 5, e.stderr);
    // Short execs, whose exit can come right after the runtime returns.
    for (let i = 0; i < 5; i++) {
      const q = await ctr(['task', 'exec', '--exec-id', `q${i}`, 'bg', 'true'], 15_000);
      assert.equal(q.code, 0, q.stderr);
    }
    const ps = await ok(['task', 'ps', 'bg']);
    assert.match(ps, new RegExp(`^${t!.pid}\\s`, 'm'));

    // pause and resume (the runtime's verbs), update (linux.resources on the runtime's stdin).
    await ok(['task', 'pause', 'bg']);
    assert.equal((await taskStatus('bg'))?.status, 'PAUSED');
    await ok(['task', 'resume', 'bg']);
    assert.equal((await taskStatus('bg'))?.status, 'RUNNING');
    // ctr 1.6 has no `task update`: the runtime's verb as the shim calls it (the kubelet's
    // UpdateContainerResources), and its stats event (which podman reads).
    const runtimeRoot = path.join(work, 'runtime-root', 'default');
    const upd = spawn(RUNTIME, ['--root', runtimeRoot, 'update', '--resources', '-', 'bg'], { stdio: ['pipe', 'pipe', 'pipe'] });
    upd.stdin!.end(JSON.stringify({ memory: { limit: 96 << 20 }, pids: { limit: 50 } }));
    const u = await collect(upd, 15_000);
    assert.equal(u.code, 0, u.stderr);
    const ev = JSON.parse(execFileSync(RUNTIME, ['--root', runtimeRoot, 'events', '--stats', 'bg'], { encoding: 'utf8' }));
    assert.equal(ev.type, 'stats');
    assert.equal(ev.data.memory.usage.limit, 96 << 20);
    assert.ok(ev.data.pids.current >= 1);
    const memory = cgroupMounts().map((m) => path.join(m, cgScope, 'bg')).find((d) => fs.existsSync(`${d}/memory.limit_in_bytes`) || fs.existsSync(`${d}/memory.max`));
    if (memory) assert.equal(fs.readFileSync(fs.existsSync(`${memory}/memory.max`) ? `${memory}/memory.max` : `${memory}/memory.limit_in_bytes`, 'utf8').trim(), String(96 << 20));

    await ok(['task', 'kill', '-s', 'SIGKILL', 'bg']);
    let s = await taskStatus('bg');
    for (let i = 0; i < 100 && s?.status !== 'STOPPED'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      s = await taskStatus('bg');
    }
    assert.equal(s?.status, 'STOPPED');
    await ok(['task', 'delete', 'bg']);
    await ok(['containers', 'rm', 'bg']);
    // delete removed berth-runtime's state and the container's cgroup.
    assert.deepEqual(fs.readdirSync(path.join(work, 'runtime-root', 'default')), []);
    for (const m of cgroupMounts()) assert.equal(fs.existsSync(path.join(m, cgScope, 'bg')), false, `${m}/${cgScope}/bg is left`);
  });
});
