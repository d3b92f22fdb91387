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
  before(async () => {
    root = await TestRoot.withBusybox();
    daemon = new CriDaemon(root, { cni: true });
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
});
