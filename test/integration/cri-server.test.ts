// The CRI server itself (issue 19): `berth daemon --cri` serves gRPC runtime.v1 beside the Docker
// API; Version and Status answer as the protocol says, calls berth does not serve answer
// UNIMPLEMENTED, errors map to gRPC statuses, and the socket is made, guarded and removed.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { isRoot, TestRoot } from '../helpers/berth.ts';
import { CriDaemon, hasCrictl, type CallError } from '../helpers/cri.ts';
import { TestDaemon } from '../helpers/daemon.ts';
import { berthGroup } from '../../src/util/unix-socket.ts';
import { VERSION } from '../../src/core/version.ts';

const skip = isRoot ? false : 'needs root';

describe('berth daemon --cri', { skip }, () => {
  let root: TestRoot;
  let d: CriDaemon;
  before(async () => {
    root = new TestRoot();
    d = new CriDaemon(root);
    await d.start();
  });
  after(async () => {
    await d?.stop();
    await root?.cleanup();
  });

  test('Version names berth and CRI v1', async () => {
    const v = await d.client().call('Version', { version: 'v1' });
    assert.deepEqual(v, { version: '0.1.0', runtime_name: 'berth', runtime_version: VERSION, runtime_api_version: 'v1' });
  });

  test('crictl version reads the same', { skip: hasCrictl ? false : 'crictl not found (BERTH_CRICTL)' }, async () => {
    const r = await d.crictl(['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /RuntimeName:\s+berth/);
    assert.match(r.stdout, /RuntimeApiVersion:\s+v1/);
  });

  test('Status: the runtime is ready; the network only once a CNI configuration is there', async () => {
    const c = d.client();
    const cond = async () => Object.fromEntries((await c.call('Status', {})).status!.conditions.map((x) => [x.type, x]));
    let s = await cond();
    assert.equal(s.RuntimeReady.status, true);
    assert.equal(s.NetworkReady.status, false);
    assert.equal(s.NetworkReady.reason, 'NetworkPluginNotReady');
    assert.match(s.NetworkReady.message, /no valid network config found/); // containerd's words
    // An unusable file does not count; a conflist with plugins does, without a restart.
    fs.writeFileSync(path.join(d.cniConfDir, '05-broken.conflist'), '{ not json');
    assert.equal((await cond()).NetworkReady.status, false);
    fs.writeFileSync(path.join(d.cniConfDir, '10-net.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'loopback' }] }));
    s = await cond();
    assert.equal(s.NetworkReady.status, true);
    assert.equal(s.NetworkReady.reason, '');
    fs.rmSync(path.join(d.cniConfDir, '10-net.conflist'));
    fs.rmSync(path.join(d.cniConfDir, '05-broken.conflist'));
  });

  test('Status verbose carries the configuration as JSON; without verbose, no info', async () => {
    const c = d.client();
    assert.deepEqual((await c.call('Status', { verbose: false })).info, {});
    const info = (await c.call('Status', { verbose: true })).info;
    const config = JSON.parse(info.config);
    assert.equal(config.cniConfDir, d.cniConfDir);
    assert.deepEqual(config.cniBinDirs, ['/opt/cni/bin', '/usr/lib/cni']);
    assert.equal(config.streamAddress, '127.0.0.1:0');
    assert.deepEqual(JSON.parse(info.cniconfig).files, []);
  });

  test('UpdateRuntimeConfig keeps the pod CIDR; an empty one changes nothing', async () => {
    const c = d.client();
    const cidr = async () => JSON.parse((await c.call('Status', { verbose: true })).info.config).podCidr;
    await c.call('UpdateRuntimeConfig', { runtime_config: { network_config: { pod_cidr: '10.244.0.0/24' } } });
    assert.equal(await cidr(), '10.244.0.0/24');
    await c.call('UpdateRuntimeConfig', { runtime_config: { network_config: { pod_cidr: '' } } });
    assert.equal(await cidr(), '10.244.0.0/24');
  });

  test('calls berth does not serve answer UNIMPLEMENTED; the metrics calls answer empty lists', async () => {
    const c = d.client();
    await assert.rejects(c.call('CheckpointContainer', { container_id: 'x' }), (e: CallError) => e.code === grpc.status.UNIMPLEMENTED && /CheckpointContainer/.test(e.details));
    await assert.rejects(c.call('UpdatePodSandboxResources', { pod_sandbox_id: 'x' }), (e: CallError) => e.code === grpc.status.UNIMPLEMENTED);
    // No metric descriptors yet (the kubelet then reads the stats calls): empty, not an error.
    assert.deepEqual((await c.call('ListMetricDescriptors', {})).descriptors, []);
    const streamed: unknown[] = [];
    for await (const m of c.stream('StreamPodSandboxMetrics', {})) streamed.push(m);
    assert.deepEqual(streamed, []);
  });

  test('RuntimeConfig names the cgroupfs driver', async () => {
    assert.equal((await d.client().call('RuntimeConfig', {})).linux?.cgroup_driver, 'CGROUPFS');
  });

  test('the socket is 0660, root and the berth group (as the Docker socket)', () => {
    const st = fs.statSync(d.criSocket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    assert.equal(st.gid, berthGroup() ?? 0);
  });

  test('the Docker API works beside it', async () => {
    assert.equal((await d.request('GET', '/_ping')).status, 200);
  });

  test('a second daemon on the same CRI socket is refused; the first keeps serving', async () => {
    const other = new TestRoot();
    const d2 = new TestDaemon(other, { args: ['--cri', `unix://${d.criSocket}`] });
    await assert.rejects(d2.start(), /another daemon is listening on/);
    await d2.stop();
    await other.cleanup();
    assert.equal((await d.client().call('Version', {})).runtime_name, 'berth');
  });
});

describe('the CRI socket\'s lifecycle', { skip }, () => {
  test('a stale socket file is replaced; SIGTERM closes both APIs and removes the CRI socket', async () => {
    const root = new TestRoot();
    try {
      const d = new CriDaemon(root);
      // What a daemon killed with -9 leaves: a socket file nobody listens on.
      const net = await import('node:net');
      const stale = net.createServer();
      await new Promise<void>((r) => stale.listen(d.criSocket, r));
      await new Promise<void>((r) => {
        // Closing a listening unix server unlinks its file; keep the file by unlinking nothing:
        // close the handle without removal through a copy of the inode.
        fs.linkSync(d.criSocket, `${d.criSocket}.keep`);
        stale.close(() => r());
      });
      fs.renameSync(`${d.criSocket}.keep`, d.criSocket);
      assert.ok(fs.statSync(d.criSocket).isSocket());
      await d.start();
      assert.equal((await d.client().call('Version', {})).runtime_name, 'berth');
      await d.stop('SIGTERM');
      assert.equal(fs.existsSync(d.criSocket), false);
      assert.equal(fs.existsSync(d.socket), false);
    } finally {
      await root.cleanup();
    }
  });

  test('CRI flags without --cri, and a bad address, are refused before anything listens', async () => {
    const root = new TestRoot();
    try {
      let r = await root.run(['daemon', '-H', `unix://${root.dir}/d.sock`, '--cni-conf-dir', '/tmp']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /--cni-conf-dir needs --cri/);
      r = await root.run(['daemon', '-H', `unix://${root.dir}/d.sock`, '--cri', 'tcp://127.0.0.1:1234']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /use unix:\/\/\/path/);
      r = await root.run(['daemon', '-H', `unix://${root.dir}/d.sock`, '--cri', `unix://${root.dir}/c.sock`, '--stream-address', 'nonsense']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /--stream-address/);
      assert.equal(fs.existsSync(`${root.dir}/d.sock`), false);
    } finally {
      await root.cleanup();
    }
  });
});
