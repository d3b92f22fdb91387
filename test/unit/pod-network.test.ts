import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseConf, parseConf } from '../../src/network/cni-conf.ts';
import { capabilityArgs, cniArgs, podAddresses } from '../../src/network/pod-cni-args.ts';
import { parseNetworkMode } from '../../src/engine/networking.ts';

const list = JSON.stringify({ cniVersion: '1.0.0', name: 'pods', plugins: [{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }] });

test('conf: the first file by name that parses; a single plugin becomes a list of one; other extensions ignored', () => {
  const c = chooseConf('/d', [['20-b.conflist', list], ['10-a.conf', JSON.stringify({ cniVersion: '0.4.0', name: 'one', type: 'bridge', bridge: 'x' })], ['05-notes.txt', 'x']]);
  assert.ok(c.list);
  assert.equal(c.file, '/d/10-a.conf');
  assert.deepEqual(c.list, { cniVersion: '0.4.0', name: 'one', plugins: [{ type: 'bridge', bridge: 'x' }] });
  // Broken ones are passed over, each saying why.
  const d = chooseConf('/d', [['00-bad.conflist', '{'], ['01-noname.conflist', JSON.stringify({ plugins: [{ type: 'bridge' }] })], ['02-b.conflist', list]]);
  assert.equal(d.list?.name, 'pods');
  assert.equal(d.list?.plugins.length, 2);
});

test('conf: none usable says why, naming each file passed over', () => {
  const empty = chooseConf('/etc/cni/net.d', []);
  assert.equal(empty.list, undefined);
  assert.match(!empty.list ? empty.message : '', /cni plugin not initialized: no valid network config found in \/etc\/cni\/net\.d$/);
  const bad = chooseConf('/d', [['a.conflist', '{"name":"x","plugins":[]}'], ['b.conf', '{"name":"y"}'], ['c.json', 'nope'], ['d.conf', undefined]]);
  assert.equal(bad.list, undefined);
  const msg = !bad.list ? bad.message : '';
  for (const part of ['a.conflist: no plugins', 'b.conf: no plugin type', 'c.json: not JSON', 'd.conf: cannot be read']) assert.ok(msg.includes(part), `${part} in ${msg}`);
  assert.equal(parseConf('x.conflist', JSON.stringify({ name: 'n', plugins: [{}] })), 'x.conflist: a plugin has no type');
});

test('CNI_ARGS as the kubelet runtimes pass them; capabilities only with something in them', () => {
  const id = 'a'.repeat(64);
  assert.equal(cniArgs(id, { name: 'web', namespace: 'default', uid: 'u-1' }), `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=${id};K8S_POD_UID=u-1`);
  assert.equal(cniArgs(id, { name: 'a;b=c', namespace: 'n', uid: 'u' }).split(';').length, 5);
  assert.deepEqual(capabilityArgs({ name: 'w', namespace: 'n', uid: 'u', portMappings: [] }), {});
  assert.deepEqual(capabilityArgs({
    name: 'w', namespace: 'n', uid: 'u',
    portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 0, containerPort: 53, protocol: 'udp' }, { hostPort: 5353, containerPort: 53, protocol: 'UDP' as 'udp', hostIP: '127.0.0.1' }],
    dns: { servers: ['10.0.0.10'], searches: ['svc.cluster.local'], options: ['ndots:5'] },
  }), {
    portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' }],
    dns: { servers: ['10.0.0.10'], searches: ['svc.cluster.local'], options: ['ndots:5'] },
  });
});

test('pod addresses: those of eth0 in the sandbox, IPv4 first, the rest additional', () => {
  const r = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'cni0' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/run/netns/x' }, { name: 'net1', sandbox: '/run/netns/x' }],
    ips: [{ interface: 2, address: 'fd00::5/64' }, { interface: 2, address: '10.88.0.5/16', gateway: '10.88.0.1' }, { interface: 3, address: '10.99.0.5/16' }, { interface: 0, address: '10.88.0.1/16' }],
  };
  assert.deepEqual(podAddresses(r, 'eth0'), { ip: '10.88.0.5', additionalIps: ['fd00::5'] });
  assert.deepEqual(podAddresses({ cniVersion: '0.3.1', ips: [{ address: '10.1.0.2/24' }] }, 'eth0'), { ip: '10.1.0.2', additionalIps: [] });
  assert.deepEqual(podAddresses({ cniVersion: '0.2.0', ip4: { ip: '10.2.0.2/24' } }, 'eth0'), { ip: '10.2.0.2', additionalIps: [] });
  assert.deepEqual(podAddresses({ cniVersion: '1.0.0' }, 'eth0'), { ip: '', additionalIps: [] });
});

test('network mode ns:PATH', () => {
  assert.deepEqual(parseNetworkMode('ns:/run/berth/netns/x'), { kind: 'ns', path: '/run/berth/netns/x' });
  assert.throws(() => parseNetworkMode('ns:relative'), /absolute path/);
  assert.throws(() => parseNetworkMode('ns:'), /absolute path/);
});
