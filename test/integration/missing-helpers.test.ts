// Missing or broken helpers (issue 21): iptables, the CNI plugins, lxcfs and the cgroup file
// system, each taken away from berth alone (an env var naming where berth looks, or a private
// mount namespace), never from the machine. Each is a clear error within a second or two, from
// the CLI and through the daemon (the docker CLI), never a hang; lxcfs is optional, so without it
// containers run, with a warning. The missing shim is tested in hardening.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH, collect, TestRoot, type Result } from '../helpers/berth.ts';
import { skip, TestDaemon } from '../helpers/daemon.ts';

describe('missing or broken helpers', { skip }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  /** berth with `env`, timed. */
  async function berth(env: NodeJS.ProcessEnv, args: string[], wrap: string[] = []): Promise<Result & { ms: number }> {
    const t0 = Date.now();
    const [cmd, ...pre] = [...wrap, BERTH];
    const r = await collect(spawn(cmd, [...pre, ...args], { env: { ...root.env(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] }), 20_000);
    return { ...r, ms: Date.now() - t0 };
  }
  /** `docker run --rm ARGS` through a daemon started with `env` (under `wrap`), timed. */
  async function throughDaemon(opts: { env?: NodeJS.ProcessEnv; wrap?: string[] }, args: string[]): Promise<Result & { ms: number; left: string }> {
    const d = new TestDaemon(root, opts);
    await d.start();
    try {
      const t0 = Date.now();
      const r = await d.docker(['run', '--rm', ...args], { timeoutMs: 20_000 });
      const ms = Date.now() - t0;
      return { ...r, ms, left: (await d.docker(['ps', '-aq'])).stdout };
    } finally {
      await d.stop();
    }
  }
  function clearError(r: Result & { ms: number }, message: RegExp, bound: number, what: string): void {
    assert.notEqual(r.code, 0, `${what} succeeded`);
    assert.match(r.stderr, message, what);
    assert.doesNotMatch(r.stderr, /\n\s+at /, what);
    assert.ok(r.ms < bound, `${what} took ${r.ms} ms`);
  }

  test('iptables missing: a clear error from run and network create, CLI and daemon; nothing half-made', async () => {
    const env = { BERTH_IPTABLES: '/nonexistent/iptables' };
    const message = /iptables is not installed/;
    clearError(await berth(env, ['run', '--rm', 'busybox', 'true']), message, 2000, 'berth run');
    clearError(await berth(env, ['network', 'create', 'no-iptables']), message, 2000, 'berth network create');
    const listed = await root.run(['network', 'ls', '--format', '{{.Name}}']);
    assert.doesNotMatch(listed.stdout, /no-iptables/);
    const viaDaemon = await throughDaemon({ env }, ['busybox', 'true']);
    clearError(viaDaemon, message, 4000, 'docker run');
    assert.doesNotMatch(viaDaemon.stderr, /nonexistent/, 'where berth looked is the host\'s business');
    assert.equal(viaDaemon.left, '');
    assert.equal((await root.run(['ps', '-aq'])).stdout, '');
    assert.deepEqual(await root.eventually(async () => root.netLeftovers(), (l) => l.length === 0, 10_000), []);
    // With iptables back, the same run works.
    assert.equal((await root.run(['run', '--rm', 'busybox', 'true'])).code, 0);
  });

  test('CNI plugins missing: a clear error through the daemon, nothing half-made (the CLI: network.test.ts)', async () => {
    const r = await throughDaemon({ env: { BERTH_CNI_PATH: '/nonexistent' } }, ['busybox', 'true']);
    clearError(r, /CNI plugin "bridge" not found: install/, 4000, 'docker run');
    assert.doesNotMatch(r.stderr, /nonexistent/, 'where berth looked is the host\'s business');
    assert.equal(r.left, '');
    assert.deepEqual(await root.eventually(async () => root.netLeftovers(), (l) => l.length === 0, 10_000), []);
  });

  test('cgroup file system missing (a private mount namespace with a tmpfs over /sys/fs/cgroup): a clear error, CLI and daemon', async () => {
    const wrap = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs berth-nocgroup /sys/fs/cgroup && exec "$@"', 'sh'];
    const message = /cannot create cgroup/;
    const cli = await berth({}, ['run', '--rm', '--network', 'none', 'busybox', 'true'], wrap);
    clearError(cli, message, 2000, 'berth run');
    const viaDaemon = await throughDaemon({ wrap }, ['--network', 'none', 'busybox', 'true']);
    clearError(viaDaemon, message, 4000, 'docker run');
    assert.equal(viaDaemon.left, '');
    assert.equal((await root.run(['ps', '-aq'])).stdout, '');
  });

  test('lxcfs missing: containers run without the views, with a warning, CLI and daemon', async () => {
    // A run directory of its own: the machine's lxcfs (serving other roots) is not this test's.
    const run = fs.mkdtempSync(path.join(root.dir, 'run-'));
    const env = { BERTH_RUN_DIR: run, BERTH_LXCFS: '/nonexistent/lxcfs' };
    try {
      const cli = await berth(env, ['run', '--rm', '--network', 'none', 'busybox', 'head', '-1', '/proc/meminfo']);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /^MemTotal:/);
      assert.match(cli.stderr, /lxcfs is not installed/);
      assert.ok(cli.ms < 3000, `berth run took ${cli.ms} ms`);
      const viaDaemon = await throughDaemon({ env }, ['--network', 'none', 'busybox', 'head', '-1', '/proc/meminfo']);
      assert.equal(viaDaemon.code, 0, viaDaemon.stderr);
      assert.match(viaDaemon.stdout, /^MemTotal:/);
      assert.ok(viaDaemon.ms < 4000, `docker run took ${viaDaemon.ms} ms`);
      assert.equal(viaDaemon.left, '');
      assert.ok(!fs.existsSync(path.join(run, 'lxcfs', 'lxcfs.pid')), 'no lxcfs was started');
    } finally {
      // The layer images this run directory had mounted (the root's others are TestRoot's).
      for (const m of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m?.startsWith(run))) {
        await collect(spawn('umount', [m], { stdio: 'ignore' }), 10_000);
      }
    }
  });

  test('nothing leaked', async () => {
    assert.equal((await root.run(['ps', '-aq'])).stdout, '');
    assert.deepEqual(await root.until(() => root.leftovers(), (l) => l.length === 0, 10_000), []);
  });
});
