// Escapes other runtimes suffered, as regression tests with hostile images and options.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH, busyboxTar, collect, isRoot, TestRoot } from '../helpers/berth.ts';

describe('known escapes', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  let work: string;
  before(async () => {
    root = await TestRoot.withBusybox();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-esc-'));
  });
  after(async () => {
    await root.cleanup();
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function imageWith(name: string, links: Array<[string, string]>): Promise<void> {
    const dir = fs.mkdtempSync(path.join(work, 'img-'));
    const tar = path.join(dir, 'image.tar');
    fs.copyFileSync(busyboxTar(), tar);
    const tree = path.join(dir, 'tree');
    for (const [p, target] of links) {
      fs.mkdirSync(path.dirname(path.join(tree, p)), { recursive: true });
      fs.symlinkSync(target, path.join(tree, p));
    }
    // Appended entries come later in the archive, so they replace busybox's own /proc or /dev.
    execFileSync('tar', ['-rf', tar, '-C', tree, ...links.map(([p]) => p)]);
    const r = await root.run(['import', '-c', 'CMD ["sh"]', tar, name]);
    assert.equal(r.code, 0, r.stderr);
  }

  test('only fds 0-2 reach the command, for run and exec (CVE-2024-21626)', async () => {
    // A child of the command shows what the command was given (listing one's own fds adds one).
    const listing = "sleep 1 & ls /proc/$!/fd | tr '\\n' ' '";
    const r = await root.run(['run', '--rm', 'busybox', 'sh', '-c', listing]);
    assert.equal(r.stdout.trim(), '0 1 2');
    await root.run(['run', '-d', '--name', 'fds', 'busybox', 'sleep', '60']);
    assert.equal((await root.run(['exec', 'fds', 'sh', '-c', listing])).stdout.trim(), '0 1 2');
    assert.equal((await root.run(['exec', 'fds', 'sh', '-c', "ls /proc/1/fd | tr '\\n' ' '"])).stdout.trim(), '0 1 2');
    await root.run(['rm', '-f', 'fds']);
  });

  test('a working directory through /proc/self/fd is refused (CVE-2024-21626)', async () => {
    for (const n of [3, 4, 5, 6, 7, 8]) {
      const r = await root.run(['run', '--rm', '-w', `/proc/self/fd/${n}`, 'busybox', 'pwd']);
      assert.notEqual(r.code, 0, `fd ${n}: ${r.stdout}`);
      assert.ok(!r.stdout.startsWith('/') || r.stdout.startsWith('/proc'), r.stdout);
    }
    assert.deepEqual(root.leftovers(), []);
  });

  test('an image whose /proc is a symlink is refused at start (CVE-2019-16884 class)', async () => {
    await imageWith('proclink:1', [['proc', '/tmp']]);
    const r = await root.run(['run', '--rm', 'proclink:1', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /setup failed at mountin \/proc: Too many levels of symbolic links|symbolic link|ELOOP/i);
    assert.deepEqual(root.leftovers(), []);
  });

  test('an image whose /dev or /dev/null is a symlink cannot redirect writes (CVE-2025-31133 class)', async () => {
    await imageWith('devnull:1', [['dev/null', '/etc/passwd']]);
    const r = await root.run(['run', '--rm', 'devnull:1', 'sh', '-c', 'echo junk > /dev/null; test -c /dev/null && echo chardev; cat /etc/passwd | head -1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'chardev\nroot:x:0:0:root:/root:/bin/sh\n');
    await imageWith('devlink:1', [['dev', '/etc']]);
    const d = await root.run(['run', '--rm', 'devlink:1', 'true']);
    assert.equal(d.code, 125);
    assert.match(d.stderr, /mountin \/dev/);
    assert.deepEqual(root.leftovers(), []);
  });

  // docker's device cgroup: CAP_MKNOD lets a container make a node for a host device; using it
  // must still fail. /dev/kmsg (1:11) is writable by root without other capabilities.
  const v1Devices = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => / - cgroup \S+ .*\bdevices\b/.test(l));
  test('a device node the container makes for a host device cannot be used; its own devices work', { skip: !v1Devices && 'needs the cgroup v1 devices controller (v2 device programs are not done yet)' }, async () => {
    const marker = `berth-devices-${process.pid}-${Date.now()}`;
    const r = await root.run(['run', '--rm', 'busybox', 'sh', '-c', `mknod /tmp/kmsg c 1 11 && echo ${marker} > /tmp/kmsg; echo "write=$?"; echo x > /dev/null && head -c 4 /dev/urandom | wc -c`]);
    assert.match(r.stdout, /write=1\n4\n/);
    assert.match(r.stderr, /Operation not permitted/);
    let log = '';
    try {
      log = execFileSync('dmesg', { encoding: 'utf8' });
    } catch {}
    assert.equal(log.includes(marker), false, 'the container wrote into the host\'s kernel log');
  });

  // The same rules on cgroup v2, as an eBPF device program: exercised on this host's cgroup2
  // mount (the hybrid "unified" one) by pointing the engine's cgroups there.
  const cgroup2 = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup2 /.test(l))?.split(' ')[4];
  test('cgroup v2: the device program denies host devices and allows the container\'s own', { skip: !cgroup2 && 'needs a cgroup2 mount' }, async () => {
    const marker = `berth-devices-v2-${process.pid}-${Date.now()}`;
    const child = spawn(BERTH, ['run', '--rm', 'busybox', 'sh', '-c', `mknod /tmp/kmsg c 1 11 && echo ${marker} > /tmp/kmsg; echo "write=$?"; mknod /tmp/null c 1 3 && echo x > /tmp/null && echo own-ok`], {
      env: { ...root.env(), BERTH_CGROUP_ROOT: cgroup2 }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = await collect(child, 30_000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'write=1\nown-ok\n');
    let log = '';
    try {
      log = execFileSync('dmesg', { encoding: 'utf8' });
    } catch {}
    assert.equal(log.includes(marker), false, 'the container wrote into the host\'s kernel log');
  });

  test('no abstract unix sockets of the engine are reachable (CVE-2020-15257)', async () => {
    const r = await root.run(['run', '--rm', 'busybox', 'sh', '-c', 'grep -c @ /proc/net/unix || true']);
    assert.equal(r.stdout.trim(), '0');
  });
});
