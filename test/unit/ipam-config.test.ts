import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSubnet } from '../../src/network/cidr.ts';
import { auxAddresses, rangeBounds } from '../../src/network/ipam-config.ts';
import { buildConflist, type NetworkRecord } from '../../src/network/store.ts';

test('IPRange: host-local bounds inside the subnet, never the subnet\'s network or broadcast address; outside the subnet refused', () => {
  const s = parseSubnet('172.28.0.0/16');
  assert.deepEqual(rangeBounds(s, '172.28.5.0/24'), { rangeStart: '172.28.5.0', rangeEnd: '172.28.5.255' });
  assert.deepEqual(rangeBounds(s, '172.28.0.0/24'), { rangeStart: '172.28.0.1', rangeEnd: '172.28.0.255' });
  assert.deepEqual(rangeBounds(s, '172.28.255.0/24'), { rangeStart: '172.28.255.0', rangeEnd: '172.28.255.254' });
  assert.deepEqual(rangeBounds(s, '172.28.5.7/32'), { rangeStart: '172.28.5.7', rangeEnd: '172.28.5.7' });
  assert.throws(() => rangeBounds(s, '172.29.5.0/24'), /not inside subnet/);
  assert.throws(() => rangeBounds(s, '172.0.0.0/8'), /not inside subnet/);
  assert.throws(() => rangeBounds(s, '172.28.5.1/24'), /host bits/);
});

test('AuxiliaryAddresses: addresses of the subnet, in libnetwork\'s words otherwise', () => {
  const s = parseSubnet('172.28.0.0/16');
  assert.deepEqual(auxAddresses(s, { a: '172.28.1.5', b: '172.28.1.6' }, 'n'), ['172.28.1.5', '172.28.1.6']);
  assert.throws(() => auxAddresses(s, { a: 'bad' }, 'n'), /non parsable secondary ip address \(a:bad\) passed for network n/);
  assert.throws(() => auxAddresses(s, { a: '10.0.0.1' }, 'n'), /must belong to the master pool 172.28.0.0\/16/);
});

test('conflist: an IPRange becomes host-local\'s rangeStart/rangeEnd, except for an attachment with a requested address', () => {
  const net: NetworkRecord = {
    Name: 'r', Id: 'b'.repeat(64), Created: '', Driver: 'bridge', Internal: false, Labels: {}, Subnet: '172.28.0.0/16', Gateway: '172.28.5.254',
    Bridge: 'berthbbbbbbbbbb', Dns: true, Ipam: { Subnet: '172.28.0.0/16', IPRange: '172.28.5.0/24', Gateway: '172.28.5.254' },
  };
  const ranges = (buildConflist('x', net, '/d', {}).plugins[0] as unknown as { ipam: { ranges: unknown } }).ipam.ranges;
  assert.deepEqual(ranges, [[{ subnet: '172.28.0.0/16', gateway: '172.28.5.254', rangeStart: '172.28.5.0', rangeEnd: '172.28.5.255' }]]);
  // A requested address may be anywhere in the subnet (dockerd takes one outside the range).
  const fixed = (buildConflist('x', net, '/d', { fixedIp: true }).plugins[0] as unknown as { ipam: { ranges: unknown } }).ipam.ranges;
  assert.deepEqual(fixed, [[{ subnet: '172.28.0.0/16', gateway: '172.28.5.254' }]]);
});
