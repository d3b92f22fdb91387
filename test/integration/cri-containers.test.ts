// The CRI's container calls through a real gRPC client against `berth daemon --cri`: what a
// container config asks for is what runs (command and args, env, working dir, user and groups,
// mounts with their propagation, read-only root, capabilities, seccomp, masked paths, resources),
// live resource updates, log reopening, the event stream, and a host-network pod.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';
import { CriDaemon, type CriClient } from '../helpers/cri.ts';

const skip = !isRoot ? 'needs root' : false;

describe('CRI containers', { skip, concurrency: false }, () => {
  let root: TestRoot;
  let daemon: CriDaemon;
  let cri: CriClient;
  let n = 0;

  before(async () => {
    root = await TestRoot.withBusybox();
    daemon = new CriDaemon(root, { cni: true });
    await daemon.start();
    cri = daemon.client();
  });

  afterEach(async () => {
    const pods = ((await cri.call('ListPodSandbox', {})) as any).items;
    for (const p of pods) await cri.call('RemovePodSandbox', { pod_sandbox_id: p.id });
    assert.deepEqual(root.leftovers(), []);
  });

  after(async () => {
    await daemon?.stop();
    daemon?.removeBridge();
    await root?.cleanup();
  });

  async function pod(extra: object = {}) {
    const name = `p${++n}`;
    const config = { metadata: { name, namespace: 'ns', uid: `u${n}`, attempt: 0 }, hostname: name, log_directory: path.join(root.dir, 'logs', name), ...extra };
    const { pod_sandbox_id } = await cri.call('RunPodSandbox', { config });
    return { id: pod_sandbox_id as string, config };
  }

  /** Creates and starts a container; returns its id. */
  async function run(p: { id: string; config: object }, config: object) {
    const full = { metadata: { name: `c${++n}`, attempt: 0 }, image: { image: 'busybox:latest' }, command: ['sleep', '1000'], log_path: `c${n}.log`, ...config };
    const { container_id } = await cri.call('CreateContainer', { pod_sandbox_id: p.id, config: full, sandbox_config: p.config });
    await cri.call('StartContainer', { container_id });
    return container_id as string;
  }

  async function sh(id: string, script: string): Promise<{ out: string; err: string; code: number }> {
    const r = (await cri.call('ExecSync', { container_id: id, cmd: ['sh', '-c', script], timeout: 20 })) as any;
    return { out: Buffer.from(r.stdout).toString(), err: Buffer.from(r.stderr).toString(), code: r.exit_code };
  }

  test('command, args, env, working dir, user and groups, read-only root', async () => {
    const p = await pod();
    const id = await run(p, {
      command: ['sh', '-c'], args: ['exec sleep 1000'],
      envs: [{ key: 'GREETING', value: 'a=b c' }], working_dir: '/tmp',
      linux: { security_context: { run_as_user: { value: '1234' }, run_as_group: { value: '2345' }, supplemental_groups: ['3456'], readonly_rootfs: true } },
    });
    assert.equal((await sh(id, 'echo "$GREETING"')).out, 'a=b c\n');
    assert.equal((await sh(id, 'pwd')).out, '/tmp\n');
    assert.equal((await sh(id, 'id -u; id -g; id -G')).out, '1234\n2345\n2345 3456\n');
    assert.match((await sh(id, 'ps -o args')).out, /^sleep 1000$/m);
    const w = await sh(id, 'touch /x');
    assert.notEqual(w.code, 0);
    assert.match(w.err, /Read-only file system/);
  });

  test('a container with stdin keeps it open: a shell waits for input instead of ending', async () => {
    const p = await pod();
    const id = await run(p, { command: ['sh'], stdin: true, stdin_once: true });
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(((await cri.call('ContainerStatus', { container_id: id })) as any).status.state, 'CONTAINER_RUNNING');
  });

  test('mounts: read-only, and propagation rslave and rshared', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cri-mnt-'));
    try {
      for (const d of ['ro', 'slave', 'shared']) fs.mkdirSync(path.join(base, d));
      fs.writeFileSync(path.join(base, 'ro', 'f'), 'data');
      // The propagation modes need a shared mount on the host side.
      for (const d of ['slave', 'shared']) {
        const dir = path.join(base, d);
        execOk('mount', ['--bind', dir, dir]);
        execOk('mount', ['--make-rshared', dir]);
      }
      const p = await pod();
      const id = await run(p, {
        mounts: [
          { container_path: '/ro', host_path: path.join(base, 'ro'), readonly: true },
          { container_path: '/slave', host_path: path.join(base, 'slave'), propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
          { container_path: '/shared', host_path: path.join(base, 'shared'), propagation: 'PROPAGATION_BIDIRECTIONAL' },
        ],
        linux: { security_context: { privileged: false, capabilities: { add_capabilities: ['SYS_ADMIN'] } } },
      });
      assert.equal((await sh(id, 'cat /ro/f')).out, 'data');
      assert.notEqual((await sh(id, 'touch /ro/g')).code, 0);
      const st = ((await cri.call('ContainerStatus', { container_id: id })) as any).status;
      assert.equal(st.mounts.length, 3);
      // A mount made on the host under the rslave one shows inside.
      fs.mkdirSync(path.join(base, 'slave', 'sub'));
      execOk('mount', ['-t', 'tmpfs', 'tmpfs', path.join(base, 'slave', 'sub')]);
      fs.writeFileSync(path.join(base, 'slave', 'sub', 'h'), 'host');
      assert.equal((await sh(id, 'cat /slave/sub/h')).out, 'host');
      await cri.call('RemovePodSandbox', { pod_sandbox_id: p.id });
      execOk('umount', [path.join(base, 'slave', 'sub')]);
    } finally {
      for (const d of ['slave', 'shared']) spawnQuiet('umount', ['-R', path.join(base, d)]);
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  test('capabilities, seccomp, no-new-privileges', async () => {
    const p = await pod();
    const dropped = await run(p, { linux: { security_context: { capabilities: { drop_capabilities: ['ALL'] } } } });
    assert.match((await sh(dropped, 'grep CapEff /proc/self/status')).out, /CapEff:\s+0000000000000000/);
    const added = await run(p, { linux: { security_context: { capabilities: { add_capabilities: ['NET_ADMIN'] } } } });
    assert.equal((await sh(added, 'ip addr add 10.9.9.9/32 dev lo && echo ok')).out, 'ok\n');
    assert.notEqual((await sh(dropped, 'ip addr add 10.9.9.8/32 dev lo')).code, 0);
    const profile = path.join(root.dir, 'block-chmod.json');
    fs.writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod', 'fchmodat', 'fchmodat2'], action: 'SCMP_ACT_ERRNO' }] }));
    const local = await run(p, { linux: { security_context: { seccomp: { profile_type: 'Localhost', localhost_ref: profile } } } });
    assert.notEqual((await sh(local, 'chmod 600 /etc/hostname')).code, 0);
    const legacy = await run(p, { linux: { security_context: { seccomp_profile_path: `localhost/${profile}` } } });
    assert.notEqual((await sh(legacy, 'chmod 600 /etc/hostname')).code, 0);
    // A profile named without localhost/ is refused at create.
    await assert.rejects(cri.call('CreateContainer', { pod_sandbox_id: p.id, config: { metadata: { name: 'bad', attempt: 0 }, image: { image: 'busybox:latest' }, linux: { security_context: { seccomp_profile_path: profile } } }, sandbox_config: p.config }));
    const nnp = await run(p, { linux: { security_context: { no_new_privs: true } } });
    assert.match((await sh(nnp, 'grep NoNewPrivs /proc/self/status')).out, /NoNewPrivs:\s+1/);
  });

  test('masked and read-only paths', async () => {
    const p = await pod();
    const masked = await run(p, { linux: { security_context: { masked_paths: ['/etc/passwd'], readonly_paths: ['/tmp'] } } });
    assert.equal((await sh(masked, 'cat /etc/passwd | wc -c')).out.trim(), '0'); // masked with /dev/null
    assert.match((await sh(masked, 'touch /tmp/x')).err, /Read-only file system/);
  });

  test('resources at create and updated live; the log reopened after rotation', async () => {
    const p = await pod();
    const id = await run(p, { command: ['sh', '-c', 'while true; do echo tick; sleep 0.2; done'], linux: { resources: { memory_limit_in_bytes: String(64 << 20), cpu_shares: '512', cpu_quota: '50000', cpu_period: '100000' } } });
    // The limit as the host's cgroup has it.
    const memory = () => {
      const dir = root.cgroupDirs(id).find((d) => /\/memory\//.test(d) || fs.existsSync(path.join(d, 'memory.max')))!;
      return fs.readFileSync(path.join(dir, fs.existsSync(path.join(dir, 'memory.max')) ? 'memory.max' : 'memory.limit_in_bytes'), 'utf8').trim();
    };
    assert.equal(memory(), String(64 << 20));
    await cri.call('UpdateContainerResources', { container_id: id, linux: { memory_limit_in_bytes: String(128 << 20) } });
    assert.equal(memory(), String(128 << 20));
    const log = ((await cri.call('ContainerStatus', { container_id: id })) as any).status.log_path;
    await root.until(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('tick'), (x) => x);
    fs.renameSync(log, `${log}.1`);
    await cri.call('ReopenContainerLog', { container_id: id });
    const text = await root.until(() => { try { return fs.readFileSync(log, 'utf8'); } catch { return ''; } }, (t) => t.includes('tick'));
    assert.match(text, /^\S+ stdout F tick$/m);
  });

  test('the event stream: created, started, stopped, deleted, with the pod\'s status', async () => {
    const p = await pod();
    const events: any[] = [];
    const stream = cri.stream('GetContainerEvents', {});
    stream.on('data', (e: any) => events.push(e));
    stream.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const id = await run(p, { command: ['sh', '-c', 'exit 2'] });
    await root.eventually(async () => events.filter((e) => e.container_id === id).length, (k) => k >= 3, 15_000);
    await cri.call('RemoveContainer', { container_id: id });
    const mine = await root.eventually(async () => events.filter((e) => e.container_id === id), (l) => l.length >= 4, 15_000);
    stream.cancel();
    assert.deepEqual(mine.map((e) => e.container_event_type), ['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT', 'CONTAINER_STOPPED_EVENT', 'CONTAINER_DELETED_EVENT']);
    assert.equal(mine[0].pod_sandbox_status.id, p.id);
    assert.equal(mine[2].containers_statuses.find((c: any) => c.id === id).exit_code, 2);
  });

  test('a host-network pod sees the host\'s interfaces; a pod\'s containers share its network and IPC', async () => {
    const host = await pod({ linux: { security_context: { namespace_options: { network: 'NODE' } } } });
    const hid = await run(host, {});
    assert.equal((await sh(hid, 'readlink /proc/self/ns/net')).out.trim(), fs.readlinkSync('/proc/self/ns/net'));
    const st = ((await cri.call('PodSandboxStatus', { pod_sandbox_id: host.id })) as any).status;
    assert.equal(st.linux.namespaces.options.network, 'NODE');
    const p = await pod();
    const a = await run(p, {});
    const b = await run(p, {});
    const ns = (id: string, kind: string) => sh(id, `readlink /proc/self/ns/${kind}`).then((r) => r.out);
    assert.equal(await ns(a, 'net'), await ns(b, 'net'));
    assert.equal(await ns(a, 'ipc'), await ns(b, 'ipc'));
    assert.equal(await ns(a, 'uts'), await ns(b, 'uts'));
    assert.equal((await sh(b, 'hostname')).out, `${p.config.hostname}\n`);
    // And its /dev/shm (POSIX shared memory), as containerd's pods do.
    await sh(a, 'echo from-a > /dev/shm/x');
    assert.equal((await sh(b, 'cat /dev/shm/x')).out, 'from-a\n');
  });
});

import { spawnSync } from 'node:child_process';
function execOk(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}
function spawnQuiet(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore' });
}
