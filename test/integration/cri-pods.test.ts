// The CRI's pods through a real gRPC client against `berth daemon --cri`: the whole life of a pod
// (run, create, start, exec, logs in the CRI format, stop, remove), what berth's own CLI sees of
// it, a daemon killed with SIGKILL and a new one serving the same pods, and nothing left after.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';
import { CriDaemon, hasCrictl, type CriClient } from '../helpers/cri.ts';

const skip = !isRoot ? 'needs root' : false;

function podConfig(root: TestRoot, name: string, extra: object = {}) {
  const uid = `uid-${name}`;
  return {
    metadata: { name, namespace: 'default', uid, attempt: 0 },
    hostname: name,
    log_directory: path.join(root.dir, 'pods', `default_${name}_${uid}`),
    labels: { 'io.kubernetes.pod.name': name, tier: 'test' },
    annotations: { 'berth.test/note': 'kept' },
    ...extra,
  };
}

/** As the kubelet makes them: the pod's identity among the container's labels. */
function ctrConfig(pod: string, name: string, command: string[], extra: object = {}) {
  const labels = { 'io.kubernetes.pod.name': pod, 'io.kubernetes.container.name': name };
  return { metadata: { name, attempt: 0 }, image: { image: 'busybox:latest' }, command, log_path: `${name}/0.log`, labels, annotations: { ann: name }, ...extra };
}

describe('CRI pods', { skip, concurrency: false }, () => {
  let root: TestRoot;
  let daemon: CriDaemon;
  let cri: CriClient;

  before(async () => {
    root = await TestRoot.withBusybox();
    daemon = new CriDaemon(root, { cni: true });
    await daemon.start();
    cri = daemon.client();
  });

  // A failed test leaves no pod for the next one's leak checks.
  afterEach(async () => {
    const pods = ((await cri.call('ListPodSandbox', {})) as any).items;
    for (const p of pods) await cri.call('RemovePodSandbox', { pod_sandbox_id: p.id });
  });

  after(async () => {
    await daemon?.stop();
    daemon?.removeBridge();
    await root?.cleanup();
  });

  test('the life of a pod: run, create, start, exec, logs, stop, remove', async () => {
    const pod = podConfig(root, 'life');
    const { pod_sandbox_id: podId } = await cri.call('RunPodSandbox', { config: pod });
    assert.match(podId, /^[0-9a-f]{64}$/);
    const st = (await cri.call('PodSandboxStatus', { pod_sandbox_id: podId, verbose: true })) as any;
    assert.equal(st.status.state, 'SANDBOX_READY');
    assert.deepEqual(st.status.metadata, pod.metadata);
    assert.deepEqual(st.status.labels, pod.labels);
    assert.deepEqual(st.status.annotations, pod.annotations);
    assert.match(st.status.network.ip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.ok(JSON.parse(st.info.info).pid > 0);

    const config = ctrConfig('life', 'app', ['sh', '-c', 'echo out-line; echo err-line >&2; printf partial; exec sleep 1000']);
    const { container_id: id } = await cri.call('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: pod });
    let cs = ((await cri.call('ContainerStatus', { container_id: id })) as any).status;
    assert.equal(cs.state, 'CONTAINER_CREATED');
    assert.equal(cs.log_path, path.join(pod.log_directory, 'app/0.log'));
    // The same name again in the same pod is refused.
    await assert.rejects(cri.call('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: pod }), (e: any) => e.code === 6 || e.code === 2);
    await cri.call('StartContainer', { container_id: id });
    cs = ((await cri.call('ContainerStatus', { container_id: id })) as any).status;
    assert.equal(cs.state, 'CONTAINER_RUNNING');
    assert.ok(BigInt(cs.started_at) >= BigInt(cs.created_at));
    assert.deepEqual(cs.labels, config.labels);
    assert.deepEqual(cs.annotations, config.annotations);

    // exec: output, exit code, the pod's hostname (UTS shared) and network (the sandbox's address).
    const ex = (await cri.call('ExecSync', { container_id: id, cmd: ['sh', '-c', 'hostname; echo e >&2; exit 7'], timeout: 10 })) as any;
    assert.equal(Buffer.from(ex.stdout).toString(), 'life\n');
    assert.equal(Buffer.from(ex.stderr).toString(), 'e\n');
    assert.equal(ex.exit_code, 7);
    const ip = ((await cri.call('ExecSync', { container_id: id, cmd: ['sh', '-c', 'ip -4 -o addr show eth0'], timeout: 10 })) as any).stdout.toString();
    assert.ok(ip.includes(st.status.network.ip + '/'), ip);
    // A command outliving its timeout fails the call.
    const t0 = Date.now();
    await assert.rejects(cri.call('ExecSync', { container_id: id, cmd: ['sleep', '30'], timeout: 1 }), /timeout/);
    assert.ok(Date.now() - t0 < 10_000);

    // The log, in the CRI format.
    const log = await root.until(() => { try { return fs.readFileSync(cs.log_path, 'utf8'); } catch { return ''; } }, (t) => t.includes('partial'));
    assert.match(log, /^\S+Z stdout F out-line$/m);
    assert.match(log, /^\S+Z stderr F err-line$/m);

    // berth sees the same containers with the kubelet's labels.
    const ps = await root.run(['ps', '--filter', 'label=io.kubernetes.pod.name=life', '--format', '{{.Names}}']);
    assert.deepEqual(ps.stdout.trim().split('\n').sort(), ['k8s_POD_life_default_uid-life_0', 'k8s_app_life_default_uid-life_0']);

    // Lists and their filters.
    const list = (f: object) => cri.call('ListContainers', { filter: f }).then((r: any) => r.containers.map((c: any) => c.id));
    assert.deepEqual(await list({ pod_sandbox_id: podId }), [id]);
    assert.deepEqual(await list({ id: id.slice(0, 10) }), [id]);
    assert.deepEqual(await list({ state: { state: 'CONTAINER_RUNNING' }, label_selector: { 'io.kubernetes.container.name': 'app' } }), [id]);
    assert.deepEqual(await list({ label_selector: { 'io.kubernetes.container.name': 'nope' } }), []);
    const pods = (f: object) => cri.call('ListPodSandbox', { filter: f }).then((r: any) => r.items.map((c: any) => c.id));
    assert.deepEqual(await pods({ label_selector: { tier: 'test' }, state: { state: 'SANDBOX_READY' } }), [podId]);
    assert.deepEqual(await pods({ id: podId.slice(0, 8) }), [podId]);

    // Stats.
    const stats = ((await cri.call('ContainerStats', { container_id: id })) as any).stats;
    assert.ok(BigInt(stats.cpu.usage_core_nano_seconds.value) > 0n);
    assert.ok(BigInt(stats.memory.working_set_bytes.value) > 0n);
    const pstats = ((await cri.call('PodSandboxStats', { pod_sandbox_id: podId })) as any).stats;
    assert.equal(pstats.linux.containers.length, 1);

    // Stop: every container, then the sandbox; twice is fine.
    await cri.call('StopPodSandbox', { pod_sandbox_id: podId });
    await cri.call('StopPodSandbox', { pod_sandbox_id: podId });
    assert.equal(((await cri.call('PodSandboxStatus', { pod_sandbox_id: podId })) as any).status.state, 'SANDBOX_NOTREADY');
    cs = ((await cri.call('ContainerStatus', { container_id: id })) as any).status;
    assert.equal(cs.state, 'CONTAINER_EXITED');
    assert.equal(cs.reason, 'Error');
    assert.ok(BigInt(cs.finished_at) >= BigInt(cs.started_at));
    await cri.call('RemovePodSandbox', { pod_sandbox_id: podId });
    await cri.call('RemovePodSandbox', { pod_sandbox_id: podId });
    await assert.rejects(cri.call('PodSandboxStatus', { pod_sandbox_id: podId }), (e: any) => e.code === 5);
    assert.deepEqual(await list({}), []);
    // The kubelet owns the log directory: it stays.
    assert.ok(fs.existsSync(cs.log_path));
    assert.deepEqual(root.leftovers(), []);
    assert.deepEqual(await root.until(() => root.netLeftovers(), (l) => l.length === 0), []);
  });

  test('exit codes and reasons; stop and remove are idempotent', async () => {
    const pod = podConfig(root, 'codes');
    const { pod_sandbox_id: podId } = await cri.call('RunPodSandbox', { config: pod });
    const run = async (name: string, cmd: string[]) => {
      const { container_id } = await cri.call('CreateContainer', { pod_sandbox_id: podId, config: ctrConfig('codes', name, cmd), sandbox_config: pod });
      await cri.call('StartContainer', { container_id });
      return container_id;
    };
    const ok = await run('ok', ['true']);
    const bad = await run('bad', ['sh', '-c', 'exit 3']);
    const status = (id: string) => cri.call('ContainerStatus', { container_id: id }).then((r: any) => r.status);
    const okSt = await root.eventually(() => status(ok), (s) => s.state === 'CONTAINER_EXITED');
    const badSt = await root.eventually(() => status(bad), (s) => s.state === 'CONTAINER_EXITED');
    assert.deepEqual([okSt.exit_code, okSt.reason], [0, 'Completed']);
    assert.deepEqual([badSt.exit_code, badSt.reason], [3, 'Error']);
    // An exited container does not start again (the kubelet makes a new attempt).
    await assert.rejects(cri.call('StartContainer', { container_id: ok }));
    await cri.call('StopContainer', { container_id: ok, timeout: 1 });
    await cri.call('RemoveContainer', { container_id: ok });
    await cri.call('RemoveContainer', { container_id: ok });
    await assert.rejects(cri.call('ContainerStatus', { container_id: ok }), (e: any) => e.code === 5);
    await cri.call('StopPodSandbox', { pod_sandbox_id: podId });
    await cri.call('RemovePodSandbox', { pod_sandbox_id: podId });
    assert.deepEqual(root.leftovers(), []);
  });

  test('a daemon killed with SIGKILL: the next serves the same pods with their states and exit codes', async () => {
    const pod = podConfig(root, 'crash');
    const { pod_sandbox_id: podId } = await cri.call('RunPodSandbox', { config: pod });
    const mk = async (name: string, cmd: string[]) => {
      const { container_id } = await cri.call('CreateContainer', { pod_sandbox_id: podId, config: ctrConfig('crash', name, cmd), sandbox_config: pod });
      await cri.call('StartContainer', { container_id });
      return container_id;
    };
    const long = await mk('long', ['sleep', '1000']);
    const ends = await mk('ends', ['sh', '-c', 'sleep 2; exit 5']);
    const before = (await cri.call('PodSandboxStatus', { pod_sandbox_id: podId })) as any;
    await daemon.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 2500)); // `ends` exits while no daemon runs
    const bridge = daemon.bridge;
    daemon = new CriDaemon(root, { cni: false }); // the configuration written before stays
    daemon.bridge = bridge;
    await daemon.start();
    cri = daemon.client();
    const sb = ((await cri.call('PodSandboxStatus', { pod_sandbox_id: podId })) as any).status;
    assert.equal(sb.state, 'SANDBOX_READY');
    assert.equal(sb.network.ip, before.status.network.ip);
    const st = (id: string) => cri.call('ContainerStatus', { container_id: id }).then((r: any) => r.status);
    assert.equal((await st(long)).state, 'CONTAINER_RUNNING');
    const e = await st(ends);
    assert.deepEqual([e.state, e.exit_code, e.reason], ['CONTAINER_EXITED', 5, 'Error']);
    const ex = (await cri.call('ExecSync', { container_id: long, cmd: ['echo', 'still'], timeout: 5 })) as any;
    assert.equal(Buffer.from(ex.stdout).toString(), 'still\n');
    await cri.call('StopPodSandbox', { pod_sandbox_id: podId });
    await cri.call('RemovePodSandbox', { pod_sandbox_id: podId });
    assert.deepEqual(root.leftovers(), []);
    assert.deepEqual(await root.until(() => root.netLeftovers(), (l) => l.length === 0), []);
  });

  test('a pod under the kubelet\'s cgroup parent: stats from there, its containers\' cgroups gone with it', async () => {
    const parent = `/berthtest${root.key}/pod-cg`;
    const pod = podConfig(root, 'cg', { linux: { cgroup_parent: parent } });
    const { pod_sandbox_id: podId } = await cri.call('RunPodSandbox', { config: pod });
    const { container_id: id } = await cri.call('CreateContainer', { pod_sandbox_id: podId, config: ctrConfig('cg', 'mem', ['sh', '-c', 'x=$(head -c 4000000 /dev/zero | tr "\\0" a); exec sleep 1000']), sandbox_config: pod });
    await cri.call('StartContainer', { container_id: id });
    const dirs = () => fs.readdirSync('/sys/fs/cgroup').map((h) => path.join('/sys/fs/cgroup', h, parent, id)).filter((d) => fs.existsSync(d));
    assert.ok(dirs().length > 0, 'the container\'s cgroup is under the parent');
    const stats = ((await cri.call('ContainerStats', { container_id: id })) as any).stats;
    assert.ok(BigInt(stats.memory.usage_bytes.value) > 0n);
    assert.ok(BigInt(stats.memory.page_faults.value) > 0n);
    await cri.call('StopPodSandbox', { pod_sandbox_id: podId });
    await cri.call('RemovePodSandbox', { pod_sandbox_id: podId });
    assert.deepEqual(dirs(), []);
    assert.deepEqual(root.leftovers(), []);
    // The parent is the kubelet's to remove.
    for (const h of fs.readdirSync('/sys/fs/cgroup')) {
      for (const d of [path.join('/sys/fs/cgroup', h, parent), path.join('/sys/fs/cgroup', h, path.dirname(parent))]) try { fs.rmdirSync(d); } catch {}
    }
  });

  test('crictl: runp, create, start, ps, pods, inspect, inspectp, logs, stats, stopp, rmp', { skip: hasCrictl ? false : 'crictl is not here (BERTH_CRICTL)' }, async () => {
    const dir = fs.mkdtempSync(path.join(root.dir, 'crictl-'));
    const pod = podConfig(root, 'ctl');
    fs.writeFileSync(path.join(dir, 'pod.json'), JSON.stringify(pod));
    fs.writeFileSync(path.join(dir, 'ctr.json'), JSON.stringify(ctrConfig('ctl', 'web', ['sh', '-c', 'echo hello-crictl; exec sleep 1000'])));
    const ok = async (args: string[]) => {
      const r = await daemon.crictl(args);
      assert.equal(r.code, 0, `crictl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    };
    const podId = await ok(['runp', path.join(dir, 'pod.json')]);
    const id = await ok(['create', podId, path.join(dir, 'ctr.json'), path.join(dir, 'pod.json')]);
    await ok(['start', id]);
    assert.ok((await ok(['ps', '-q'])).includes(id));
    assert.ok((await ok(['pods', '-q'])).includes(podId));
    assert.equal(JSON.parse(await ok(['inspect', id])).status.state, 'CONTAINER_RUNNING');
    assert.equal(JSON.parse(await ok(['inspectp', podId])).status.state, 'SANDBOX_READY');
    assert.match(await root.eventually(() => ok(['logs', id]), (t) => t.includes('hello')), /hello-crictl/);
    assert.match(await ok(['stats', id]), /web|CPU/);
    await ok(['stopp', podId]);
    await ok(['rmp', podId]);
    assert.deepEqual(root.leftovers(), []);
  });
});
