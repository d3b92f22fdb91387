// docker's network IPAM extras and legacy links on user networks through `berth daemon`, as the
// docker CLI and raw API requests use them (docker-py's network tests do), checked against dockerd 20.10.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TestDaemon, daemonWithBusybox, skip } from '../helpers/daemon.ts';

describe('network IPAM config and links on user networks', { skip }, () => {
  let d: TestDaemon;
  daemonWithBusybox((_r, dd) => (d = dd));

  test('IPRange gives containers addresses only from the range, AuxiliaryAddresses are never given out; inspect shows the config as given', async () => {
    const created = await d.request('POST', '/v1.41/networks/create', JSON.stringify({
      Name: 'ranged', IPAM: { Driver: 'default', Config: [{ Subnet: '10.213.0.0/16', IPRange: '10.213.5.0/30', Gateway: '10.213.5.254', AuxiliaryAddresses: { a: '10.213.5.0', b: '10.213.5.1' } }] },
    }));
    assert.equal(created.status, 201, created.body);
    const ipam = JSON.parse((await d.request('GET', '/v1.41/networks/ranged')).body).IPAM;
    // dockerd: the config as sent, and Options null when none were sent.
    assert.deepEqual(ipam, { Driver: 'default', Options: null, Config: [{ Subnet: '10.213.0.0/16', IPRange: '10.213.5.0/30', Gateway: '10.213.5.254', AuxiliaryAddresses: { a: '10.213.5.0', b: '10.213.5.1' } }] });
    const ips: string[] = [];
    for (const name of ['r1', 'r2']) {
      const run = await d.docker(['run', '-d', '--name', name, '--network', 'ranged', 'busybox', 'sleep', '60']);
      assert.equal(run.code, 0, run.stderr);
      ips.push((await d.docker(['inspect', '-f', '{{.NetworkSettings.Networks.ranged.IPAddress}}', name])).stdout.trim());
    }
    assert.deepEqual(ips.sort(), ['10.213.5.2', '10.213.5.3']);
    // The range is used up: the auxiliary addresses stay reserved.
    const third = await d.docker(['run', '-d', '--name', 'r3', '--network', 'ranged', 'busybox', 'sleep', '60']);
    assert.notEqual(third.code, 0);
    await d.docker(['rm', '-f', 'r1', 'r2', 'r3']);
    assert.equal((await d.docker(['network', 'rm', 'ranged'])).code, 0);
  });

  test('an IPRange outside the subnet and an auxiliary address that is not an address are refused', async () => {
    const outside = await d.request('POST', '/v1.41/networks/create', JSON.stringify({ Name: 'bad1', IPAM: { Config: [{ Subnet: '10.214.0.0/16', IPRange: '10.215.5.0/24' }] } }));
    assert.equal(outside.status, 400, outside.body);
    const aux = await d.request('POST', '/v1.41/networks/create', JSON.stringify({ Name: 'bad2', IPAM: { Config: [{ Subnet: '10.214.0.0/16', AuxiliaryAddresses: { a: 'bad' } }] } }));
    assert.equal(aux.status, 400);
    assert.match(JSON.parse(aux.body).message, /non parsable secondary ip address \(a:bad\) passed for network bad2/);
    assert.equal((await d.request('GET', '/v1.41/networks/bad1')).status, 404);
  });
});
