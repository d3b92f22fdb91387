// The pod network as the kubelet sees it, through berth's CRI (gRPC, our own proto): a pod with a
// host port gets an address from the conf dir's network, its container serves on the host port,
// the pod survives a kill -9 of the daemon with its network, and StopPodSandbox/RemovePodSandbox
// leave no namespace, veth, rule or address behind.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';
import { CriDaemon } from '../helpers/cri.ts';

const hasCni = ['/opt/cni/bin', '/usr/lib/cni'].some((d) => fs.existsSync(path.join(d, 'bridge')));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    }).on('error', reject).on('timeout', function (this: http.ClientRequest) { this.destroy(new Error('timeout')); });
  });
}

describe('CRI pod network', { skip: (!isRoot && 'needs root') || (!hasCni && 'needs the CNI plugins') }, () => {
  let root: TestRoot;
  let daemon: CriDaemon;
  let slowBin: string;
  before(async () => {
    root = await TestRoot.withBusybox();
    // A plugin that only the cut-short test puts into the conf list: ADD takes long there.
    slowBin = path.join(root.dir, 'cni-slow-bin');
    fs.mkdirSync(slowBin, { recursive: true });
    fs.writeFileSync(path.join(slowBin, 'berth-slow'), `#!/bin/sh\ncat >/dev/null\nif [ "$CNI_COMMAND" = ADD ]; then : > ${path.join(root.dir, 'slow-started')}; sleep 3; fi\nexit 0\n`, { mode: 0o755 });
    daemon = new CriDaemon(root, { cni: true, args: ['--cni-bin-dir', slowBin] });
    await daemon.start();
  });
  after(async () => {
    await daemon.stop();
    daemon.removeBridge();
    await root.cleanup();
  });

  test('RunPodSandbox gives the pod an address and its host port; it outlives a kill -9 of the daemon; stop and remove leave nothing', async () => {
    const port = await freePort();
    const sandboxConfig = {
      metadata: { name: 'web', namespace: 'default', uid: `uid-${process.pid}`, attempt: 0 },
      port_mappings: [{ protocol: 'TCP', container_port: 80, host_port: port }],
      dns_config: { servers: ['10.96.0.10'], searches: ['svc.cluster.local'], options: ['ndots:5'] },
      log_directory: path.join(root.dir, 'pod-logs'),
      linux: {},
    };
    let c = daemon.client();
    const { pod_sandbox_id: id } = await c.call('RunPodSandbox', { config: sandboxConfig } as never);
    const status = async () => (await daemon.client().call('PodSandboxStatus', { pod_sandbox_id: id } as never)) as { status: { state: string; network: { ip: string } } };
    const st = await status();
    assert.equal(st.status.state, 'SANDBOX_READY');
    const ip = st.status.network.ip;
    assert.match(ip, /^10\.\d+\.\d+\.\d+$/);
    const netns = `/run/berth/netns/berth-${root.key}-${id.slice(0, 12)}`;
    assert.ok(fs.existsSync(netns), netns);

    const { container_id: cid } = await c.call('CreateContainer', {
      pod_sandbox_id: id, sandbox_config: sandboxConfig,
      config: { metadata: { name: 'httpd' }, image: { image: 'busybox:latest' }, command: ['sh', '-c', 'mkdir /www; echo hello-kubelet > /www/index.html; exec httpd -f -p 80 -h /www'], log_path: 'httpd.log' },
    } as never);
    await c.call('StartContainer', { container_id: cid } as never);
    assert.equal(await root.eventually(() => get(`http://127.0.0.1:${port}/`).catch((e: Error) => e.message), (b) => b === 'hello-kubelet\n'), 'hello-kubelet\n');

    // kill -9: the pod, its network and its port stay; a new daemon reports the same address.
    await daemon.stop('SIGKILL');
    assert.equal(await get(`http://127.0.0.1:${port}/`), 'hello-kubelet\n');
    await daemon.start();
    c = daemon.client();
    assert.equal((await status()).status.network.ip, ip);

    await c.call('StopPodSandbox', { pod_sandbox_id: id } as never);
    await c.call('StopPodSandbox', { pod_sandbox_id: id } as never); // the kubelet repeats it
    await c.call('RemovePodSandbox', { pod_sandbox_id: id } as never);
    assert.ok(!fs.existsSync(netns));
    assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(netns));
    assert.ok(!execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).includes(id), 'no port or NAT rule names the pod');
    const ipam = path.join(root.dir, 'cni-ipam');
    const addresses = fs.existsSync(ipam) ? fs.readdirSync(ipam).flatMap((d) => fs.readdirSync(path.join(ipam, d)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))) : [];
    assert.deepEqual(addresses, []);
    assert.equal(execFileSync('ip', ['-o', 'link', 'show', 'master', daemon.bridge!], { encoding: 'utf8' }).trim(), '', 'no veth on the bridge');
    assert.deepEqual(root.netLeftovers(), []);
  });

  test('kill -9 while RunPodSandbox runs (the pause started, ADD not done): the next daemon reports the pod not ready; stop and remove leave nothing', async () => {
    const conf = path.join(daemon.cniConfDir, fs.readdirSync(daemon.cniConfDir)[0]);
    const original = fs.readFileSync(conf, 'utf8');
    const list = JSON.parse(original);
    list.plugins.splice(1, 0, { type: 'berth-slow' });
    fs.writeFileSync(conf, JSON.stringify(list));
    const c = daemon.client();
    const pending = c.call('RunPodSandbox', { config: { metadata: { name: 'cut', namespace: 'default', uid: `uid-cut-${process.pid}`, attempt: 0 }, linux: {} } } as never).catch((e: Error) => e);
    const list0 = async () => ((await daemon.client().call('ListPodSandbox', {} as never)) as { items: Array<{ id: string; state: string }> }).items;
    const [pod] = await root.eventually(list0, (items) => items.length === 1 && items[0].state === 'SANDBOX_READY' && fs.existsSync(path.join(root.dir, 'slow-started')), 15_000);
    assert.ok(pod, 'the pause runs while the slow plugin adds');
    await daemon.stop('SIGKILL');
    assert.ok((await pending) instanceof Error);
    fs.writeFileSync(conf, original);
    await daemon.start();
    const after = await root.eventually(list0, (items) => items[0]?.state === 'SANDBOX_NOTREADY', 15_000);
    assert.deepEqual(after.map((p) => [p.id, p.state]), [[pod.id, 'SANDBOX_NOTREADY']]);
    const c2 = daemon.client();
    await c2.call('StopPodSandbox', { pod_sandbox_id: pod.id } as never);
    await c2.call('RemovePodSandbox', { pod_sandbox_id: pod.id } as never);
    assert.deepEqual(await list0(), []);
    assert.deepEqual(root.leftovers(), []);
    assert.deepEqual(await root.until(() => root.netLeftovers(), (l) => l.length === 0), []);
    assert.equal(execFileSync('ip', ['-o', 'link', 'show', 'master', daemon.bridge!], { encoding: 'utf8' }).trim(), '', 'no veth on the bridge');
  });
});
