// Process options: ulimits, OOM score, namespaced sysctls, extra groups, host devices.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { BERTH, collect, isRoot, TestRoot } from '../helpers/berth.ts';

describe('process options', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  test('--ulimit, --oom-score-adj, --sysctl and --group-add reach the container, and only it', async () => {
    const hostShm = fs.readFileSync('/proc/sys/kernel/shmmax', 'utf8');
    const r = await root.run(['run', '--rm', '--ulimit', 'nofile=512:1024', '--ulimit', 'nproc=100', '--oom-score-adj', '500',
      '--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=123456', '--group-add', 'staff', '--group-add', '4242', '-u', 'user',
      'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn; ulimit -u; cat /proc/self/oom_score_adj /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax; id -G']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '512\n1024\n100\n500\n1\n123456\n1000 50 4242\n');
    assert.equal(fs.readFileSync('/proc/sys/kernel/shmmax', 'utf8'), hostShm); // the container's ipc namespace, not the host's
    // /proc/sys is read-only again afterwards.
    const ro = await root.run(['run', '--rm', '--sysctl', 'net.ipv4.ip_forward=1', 'busybox', 'sh', '-c', 'echo 0 > /proc/sys/net/ipv4/ip_forward 2>/dev/null && echo writable || echo ro']);
    assert.equal(ro.stdout, 'ro\n');
    const cases: Array<[string[], RegExp]> = [
      [['--sysctl', 'kernel.hostname=x'], /not in a separate kernel namespace/],
      [['--sysctl', 'vm.swappiness=1'], /not in a separate kernel namespace/],
      [['--ulimit', 'nofile=5:2'], /soft limit must be less than or equal to hard limit/],
      [['--ulimit', 'bogus=1'], /invalid ulimit argument/],
      [['--oom-score-adj', '5000'], /range for oom score adj/],
      [['--group-add', 'nosuchgroup'], /Unable to find group nosuchgroup/],
    ];
    for (const [args, msg] of cases) {
      const bad = await root.run(['run', '--rm', ...args, 'busybox', 'true']);
      assert.equal(bad.code, 125, `${args.join(' ')}: ${bad.stderr}`);
      assert.match(bad.stderr, msg);
    }
    assert.deepEqual(root.leftovers(), []);
  });

  test('--device: the host node made in the container and allowed with its permissions; --device-cgroup-rule; bad devices refused', async () => {
    // A node of the test's own (the fuse device, 10:229, which docker's defaults do not allow):
    // only its numbers matter, the container makes its own node.
    const dev = `${root.dir}/devs`;
    fs.mkdirSync(`${dev}/sub`, { recursive: true });
    execFileSync('mknod', ['-m', '0640', `${dev}/fuse`, 'c', '10', '229']);
    fs.chownSync(`${dev}/fuse`, 1234, 5678);
    fs.mkdirSync(`${dev}/pts`);
    execFileSync('mknod', [`${dev}/pts/0`, 'c', '136', '0']); // a directory's pts is not handed out
    fs.mkdirSync(`${root.dir}/nodevs`);
    execFileSync('mknod', [`${dev}/sub/fuse2`, 'c', '10', '229']);
    // In subshells: a failed redirection of `exec` ends the shell it runs in.
    const open = '(exec 3<>$0) 2>/dev/null && echo rw-ok; (exec 4<$0) 2>/dev/null && echo r-ok; true';
    const without = await root.run(['run', '--rm', 'busybox', 'sh', '-c', `mknod /dev/fuse c 10 229 && echo made; ${open}`, '/dev/fuse']);
    assert.equal(without.stdout, 'made\n', 'without --device a node can be made but not used');
    const all = await root.run(['run', '--rm', '--device', `${dev}/fuse`, 'busybox', 'sh', '-c', `stat -c '%t:%T %a %u:%g %F' $0; ${open}`, `${dev}/fuse`]);
    assert.equal(all.stdout, 'a:e5 640 1234:5678 character special file\nrw-ok\nr-ok\n', all.stderr);
    const privileged = await root.run(['run', '--rm', '--privileged', '--device', `${dev}/fuse:/dev/other-fuse`, 'busybox', 'stat', '-c', '%t:%T', '/dev/other-fuse']);
    assert.equal(privileged.stdout, 'a:e5\n', privileged.stderr);
    const ro = await root.run(['run', '--rm', '--device', `${dev}/fuse:/dev/net/myfuse:r`, 'busybox', 'sh', '-c', open, '/dev/net/myfuse']);
    assert.equal(ro.stdout, 'r-ok\n', 'r: read, not write');
    const dir = await root.run(['run', '--rm', '--device', `${dev}:/dev/mine`, 'busybox', 'sh', '-c', 'ls /dev/mine /dev/mine/sub']);
    assert.equal(dir.stdout, '/dev/mine:\nfuse\nsub\n\n/dev/mine/sub:\nfuse2\n', 'a directory gives each device below it');
    const rule = await root.run(['run', '--rm', '--device-cgroup-rule', 'c 10:* rw', 'busybox', 'sh', '-c', `mknod /dev/fuse c 10 229 && ${open}`, '/dev/fuse']);
    assert.equal(rule.stdout, 'rw-ok\nr-ok\n', rule.stderr);
    // The same on cgroup v2, where the rules are an eBPF program (this host's cgroup2 mount).
    const cgroup2 = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup2 /.test(l))?.split(' ')[4];
    if (cgroup2) {
      const v2 = (args: string[]) => collect(spawn(BERTH, args, { env: { ...root.env(), BERTH_CGROUP_ROOT: cgroup2 }, stdio: ['ignore', 'pipe', 'pipe'] }), 30_000);
      const given = await v2(['run', '--rm', '--device', `${dev}/fuse:/dev/fuse:r`, 'busybox', 'sh', '-c', open, '/dev/fuse']);
      assert.equal(given.stdout, 'r-ok\n', given.stderr);
      const made = await v2(['run', '--rm', 'busybox', 'sh', '-c', `mknod /dev/fuse c 10 229 && echo made; ${open}`, '/dev/fuse']);
      assert.equal(made.stdout, 'made\n', made.stderr);
    }
    const c = await root.run(['create', '--name', 'devices', '--device', `${dev}/fuse:/dev/fuse:rw`, 'busybox']);
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual(JSON.parse((await root.run(['inspect', '-f', '{{json .HostConfig.Devices}}', 'devices'])).stdout), [{ PathOnHost: `${dev}/fuse`, PathInContainer: '/dev/fuse', CgroupPermissions: 'rw' }]);
    await root.run(['rm', 'devices']);
    for (const [args, msg] of [
      [['--device', '/etc/passwd'], /error gathering device information while adding custom device "\/etc\/passwd": not a device node/],
      [['--device', `${dev}/nope`], /no such file or directory/],
      [['--device', `${root.dir}/nodevs`], /a directory with none/],
      [['--device', `${dev}/fuse:/dev/ptmx`], /is the container's own/],
      [['--device', 'fuse'], /invalid device specification/],
      [['--device-cgroup-rule', 'c 10:229 rwx'], /invalid device rule/],
    ] as Array<[string[], RegExp]>) {
      const bad = await root.run(['run', '--rm', ...args, 'busybox', 'true']);
      assert.equal(bad.code, 125, `${args.join(' ')}: ${bad.stderr}`);
      assert.match(bad.stderr, msg);
    }
    assert.deepEqual(root.leftovers(), []);
  });
});
