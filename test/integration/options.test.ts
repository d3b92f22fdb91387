// Process options: ulimits, OOM score, namespaced sysctls, extra groups.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';

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
});
