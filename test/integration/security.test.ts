// Default confinement and its options, observed from inside real containers.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execFileSync, spawn } from 'node:child_process';
import { BERTH, collect, isRoot, TestRoot } from '../helpers/berth.ts';

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
  test('--userns remap: container root is an unprivileged host id, the image still looks its own, host files owned by root stay out of reach', async () => {
    const host = path.join(dir, 'userns');
    fs.mkdirSync(host, { mode: 0o755 });
    fs.writeFileSync(path.join(host, 'secret'), 'secret\n', { mode: 0o600 });
    const script = 'id -u; cat /proc/self/uid_map; touch /etc/made && echo etc-ok; stat -c %u /bin/busybox; cat /h/secret 2>/dev/null || echo no-read; (echo x > /h/new) 2>/dev/null || echo no-write; httpd -p 80 && echo port-80';
    const r = await root.run(['run', '--name', 'remapped', '--userns', 'remap', '-v', `${host}:/h`, 'busybox', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').map((l) => l.trim().split(/\s+/).join(' ')), ['0', '0 100000 65536', 'etc-ok', '0', 'no-read', 'no-write', 'port-80', '']);
    assert.equal(fs.existsSync(path.join(host, 'new')), false);
    // What it wrote is owned on the host by the unprivileged id, not by root.
    const id = (await root.run(['inspect', '-f', '{{.Id}} {{.HostConfig.UsernsMode}}', 'remapped'])).stdout.trim().split(' ');
    assert.equal(id[1], 'remap');
    assert.equal(fs.statSync(path.join(root.dir, 'containers', id[0], 'upper/etc/made')).uid, 100000);
    // Running, and through exec: the host sees uid 100000; inside it is root.
    await root.run(['run', '-d', '--name', 'remapped-d', '--userns', 'remap', 'busybox', 'sleep', '100']);
    const pid = JSON.parse(fs.readFileSync(path.join(root.dir, 'containers', (await root.run(['inspect', '-f', '{{.Id}}', 'remapped-d'])).stdout.trim(), 'state.json'), 'utf8')).Pid;
    assert.equal(status(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), 'Uid'), '100000');
    const x = await root.run(['exec', 'remapped-d', 'sh', '-c', 'id -u; echo x > /root/by-exec && echo wrote']);
    assert.equal(x.stdout, '0\nwrote\n', x.stderr);
    // A root-wide default (BERTH_USERNS_REMAP), and --userns host to opt out of it.
    const env = { ...root.env(), BERTH_USERNS_REMAP: '200000:65536' };
    const wide = await collect(spawn(BERTH, ['run', '--rm', 'busybox', 'cat', '/proc/self/uid_map'], { env, stdio: ['ignore', 'pipe', 'pipe'] }), 30_000);
    assert.equal(wide.stdout.trim().split(/\s+/).join(' '), '0 200000 65536', wide.stderr);
    const opt = await collect(spawn(BERTH, ['run', '--rm', '--userns', 'host', 'busybox', 'cat', '/proc/self/uid_map'], { env, stdio: ['ignore', 'pipe', 'pipe'] }), 30_000);
    assert.equal(opt.stdout.trim().split(/\s+/).join(' '), '0 0 4294967295');
    for (const [args, msg] of [
      [['--userns', 'remap', '--privileged'], /privileged mode is incompatible with user namespaces/],
      [['--userns', 'bogus'], /invalid --userns "bogus"/],
    ] as Array<[string[], RegExp]>) {
      const bad = await root.run(['run', '--rm', ...args, 'busybox', 'true']);
      assert.equal(bad.code, 125);
      assert.match(bad.stderr, msg);
    }
    // docker cp into it, and a new named volume: owned by its root, so it can change them.
    fs.writeFileSync(path.join(host, 'copied'), 'c\n');
    assert.equal((await root.run(['cp', path.join(host, 'copied'), 'remapped-d:/root/copied'])).code, 0);
    const owned = await root.run(['exec', 'remapped-d', 'sh', '-c', 'stat -c %u:%g /root/copied && echo more >> /root/copied && echo changed']);
    assert.equal(owned.stdout, '0:0\nchanged\n', owned.stderr);
    const vol = await root.run(['run', '--rm', '--userns', 'remap', '-v', 'remapvol:/data', 'busybox', 'sh', '-c', 'touch /data/f && stat -c %u /data/f']);
    assert.equal(vol.stdout, '0\n', vol.stderr);
    await root.run(['volume', 'rm', 'remapvol']);
    // commit and export give the container's view of its files' owners, not the host's ids.
    assert.equal((await root.run(['commit', 'remapped', 'remapped:img'])).code, 0);
    assert.equal((await root.run(['run', '--rm', 'remapped:img', 'stat', '-c', '%u', '/etc/made'])).stdout, '0\n');
    const tarFile = path.join(dir, 'remapped.tar');
    assert.equal((await root.run(['export', '-o', tarFile, 'remapped'])).code, 0);
    assert.match(execFileSync('tar', ['-tvf', tarFile, 'etc/made'], { encoding: 'utf8' }), /^-rw-r--r-- 0\/0 /);
    await root.run(['rm', '-f', 'remapped', 'remapped-d']);
    await root.run(['rmi', 'remapped:img']);
    assert.deepEqual(root.leftovers(), []);
  });
});
