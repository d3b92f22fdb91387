// The bridge driver's options, checked as dockerd parses them, refused where berth cannot honour them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDriverOptions } from '../../src/network/driver-options.ts';

test('mtu is read; the defaults of icc, masquerade and host binding are accepted; unknown keys pass', () => {
  assert.deepEqual(checkDriverOptions({}), { mtu: 0 });
  assert.deepEqual(checkDriverOptions({
    'com.docker.network.driver.mtu': '1400', 'com.docker.network.bridge.enable_icc': 'true',
    'com.docker.network.bridge.enable_ip_masquerade': 'True', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0', 'x.y': 'z',
  }), { mtu: 1400 });
});

test('values dockerd cannot parse get its messages', () => {
  assert.throws(() => checkDriverOptions({ 'com.docker.network.driver.mtu': 'abc' }), /failed to parse com.docker.network.driver.mtu value: abc \(strconv.Atoi: parsing "abc": invalid syntax\)/);
  assert.throws(() => checkDriverOptions({ 'com.docker.network.bridge.enable_icc': 'maybe' }), /failed to parse com.docker.network.bridge.enable_icc value: maybe \(strconv.ParseBool: parsing "maybe": invalid syntax\)/);
  assert.throws(() => checkDriverOptions({ 'com.docker.network.bridge.host_binding_ipv4': 'notanip' }), /failed to parse com.docker.network.bridge.host_binding_ipv4 value: notanip \(nil ip\)/);
  assert.throws(() => checkDriverOptions({ 'com.docker.network.driver.mtu': '20' }), /invalid MTU number: 20/);
});

test('what berth cannot honour is refused, not recorded and ignored', () => {
  assert.throws(() => checkDriverOptions({ 'com.docker.network.bridge.enable_icc': 'false' }), /not supported by berth/);
  assert.throws(() => checkDriverOptions({ 'com.docker.network.bridge.enable_ip_masquerade': '0' }), /not supported by berth/);
  assert.throws(() => checkDriverOptions({ 'com.docker.network.bridge.host_binding_ipv4': '127.0.0.1' }), /not supported by berth/);
  assert.throws(() => checkDriverOptions({ 'com.docker.network.bridge.name': 'br0' }), /not supported by berth/);
});
