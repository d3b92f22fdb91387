// IPv6 on bridge networks through `berth daemon`, with the docker CLI and raw API requests (as
// docker-py's network tests make them), the answers checked against dockerd 20.10's: the bridge
// holds the gateway, containers get an address beside their IPv4 one, inspect shows both, names
// resolve to AAAA records, and nothing (addresses, ip6tables rules, claims) outlives its owner.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import type { TestRoot } from '../helpers/berth.ts';
import { TestDaemon, daemonWithBusybox, skip } from '../helpers/daemon.ts';

const noIpv6 = !fs.existsSync('/proc/sys/net/ipv6') ? 'the host has no IPv6' : false;

function ip6tables(table: string): string {
  return execFileSync('ip6tables-save', ['-t', table], { encoding: 'utf8' });
}

describe('IPv6 bridge networks', { skip: skip || noIpv6 }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  daemonWithBusybox((r, dd) => ((root = r), (d = dd)));

  const inspect = async (c: string, f: string) => (await d.docker(['inspect', '-f', f, c])).stdout.trim();

  test('EnableIPv6 with a pool: the bridge has the gateway, containers an address each (inspect as dockerd), ping6 by name; all gone with the containers and the network', async () => {
    const made = await d.docker(['network', 'create', '--ipv6', '--subnet', 'fd00:b16::1/64', '--ip-range', 'fd00:b16::/96', '--gateway', 'fd00:b16::ffff', 'six']);
    assert.equal(made.code, 0, made.stderr);
    const net = JSON.parse((await d.request('GET', '/v1.41/networks/six')).body);
    assert.equal(net.EnableIPv6, true);
    // dockerd 20.10: the IPv4 pool it chose (with its gateway), then the IPv6 one as given.
    assert.equal(net.IPAM.Config.length, 2);
    assert.match(net.IPAM.Config[0].Subnet, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
    assert.deepEqual(net.IPAM.Config[1], { Subnet: 'fd00:b16::1/64', IPRange: 'fd00:b16::/96', Gateway: 'fd00:b16::ffff' });
    for (const c of ['s1', 's2']) {
      const run = await d.docker(['run', '-d', '--name', c, '--network', 'six', 'busybox', 'sleep', '120']);
      assert.equal(run.code, 0, run.stderr);
    }
    // dockerd gives the range's first addresses in order (the gateway is outside the range).
    assert.equal(await inspect('s1', '{{with .NetworkSettings.Networks.six}}{{.GlobalIPv6Address}} {{.GlobalIPv6PrefixLen}} {{.IPv6Gateway}}{{end}}'), 'fd00:b16::1 64 fd00:b16::ffff');
    assert.equal(await inspect('s2', '{{.NetworkSettings.Networks.six.GlobalIPv6Address}}'), 'fd00:b16::2');
    assert.match(await inspect('s1', '{{.NetworkSettings.Networks.six.IPAddress}}'), /^\d+\.\d+\.\d+\.\d+$/);
    const members = JSON.parse((await d.request('GET', '/v1.41/networks/six')).body).Containers as Record<string, { Name: string; IPv6Address: string }>;
    assert.deepEqual(Object.values(members).map((m) => `${m.Name} ${m.IPv6Address}`).sort(), ['s1 fd00:b16::1/64', 's2 fd00:b16::2/64']);
    const bridge = JSON.parse(fs.readFileSync(`${root.dir}/networks/${net.Id}.json`, 'utf8')).Bridge as string;
    assert.match(execFileSync('ip', ['-6', 'addr', 'show', 'dev', bridge], { encoding: 'utf8' }), /inet6 fd00:b16::ffff\/64 scope global/);
    const inside = await d.docker(['exec', 's1', 'ip', '-6', 'addr', 'show', 'dev', 'eth0']);
    assert.match(inside.stdout, /inet6 fd00:b16::1\/64 scope global/);
    // The container's own /etc/hosts line for its IPv6 address, as dockerd writes it.
    assert.match((await d.docker(['exec', 's1', 'cat', '/etc/hosts'])).stdout, /^fd00:b16::1\t/m);
    const ping = await d.docker(['exec', 's2', 'ping6', '-c', '1', '-w', '5', 's1']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.match(ping.stdout, /PING s1 \(fd00:b16::1\)/);
    // The network's isolation and NAT in ip6tables, in berth's chain and comments only.
    assert.match(ip6tables('filter'), new RegExp(`-A BERTH-${root.key} -i ${bridge} -o berthb\\+ -j DROP`));
    assert.match(ip6tables('nat'), new RegExp(`-s fd00:b16::/64 .*--comment berth-${root.key}-${net.Id.slice(0, 12)} -j MASQUERADE`));
    await d.docker(['rm', '-f', 's1', 's2']);
    assert.deepEqual(await root.until(() => root.netLeftovers(), (l) => l.length === 0, 20_000), []);
    assert.equal((await d.docker(['network', 'rm', 'six'])).code, 0);
    assert.doesNotMatch(ip6tables('filter') + ip6tables('nat'), new RegExp(`BERTH-${root.key}|berth-${root.key}-`));
    assert.equal(fs.existsSync(`/sys/class/net/${bridge}`), false);
    assert.equal(fs.existsSync('/run/berth/subnets/fd00:b16::_64'), false);
  });

  test('an address asked for (--ip6, and IPv6Address on connect) is the container\'s; inspect echoes it in IPAMConfig', async () => {
    assert.equal((await d.docker(['network', 'create', '--ipv6', '--subnet', 'fd00:b17::/64', 'sixfix'])).code, 0);
    const run = await d.docker(['run', '-d', '--name', 'f1', '--network', 'sixfix', '--ip6', 'fd00:b17::f00d', 'busybox', 'sleep', '120']);
    assert.equal(run.code, 0, run.stderr);
    const outside = await d.docker(['run', '--rm', '--network', 'sixfix', '--ip6', 'fd00:b18::5', 'busybox', 'true']);
    assert.match(outside.stderr, /Invalid address fd00:b18::5: It does not belong to any of this network's subnets/);
    assert.equal(await inspect('f1', '{{.NetworkSettings.Networks.sixfix.IPAMConfig.IPv6Address}} {{.NetworkSettings.Networks.sixfix.GlobalIPv6Address}} {{.NetworkSettings.Networks.sixfix.IPv6Gateway}}'), 'fd00:b17::f00d fd00:b17::f00d fd00:b17::1');
    assert.equal((await d.docker(['network', 'disconnect', 'sixfix', 'f1'])).code, 0);
    const conn = await d.request('POST', '/v1.41/networks/sixfix/connect', JSON.stringify({ Container: 'f1', EndpointConfig: { IPAMConfig: { IPv6Address: 'fd00:b17::beef' } } }));
    assert.equal(conn.status, 200, conn.body);
    assert.equal(await inspect('f1', '{{.NetworkSettings.Networks.sixfix.GlobalIPv6Address}}'), 'fd00:b17::beef');
    assert.match((await d.docker(['exec', 'f1', 'ip', '-6', 'addr'])).stdout, /inet6 fd00:b17::beef\/64/);
    await d.docker(['rm', '-f', 'f1']);
    assert.equal((await d.docker(['network', 'rm', 'sixfix'])).code, 0);
  });

  test('an IPv6 pool without EnableIPv6 is kept and shown, not used (dockerd 20.10): an IPv4 network, the asked IPv6 address only echoed', async () => {
    const created = await d.request('POST', '/v1.41/networks/create', JSON.stringify({ Name: 'v6pool', IPAM: { Driver: 'default', Config: [{ Subnet: '2001:389::1/64' }] } }));
    assert.equal(created.status, 201, created.body);
    const net = JSON.parse((await d.request('GET', '/v1.41/networks/v6pool')).body);
    assert.equal(net.EnableIPv6, false);
    assert.deepEqual(net.IPAM.Config[1], { Subnet: '2001:389::1/64' });
    assert.ok(net.IPAM.Config[0].Gateway);
    const c = await d.request('POST', '/v1.41/containers/create?name=p1', JSON.stringify({
      Image: 'busybox', Cmd: ['sleep', '60'], HostConfig: { NetworkMode: 'v6pool' },
      NetworkingConfig: { EndpointsConfig: { v6pool: { IPAMConfig: { IPv6Address: '2001:389::f00d' } } } },
    }));
    assert.equal(c.status, 201, c.body);
    assert.equal((await d.docker(['start', 'p1'])).code, 0);
    assert.equal(await inspect('p1', '{{.NetworkSettings.Networks.v6pool.IPAMConfig.IPv6Address}}|{{.NetworkSettings.Networks.v6pool.GlobalIPv6Address}}'), '2001:389::f00d|');
    await d.docker(['rm', '-f', 'p1']);
    assert.equal((await d.docker(['network', 'rm', 'v6pool'])).code, 0);
  });

  test('refusals in dockerd\'s words and statuses: no pool for EnableIPv6, two IPv6 pools, an overlapping pool', async () => {
    const none = await d.request('POST', '/v1.41/networks/create', JSON.stringify({ Name: 'x1', EnableIPv6: true }));
    assert.equal(none.status, 404, none.body);
    assert.match(JSON.parse(none.body).message, /could not find an available, non-overlapping IPv6 address pool/);
    const two = await d.request('POST', '/v1.41/networks/create', JSON.stringify({ Name: 'x2', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:b18::/64' }, { Subnet: 'fd00:b19::/64' }] } }));
    assert.equal(two.status, 403, two.body);
    assert.match(JSON.parse(two.body).message, /bridge driver doesn't support multiple subnets/);
    assert.equal((await d.docker(['network', 'create', '--ipv6', '--subnet', 'fd00:b1a::/64', 'x3'])).code, 0);
    const overlap = await d.request('POST', '/v1.41/networks/create', JSON.stringify({ Name: 'x4', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:b1a::/80' }] } }));
    assert.equal(overlap.status, 403, overlap.body);
    assert.match(JSON.parse(overlap.body).message, /Pool overlaps with other one on this address space/);
    for (const n of ['x1', 'x2', 'x4']) assert.equal((await d.request('GET', `/v1.41/networks/${n}`)).status, 404);
    assert.equal((await d.docker(['network', 'rm', 'x3'])).code, 0);
  });

  test('berth network create --ipv6 with two subnets, and compose\'s enable_ipv6 with ipv6_address: the same networks', async () => {
    const made = await root.run(['network', 'create', '--ipv6', '--subnet', 'fd00:b1c::/64', '--subnet', '10.218.0.0/16', '--gateway', 'fd00:b1c::fe', 'clisix']);
    assert.equal(made.code, 0, made.stderr);
    const net = JSON.parse((await d.request('GET', '/v1.41/networks/clisix')).body);
    assert.deepEqual([net.EnableIPv6, net.IPAM.Config], [true, [{ Subnet: '10.218.0.0/16' }, { Subnet: 'fd00:b1c::/64', Gateway: 'fd00:b1c::fe' }]]);
    assert.match((await root.run(['network', 'ls', '--format', '{{.Name}} {{.IPv6}}'])).stdout, /^clisix true$/m);
    assert.equal((await root.run(['network', 'rm', 'clisix'])).code, 0);
    const dir = fs.mkdtempSync(`${root.dir}/compose-`);
    fs.writeFileSync(`${dir}/compose.yaml`, [
      'services:', '  a:', '    image: busybox', '    command: sleep 120', '    networks:', '      six:', '        ipv6_address: fd00:b1d::a',
      'networks:', '  six:', '    enable_ipv6: true', '    ipam:', '      config:', '        - subnet: fd00:b1d::/64', '',
    ].join('\n'));
    const compose = (args: string[]) => root.run(['compose', '-f', `${dir}/compose.yaml`, '-p', 'v6p', ...args], { timeoutMs: 120_000 });
    const up = await compose(['up', '-d']);
    assert.equal(up.code, 0, up.stderr);
    assert.doesNotMatch(up.stderr, /ignored/);
    const ip6 = await root.run(['inspect', '-f', '{{.NetworkSettings.Networks.v6p_six.GlobalIPv6Address}}', 'v6p-a-1']);
    assert.equal(ip6.stdout, 'fd00:b1d::a\n', ip6.stderr);
    assert.equal((await compose(['down'])).code, 0);
    assert.deepEqual(await root.until(() => root.netLeftovers(), (l) => l.length === 0, 20_000), []);
  });

  test('a daemon killed with -9 while a container runs on an IPv6 network: its removal later leaves nothing behind', async () => {
    const d2 = new TestDaemon(root, { socket: 'd2.sock' });
    await d2.start();
    assert.equal((await d2.docker(['network', 'create', '--ipv6', '--subnet', 'fd00:b1b::/64', 'killed'])).code, 0);
    const run = await d2.docker(['run', '-d', '--name', 'k1', '--network', 'killed', 'busybox', 'sleep', '120']);
    assert.equal(run.code, 0, run.stderr);
    await d2.stop('SIGKILL');
    assert.equal((await root.run(['rm', '-f', 'k1'])).code, 0);
    assert.deepEqual(await root.until(() => root.netLeftovers(), (l) => l.length === 0, 20_000), []);
    assert.equal((await root.run(['network', 'rm', 'killed'])).code, 0);
    assert.doesNotMatch(ip6tables('filter') + ip6tables('nat'), new RegExp(`BERTH-${root.key}|berth-${root.key}-`));
  });
});
