import assert from 'node:assert/strict';
import { test } from 'node:test';
import { candidateSubnets, formatSubnet, parseProcRoutes, parseSubnet, pickSubnet } from '../../src/network/cidr.ts';
import { pluginInput, type NetConfList } from '../../src/network/cni.ts';
import { bridgeRules, natRule } from '../../src/network/firewall.ts';
import { clash, parsePublish, portLines, portsView, psPorts, publishAll, summaryPorts, toMappings } from '../../src/network/ports.ts';
import { buildConflist, type NetworkRecord } from '../../src/network/store.ts';
import { hostsFile, parseNetworkMode, resolvFile } from '../../src/engine/networking.ts';
import { buildPlan, CLONE, type PlanInput } from '../../src/runtime/plan.ts';

test('-p grammar: docker forms, ranges, protocols, addresses', () => {
  assert.deepEqual(parsePublish('8080:80'), { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
  assert.deepEqual(parsePublish('127.0.0.1:5353:53/udp'), { '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }] });
  assert.deepEqual(parsePublish('80'), { '80/tcp': [{ HostIp: '', HostPort: '' }] });
  assert.deepEqual(parsePublish('127.0.0.1::80'), { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  assert.deepEqual(parsePublish('9000-9001:90-91'), { '90/tcp': [{ HostIp: '', HostPort: '9000' }], '91/tcp': [{ HostIp: '', HostPort: '9001' }] });
  const both = parsePublish('80:80', parsePublish('81:80'));
  assert.equal(both['80/tcp'].length, 2);
  for (const bad of ['', '0:80', '80:70000', 'a:b', '1.2.3.4.5:80:80', '80/icmp', '9000-9002:90-91', '[::1]:80:80', '1:2:3:4']) {
    assert.throws(() => parsePublish(bad), { code: 'InvalidArgument' }, bad);
  }
});

test('mappings: random host ports filled in, duplicates refused, clashes by address', () => {
  let next = 40000;
  const m = toMappings({ ...parsePublish('80'), ...parsePublish('127.0.0.1:53:53/udp') }, () => next++);
  assert.deepEqual(m, [
    { hostPort: 40000, containerPort: 80, protocol: 'tcp', hostIP: '' },
    { hostPort: 53, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
  ]);
  assert.throws(() => toMappings(parsePublish('8080:80', parsePublish('8080:81')), () => 1), /published twice/);
  // The API's HostPort "0" (testcontainers) is a random port too.
  assert.equal(toMappings({ '80/tcp': [{ HostIp: '', HostPort: '0' }] }, () => 41000)[0].hostPort, 41000);
  const a = { hostPort: 1, containerPort: 1, protocol: 'tcp' as const, hostIP: '' };
  assert.ok(clash(a, { ...a, hostIP: '127.0.0.1' }));
  assert.ok(!clash({ ...a, hostIP: '127.0.0.2' }, { ...a, hostIP: '127.0.0.1' }));
  assert.ok(!clash(a, { ...a, protocol: 'udp' }));
  assert.deepEqual(publishAll(parsePublish('8080:80'), ['80/tcp', '443/tcp']), { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '443/tcp': [{ HostIp: '', HostPort: '' }] });
  assert.deepEqual(portsView(m, ['80/tcp', '22/tcp']), { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '40000' }], '22/tcp': null, '53/udp': [{ HostIp: '127.0.0.1', HostPort: '53' }] });
  assert.deepEqual(portLines(m), ['53/udp -> 127.0.0.1:53', '80/tcp -> 0.0.0.0:40000']);
  assert.deepEqual(portLines(m, '80'), ['0.0.0.0:40000']);
  assert.equal(psPorts(m), '127.0.0.1:53->53/udp, 0.0.0.0:40000->80/tcp');
  assert.deepEqual(summaryPorts(m)[1], { IP: '127.0.0.1', PrivatePort: 53, PublicPort: 53, Type: 'udp' });
});

test('subnets: a default that clashes with no route or network', () => {
  // 10.88.0.0/16 routed on the host, 10.89.0.0/16 taken by a network: 10.90 is next.
  const routes = parseProcRoutes('Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n' +
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n' + 'eth1\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\n');
  assert.deepEqual(routes.map(formatSubnet), ['0.0.0.0/0', '10.88.0.0/16']);
  assert.equal(formatSubnet(pickSubnet([parseSubnet('10.89.0.0/16')], routes)!), '10.90.0.0/16');
  // A /8 route covering every 10.x candidate pushes the choice to 172.17.
  assert.equal(formatSubnet(pickSubnet([], [parseSubnet('10.0.0.0/8')])!), '172.17.0.0/16');
  assert.equal(pickSubnet(candidateSubnets(), []), undefined);
  assert.throws(() => parseSubnet('10.0.0.1/8'), /host bits/);
  assert.throws(() => parseSubnet('10.0.0.0/31'), /too small/);
});

const net: NetworkRecord = {
  Name: 'app', Id: 'a'.repeat(64), Created: '', Driver: 'bridge', Internal: false, Labels: {}, Subnet: '10.90.0.0/16',
  Gateway: '10.90.0.1', Bridge: 'berthbaaaaaaaaa', Dns: true,
};

test('conflist: bridge + host-local under the root, portmap only for published ports, tuning only for a fixed MAC; NAT is a rule of the network, not of the plugin; internal networks get no NAT and no route out', () => {
  const list = buildConflist('berth-k-a', net, '/root/networks/ipam', { ports: true });
  assert.deepEqual(list.plugins.map((p) => p.type), ['bridge', 'portmap']);
  assert.deepEqual(buildConflist('x', net, '/d', {}).plugins.map((p) => p.type), ['bridge']);
  assert.equal((list.plugins[0] as unknown as { ipam: { dataDir: string } }).ipam.dataDir, '/root/networks/ipam');
  assert.equal(list.plugins[0].ipMasq, false); // one MASQUERADE rule per network (firewall.ts), no per-container chain
  assert.equal(natRule(net, 'berth-k-a')!.join(' '), '-s 10.90.0.0/16 ! -o berthbaaaaaaaaa ! -d 224.0.0.0/4 -m comment --comment berth-k-a -j MASQUERADE');
  assert.equal(natRule({ ...net, Internal: true }, 'berth-k-a'), undefined);
  assert.deepEqual(buildConflist('x', net, '/d', { mac: true, ports: true }).plugins.map((p) => p.type), ['bridge', 'tuning', 'portmap']);
  const internal = buildConflist('x', { ...net, Internal: true }, '/d', { ports: true });
  assert.deepEqual(internal.plugins.map((p) => p.type), ['bridge']);
  assert.equal(internal.plugins[0].ipMasq, false);
  assert.deepEqual((internal.plugins[0] as unknown as { ipam: { routes: unknown[] } }).ipam.routes, []);
});

test('plugin input: name and version from the list, runtimeConfig only for declared capabilities, prevResult passed on', () => {
  const list: NetConfList = { cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'portmap', capabilities: { portMappings: true } }, { type: 'bridge' }] };
  const rt = { containerId: 'c', netns: '/ns', ifname: 'eth0', capabilityArgs: { portMappings: [{ hostPort: 1 }], mac: 'x' } };
  assert.deepEqual(pluginInput(list, list.plugins[0], rt, { cniVersion: '1.0.0' }), {
    type: 'portmap', capabilities: { portMappings: true }, cniVersion: '1.0.0', name: 'n', runtimeConfig: { portMappings: [{ hostPort: 1 }] }, prevResult: { cniVersion: '1.0.0' },
  });
  assert.deepEqual(pluginInput(list, list.plugins[1], rt), { type: 'bridge', cniVersion: '1.0.0', name: 'n' });
});

test('forwarding rules: same network allowed, other berth bridges dropped first; internal networks closed', () => {
  const open = bridgeRules('berthb1', false).map((r) => r.join(' '));
  assert.deepEqual(open.slice(0, 2), ['-i berthb1 -o berthb1 -j ACCEPT', '-i berthb1 -o berthb+ -j DROP']);
  assert.ok(open.at(-1) === '-i berthb1 -j ACCEPT');
  const closed = bridgeRules('berthb1', true).map((r) => r.join(' '));
  assert.ok(closed.includes('-i berthb1 -j DROP') && closed.includes('-o berthb1 -j DROP') && !closed.includes('-i berthb1 -j ACCEPT'));
});

test('network modes and /etc files', () => {
  assert.deepEqual(parseNetworkMode(undefined), { kind: 'network', name: 'bridge' });
  assert.deepEqual(parseNetworkMode('default'), { kind: 'network', name: 'bridge' });
  assert.deepEqual(parseNetworkMode('container:web'), { kind: 'container', ref: 'web' });
  assert.throws(() => parseNetworkMode('container:'), { code: 'InvalidArgument' });
  const hosts = hostsFile({ extra: ['db:10.0.0.5'], self: { ip: '10.90.0.2', names: ['box'] } });
  assert.match(hosts, /^127\.0\.0\.1\tlocalhost\n/);
  assert.ok(hosts.endsWith('10.0.0.5\tdb\n10.90.0.2\tbox\n'));
  assert.throws(() => hostsFile({ extra: ['nohost'] }), /add-host/);
  const host = 'nameserver 127.0.0.53\nsearch lan\noptions edns0\n';
  assert.equal(resolvFile(host), 'search lan\noptions edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(resolvFile(host, { keepLoopback: true }), host);
  assert.equal(resolvFile(host, { dns: ['1.1.1.1'], search: ['a.b'], options: ['ndots:2'] }), 'nameserver 1.1.1.1\nsearch a.b\noptions ndots:2\n');
});

test('plan: none makes a namespace, host shares the host one, a sandbox is joined by path before any mount', () => {
  const base = (network?: PlanInput['network']): PlanInput => ({
    rootfs: { type: 'overlay', source: 'overlay', target: '/c/rootfs', options: [] }, cgroupNamespace: false, cgroupJoin: ['/cg/tasks'],
    hostname: 'h', etcFiles: { hostname: '/h', hosts: '/hs', resolv: '/r' },
    process: { args: ['true'], env: [], cwd: '/', uid: 0, gid: 0, groups: [], caps: 0n }, network,
    teardown: { rmdirs: [], release: network?.mode === 'join' ? ['/node', 'release.ts', '/root', 'id'] : undefined },
  });
  const none = buildPlan(base());
  assert.ok(Number(none[0][1]) & CLONE.NEWNET);
  assert.ok(none.some((s) => s[0] === 'loopback'));
  const host = buildPlan(base({ mode: 'host' }));
  assert.equal(Number(host[0][1]) & CLONE.NEWNET, 0);
  assert.ok(!host.some((s) => s[0] === 'loopback' || s[0] === 'setns'));
  const join = buildPlan(base({ mode: 'join', path: '/run/berth/netns/x' }));
  const names = join.map((s) => s[0]);
  assert.equal(Number(join[0][1]) & CLONE.NEWNET, 0);
  assert.ok(names.indexOf('join') < names.indexOf('setns') && names.indexOf('setns') < names.indexOf('propagation'));
  assert.deepEqual(join.at(-1), ['release', '/node', 'release.ts', '/root', 'id']);
});

test('DNS: a query is read, answered with A records, NXDOMAIN or nothing; other messages are not queries', async () => {
  const { parseQuery, buildAnswer, nameservers } = await import('../../src/network/dns.ts');
  // id 0x1234, RD, one question: "Web.local" A IN
  const q = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x57, 0x65, 0x62, 5, ...Buffer.from('local'), 0, 0, 1, 0, 1]);
  const parsed = parseQuery(q)!;
  assert.equal(parsed.name, 'web.local');
  assert.equal(parsed.type, 1);
  const a = buildAnswer(parsed, ['10.90.0.2']);
  assert.equal(a.readUInt16BE(0), 0x1234);
  assert.equal(a.readUInt16BE(2), 0x8580); // QR AA RD RA, NOERROR
  assert.equal(a.readUInt16BE(6), 1);
  assert.deepEqual([...a.subarray(a.length - 4)], [10, 90, 0, 2]);
  assert.equal(a.subarray(12, 12 + parsed.raw.length).compare(q.subarray(12)), 0);
  const nx = buildAnswer(parsed, [], 3);
  assert.equal(nx.readUInt16BE(2) & 0xf, 3);
  assert.equal(nx.readUInt16BE(6), 0);
  const response = Buffer.from(q);
  response[2] |= 0x80;
  assert.equal(parseQuery(response), undefined);
  assert.equal(parseQuery(q.subarray(0, 14)), undefined);
  assert.deepEqual(nameservers('nameserver 10.0.0.1\n# nameserver 9.9.9.9\nnameserver ::1\nnameserver 127.0.0.53\n'), ['10.0.0.1', '127.0.0.53']);
});
