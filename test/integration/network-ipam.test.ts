// docker's network IPAM extras and legacy links on user networks through `berth daemon`, as the
// docker CLI and raw API requests use them (docker-py's network tests do), checked against dockerd 20.10.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TestRoot } from '../helpers/berth.ts';
import { TestDaemon, daemonWithBusybox, skip } from '../helpers/daemon.ts';

describe('network IPAM config and links on user networks', { skip }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  daemonWithBusybox((r, dd) => ((root = r), (d = dd)));

  test('IPRange gives containers addresses only from the range, AuxiliaryAddresses are never given out; inspect shows the config as given', async () => {
    const created = await d.request('POST', '/v1.41/networks/create', JSON.stringify({
      Name: 'ranged', IPAM: { Driver: 'default', Config: [{ Subnet: '10.213.0.0/16', IPRange: '10.213.5.0/30', Gateway: '10.213.5.254', AuxiliaryAddresses: { a: '10.213.5.1', b: '10.213.1.1' } }] },
    }));
    assert.equal(created.status, 201, created.body);
    const ipam = JSON.parse((await d.request('GET', '/v1.41/networks/ranged')).body).IPAM;
    // dockerd: the config as sent, and Options null when none were sent.
    assert.deepEqual(ipam, { Driver: 'default', Options: null, Config: [{ Subnet: '10.213.0.0/16', IPRange: '10.213.5.0/30', Gateway: '10.213.5.254', AuxiliaryAddresses: { a: '10.213.5.1', b: '10.213.1.1' } }] });
    const ips: string[] = [];
    for (const name of ['r1', 'r2', 'r3']) {
      const run = await d.docker(['run', '-d', '--name', name, '--network', 'ranged', 'busybox', 'sleep', '60']);
      assert.equal(run.code, 0, run.stderr);
      ips.push((await d.docker(['inspect', '-f', '{{.NetworkSettings.Networks.ranged.IPAddress}}', name])).stdout.trim());
    }
    // dockerd 20.10 gives these three, in this order (the auxiliary .1 skipped).
    assert.deepEqual(ips, ['10.213.5.0', '10.213.5.2', '10.213.5.3']);
    // The range is used up: the auxiliary address stays reserved.
    const fourth = await d.docker(['run', '-d', '--name', 'r4', '--network', 'ranged', 'busybox', 'sleep', '60']);
    assert.notEqual(fourth.code, 0);
    // An address asked for may be outside the range (dockerd's too), not an auxiliary one.
    const fixed = await d.docker(['run', '-d', '--name', 'r5', '--network', 'ranged', '--ip', '10.213.9.9', 'busybox', 'sleep', '60']);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal((await d.docker(['inspect', '-f', '{{.NetworkSettings.Networks.ranged.IPAddress}}', 'r5'])).stdout, '10.213.9.9\n');
    assert.notEqual((await d.docker(['run', '-d', '--name', 'r6', '--network', 'ranged', '--ip', '10.213.1.1', 'busybox', 'sleep', '60'])).code, 0);
    await d.docker(['rm', '-f', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
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

  test('a legacy link alias on a user network resolves in the linking container only, also when the linked one starts later', async () => {
    assert.equal((await d.docker(['network', 'create', 'linked'])).code, 0);
    const up = await d.docker(['run', '-d', '--name', 'upstream', '--network', 'linked', 'busybox', 'sleep', '60']);
    assert.equal(up.code, 0, up.stderr);
    const upIp = (await d.docker(['inspect', '-f', '{{.NetworkSettings.Networks.linked.IPAddress}}', 'upstream'])).stdout.trim();
    const withLink = await d.docker(['run', '--rm', '--network', 'linked', '--link', 'upstream:bar', 'busybox', 'nslookup', 'bar']);
    assert.equal(withLink.code, 0, withLink.stdout + withLink.stderr);
    assert.match(withLink.stdout, new RegExp(`Address: ${upIp.replace(/\./g, '\\.')}`));
    const without = await d.docker(['run', '--rm', '--network', 'linked', 'busybox', 'nslookup', 'bar']);
    assert.notEqual(without.code, 0, 'the alias is the linking container\'s only');
    // An endpoint link (NetworkingConfig) to a container that does not run yet: resolved once it does.
    const created = await d.request('POST', '/v1.41/containers/create?name=early', JSON.stringify({
      Image: 'busybox', Cmd: ['sleep', '60'], HostConfig: { NetworkMode: 'linked' },
      NetworkingConfig: { EndpointsConfig: { linked: { Links: ['later:baz'] } } },
    }));
    assert.equal(created.status, 201, created.body);
    assert.equal((await d.docker(['start', 'early'])).code, 0);
    assert.notEqual((await d.docker(['exec', 'early', 'nslookup', 'baz'])).code, 0);
    assert.equal((await d.docker(['run', '-d', '--name', 'later', '--network', 'linked', 'busybox', 'sleep', '60'])).code, 0);
    const late = await d.docker(['exec', 'early', 'nslookup', 'baz']);
    assert.equal(late.code, 0, late.stdout + late.stderr);
    await d.docker(['rm', '-f', 'upstream', 'early', 'later']);
    assert.equal((await d.docker(['network', 'rm', 'linked'])).code, 0);
  });

  test('any name dockerd takes (a space, a slash, a leading dot, 300 characters) is taken, used, listed and removed with the docker CLI', async () => {
    const made = await d.docker(['network', 'create', 'with space']);
    assert.equal(made.code, 0, made.stderr);
    const ran = await d.docker(['run', '--rm', '--network', 'with space', 'busybox', 'true']);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal((await d.docker(['network', 'inspect', '-f', '{{.Name}}', 'with space'])).stdout, 'with space\n');
    assert.equal((await d.request('DELETE', `/v1.41/networks/${encodeURIComponent('with space')}`)).status, 204);
    const odd = ['a/b', '.hidden', 'n'.repeat(300)];
    for (const n of odd) {
      const r = await d.docker(['network', 'create', n]);
      assert.equal(r.code, 0, `${n}: ${r.stderr}`);
      // The docker CLI puts the name in the path as it is: /networks/a/b.
      assert.equal((await d.docker(['network', 'inspect', '-f', '{{.Name}}', n])).stdout, `${n}\n`);
      const run = await d.docker(['run', '--rm', '--network', n, 'busybox', 'true']);
      assert.equal(run.code, 0, `${n}: ${run.stderr}`);
    }
    assert.equal((await d.docker(['run', '-d', '--name', 'oddc', 'busybox', 'sleep', '60'])).code, 0);
    assert.equal((await d.docker(['network', 'connect', 'a/b', 'oddc'])).code, 0);
    assert.equal((await d.docker(['network', 'disconnect', 'a/b', 'oddc'])).code, 0);
    await d.docker(['rm', '-f', 'oddc']);
    const listed = (await d.docker(['network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n');
    for (const n of odd) assert.ok(listed.includes(n), n);
    assert.equal((await d.docker(['network', 'rm', ...odd])).code, 0);
    assert.equal((await d.request('GET', '/v1.41/networks/a/b')).status, 404);
    assert.equal((await d.request('POST', '/v1.41/networks/create', JSON.stringify({ Name: '' }))).status, 400);
  });

  test('the predefined networks cannot be made or removed: dockerd 20.10\'s 403s and words', async () => {
    for (const n of ['bridge', 'host', 'none', 'default']) {
      const made = await d.request('POST', '/v1.41/networks/create', JSON.stringify({ Name: n }));
      assert.equal(made.status, 403, made.body);
      assert.equal(JSON.parse(made.body).message, `operation is not permitted on predefined ${n} network `);
    }
    for (const n of ['bridge', 'host', 'none']) {
      const rm = await d.request('DELETE', `/v1.41/networks/${n}`);
      assert.equal(rm.status, 403, rm.body);
      assert.equal(JSON.parse(rm.body).message, `${n} is a pre-defined network and cannot be removed`);
    }
  });

  test('an IPv4 pool overlapping another network\'s and two IPv4 pools are dockerd\'s 403s', async () => {
    assert.equal((await d.request('POST', '/v1.41/networks/create', JSON.stringify({ Name: 'ov1', IPAM: { Config: [{ Subnet: '10.231.0.0/16' }] } }))).status, 201);
    const over = await d.request('POST', '/v1.41/networks/create', JSON.stringify({ Name: 'ov2', IPAM: { Config: [{ Subnet: '10.231.5.0/24' }] } }));
    assert.equal(over.status, 403, over.body);
    assert.equal(JSON.parse(over.body).message, 'Pool overlaps with other one on this address space');
    const two = await d.request('POST', '/v1.41/networks/create', JSON.stringify({ Name: 'ov3', IPAM: { Config: [{ Subnet: '10.232.0.0/16' }, { Subnet: '10.233.0.0/16' }] } }));
    assert.equal(two.status, 403, two.body);
    assert.equal(JSON.parse(two.body).message, "bridge driver doesn't support multiple subnets");
    assert.notEqual((await root.run(['network', 'create', '--subnet', '10.232.0.0/16', '--subnet', '10.233.0.0/16', 'ov4'])).code, 0);
    assert.equal((await d.docker(['network', 'rm', 'ov1'])).code, 0);
  });

  test('berth network create --ip-range --aux-address: the same config, as the docker CLI gives it', async () => {
    const made = await root.run(['network', 'create', '--subnet', '10.216.0.0/16', '--ip-range', '10.216.7.0/24', '--gateway', '10.216.7.254', '--aux-address', 'a=10.216.1.5', 'cliranged']);
    assert.equal(made.code, 0, made.stderr);
    const ipam = JSON.parse((await d.request('GET', '/v1.41/networks/cliranged')).body).IPAM;
    assert.deepEqual(ipam, { Driver: 'default', Options: {}, Config: [{ Subnet: '10.216.0.0/16', IPRange: '10.216.7.0/24', Gateway: '10.216.7.254', AuxiliaryAddresses: { a: '10.216.1.5' } }] });
    assert.equal((await root.run(['network', 'rm', 'cliranged'])).code, 0);
  });

  test('without a gateway, an IPRange network\'s gateway is the range\'s first address and containers get the next ones (as dockerd)', async () => {
    assert.equal((await d.docker(['network', 'create', '--subnet', '10.217.0.0/16', '--ip-range', '10.217.5.0/30', 'rangegw'])).code, 0);
    const run = await d.docker(['run', '-d', '--name', 'g1', '--network', 'rangegw', 'busybox', 'sleep', '60']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await d.docker(['inspect', '-f', '{{.NetworkSettings.Networks.rangegw.IPAddress}} {{.NetworkSettings.Networks.rangegw.Gateway}}', 'g1'])).stdout, '10.217.5.1 10.217.5.0\n');
    await d.docker(['rm', '-f', 'g1']);
    assert.equal((await d.docker(['network', 'rm', 'rangegw'])).code, 0);
  });
});
