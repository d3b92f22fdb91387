// Escapes other runtimes suffered, as regression tests with hostile images and options.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH, busyboxTar, collect, isRoot, REPO, TestRoot } from '../helpers/berth.ts';

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
    // It is listed once it runs `sleep`: sh points a background job's stdin at /dev/null (a
    // close, then an open) between its fork and its exec, where a listing could miss fd 0.
    const listing = "sleep 1 & sleep 0.3; ls /proc/$!/fd | tr '\\n' ' '";
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
    assert.match(r.stderr, /setup failed: mounting \/proc: Too many levels of symbolic links|symbolic link|ELOOP/i);
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
    assert.match(d.stderr, /mounting \/dev/);
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

  // The attack: an image file starting `#!/proc/self/exe`, run by an exec, makes the kernel run
  // the runtime's own binary inside the container; a container process opens it through
  // /proc/PID/exe and, once nothing runs it any more, reopens that fd for writing and replaces
  // the host's binary. Two copies of the shim keep the test's damage (if any) off the build: the
  // container runs on copy A, the exec on copy B, so that nothing runs B once the exec is over.
  test('the shim cannot be rewritten through /proc/PID/exe from inside the container (CVE-2019-5736)', async () => {
    const shims = ['a', 'b'].map((n) => {
      fs.mkdirSync(path.join(work, `shim-${n}`));
      const p = path.join(work, `shim-${n}`, 'berth-shim');
      fs.copyFileSync(path.join(REPO, 'native/build/berth-shim'), p);
      return p;
    });
    const sum = (p: string) => createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    const before = shims.map(sum);
    const berth = (shim: string, args: string[], stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess =>
      spawn(BERTH, args, { env: { ...root.env(), BERTH_SHIM: shim }, stdio: [stdin, 'pipe', 'pipe'] });
    const onA = (args: string[]) => collect(berth(shims[0], args), 30_000);
    assert.equal((await onA(['run', '-d', '--name', 'cve5736', 'busybox', 'sleep', '300'])).code, 0);
    // `fsops`: the shim then reads records from its stdin, which we hold open, until EOF.
    await onA(['exec', 'cve5736', 'sh', '-c', 'printf "#!/proc/self/exe fsops\\n" > /evil && chmod +x /evil']);
    const attacker = [
      'pid=; i=0',
      'while [ -z "$pid" ] && [ $i -lt 1000 ]; do',
      '  for d in /proc/[0-9]*; do case "$(tr "\\0" " " < $d/cmdline 2>/dev/null)" in "/proc/self/exe fsops "*) pid=${d#/proc/};; esac; done',
      '  i=$((i+1)); sleep 0.01',
      'done',
      '[ -n "$pid" ] || { echo no-pid; exit 1; }',
      'echo "exe $(readlink /proc/$pid/exe)"',
      'exec 4</proc/$pid/exe || { echo no-open; exit 1; }',
      'if (printf X 1<>/proc/$pid/exe) 2>/dev/null; then echo live-write-ok; else echo live-write-refused; fi',
      'touch /opened',
      'while [ ! -e /go ]; do sleep 0.01; done',
      'if (printf X 1<>/proc/self/fd/4) 2>/dev/null; then echo held-write-ok; else echo held-write-refused; fi',
    ].join('\n');
    const attack = collect(berth(shims[0], ['exec', 'cve5736', 'sh', '-c', attacker]), 30_000);
    const evilChild = berth(shims[1], ['exec', '-i', 'cve5736', '/evil'], 'pipe');
    const evil = collect(evilChild, 30_000);
    const opened = await root.eventually(() => onA(['exec', 'cve5736', 'test', '-e', '/opened']), (r) => r.code === 0);
    assert.equal(opened.code, 0, 'the attacker never found the process running the shim');
    evilChild.stdin!.end(); // EOF: the shim in the container exits, and so does its exec
    await evil;
    await onA(['exec', 'cve5736', 'touch', '/go']);
    const r = await attack;
    await onA(['rm', '-f', 'cve5736']);
    assert.match(r.stdout, /live-write-refused/, r.stdout + r.stderr);
    assert.match(r.stdout, /held-write-refused/, r.stdout + r.stderr);
    // What the container reached is not the file on the host.
    assert.ok(!r.stdout.includes(work), r.stdout);
    assert.deepEqual(shims.map(sum), before);
  });

  test('no abstract unix sockets of the engine are reachable (CVE-2020-15257)', async () => {
    const r = await root.run(['run', '--rm', 'busybox', 'sh', '-c', 'grep -c @ /proc/net/unix || true']);
    assert.equal(r.stdout.trim(), '0');
  });
});
