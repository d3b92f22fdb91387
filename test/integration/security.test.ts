// Default confinement and its options, observed from inside real containers.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';

const status = (text: string, key: string) => new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(text)?.[1];

describe('security', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  let dir: string;
  before(async () => {
    root = new TestRoot();
    await root.importBusybox();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-sec-'));
  });
  after(async () => {
    await root.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('default: seccomp filter on, namespaces and mounts refused, 14 capabilities, privileges can grow', async () => {
    const r = await root.run(['run', '--rm', 'busybox', 'sh', '-c',
      'cat /proc/self/status; unshare -U true 2>&1; echo unshare=$?; unshare -m true 2>&1; echo unshare-m=$?; mount -t tmpfs none /tmp 2>&1; echo mount=$?']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(status(r.stdout, 'Seccomp'), '2');
    assert.equal(status(r.stdout, 'NoNewPrivs'), '0');
    assert.equal(status(r.stdout, 'CapEff'), '00000000a80425fb');
    // A user namespace needs no capability: only seccomp stands between the container and
    // `unshare -Ur` + mount cgroup + release_agent (CVE-2022-0492).
    assert.match(r.stdout, /unshare=1/);
    assert.match(r.stdout, /unshare-m=1/);
    assert.match(r.stdout, /mount=255|mount=1/);
    assert.match(r.stdout, /Operation not permitted/);
    const exec = await root.run(['run', '-d', '--name', 'confined', 'busybox', 'sleep', '30']);
    assert.equal(exec.code, 0);
    const e = await root.run(['exec', 'confined', 'cat', '/proc/self/status']);
    assert.equal(status(e.stdout, 'Seccomp'), '2');
    assert.equal(status(e.stdout, 'CapEff'), '00000000a80425fb');
    await root.run(['rm', '-f', 'confined']);
  });

  test('--security-opt seccomp=unconfined and a custom profile file', async () => {
    const u = await root.run(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'sh', '-c', 'grep Seccomp: /proc/self/status; unshare -U true; echo unshare=$?']);
    assert.match(u.stdout, /Seccomp:\s+0\nunshare=0\n/);
    const profile = path.join(dir, 'no-mkdir.json');
    fs.writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
    const c = await root.run(['create', '--name', 'custom', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'mkdir /tmp/x 2>&1; touch /tmp/y && echo touched']);
    assert.equal(c.code, 0, c.stderr);
    fs.rmSync(profile); // the container keeps the profile it was created with
    const s = await root.run(['start', '-a', 'custom']);
    assert.match(s.stdout, /Permission denied\ntouched\n/);
    await root.run(['rm', 'custom']);
    fs.writeFileSync(profile, '{"defaultAction": "SCMP_ACT_NOPE", "syscalls": []}');
    const bad = await root.run(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /SCMP_ACT_NOPE/);
    assert.deepEqual(root.leftovers(), []);
  });

  test('--cap-drop/--cap-add, no-new-privileges, --read-only, --privileged', async () => {
    const caps = await root.run(['run', '--rm', '--cap-drop', 'ALL', '--cap-add', 'cap_net_raw', '--cap-add', 'KILL', '--security-opt', 'no-new-privileges', 'busybox', 'cat', '/proc/self/status']);
    assert.equal(status(caps.stdout, 'CapEff'), (1n << 13n | 1n << 5n).toString(16).padStart(16, '0'));
    assert.equal(status(caps.stdout, 'CapBnd'), status(caps.stdout, 'CapEff'));
    assert.equal(status(caps.stdout, 'NoNewPrivs'), '1');
    assert.equal(status(caps.stdout, 'Seccomp'), '2');
    const dropped = await root.run(['run', '--rm', '--cap-drop', 'CHOWN', 'busybox', 'sh', '-c', 'chown 1000 /tmp && echo chowned || echo refused']);
    assert.match(dropped.stdout, /refused/);
    const ro = await root.run(['run', '--rm', '--read-only', 'busybox', 'sh', '-c', 'touch /x 2>/dev/null && echo root-rw || echo root-ro; echo ok > /dev/shm/z && echo shm-rw; echo h > /etc/hostname && echo etc-rw']);
    assert.equal(ro.stdout, 'root-ro\nshm-rw\netc-rw\n');
    const priv = await root.run(['run', '--rm', '--privileged', 'busybox', 'sh', '-c', 'grep -E "^(Seccomp|CapEff):" /proc/self/status; test "$(head -c 5 /proc/timer_list)" && echo unmasked; mkdir -p /m && mount -t tmpfs none /m && echo mounted']);
    assert.match(priv.stdout, /CapEff:\s+0*1f+[0-9a-f]*\nSeccomp:\s+0\nunmasked\nmounted\n/);
    for (const [args, msg] of [[['--cap-add', 'NOPE'], /unknown capability: "NOPE"/], [['--security-opt', 'bogus'], /invalid --security-opt/],
      [['--security-opt', 'seccomp=/nonexistent.json'], /opening seccomp profile/]] as const) {
      const r = await root.run(['run', '--rm', ...args, 'busybox', 'true']);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, msg);
    }
    assert.deepEqual(root.leftovers(), []);
  });
});
