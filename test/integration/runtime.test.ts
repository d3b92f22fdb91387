// berth-runtime, the OCI runtime command line, driven as its callers (containerd, podman, the
// runtime-tools suite) drive runc: bundles on disk, create/start/state/kill/delete, hooks, a
// console socket, exec, and bad bundles refused with nothing left behind.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cgroupMounts } from '../../src/kernel/cgroups.ts';
import { fnv64 } from '../../src/util/hash.ts';
import { busyboxTar, collect, isRoot, REPO, TestRoot, type Result } from '../helpers/berth.ts';

const RUNTIME = path.join(REPO, 'bin/berth-runtime');
const skip = !isRoot && 'needs root';
const hasRunc = (() => {
  try {
    execFileSync('runc', ['--version']);
    return true;
  } catch {
    return false;
  }
})();
let work: string;
let root: string;

function rt(args: string[], timeoutMs = 30_000): Promise<Result> {
  // The container's stdio is the runtime's (as with runc): a created container keeps them open,
  // so the commands that leave one behind write to files, which are read when they return.
  if (args[0] === 'create' || (args[0] === 'run' && args.includes('-d'))) {
    const out = path.join(work, `out-${process.hrtime.bigint()}`);
    const fd = fs.openSync(out, 'w+');
    const child = spawn(RUNTIME, ['--root', root, ...args], { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    return new Promise((resolve) => child.on('exit', (code, signal) => {
      const text = fs.readFileSync(out, 'utf8');
      resolve({ code, signal, stdout: text, stderr: text });
    }));
  }
  return collect(spawn(RUNTIME, ['--root', root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
}

async function ok(args: string[]): Promise<string> {
  const r = await rt(args);
  assert.equal(r.code, 0, `berth-runtime ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function state(id: string): Promise<{ status: string; pid: number; id: string; bundle: string }> {
  return JSON.parse(await ok(['state', id]));
}

/** A bundle over the busybox root, with the default spec changed by `edit`; `out` is bound at /out. */
function makeBundle(name: string, edit: (spec: any) => void): { dir: string; out: string } {
  const dir = path.join(work, name);
  fs.mkdirSync(path.join(dir, 'rootfs'), { recursive: true });
  execFileSync('tar', ['-xf', busyboxTar(), '-C', path.join(dir, 'rootfs')]);
  execFileSync(RUNTIME, ['spec', '--bundle', dir]);
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  spec.process.terminal = false;
  spec.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
  edit(spec);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return { dir, out };
}

/** Every cgroup directory of the container (berth/runtime/<root key>/<id>), in every hierarchy on this machine. */
function cgroupDirs(name: string): string[] {
  return cgroupMounts().map((m) => path.join(m, 'berth/runtime', fnv64(root).slice(0, 12), name)).filter((d) => fs.existsSync(d));
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

before(() => {
  if (skip) return;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-oci-'));
  root = path.join(work, 'state');
});

after(async () => {
  if (skip) return;
  // Whatever a failed test left: force-deleted, so no process, cgroup or mount outlives the suite.
  const left = JSON.parse((await rt(['list', '--format', 'json'])).stdout || '[]') as Array<{ id: string }>;
  for (const c of left) await rt(['delete', '--force', c.id]);
  fs.rmSync(work, { recursive: true, force: true });
});

test('create holds the process until start; state follows created, running, stopped; delete leaves nothing', { skip }, async () => {
  const { dir, out } = makeBundle('life', (s) => {
    s.process.args = ['sh', '-c', 'echo started > /out/started; exec sleep 30'];
  });
  const pidFile = path.join(work, 'life.pid');
  await ok(['create', '--bundle', dir, '--pid-file', pidFile, 'life']);
  const created = await state('life');
  assert.equal(created.status, 'created');
  assert.equal(created.bundle, dir);
  assert.equal(Number(fs.readFileSync(pidFile, 'utf8')), created.pid);
  assert.ok(fs.existsSync(`/proc/${created.pid}`));
  // The namespaces and mounts exist, the user's program has not run.
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(!fs.existsSync(path.join(out, 'started')));
  assert.equal(cgroupDirs('life').length > 0, true);
  const list = JSON.parse(await ok(['list', '--format', 'json']));
  assert.deepEqual(list.map((c: { id: string; status: string }) => [c.id, c.status]), [['life', 'created']]);

  await ok(['start', 'life']);
  await waitFor('the process to run', () => fs.existsSync(path.join(out, 'started')));
  const running = await state('life');
  assert.equal(running.status, 'running');
  assert.equal(running.pid, created.pid);
  // A second start, or a delete of a running container without --force: errors that change nothing.
  assert.match((await rt(['start', 'life'])).stderr, /cannot start a container that is running/);
  const del = await rt(['delete', 'life']);
  assert.notEqual(del.code, 0);
  assert.match(del.stderr, /running/);
  assert.equal((await state('life')).status, 'running');
  // ps lists the container's processes.
  assert.deepEqual(JSON.parse(await ok(['ps', '--format', 'json', 'life'])), [created.pid]);

  await ok(['kill', 'life', 'KILL']);
  await waitFor('stopped', async () => (await state('life')).status === 'stopped');
  assert.match((await rt(['kill', 'life'])).stderr, /cannot kill a container that is stopped/);
  await ok(['delete', 'life']);
  const gone = await rt(['state', 'life']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /does not exist/);
  assert.deepEqual(cgroupDirs('life'), []);
  assert.deepEqual(fs.readdirSync(root), []);
  // With its last container, the runtime's cgroup subtree goes too.
  assert.deepEqual(cgroupMounts().filter((m) => fs.existsSync(path.join(m, 'berth/runtime'))), []);
});

test('run: the exit status is the process\'s; the config\'s confinement applies inside', { skip }, async () => {
  const { dir } = makeBundle('conf', (s) => {
    s.process.args = ['sh', '-c', 'grep -E "^(CapBnd|CapPrm|CapInh|NoNewPrivs|Seccomp):" /proc/self/status; hostname; mkdir /tmp/x || echo mkdir-denied; ulimit -n; id -u; exit 7'];
    s.process.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL', 'CAP_CHOWN'], inheritable: [] };
    s.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 333, hard: 444 }];
    s.process.user = { uid: 0, gid: 0 };
    s.hostname = 'oci-box';
    // Everything allowed but mkdir/mkdirat, which fail with EPERM.
    s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
  });
  const r = await rt(['run', '--bundle', dir, 'conf']);
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stdout, /CapInh:\s+0000000000000000/);
  assert.match(r.stdout, /CapBnd:\s+0000000000000021/); // CHOWN (0) and KILL (5)
  // (Root's effective set becomes its permitted set at execve, by the kernel's rules.)
  assert.match(r.stdout, /CapPrm:\s+0000000000000021/);
  assert.match(r.stdout, /NoNewPrivs:\s+1/);
  assert.match(r.stdout, /Seccomp:\s+2/);
  assert.match(r.stdout, /oci-box/);
  assert.match(r.stdout, /mkdir-denied/);
  assert.match(r.stdout, /^333$/m);
  // run deletes the container after it exits.
  assert.deepEqual(fs.readdirSync(root), []);
  assert.deepEqual(cgroupDirs('conf'), []);
});

test('hooks run in the lifecycle\'s order with the state on stdin; a failing prestart hook fails create and leaves nothing', { skip }, async () => {
  const log = path.join(work, 'hooks.log');
  const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `read s; echo "${name} $s" >> ${log}`] });
  // startContainer runs inside the container (after pivot_root): its path and its log are the container's.
  const { dir, out } = makeBundle('hooks', (s) => {
    s.process.args = ['sh', '-c', 'echo process >> /out/inside.log'];
    s.hooks = {
      prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], createContainer: [hook('createContainer')],
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'read s; echo "startContainer $s" >> /out/inside.log; grep CapBnd /proc/self/status > /out/hook-caps'] }],
      poststart: [hook('poststart')], poststop: [hook('poststop')],
    };
  });
  await ok(['create', '--bundle', dir, 'hooks']);
  const pid = (await state('hooks')).pid;
  await ok(['start', 'hooks']);
  await waitFor('stopped', async () => (await state('hooks')).status === 'stopped');
  await ok(['delete', 'hooks']);
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop']);
  for (const l of lines) {
    const s = JSON.parse(l.slice(l.indexOf(' ') + 1));
    assert.equal(s.id, 'hooks');
    assert.equal(s.bundle, dir);
    if (!l.startsWith('poststop')) assert.equal(s.pid, pid, l);
  }
  // startContainer runs a program of the container's root: with the process's confinement.
  assert.match(fs.readFileSync(path.join(out, 'hook-caps'), 'utf8'), /CapBnd:\s+0000000020000420/);
  const inside = fs.readFileSync(path.join(out, 'inside.log'), 'utf8').trim().split('\n');
  assert.equal(inside[1], 'process');
  assert.equal(JSON.parse(inside[0].slice('startContainer '.length)).pid, pid);

  const bad = makeBundle('badhook', (s) => {
    s.hooks = { prestart: [{ path: '/bin/false' }] };
  });
  const r = await rt(['create', '--bundle', bad.dir, 'badhook']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /hook \/bin\/false/);
  assert.deepEqual(fs.readdirSync(root), []);
  assert.deepEqual(cgroupDirs('badhook'), []);
});

test('a terminal goes to the console socket; exec runs in the running container', { skip }, async () => {
  const { dir } = makeBundle('tty', (s) => {
    s.process.terminal = true;
    s.process.args = ['sh', '-c', 'tty; echo on-the-pty; exec sleep 30'];
  });
  // The receiving end: python's socket.recv_fds (Node cannot take fds off a unix socket).
  const sock = path.join(work, 'console.sock');
  const receiver = spawn('python3', ['-c', `
import socket, os, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
print('ready', flush=True)
c, _ = s.accept()
_, fds, _, _ = socket.recv_fds(c, 1, 1)
out = b''
while b'on-the-pty' not in out:
    out += os.read(fds[0], 1024)
print(out.decode(), flush=True)
`, sock], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Collected from the start: it may be done before start returns.
  const received = collect(receiver, 20_000);
  let got = '';
  receiver.stdout!.on('data', (d: Buffer) => (got += d));
  await waitFor('the receiver', () => got.includes('ready'));
  await ok(['create', '--bundle', dir, '--console-socket', sock, 'tty']);
  await ok(['start', 'tty']);
  const rr = await received;
  assert.equal(rr.code, 0, rr.stderr);
  assert.match(got, /\/dev\/pts\/0/);
  assert.match(got, /on-the-pty/);

  const ex = await rt(['exec', 'tty', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; hostname']);
  assert.equal(ex.code, 0, ex.stderr);
  assert.match(ex.stdout, /^sleep 30/);
  const code = await rt(['exec', 'tty', 'sh', '-c', 'exit 3']);
  assert.equal(code.code, 3);
  await ok(['delete', '--force', 'tty']);
  assert.deepEqual(fs.readdirSync(root), []);
  assert.deepEqual(cgroupDirs('tty'), []);
});

test('exec enters the container\'s user namespace and seccomp filter', { skip }, async () => {
  const { dir, out } = makeBundle('userns', (s) => {
    s.process.args = ['sleep', '30'];
    s.linux.namespaces.push({ type: 'user' });
    s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
  });
  // The mapped root is an unprivileged uid on the host: the root directory must let it in.
  fs.chmodSync(out, 0o777);
  fs.chmodSync(path.join(dir, 'rootfs'), 0o755);
  await ok(['create', '--bundle', dir, 'userns']);
  await ok(['start', 'userns']);
  const ex = await rt(['exec', 'userns', 'sh', '-c', 'cat /proc/self/uid_map; mkdir /tmp/x 2>/dev/null || echo mkdir-denied; touch /out/made-by-exec']);
  assert.equal(ex.code, 0, ex.stderr);
  assert.match(ex.stdout, /^\s*0\s+100000\s+65536/m);
  assert.match(ex.stdout, /mkdir-denied/);
  // The exec's root is the container's: on the host, an unprivileged uid.
  assert.equal(fs.statSync(path.join(out, 'made-by-exec')).uid, 100000);
  await ok(['delete', '--force', 'userns']);
});

test('without a mount namespace: mounts on the host under the runtime\'s own mount point, detached by delete', { skip }, async () => {
  const { dir } = makeBundle('hostmnt', (s) => {
    s.process.args = ['sleep', '30'];
    s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'mount');
  });
  const mounts = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir) || l.includes(path.join(root, 'hostmnt')));
  await ok(['create', '--bundle', dir, 'hostmnt']);
  await ok(['start', 'hostmnt']);
  const during = mounts();
  assert.ok(during.length > 1 && during.every((l) => l.split(' ')[4].startsWith(path.join(root, 'hostmnt', 'rootfs'))), during.join('\n'));
  await ok(['kill', 'hostmnt', 'KILL']);
  await waitFor('stopped', async () => (await state('hostmnt')).status === 'stopped');
  // The init was handed to our caller at create (as runc's is): no monitor of ours is left to
  // detach them at the exit, so delete does.
  await ok(['delete', 'hostmnt']);
  assert.deepEqual(mounts(), []);
});

test('cgroup v2: the container\'s own cgroup, devices confined by the eBPF program, gone with it', { skip }, async () => {
  // This host's cgroup2 mount (the unified one of a hybrid host, or the only one).
  const cgroup2 = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup2 /.test(l))?.split(' ')[4];
  if (!cgroup2) return;
  const { dir, out } = makeBundle('v2', (s) => {
    // /dev/kmsg (1:11) made in the container: the node exists, the device program refuses it.
    s.process.args = ['sh', '-c', 'cat /proc/self/cgroup > /out/cgroup; mknod /dev/kmsg2 c 1 11 && (echo x > /dev/kmsg2 && echo kmsg-open || echo kmsg-denied) > /out/kmsg; echo ok > /dev/null && echo null-ok >> /out/kmsg'];
    s.linux.cgroupsPath = 'oci-v2-test';
    for (const set of ['bounding', 'effective', 'permitted']) s.process.capabilities[set].push('CAP_MKNOD');
  });
  const v2 = (args: string[]) => collect(spawn(RUNTIME, ['--root', root, ...args], { env: { ...process.env, BERTH_CGROUP_ROOT: cgroup2 }, stdio: ['ignore', 'pipe', 'pipe'] }), 30_000);
  const r = await v2(['run', '--bundle', dir, 'v2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(path.join(out, 'kmsg'), 'utf8'), 'kmsg-denied\nnull-ok\n');
  assert.match(fs.readFileSync(path.join(out, 'cgroup'), 'utf8'), /^0::\/$/m);
  assert.ok(!fs.existsSync(path.join(cgroup2, 'berth/runtime/oci-v2-test')));
});

test('bad bundles and requests: clear errors, nothing created', { skip }, async () => {
  const cases: Array<[string, (s: any) => void, RegExp]> = [
    ['ns', (s) => s.linux.namespaces.push({ type: 'bogus' }), /unknown namespace type "bogus"/],
    ['cap', (s) => (s.process.capabilities.bounding = ['CAP_NOPE']), /unknown capability/],
    ['rlimit', (s) => (s.process.rlimits = [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }]), /unknown rlimit/],
    ['args', (s) => (s.process.args = []), /process.args/],
    ['version', (s) => (s.ociVersion = '0.5.0'), /unsupported ociVersion/],
    ['nspath', (s) => s.linux.namespaces.splice(1, 1, { type: 'network', path: '/proc/self/ns/ipc' }), /setns/],
    ['exe', (s) => (s.process.args = ['/no/such/program']), /no\/such\/program/],
    // Written as the host's root: only sysctls of a namespace the container has of its own.
    ['sysctl', (s) => (s.linux.sysctl = { 'kernel.core_pattern': '|/tmp/x' }), /not in a separate kernel namespace/],
    ['sysctl-net', (s) => {
      s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'network');
      s.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    }, /needs a network namespace/],
    ['devrule', (s) => (s.linux.resources.devices = [{ allow: true, type: 'c', access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }]), /denies part of what an earlier rule allows/],
  ];
  for (const [name, edit, want] of cases) {
    const { dir } = makeBundle(`bad-${name}`, edit);
    const r = await rt(['create', '--bundle', dir, `bad-${name}`]);
    if (name === 'exe') {
      // The program is looked up when it is executed, at start: create succeeds, then the container stops.
      assert.equal(r.code, 0, r.stderr);
      const s = await rt(['start', `bad-${name}`]);
      await waitFor('stopped', async () => (await state(`bad-${name}`)).status === 'stopped');
      await ok(['delete', `bad-${name}`]);
      void s;
      continue;
    }
    assert.notEqual(r.code, 0, name);
    assert.match(r.stderr, want, name);
    assert.deepEqual(fs.readdirSync(root).filter((n) => !n.startsWith('.')), [], name);
    assert.deepEqual(cgroupDirs(`bad-${name}`), [], name);
  }
  const missing = await rt(['create', '--bundle', path.join(work, 'nowhere'), 'x']);
  assert.match(missing.stderr, /cannot read .*config\.json/);
  assert.match((await rt(['create', '--bundle', work, '../escape'])).stderr, /invalid container id/);
  // The same id twice: the second create is refused and the first container is untouched.
  const { dir } = makeBundle('twice', (s) => (s.process.args = ['sleep', '30']));
  await ok(['create', '--bundle', dir, 'twice']);
  const again = await rt(['create', '--bundle', dir, 'twice']);
  assert.match(again.stderr, /already exists/);
  assert.equal((await state('twice')).status, 'created');
  await ok(['delete', '--force', 'twice']);
  assert.deepEqual(fs.readdirSync(root), []);
});

// The engine handing its containers to another OCI runtime: Debian's runc, which setup installs.
describe('berth run --runtime runc', { skip: skip || (!hasRunc && 'runc is not installed') }, () => {
  let engine: TestRoot;
  const scopes = () => cgroupMounts().map((m) => path.join(m, 'berth', engine.key)).filter((d) => fs.existsSync(d));
  const runcList = (id: string) => execFileSync('runc', ['--root', path.join(engine.dir, 'containers', id, 'runtime-state'), 'list', '--format', 'json'], { encoding: 'utf8' });
  before(async () => {
    engine = await TestRoot.withBusybox();
  });
  after(async () => {
    await engine.cleanup();
  });

  test('foreground: output, exit status and docker\'s confinement, from runc', async () => {
    const r = await engine.run(['run', '--rm', '--runtime', 'runc', 'busybox', 'sh', '-c',
      'grep -E "^(CapBnd|Seccomp|NoNewPrivs):" /proc/self/status; cat /proc/1/cmdline; echo; hostname; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /CapBnd:\s+00000000a80425fb/);
    assert.match(r.stdout, /Seccomp:\s+2/);
    assert.match(r.stdout, /^sh\0-c\0/m);
    assert.deepEqual(engine.leftovers(), []);
  });

  test('detached: runc runs the init; exec, logs, inspect, stop and rm work on it; limits are ours', async () => {
    // The health probe must enter the container runc started (its pid 1 is sleep), never the
    // runtime's own process on the host.
    const d = await engine.run(['run', '-d', '--runtime', 'runc', '--name', 'viarunc', '-m', '64m', '--pids-limit', '33',
      '--health-cmd', 'grep -q sleep /proc/1/cmdline', '--health-interval', '1s', 'busybox', 'sh', '-c', 'echo up; exec sleep 60']);
    assert.equal(d.code, 0, d.stderr);
    const id = d.stdout.trim();
    // runc knows it, and its init is the pid berth reports.
    const listed = JSON.parse(runcList(id)) as Array<{ id: string; pid: number; status: string }>;
    assert.deepEqual(listed.map((c) => [c.id, c.status]), [[id, 'running']]);
    const pid = Number((await engine.run(['inspect', '-f', '{{.State.Pid}} {{.HostConfig.Runtime}}', 'viarunc'])).stdout.split(' ')[0]);
    assert.equal(pid, listed[0].pid);
    assert.match((await engine.run(['inspect', '-f', '{{.HostConfig.Runtime}}', 'viarunc'])).stdout, /runc/);
    const ex = await engine.run(['exec', 'viarunc', 'sh', '-c', 'cat /proc/1/cmdline; echo; cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /proc/self/cgroup | head -1']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.match(ex.stdout, /^sleep\x0060/);
    assert.match((await engine.eventually(() => engine.run(['logs', 'viarunc']), (r) => r.stdout.includes('up'))).stdout, /up/);
    assert.match((await engine.eventually(() => engine.run(['ps', '--format', '{{.Status}}']), (r) => /healthy/.test(r.stdout))).stdout, /\(healthy\)/);
    // The cgroup runc put the init in is the one berth made and limited.
    const memory = engine.cgroupDirs(id).find((x) => fs.existsSync(path.join(x, 'memory.limit_in_bytes')) || fs.existsSync(path.join(x, 'memory.max')));
    assert.ok(memory, 'a memory cgroup');
    const limit = fs.existsSync(path.join(memory!, 'memory.max')) ? fs.readFileSync(path.join(memory!, 'memory.max'), 'utf8') : fs.readFileSync(path.join(memory!, 'memory.limit_in_bytes'), 'utf8');
    assert.equal(Number(limit), 64 * 1024 * 1024);
    assert.ok(fs.readFileSync(path.join(memory!, 'cgroup.procs'), 'utf8').split('\n').map(Number).includes(pid));
    const stop = await engine.run(['stop', '-t', '1', 'viarunc']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match((await engine.run(['ps', '-a', '--filter', 'name=viarunc', '--format', '{{.Status}}'])).stdout, /Exited \(137\)/);
    // Before rm, runc has already deleted its container (its `run` does at exit).
    assert.deepEqual(JSON.parse(runcList(id) || 'null') ?? [], []);
    assert.equal((await engine.run(['rm', 'viarunc'])).code, 0);
    assert.deepEqual(engine.leftovers(), []);
    // runc made the container's cgroup in every hierarchy: none of them keeps the root's scope.
    assert.deepEqual(scopes(), []);
  });

  test('kill -9 of the monitor: runc and the init go, the next command cleans up, the container starts again', async () => {
    const d = await engine.run(['run', '-d', '--runtime', 'runc', '--name', 'crashy', 'busybox', 'sleep', '60']);
    assert.equal(d.code, 0, d.stderr);
    const id = d.stdout.trim();
    const state = JSON.parse(fs.readFileSync(path.join(engine.dir, 'containers', id, 'state.json'), 'utf8'));
    process.kill(state.Monitor.pid, 'SIGKILL');
    const ps = await engine.eventually(() => engine.run(['ps', '-a', '--filter', 'name=crashy', '--format', '{{.Status}}']), (r) => /Exited/.test(r.stdout));
    assert.match(ps.stdout, /Exited \(255\)/);
    assert.deepEqual(engine.leftovers().filter((l) => !l.endsWith(id)), []);
    assert.deepEqual(engine.cgroupDirs(id), []);
    const again = await engine.run(['start', 'crashy']);
    assert.equal(again.code, 0, again.stderr);
    assert.match((await engine.run(['exec', 'crashy', 'echo', 'back'])).stdout, /back/);
    assert.equal((await engine.run(['rm', '-f', 'crashy'])).code, 0);
    assert.deepEqual(engine.leftovers(), []);
    assert.deepEqual(scopes(), []);
  });

  test('an unknown runtime is refused at create, with docker\'s message', async () => {
    const r = await engine.run(['run', '--rm', '--runtime', 'no-such-runtime', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /unknown or invalid runtime name: no-such-runtime/);
    assert.deepEqual(engine.leftovers(), []);
  });
});
