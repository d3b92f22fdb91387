// Real containers through the real CLI: namespaces, overlay root, cgroups, exit codes, cleanup.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collect, isRoot, TestRoot } from '../helpers/berth.ts';

describe('berth run', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  test('runs a command and passes its output and status through', async () => {
    const r = await root.run(['run', '--rm', 'busybox', 'echo', 'hello']);
    assert.equal(r.stdout, 'hello\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await root.run(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
    assert.deepEqual(root.leftovers(), []);
  });

  test('a container killed by a signal exits 128+n', async () => {
    const child = root.spawn(['run', '--rm', '--name', 'sig', 'busybox', 'sleep', '30']);
    const done = collect(child, 30_000);
    const id = await root.until(() => { try { return fs.readFileSync(path.join(root.dir, 'names', 'sig'), 'utf8'); } catch { return ''; } }, (v) => v.length === 64);
    const state = path.join(root.dir, 'containers', id, 'state.json');
    const pid = await root.until(() => (fs.existsSync(state) ? JSON.parse(fs.readFileSync(state, 'utf8')).Pid : 0), (p) => p > 0);
    process.kill(pid, 'SIGKILL');
    assert.equal((await done).code, 137);
    // Signals reach the container through berth (docker's sig-proxy); pid 1 without a handler
    // for SIGTERM ignores it, as in docker, so use one that has a default action it can't ignore.
    assert.deepEqual(root.leftovers(), []);
    // Any other signal too: a process that is not a pid namespace's init dies of it (exec).
    assert.equal((await root.run(['run', '-d', '--name', 'sigs', 'busybox', 'sleep', '60'])).code, 0);
    assert.equal((await root.run(['exec', 'sigs', 'sh', '-c', 'kill -TERM $$'])).code, 143);
    assert.equal((await root.run(['exec', 'sigs', 'sh', '-c', 'kill -SEGV $$'])).code, 139);
    assert.equal((await root.run(['rm', '-f', 'sigs'])).code, 0);
    assert.deepEqual(root.leftovers(), []);
  });

  test('the image default command runs when none is given, stdin only with -i', async () => {
    const r = await root.run(['run', '--rm', '-i', 'busybox'], { input: 'echo from-stdin; exit 4\n' });
    assert.equal(r.stdout, 'from-stdin\n');
    assert.equal(r.code, 4);
    const r2 = await root.run(['run', '--rm', 'busybox', 'cat'], { input: 'ignored' });
    assert.equal(r2.stdout, '');
    assert.equal(r2.code, 0);
  });

  test('env, workdir, user, hostname', async () => {
    const r = await root.run(['run', '--rm', '-e', 'A=b', '-e', 'C', '-w', '/tmp/work', '--user', '1000:1000', '--hostname', 'box',
      'busybox', 'sh', '-c', 'echo $A; echo ${C-unset}; pwd; id -u; id -g; hostname; cat /etc/hostname; echo $HOME; echo $PATH']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n'), ['b', 'unset', '/tmp/work', '1000', '1000', 'box', 'box', '/home/user',
      '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '']);
    const named = await root.run(['run', '--rm', '-u', 'user', 'busybox', 'id']);
    assert.equal(named.stdout.trim(), 'uid=1000(user) gid=1000(user) groups=50(staff),1000(user)');
  });

  test('isolation: pid 1, own processes only, loopback only, own hostname', async () => {
    const r = await root.run(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c',
      'echo $$; ps -o pid= | wc -l; ls /sys/class/net; cat /sys/class/net/lo/operstate; hostname | wc -c; ls /proc/1/root >/dev/null && echo ok']);
    assert.equal(r.code, 0, r.stderr);
    const [pid, procs, nets, lo, hostLen] = r.stdout.split('\n');
    assert.equal(pid, '1');
    assert.ok(Number(procs) <= 3, `saw ${procs} processes`);
    assert.equal(nets, 'lo');
    assert.match(lo, /unknown|up/);
    assert.equal(Number(hostLen), 13); // 12 hex chars of the id + newline
  });

  test('when the command exits, everything in the container is gone', async () => {
    const t0 = Date.now();
    const r = await root.run(['run', '--rm', 'busybox', 'sh', '-c', 'sleep 100 & sleep 100 & echo started']);
    assert.equal(r.stdout, 'started\n');
    assert.ok(Date.now() - t0 < 20_000);
    assert.deepEqual(root.leftovers(), []);
  });

  test('the root is copy-on-write over the image, entered with pivot_root', async () => {
    const w = await root.run(['run', '--rm', 'busybox', 'sh', '-c', 'echo x > /bin/added && rm /bin/ls && cat /bin/added && awk \'$5 == "/" { print $9 }\' /proc/self/mountinfo']);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout, 'x\noverlay\n'); // one mount at /: the overlay, nothing of the host
    const r = await root.run(['run', '--rm', 'busybox', 'sh', '-c', 'test -e /bin/added || echo gone; test -e /bin/ls && echo kept']);
    assert.equal(r.stdout, 'gone\nkept\n');
  });

  test('the standard filesystem: /proc, read-only /sys, minimal /dev, /etc files', async () => {
    const r = await root.run(['run', '--rm', 'busybox', 'sh', '-c', [
      'ls /dev | sort | tr "\\n" " "; echo',
      'touch /sys/x 2>/dev/null && echo sys-writable || echo sys-ro',
      'echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo procsys-writable || echo procsys-ro',
      'wc -c < /proc/timer_list',
      'grep -c localhost /etc/hosts',
      'test -f /etc/resolv.conf && echo resolv',
      'echo hi > /dev/null && head -c 4 /dev/zero | wc -c',
      'mount | grep -c devpts',
    ].join('; ')]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    for (const d of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'shm', 'mqueue', 'ptmx', 'fd', 'stdin', 'stdout', 'stderr'])
      assert.ok(lines[0].split(' ').includes(d), `/dev/${d} missing: ${lines[0]}`);
    assert.deepEqual(lines.slice(1, 8), ['sys-ro', 'procsys-ro', '0', '2', 'resolv', '4', '1']);
  });

  test('capabilities: docker\'s 14 for root, none for a user; no inherited fds', async () => {
    const r = await root.run(['run', '--rm', 'busybox', 'sh', '-c', 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status; ls /proc/self/fd | wc -l']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CapInh:\s+0000000000000000/);
    assert.match(r.stdout, /CapPrm:\s+00000000a80425fb/);
    assert.match(r.stdout, /CapEff:\s+00000000a80425fb/);
    assert.match(r.stdout, /CapBnd:\s+00000000a80425fb/);
    assert.match(r.stdout, /CapAmb:\s+0000000000000000/);
    assert.equal(r.stdout.trim().split('\n').at(-1), '4'); // 0, 1, 2 and the fd ls itself opened
    const u = await root.run(['run', '--rm', '-u', '1000', 'busybox', 'grep', 'CapEff', '/proc/self/status']);
    assert.match(u.stdout, /CapEff:\s+0000000000000000/);
  });
});
