import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { contains6, formatIp6, formatSubnet6, overlaps6, parseIp6, parseSubnet6, rangeBounds6 } from '../../src/network/cidr6.ts';
import { ipv6Unavailable, planIpv6 } from '../../src/network/ipv6.ts';
import { buildConflist, type NetworkRecord } from '../../src/network/store.ts';
import { natRule } from '../../src/network/firewall.ts';
import { endpointView, type Attachment } from '../../src/network/sandbox-types.ts';
import { buildAnswer, parseQuery } from '../../src/network/dns.ts';
import { checkRequestedIps } from '../../src/network/ipam-config.ts';

test('IPv6 text: every form parses, RFC 5952 comes out (longest zero run, lower case, an IPv4 tail)', () => {
  for (const [given, shown] of [
    ['2001:389::1', '2001:389::1'], ['2001:0389:0000:0000:0000:0000:0000:0001', '2001:389::1'], ['::', '::'], ['::1', '::1'],
    ['FD00::', 'fd00::'], ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['::ffff:10.1.2.3', '::ffff:a01:203'], ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
  ]) assert.equal(formatIp6(parseIp6(given)), shown, given);
  for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '1.2.3.4', '', ':::', '1:2:3:4:5:6:7']) assert.throws(() => parseIp6(bad), /invalid IPv6 address/, bad);
});

test('IPv6 subnets: host bits dropped (dockerd takes 2001:389::1/64), containment, overlap, IPRange bounds for host-local', () => {
  const s = parseSubnet6('2001:389::1/64');
  assert.equal(formatSubnet6(s), '2001:389::/64');
  assert.ok(contains6(s, parseIp6('2001:389::ffff')) && !contains6(s, parseIp6('2001:38a::1')));
  assert.ok(overlaps6(s, parseSubnet6('2001:389::/80')) && !overlaps6(s, parseSubnet6('2001:389:0:1::/64')));
  assert.deepEqual(rangeBounds6(s, '2001:389::/96'), { rangeStart: '2001:389::1', rangeEnd: '2001:389::ffff:ffff' });
  assert.deepEqual(rangeBounds6(s, '2001:389::8:0/112'), { rangeStart: '2001:389::8:0', rangeEnd: '2001:389::8:ffff' });
  assert.throws(() => rangeBounds6(s, '2001:38a::/96'), /not inside subnet/);
  assert.throws(() => rangeBounds6(s, '2001:389::1/96'), /host bits/);
  assert.throws(() => parseSubnet6('fd00::/127'), /too small/);
  assert.throws(() => parseSubnet6('fd00::'), /invalid CIDR/);
});

test('the IPv6 half of a create: dockerd 20.10\'s rules and words', () => {
  assert.equal(planIpv6(false, [{ Subnet: '2001:389::1/64' }], 'n'), undefined); // kept, unused
  assert.throws(() => planIpv6(false, [{ Subnet: 'nope/64' }], 'n'), /invalid/);
  assert.throws(() => planIpv6(true, [], 'n'), (e: Error & { code?: string }) => e.code === 'NotFound' && /non-overlapping IPv6 address pool among the defaults/.test(e.message));
  assert.throws(() => planIpv6(true, [{ Subnet: 'fd00:1::/64' }, { Subnet: 'fd00:2::/64' }], 'n'), (e: Error & { code?: string }) => e.code === 'PermissionDenied' && /multiple subnets/.test(e.message));
  const given = planIpv6(true, [{ Subnet: '2001:389::1/64', IPRange: '2001:389::/96', Gateway: '2001:389::ffff' }], 'n')!;
  assert.deepEqual({ ...given, subnet: formatSubnet6(given.subnet) }, { subnet: '2001:389::/64', gateway: '2001:389::ffff', aux: [] });
  assert.equal(planIpv6(true, [{ Subnet: 'fd00::/64' }], 'n')!.gateway, 'fd00::1');
  assert.equal(planIpv6(true, [{ Subnet: 'fd00::/64', IPRange: 'fd00::8:0/112' }], 'n')!.gateway, 'fd00::8:0');
  assert.throws(() => planIpv6(true, [{ Subnet: 'fd00::/64', Gateway: 'fd01::1' }], 'n'), /not a host address/);
  assert.deepEqual(planIpv6(true, [{ Subnet: 'fd00::/64', AuxiliaryAddresses: { a: 'fd00::0005' } }], 'n')!.aux, ['fd00::5']);
  assert.throws(() => planIpv6(true, [{ Subnet: 'fd00::/64', AuxiliaryAddresses: { a: 'fd01::5' } }], 'n'), /must belong to the master pool/);
});

test('a host without IPv6 is named as the reason', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ipv6-'));
  try {
    assert.match(ipv6Unavailable(path.join(dir, 'missing'))!, /IPv6 is not available on this host/);
    fs.mkdirSync(path.join(dir, 'conf', 'default'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'conf', 'default', 'disable_ipv6'), '1\n');
    assert.match(ipv6Unavailable(dir)!, /disable_ipv6=1/);
    fs.writeFileSync(path.join(dir, 'conf', 'default', 'disable_ipv6'), '0\n');
    assert.equal(ipv6Unavailable(dir), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const net: NetworkRecord = {
  Name: 'six', Id: 'c'.repeat(64), Created: '', Driver: 'bridge', Internal: false, Labels: {}, Subnet: '10.90.0.0/16', Gateway: '10.90.0.1',
  Bridge: 'berthbccccccccc', Dns: true, EnableIPv6: true, Subnet6: '2001:389::/64', Gateway6: '2001:389::ffff',
  Ipam6: [{ Subnet: '2001:389::1/64', IPRange: '2001:389::/96', Gateway: '2001:389::ffff' }],
};

test('conflist and rules of an IPv6 network: a second host-local range and a default route per family; NAT in ip6tables for its subnet', () => {
  const ipam = (o: { fixedIp6?: boolean }) => (buildConflist('x', net, '/d', o).plugins[0] as unknown as { ipam: { ranges: unknown; routes: unknown } }).ipam;
  assert.deepEqual(ipam({}).ranges, [[{ subnet: '10.90.0.0/16', gateway: '10.90.0.1' }], [{ subnet: '2001:389::/64', gateway: '2001:389::ffff', rangeStart: '2001:389::1', rangeEnd: '2001:389::ffff:ffff' }]]);
  assert.deepEqual(ipam({}).routes, [{ dst: '0.0.0.0/0' }, { dst: '::/0' }]);
  // An address asked for may be anywhere in the subnet, as for IPv4.
  assert.deepEqual((ipam({ fixedIp6: true }).ranges as unknown[])[1], [{ subnet: '2001:389::/64', gateway: '2001:389::ffff' }]);
  assert.deepEqual((buildConflist('x', { ...net, Internal: true }, '/d', {}).plugins[0] as unknown as { ipam: { routes: unknown } }).ipam.routes, []);
  assert.equal(natRule(net, 'berth-k-c', 6)!.join(' '), '-s 2001:389::/64 ! -o berthbccccccccc ! -d ff00::/8 -m comment --comment berth-k-c -j MASQUERADE');
  assert.equal(natRule({ ...net, Subnet6: undefined }, 'berth-k-c', 6), undefined);
});

test('inspect of a dual-stack attachment: each family in its own fields, whatever the order of the result', () => {
  const a = {
    network: net.Id, name: 'six', aliases: [], conflist: { cniVersion: '1.0.0', name: 'x', plugins: [] }, rt: { containerId: 'd'.repeat(64), netns: '', ifname: 'eth0', capabilityArgs: {} },
    result: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', mac: 'aa:bb:cc:dd:ee:ff', sandbox: '/ns' }], ips: [{ address: '2001:389::1/64', gateway: '2001:389::ffff', interface: 0 }, { address: '10.90.0.2/16', gateway: '10.90.0.1', interface: 0 }] },
  } as Attachment;
  const v = endpointView(a);
  assert.deepEqual([v.IPAddress, v.IPPrefixLen, v.Gateway, v.GlobalIPv6Address, v.GlobalIPv6PrefixLen, v.IPv6Gateway, v.MacAddress], ['10.90.0.2', 16, '10.90.0.1', '2001:389::1', 64, '2001:389::ffff', 'aa:bb:cc:dd:ee:ff']);
});

test('DNS: an AAAA question is answered with AAAA records', () => {
  // "web" AAAA IN
  const q = parseQuery(Buffer.from([0, 7, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, ...Buffer.from('web'), 0, 0, 28, 0, 1]))!;
  const a = buildAnswer(q, ['2001:389::1']);
  assert.equal(a.readUInt16BE(6), 1);
  const rr = a.subarray(12 + q.raw.length);
  assert.equal(rr.readUInt16BE(2), 28);
  assert.equal(rr.readUInt16BE(10), 16);
  assert.deepEqual([...rr.subarray(12)], [0x20, 0x01, 0x03, 0x89, ...new Array(11).fill(0), 1]);
});

test('addresses asked for: only on a network whose pools were given, inside them (dockerd\'s words); IPv6 only kept without the IPv6 half', () => {
  const auto = { Subnet: '10.90.0.0/16' };
  assert.throws(() => checkRequestedIps(auto, '10.90.0.5'), /supported only when connecting to networks with user configured subnets/);
  checkRequestedIps(auto);
  checkRequestedIps(net, '10.90.0.5', '2001:389::5');
  assert.throws(() => checkRequestedIps(net, '10.91.0.5'), /Invalid address 10.91.0.5: It does not belong to any of this network's subnets/);
  assert.throws(() => checkRequestedIps(net, undefined, 'fd00::5'), /Invalid address fd00::5: It does not belong/);
  // docker-py's test_create_with_ipv6_address: an IPv6 pool without EnableIPv6, the address only echoed.
  checkRequestedIps({ Subnet: '10.90.0.0/16', Ipam6: [{ Subnet: '2001:389::1/64' }] }, undefined, '2001:389::f00d');
});
