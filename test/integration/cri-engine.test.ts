// What the CRI needs of the engine, each through berth's CLI or the Docker API on its own: the
// pause image, CRI-format logs, cgroup parents, masked/read-only paths, namespace sharing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { BERTH, collect, isRoot, REPO, TestRoot } from '../helpers/berth.ts';
import { daemonWithBusybox, skip as daemonSkip, TestDaemon } from '../helpers/daemon.ts';

const NODE = process.execPath;

describe('cri engine additions', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  /** ensurePauseImage in a process of its own (as the daemon and a CLI would call it). */
  const ensurePause = () =>
    collect(spawn(NODE, ['-e', `const { Engine } = await import(${JSON.stringify(`${REPO}/src/engine/engine.ts`)});
const { ensurePauseImage } = await import(${JSON.stringify(`${REPO}/src/engine/pause.ts`)});
const e = new Engine(process.env.BERTH_ROOT); const ref = await ensurePauseImage(e); console.log(ref, e.images.resolve(ref).id);`, '--input-type=module'], { env: root.env(), stdio: ['ignore', 'pipe', 'pipe'] }), 30_000);

  test('pause image: made once by concurrent callers, runs as pid 1, reaps orphans, stops at once on SIGTERM', async () => {
    const [a, b] = await Promise.all([ensurePause(), ensurePause()]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(a.stdout, b.stdout, 'both callers got the same image');
    const [ref, id] = a.stdout.trim().split(' ');
    assert.match(ref, /^berth\.local\/pause:/);
    assert.equal((await ensurePause()).stdout, a.stdout, 'idempotent');
    const images = await root.run(['images', '--format', '{{.Repository}} {{.ID}}']);
    assert.equal(images.stdout.split('\n').filter((l) => l.startsWith('berth.local/pause ')).length, 1);
    assert.equal((await root.run(['image', 'inspect', '-f', '{{json .Config.Entrypoint}} {{len .RootFS.Layers}}', ref])).stdout.trim(), '["/pause"] 1');
    assert.ok(id.startsWith('sha256:'));

    assert.equal((await root.run(['run', '-d', '--name', 'pod', ref])).code, 0);
    // A container in the pod's pid namespace leaves orphans: they become the pause process's
    // children, and it reaps them.
    const kid = await root.run(['run', '-d', '--name', 'kid', '--pid', 'container:pod', 'busybox', 'sh', '-c', '(sleep 2 &); (sleep 2 &); exec sleep 30']);
    assert.equal(kid.code, 0, kid.stderr);
    const ps = async () => (await root.run(['exec', 'kid', 'ps', '-o', 'pid,ppid,stat,args'])).stdout;
    const orphans = (out: string) => out.split('\n').filter((l) => /^\s*\d+\s+1\s+\S+\s+sleep 2$/.test(l)).length;
    const during = await root.eventually(ps, (out) => orphans(out) === 2);
    assert.equal(orphans(during), 2, during);
    assert.match(during, /^\s*1\s+0\s+S\s+\/pause$/m);
    const afterwards = await root.eventually(ps, (out) => !/sleep 2$/m.test(out), 10_000);
    assert.doesNotMatch(afterwards, /sleep 2$/m);
    assert.doesNotMatch(afterwards, /^\s*\d+\s+\d+\s+Z/m, 'the orphans were reaped, not left as zombies');
    assert.equal((await root.run(['rm', '-f', 'kid'])).code, 0);
    const t0 = Date.now();
    assert.equal((await root.run(['stop', 'pod'])).code, 0);
    const stopMs = Date.now() - t0;
    assert.ok(stopMs < 2000, `stop took ${stopMs} ms`);
    assert.equal((await root.run(['inspect', '-f', '{{.State.ExitCode}}', 'pod'])).stdout.trim(), '0');
    assert.equal((await root.run(['rm', 'pod'])).code, 0);
    assert.deepEqual(root.leftovers(), []);
  });
  test('CRI log driver: both streams, long and unterminated lines as P records, parent dirs made, 0640, reopen after rename', async () => {
    const dir = path.join(root.dir, 'pods', 'ns_pod_uid', 'ctr');
    const file = path.join(dir, '0.log');
    // A line of 20000 bytes (longer than the monitor's 16 KiB buffer), then one after the reopen, then a piece without its newline.
    const script = 'echo out1; echo err1 >&2; head -c 20000 /dev/zero | tr "\\0" a; echo; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo after; echo err2 >&2; printf tail';
    const r = await root.run(['run', '-d', '--name', 'crilog', '--log-driver', 'cri', '--log-opt', `path=${file}`, 'busybox', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    await root.until(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').split('\n').length >= 5, (ok) => ok);
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    fs.renameSync(file, `${file}.1`);
    const reopen = await root.run(['container', 'reopen-log', 'crilog']);
    assert.equal(reopen.code, 0, reopen.stderr);
    assert.ok(fs.existsSync(file), 'the monitor made the file again before answering');
    assert.equal((await root.run(['exec', 'crilog', 'touch', '/tmp/go'])).code, 0);
    assert.equal((await root.run(['wait', 'crilog'])).stdout.trim(), '0');
    const record = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([FP]) (.*)$/;
    const parse = (f: string) => fs.readFileSync(f, 'utf8').split('\n').slice(0, -1).map((l) => {
      const m = record.exec(l);
      assert.ok(m, `not a CRI record: ${l.slice(0, 80)}`);
      return [m[2], m[3], m[4]];
    });
    const before = parse(`${file}.1`);
    assert.deepEqual(before.filter(([s]) => s === 'stderr'), [['stderr', 'F', 'err1']]);
    assert.deepEqual(before.filter(([s]) => s === 'stdout').map(([, t, c]) => [t, c.length]), [['F', 4], ['P', 16384], ['F', 20000 - 16384]]);
    assert.equal(before.find(([, , c]) => c.startsWith('a'))![2], 'a'.repeat(16384));
    const afterwards = parse(file);
    assert.deepEqual(afterwards.filter(([s]) => s === 'stdout'), [['stdout', 'F', 'after'], ['stdout', 'P', 'tail']]);
    assert.deepEqual(afterwards.filter(([s]) => s === 'stderr'), [['stderr', 'F', 'err2']]);
    // berth logs reads the format back (the rotated file first), pieces joined.
    const logs = await root.run(['logs', 'crilog']);
    assert.equal(logs.stdout, `out1\n${'a'.repeat(20000)}\nafter\ntail`);
    assert.equal(logs.stderr, 'err1\nerr2\n');
    const stopped = await root.run(['container', 'reopen-log', 'crilog']);
    assert.equal(stopped.code, 125);
    assert.match(stopped.stderr, /is not running/);
    const bad = await root.run(['create', '--log-driver', 'cri', '--log-opt', 'path=relative.log', 'busybox']);
    assert.match(bad.stderr, /absolute log file path/);
    assert.equal((await root.run(['rm', 'crilog'])).code, 0);
    assert.ok(fs.existsSync(`${file}.1`), 'the kubelet owns the log files: rm leaves them');
    assert.deepEqual(root.leftovers(), []);
  });
  describe('CgroupParent', () => {
    const tag = `berth-test-kubepods-${process.pid}`;
    const cgroup2 = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup2 /.test(l))?.split(' ')[4];
    /** Every hierarchy's mount (v1's, and the cgroup2 mount the v2 runs use). */
    const mounts = () => [...new Set(fs.readdirSync('/sys/fs/cgroup').map((d) => `/sys/fs/cgroup/${d}`).filter((d) => fs.statSync(d).isDirectory()).concat(cgroup2 ?? []))];
    const under = (rel: string) => mounts().filter((m) => fs.existsSync(path.join(m, rel)));
    after(() => {
      // The test's parents (berth never removes a parent): children first.
      for (const m of mounts()) {
        for (const rel of [`${tag}/pod1`, `${tag}/pod2`, tag, `berthtest${process.pid}-pod3.slice`, `berthtest${process.pid}.slice`].map((r) => r.replace(`berthtest${process.pid}-pod3.slice`, `berthtest${process.pid}.slice/berthtest${process.pid}-pod3.slice`))) {
          try {
            fs.rmdirSync(path.join(m, rel));
          } catch {}
        }
      }
    });

    for (const v2 of [false, true]) {
      test(`the container's cgroup under a cgroupfs parent and a systemd slice, limits and update there, only its own removed (cgroup v${v2 ? 2 : 1})`, { skip: v2 && !cgroup2 && 'no cgroup2 mount' }, async () => {
        const env = v2 ? { ...root.env(), BERTH_CGROUP_ROOT: cgroup2 } : root.env();
        const run = (args: string[]) => collect(spawn(BERTH, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }), 30_000);
        const parent = `/${tag}/pod1`;
        // The hybrid host's cgroup2 mount has no controllers: there, placement only.
        const c = await run(['run', '-d', '--name', 'parented', '--cgroup-parent', parent, ...(v2 ? [] : ['-m', '64m']), 'busybox', 'sleep', '60']);
        assert.equal(c.code, 0, c.stderr);
        const id = c.stdout.trim();
        const pid = (await run(['inspect', '-f', '{{.State.Pid}}', 'parented'])).stdout.trim();
        const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
        if (v2) {
          assert.ok(fs.readFileSync(path.join(cgroup2!, tag, 'pod1', id, 'cgroup.procs'), 'utf8').split('\n').includes(pid));
        } else {
          for (const c of ['memory', 'pids', 'cpu', 'freezer', 'devices', 'cpuset', 'blkio']) assert.ok(lines.some((l) => l.split(':')[1]?.split(',').includes(c) && l.endsWith(`:${parent}/${id}`)), `${c}: ${lines.join(' | ')}`);
          const mem = `/sys/fs/cgroup/memory${parent}/${id}/memory.limit_in_bytes`;
          assert.equal(fs.readFileSync(mem, 'utf8').trim(), String(64 * 1024 * 1024));
          assert.equal((await run(['update', '-m', '96m', 'parented'])).code, 0);
          assert.equal(fs.readFileSync(mem, 'utf8').trim(), String(96 * 1024 * 1024));
          assert.equal((await run(['pause', 'parented'])).code, 0);
          assert.equal((await run(['unpause', 'parented'])).code, 0);
        }
        assert.equal((await run(['inspect', '-f', '{{.HostConfig.CgroupParent}}', 'parented'])).stdout.trim(), parent);
        assert.match((await run(['top', 'parented'])).stdout, /sleep 60/);
        // A systemd slice name is its cgroupfs path.
        const slice = `berthtest${process.pid}-pod3.slice`;
        const s = await run(['run', '--rm', '--cgroup-parent', slice, 'busybox', 'true']);
        assert.equal(s.code, 0, s.stderr);
        assert.ok(under(`berthtest${process.pid}.slice/${slice}`).length > 0, 'the slice was made where systemd puts it');
        assert.deepEqual(under(`berthtest${process.pid}.slice/${slice}`).flatMap((m) => fs.readdirSync(path.join(m, `berthtest${process.pid}.slice`, slice), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)), [], '--rm took its own cgroup');
        assert.equal((await run(['rm', '-f', 'parented'])).code, 0);
        assert.deepEqual(under(`${tag}/pod1/${id}`), [], 'its own cgroup is gone');
        assert.ok(under(`${tag}/pod1`).length > 0, 'the parent stays: it is the caller\'s');
        assert.deepEqual(fs.readdirSync(path.join(root.dir, 'cgroup-parents')), []);
        for (const bad of ['/a/../b', 'a-.slice', '/', 'x y']) {
          const r = await run(['create', '--cgroup-parent', bad, 'busybox']);
          assert.equal(r.code, 125, bad);
          assert.match(r.stderr, /invalid cgroup parent/);
        }
        assert.deepEqual(root.leftovers(), []);
      });
    }

    test('leak-free after kill -9: a start killed once the cgroup exists, and a monitor killed while it runs', async () => {
      const parent = `/${tag}/pod2`;
      const crash = (step: string, args: string[]) => collect(spawn(BERTH, args, { env: { ...root.env(), BERTH_TEST_CRASH: '1', BERTH_CRASH_AT: step }, stdio: ['ignore', 'pipe', 'pipe'] }), 30_000);
      assert.equal((await root.run(['create', '--name', 'crashed', '--cgroup-parent', parent, 'busybox', 'sleep', '60'])).code, 0);
      const id = (await root.run(['inspect', '-f', '{{.Id}}', 'crashed'])).stdout.trim();
      const r = await crash('start:cgroups-created', ['start', 'crashed']);
      assert.equal(r.signal, 'SIGKILL', r.stderr);
      assert.ok(under(`${tag}/pod2/${id}`).length > 0, 'the killed start left its cgroup');
      assert.equal((await root.run(['start', 'crashed'])).code, 0, 'the next start replaces it');
      // The monitor (and with it the container) killed: the next command's sweep finds the cgroup through its marker.
      const pid = Number((await root.run(['inspect', '-f', '{{.State.Pid}}', 'crashed'])).stdout.trim());
      const monitor = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      process.kill(monitor, 'SIGKILL');
      await root.until(() => fs.existsSync(`/proc/${pid}`), (alive) => !alive);
      const ps = await root.run(['ps', '-a', '--format', '{{.Names}} {{.State}}']);
      assert.match(ps.stdout, /^crashed exited$/m);
      assert.deepEqual(under(`${tag}/pod2/${id}`), []);
      assert.equal((await root.run(['rm', 'crashed'])).code, 0);
      assert.deepEqual(fs.readdirSync(path.join(root.dir, 'cgroup-parents')), []);
      assert.deepEqual(root.leftovers(), []);
    });
  });
  test('namespace sharing: UTS, IPC (shareable) and PID of another container', async () => {
    const hold = await root.run(['run', '-d', '--name', 'holder', '--hostname', 'podhost', '--ipc', 'shareable', '--shm-size', '8m', '--sysctl', 'kernel.shmmax=123456', 'busybox', 'sh', '-c', 'echo held > /dev/shm/mark; sleep 60']);
    assert.equal(hold.code, 0, hold.stderr);
    const j = await root.run(['run', '--rm', '--uts', 'container:holder', '--ipc', 'container:holder', '--pid', 'container:holder', 'busybox', 'sh', '-c',
      'hostname; cat /etc/hostname /proc/sys/kernel/shmmax; ps -o args | grep -c "^sleep 60"; cat /dev/shm/mark; echo joined > /dev/shm/back; df -k /dev/shm | tail -1 | awk \'{print $2}\'']);
    assert.equal(j.code, 0, j.stderr);
    // The hostname of the joined UTS namespace, its IPC namespace's sysctl, its processes, and
    // its /dev/shm (POSIX shared memory), with the holder's size, both ways.
    assert.equal(j.stdout, 'podhost\npodhost\n123456\n1\nheld\n8192\n');
    assert.equal((await root.run(['exec', 'holder', 'cat', '/dev/shm/back'])).stdout, 'joined\n');
    // A private container's /dev/shm is its own (docker's default).
    assert.equal((await root.run(['run', '-d', '--name', 'private', 'busybox', 'sh', '-c', 'echo mine > /dev/shm/mark; sleep 60'])).code, 0);
    const p = await root.run(['run', '--rm', '--ipc', 'container:private', 'busybox', 'sh', '-c', 'cat /dev/shm/mark 2>/dev/null || echo none']);
    assert.equal(p.stdout, 'none\n');
    assert.equal((await root.run(['rm', '-f', 'private'])).code, 0);
    // A monitor killed before it unmounts: the next command's reconcile does, and a start mounts a fresh one.
    const pid = Number((await root.run(['inspect', '-f', '{{.State.Pid}}', 'holder'])).stdout.trim());
    const monitor = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    process.kill(monitor, 'SIGKILL');
    await root.until(() => fs.existsSync(`/proc/${pid}`), (alive) => !alive);
    assert.match((await root.run(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout, /^holder exited$/m);
    assert.deepEqual(root.mounts(), []);
    assert.equal((await root.run(['start', 'holder'])).code, 0);
    assert.equal((await root.run(['exec', 'holder', 'sh', '-c', 'ls /dev/shm'])).stdout, 'mark\n');
    // --ipc none: an IPC namespace of its own and no /dev/shm (docker's).
    const none = await root.run(['run', '--rm', '--ipc', 'none', 'busybox', 'sh', '-c', 'grep -c " /dev/shm " /proc/self/mountinfo; true']);
    assert.equal(none.stdout, '0\n');
    const own = await root.run(['run', '--rm', '--ipc', 'shareable', 'busybox', 'cat', '/proc/sys/kernel/shmmax']);
    assert.notEqual(own.stdout, '123456\n');
    const conflict = await root.run(['run', '--rm', '--uts', 'container:holder', '--hostname', 'x', 'busybox', 'true']);
    assert.match(conflict.stderr, /conflicting options: hostname and the UTS mode/);
    assert.equal((await root.run(['rm', '-f', 'holder'])).code, 0);
    assert.deepEqual(root.leftovers(), []);
  });

  test('what the CRI maps onto: seccomp JSON and unconfined, no-new-privileges, numeric groups, a uid without a passwd entry, read-only root, masked paths, rslave', async () => {
    const profile = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] });
    const out = async (args: string[]) => {
      const r = await root.run(['run', '--rm', ...args]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    assert.equal(await out(['--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'mkdir /x 2>/dev/null && echo made || echo refused']), 'refused\n');
    assert.equal(await out(['--security-opt', 'seccomp=unconfined', 'busybox', 'grep', 'Seccomp:', '/proc/self/status']), 'Seccomp:\t0\n');
    assert.equal(await out(['busybox', 'grep', 'Seccomp:', '/proc/self/status']), 'Seccomp:\t2\n');
    assert.equal(await out(['--security-opt', 'no-new-privileges', 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status']), 'NoNewPrivs:\t1\n');
    assert.equal(await out(['-u', '12345:23456', '--group-add', '777', '--group-add', '888', 'busybox', 'sh', '-c', 'id -u; id -g; id -G']), '12345\n23456\n23456 777 888\n');
    assert.equal(await out(['--read-only', 'busybox', 'sh', '-c', 'touch /x 2>/dev/null && echo wrote || echo ro']), 'ro\n');
    const masked = 'grep -cE " /proc/(keys|timer_list) " /proc/self/mountinfo; grep " /proc/sys " /proc/self/mountinfo | grep -c " ro,"';
    assert.equal(await out(['busybox', 'sh', '-c', masked]), '2\n1\n');
    assert.equal(await out(['--security-opt', 'systempaths=unconfined', 'busybox', 'sh', '-c', `${masked}; true`]), '0\n0\n');
    assert.equal(await out(['--privileged', 'busybox', 'sh', '-c', `${masked}; true`]), '0\n0\n');
    // rslave: a mount made on the host under the source after the start shows in the container
    // (the source must be a shared mount, as the kubelet makes its directories).
    const src = path.join(root.dir, 'prop');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    execFileSync('mount', ['--bind', src, src]);
    try {
      execFileSync('mount', ['--make-shared', src]);
      assert.equal((await root.run(['run', '-d', '--name', 'slave', '-v', `${src}:/m:rslave`, 'busybox', 'sleep', '60'])).code, 0);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'berthtest', path.join(src, 'sub')]);
      fs.writeFileSync(path.join(src, 'sub', 'f'), 'from the host\n');
      assert.equal((await root.run(['exec', 'slave', 'cat', '/m/sub/f'])).stdout, 'from the host\n');
      execFileSync('umount', [path.join(src, 'sub')]);
      assert.equal((await root.run(['exec', 'slave', 'ls', '/m/sub'])).stdout, '');
      assert.equal((await root.run(['rm', '-f', 'slave'])).code, 0);
    } finally {
      execFileSync('umount', ['-R', src]);
    }
    assert.deepEqual(root.leftovers(), []);
  });
});

describe('cri engine additions through the Docker API', { skip: daemonSkip }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  daemonWithBusybox((r, daemon) => {
    root = r;
    d = daemon;
  });
  const create = async (body: object) => {
    const r = await d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', ...body }));
    assert.equal(r.status, 201, r.body);
    return (JSON.parse(r.body) as { Id: string }).Id;
  };
  const start = async (id: string) => assert.equal((await d.request('POST', `/containers/${id}/start`)).status, 204);

  test('CgroupParent, MaskedPaths/ReadonlyPaths and UTSMode container: from the create body; docker update applies cpuset, shares, quota and memory live', async () => {
    const tag = `berth-test-api-${process.pid}`;
    try {
      const r = await d.docker(['run', '-d', '--name', 'web', '--cgroup-parent', `/${tag}/pod1`, '--hostname', 'podhost', 'busybox', 'sleep', '60']);
      assert.equal(r.code, 0, r.stderr);
      const id = r.stdout.trim();
      assert.equal((await d.docker(['inspect', '-f', '{{.HostConfig.CgroupParent}}', 'web'])).stdout.trim(), `/${tag}/pod1`);
      const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'web'])).stdout.trim();
      assert.match(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'), new RegExp(`:memory:/${tag}/pod1/${id}$`, 'm'));
      const up = await d.docker(['update', '--cpuset-cpus', '0', '--cpu-shares', '512', '--cpu-quota', '50000', '--cpu-period', '100000', '-m', '100m', '--memory-swap', '200m', 'web']);
      assert.equal(up.code, 0, up.stderr);
      const cg = (c: string, f: string) => fs.readFileSync(`/sys/fs/cgroup/${c}/${tag}/pod1/${id}/${f}`, 'utf8').trim();
      assert.deepEqual([cg('cpuset', 'cpuset.cpus'), cg('cpu', 'cpu.shares'), cg('cpu', 'cpu.cfs_quota_us'), cg('memory', 'memory.limit_in_bytes')], ['0', '512', '50000', String(100 * 1024 * 1024)]);
      assert.equal((await d.docker(['exec', 'web', 'grep', 'Cpus_allowed_list', '/proc/1/status'])).stdout, 'Cpus_allowed_list:\t0\n');

      // Custom masked and read-only paths; [] for none.
      const custom = await create({ Cmd: ['sh', '-c', 'cat /etc/hostname | wc -c; touch /etc/ro 2>/dev/null && echo rw || echo ro; grep -c "/proc/keys" /proc/self/mountinfo; true'], HostConfig: { MaskedPaths: ['/etc/hostname'], ReadonlyPaths: ['/etc'] } });
      await start(custom);
      assert.equal((await d.docker(['wait', custom])).stdout.trim(), '0');
      assert.equal((await d.docker(['logs', custom])).stdout, '0\nro\n0\n');
      assert.deepEqual(JSON.parse((await d.docker(['inspect', '-f', '{{json .HostConfig.MaskedPaths}}', custom])).stdout), ['/etc/hostname']);
      const none = await d.docker(['run', '--rm', '--security-opt', 'systempaths=unconfined', 'busybox', 'grep', '-c', '/proc/keys', '/proc/self/mountinfo']);
      assert.equal(none.stdout.trim(), '0');
      const bad = await d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { MaskedPaths: ['relative'] } }));
      assert.equal(bad.status, 400);

      // The pod's containers share its UTS namespace (docker's CLI refuses --uts container:, the API takes it).
      const joined = await create({ Cmd: ['hostname'], HostConfig: { UTSMode: 'container:web', PidMode: 'container:web', IpcMode: 'container:web' } });
      await start(joined);
      assert.equal((await d.docker(['wait', joined])).stdout.trim(), '0');
      assert.equal((await d.docker(['logs', joined])).stdout, 'podhost\n');
      assert.equal((await d.docker(['rm', joined, custom])).code, 0);
      assert.equal((await d.docker(['rm', '-f', 'web'])).code, 0);
      assert.ok(!fs.existsSync(`/sys/fs/cgroup/memory/${tag}/pod1/${id}`));
    } finally {
      for (const m of fs.readdirSync('/sys/fs/cgroup')) for (const rel of [`${tag}/pod1`, tag]) try { fs.rmdirSync(`/sys/fs/cgroup/${m}/${rel}`); } catch {}
    }
  });

  test('docker logs reads a CRI log', async () => {
    const file = path.join(root.dir, 'pods', 'api', '0.log');
    assert.equal((await root.run(['run', '-d', '--name', 'crilog', '--log-driver', 'cri', '--log-opt', `path=${file}`, 'busybox', 'sh', '-c', 'echo out; echo err >&2; printf part'])).code, 0);
    assert.equal((await d.docker(['wait', 'crilog'])).stdout.trim(), '0');
    const logs = await d.docker(['logs', 'crilog']);
    assert.equal(logs.stdout, 'out\npart');
    assert.equal(logs.stderr, 'err\n');
    assert.equal((await d.docker(['rm', 'crilog'])).code, 0);
  });
});
