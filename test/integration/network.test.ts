// Networking with the real CNI plugins: the modes, published ports reached from the host and from
// a second "host" (a network namespace of the test's own, joined by a veth pair), names on user
// networks, isolation between networks, and nothing left behind.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { BERTH, collect, isRoot, TestRoot, type Result } from '../helpers/berth.ts';
import { openRoot } from '../../src/core/root.ts';
import { expireArgv } from '../../src/network/sweep.ts';

const hasCni = fs.existsSync('/usr/lib/cni/bridge') || fs.existsSync('/opt/cni/bin/bridge');

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    }).on('error', reject).on('timeout', function (this: http.ClientRequest) { this.destroy(new Error('timeout')); });
  });
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

describe('networking', { skip: (!isRoot && 'needs root') || (!hasCni && 'needs the CNI plugins') }, () => {
  let root: TestRoot;
  // A second host: a namespace of our own on a veth pair, a /30 of the benchmark range (198.18/15).
  const peerNs = `berth-test-${process.pid}`;
  const hostIf = `berthtv${process.pid % 100000}`;
  const octet = 100 + (process.pid % 100);
  const hostAddr = `198.18.${octet}.1`;
  const peerAddr = `198.18.${octet}.2`;
  let peerHttpd: ChildProcess | undefined;

  before(async () => {
    root = await TestRoot.withBusybox();
    sh('ip', ['netns', 'add', peerNs]);
    sh('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peerNs]);
    sh('ip', ['addr', 'add', `${hostAddr}/30`, 'dev', hostIf]);
    sh('ip', ['link', 'set', hostIf, 'up']);
    sh('ip', ['-n', peerNs, 'addr', 'add', `${peerAddr}/30`, 'dev', 'eth0']);
    sh('ip', ['-n', peerNs, 'link', 'set', 'eth0', 'up']);
    sh('ip', ['-n', peerNs, 'link', 'set', 'lo', 'up']);
    // No route back to container subnets in there: replies reach a container only through NAT.
    fs.mkdirSync(`/tmp/${peerNs}`, { recursive: true });
    fs.writeFileSync(`/tmp/${peerNs}/index.html`, 'hello-from-peer\n');
    peerHttpd = spawn('ip', ['netns', 'exec', peerNs, 'busybox', 'httpd', '-f', '-p', '8000', '-h', `/tmp/${peerNs}`], { stdio: 'ignore' });
  });
  after(async () => {
    peerHttpd?.kill('SIGKILL');
    try { execFileSync('ip', ['netns', 'del', peerNs]); } catch {}
    try { execFileSync('ip', ['link', 'del', hostIf], { stdio: 'ignore' }); } catch {} // usually gone with the namespace
    fs.rmSync(`/tmp/${peerNs}`, { recursive: true, force: true });
    await root.cleanup();
  });

  test('--network none has only loopback', async () => {
    const r = await root.run(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split(/\s+/), ['lo']);
  });

  test('--network host sees the host interfaces', async () => {
    const r = await root.run(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.split(/\s+/).includes(hostIf), r.stdout);
  });

  test('the default bridge: an address, outbound NAT to another host, httpd published and fetched from the host and the other host', async () => {
    const r = await root.run(['run', '-d', '--name', 'web', '-p', '80', 'busybox', 'sh', '-c', 'mkdir /w && echo hello-from-web > /w/index.html && exec httpd -f -p 80 -h /w']);
    assert.equal(r.code, 0, r.stderr);
    const port = await root.run(['port', 'web', '80']);
    assert.equal(port.code, 0, port.stderr);
    const m = /^0\.0\.0\.0:(\d+)$/.exec(port.stdout.trim());
    assert.ok(m, port.stdout);
    const hostPort = Number(m[1]);
    assert.ok(hostPort >= 32768 && hostPort <= 60999);
    const body = await root.eventually(() => get(`http://127.0.0.1:${hostPort}/`).catch((e: Error) => e.message), (b) => b === 'hello-from-web\n');
    assert.equal(body, 'hello-from-web\n');
    // From the other host, to the host's address on its link.
    // (busybox nc: the host's static busybox wget crashes on the host's nsswitch.conf)
    const remote = execFileSync('ip', ['netns', 'exec', peerNs, 'busybox', 'nc', '-w', '5', hostAddr, String(hostPort)], { input: 'GET / HTTP/1.0\r\n\r\n', encoding: 'utf8' });
    assert.match(remote, /^HTTP\/1\.[01] 200 OK/);
    assert.ok(remote.endsWith('\r\n\r\nhello-from-web\n'), remote);
    // Outbound: the other host has no route to the container subnet, so this works through NAT only.
    const out = await root.run(['exec', 'web', 'sh', '-c', `for i in 1 2 3 4 5; do wget -q -O- http://${peerAddr}:8000/ 2>/dev/null && exit 0; sleep 0.3; done; exit 1`]);
    assert.equal(out.stdout, 'hello-from-peer\n', out.stderr);
    const ns = JSON.parse((await root.run(['inspect', 'web'])).stdout)[0].NetworkSettings;
    assert.match(ns.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(ns.Ports['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: String(hostPort) }]);
    assert.ok(ns.Networks.bridge.MacAddress);
    // The same host port again: a clear error before the container starts.
    const clash = await root.run(['run', '--rm', '-p', `${hostPort}:80`, 'busybox', 'true']);
    assert.equal(clash.code, 125);
    assert.match(clash.stderr, /port is already allocated/);
    const rm = await root.run(['rm', '-f', 'web']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(root.netLeftovers(), []);
  });

  test('containers on a user network reach each other by name; other networks are isolated', async () => {
    const sub = `10.251.${process.pid % 250}`;
    assert.equal((await root.run(['network', 'create', '--subnet', `${sub}.0/24`, 'front'])).code, 0);
    assert.equal((await root.run(['network', 'create', 'back'])).code, 0);
    const web = await root.run(['run', '-d', '--name', 'api', '--network', 'front', '--network-alias', 'svc', '--ip', `${sub}.50`, 'busybox', 'sh', '-c', 'mkdir /w && echo api > /w/index.html && exec httpd -f -p 80 -h /w']);
    assert.equal(web.code, 0, web.stderr);
    // Names resolve through /etc/hosts; retry until httpd listens (this busybox's wget crashes on -T, so no timeouts).
    const byName = await root.run(['run', '--rm', '--network', 'front', 'busybox', 'sh', '-c',
      'ping -c1 -W2 api >/dev/null && ping -c1 -W2 svc >/tmp/p && head -1 /tmp/p && for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O- http://api/ 2>/dev/null && exit 0; sleep 0.3; done; exit 1']);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(byName.stdout, `PING svc (${sub}.50): 56 data bytes\napi\n`, byName.stderr);
    // CNI CHECK of the live attachment against its cached result passes (portmap 1.1's CHECK
    // wants an IPv6 chain that never exists, so this is a container without published ports).
    const { cniCheck } = await import('../../src/network/cni.ts');
    const sbDir = `${root.dir}/networks/sandboxes`;
    const sb = fs.readdirSync(sbDir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(fs.readFileSync(`${sbDir}/${f}`, 'utf8')))
      .find((x) => x.container === web.stdout.trim());
    assert.deepEqual(sb.attachments[0].conflist.plugins.map((p: { type: string }) => p.type), ['bridge']);
    await cniCheck(sb.attachments[0].conflist, sb.attachments[0].rt, sb.attachments[0].result);
    // The network's DNS responder answers container names and aliases (nslookup asks it, not /etc/hosts).
    const dns = await root.run(['run', '--rm', '--network', 'front', 'busybox', 'sh', '-c', 'cat /etc/resolv.conf; nslookup svc; nslookup nosuch']);
    assert.match(dns.stdout, new RegExp(`nameserver ${sub}\\.1\n`));
    assert.match(dns.stdout, new RegExp(`Name:\\s+svc\nAddress: ${sub}\\.50\n`));
    assert.match(dns.stdout, /can't find nosuch: NXDOMAIN/);
    // The default bridge has no name resolution (as docker's).
    const plain = await root.run(['run', '--rm', 'busybox', 'cat', '/etc/resolv.conf']);
    assert.doesNotMatch(plain.stdout, /ndots:0/);
    const other = await root.run(['run', '--rm', '--network', 'back', 'busybox', 'ping', '-c1', '-W2', `${sub}.50`]);
    assert.notEqual(other.code, 0, 'a container on another network reached the api');
    assert.match(other.stdout, /0 packets received/);
    const inspect = JSON.parse((await root.run(['network', 'inspect', 'front'])).stdout)[0];
    assert.equal(inspect.IPAM.Config[0].Subnet, `${sub}.0/24`);
    assert.equal(Object.values<{ IPv4Address: string }>(inspect.Containers)[0].IPv4Address, `${sub}.50/24`);
    // container:api shares api's namespace (and its hostname); connect/disconnect change a running container's interfaces.
    const shared = await root.run(['run', '--rm', '--network', 'container:api', 'busybox', 'sh', '-c', 'hostname; ip -o -4 addr show eth0']);
    assert.equal(shared.code, 0, shared.stderr);
    assert.equal(shared.stdout.split('\n')[0], web.stdout.trim().slice(0, 12));
    assert.match(shared.stdout, new RegExp(`inet ${sub}\\.50/24`));
    assert.equal((await root.run(['network', 'connect', '--alias', 'api2', 'back', 'api'])).code, 0);
    assert.equal((await root.run(['exec', 'api', 'ls', '/sys/class/net'])).stdout, 'eth0\neth1\nlo\n');
    const both = JSON.parse((await root.run(['inspect', 'api'])).stdout)[0].NetworkSettings.Networks;
    assert.deepEqual(Object.keys(both).sort(), ['back', 'front']);
    assert.deepEqual(both.back.Aliases, ['api2']);
    assert.equal((await root.run(['network', 'disconnect', 'back', 'api'])).code, 0);
    assert.equal((await root.run(['exec', 'api', 'ls', '/sys/class/net'])).stdout, 'eth0\nlo\n');
    const busy = await root.run(['network', 'rm', 'front']);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /active endpoints/);
    assert.equal((await root.run(['rm', '-f', 'api'])).code, 0);
    await root.until(() => root.netLeftovers(), (l) => l.length === 0, 20_000);
    const rm = await root.run(['network', 'rm', 'front', 'back']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(root.netLeftovers(), []);
  });

  test('--mac-address, --dns, --dns-search, --add-host and --hostname reach the container', async () => {
    const r = await root.run(['run', '--rm', '--mac-address', '92:d0:c6:0a:29:33', '--dns', '10.9.9.9', '--dns-search', 'corp.example',
      '--add-host', 'db:10.1.2.3', '--hostname', 'box', 'busybox', 'sh', '-c', 'cat /sys/class/net/eth0/address /etc/resolv.conf; tail -2 /etc/hosts']);
    assert.equal(r.code, 0, r.stderr);
    const [mac, ns, search, db, self] = r.stdout.trim().split('\n');
    assert.deepEqual([mac, ns, search, db], ['92:d0:c6:0a:29:33', 'nameserver 10.9.9.9', 'search corp.example', '10.1.2.3\tdb']);
    assert.match(self, /^\d+\.\d+\.\d+\.\d+\tbox$/);
  });

  test('an --internal network reaches nothing outside itself', async () => {
    assert.equal((await root.run(['network', 'create', '--internal', 'closed'])).code, 0);
    const r = await root.run(['run', '--rm', '--network', 'closed', 'busybox', 'sh', '-c', `ip route; ping -c1 -W2 ${peerAddr}`]);
    assert.notEqual(r.code, 0, 'an internal network reached the other host');
    assert.doesNotMatch(r.stdout, /default/);
    await root.until(() => root.netLeftovers(), (l) => l.length === 0, 20_000);
    assert.equal((await root.run(['network', 'rm', 'closed'])).code, 0);
  });

  test('--rm containers and containers whose monitor was killed release their network', async () => {
    const r = await root.run(['run', '--rm', '-p', '127.0.0.1::80', 'busybox', 'true']);
    assert.equal(r.code, 0, r.stderr);
    const d = await root.run(['run', '-d', '--name', 'victim', '-p', '80', 'busybox', 'sleep', '100']);
    assert.equal(d.code, 0, d.stderr);
    const state = JSON.parse(fs.readFileSync(`${root.dir}/containers/${d.stdout.trim()}/state.json`, 'utf8'));
    process.kill(state.Monitor.pid, 'SIGKILL');
    await root.eventually(() => root.run(['ps', '-a']).then(() => root.netLeftovers()), (l) => l.length === 0, 20_000);
    assert.deepEqual(root.netLeftovers(), []);
    assert.equal((await root.run(['rm', '-f', 'victim'])).code, 0);
    // Nothing on the default network any more: the engine removes its bridge and rules too (the
    // next container brings them back).
    const defaultNet = JSON.parse(fs.readFileSync(`${root.dir}/networks/${root.networkIds().find((id) => JSON.parse(fs.readFileSync(`${root.dir}/networks/${id}.json`, 'utf8')).Name === 'bridge')}.json`, 'utf8'));
    assert.equal(await root.until(() => fs.existsSync(`/sys/class/net/${defaultNet.Bridge}`), (up) => !up, 20_000), false, 'the idle default bridge is gone');
    const back = await root.run(['run', '--rm', 'busybox', 'sh', '-c', 'ip -4 addr show eth0 | grep -c inet']);
    assert.equal(back.stdout, '1\n', back.stderr);
  });

  test('the pool: plain starts take prepared sandboxes, exits top it up, idle ones expire, a drain leaves nothing', async () => {
    const env = { ...root.env(), BERTH_NETNS_POOL: '2' };
    const run = (args: string[]) => collect(spawn(BERTH, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
    const dir = `${root.dir}/networks/sandboxes`;
    const records = (): Array<{ id: string; pooled?: number; netns: string }> => {
      try {
        return fs.readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => JSON.parse(fs.readFileSync(`${dir}/${n}`, 'utf8')));
      } catch {
        return [];
      }
    };
    const pooled = () => records().filter((r) => r.pooled !== undefined).map((r) => r.id).sort();
    try {
      await poolSteps(run, dir, records, pooled);
    } finally {
      await root.drainPool(); // whatever happened, the next tests start without a pool
    }
  });

  async function poolSteps(run: (args: string[]) => Promise<Result>, dir: string, records: () => Array<{ id: string; pooled?: number; netns: string }>, pooled: () => string[]): Promise<void> {
    // A first plain start makes its own sandbox; its release, after the exit, prepares the pool.
    assert.equal((await run(['run', '--rm', 'busybox', 'true'])).code, 0);
    const ready = await root.until(pooled, (p) => p.length === 2, 20_000);
    assert.equal(ready.length, 2);
    // The next plain start takes one, and works through it: an address, NAT out to the other host.
    const d = await run(['run', '-d', '--name', 'pooled', 'busybox', 'sleep', '100']);
    assert.equal(d.code, 0, d.stderr);
    const ns = JSON.parse((await root.run(['inspect', 'pooled'])).stdout)[0].NetworkSettings;
    assert.ok(ready.includes(ns.SandboxID), `${ns.SandboxID} is not one of ${ready.join(', ')}`);
    assert.match(ns.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    const out = await root.run(['exec', 'pooled', 'sh', '-c', `wget -q -O- http://${peerAddr}:8000/`]);
    assert.equal(out.stdout, 'hello-from-peer\n', out.stderr);
    assert.deepEqual(pooled(), ready.filter((id) => id !== ns.SandboxID));
    // network inspect shows containers, not sandboxes waiting in the pool.
    const net = JSON.parse((await root.run(['network', 'inspect', 'bridge'])).stdout)[0];
    assert.deepEqual(Object.keys(net.Containers), [d.stdout.trim()]);
    // Published ports need a sandbox of their own (portmap in its ADD): the pool is left alone.
    const p = await run(['run', '-d', '--name', 'published', '-p', '80', 'busybox', 'sleep', '100']);
    assert.equal(p.code, 0, p.stderr);
    assert.ok(!ready.includes(JSON.parse((await root.run(['inspect', 'published'])).stdout)[0].NetworkSettings.SandboxID));
    assert.equal(pooled().length, 1);
    // A plain --rm run takes the last one; its exit tops the pool up with new sandboxes.
    assert.equal((await run(['run', '--rm', 'busybox', 'true'])).code, 0);
    const refilled = await root.until(pooled, (l) => l.length === 2, 20_000);
    assert.equal(refilled.length, 2);
    assert.ok(refilled.every((id) => !ready.includes(id)));
    // Their expiry timer waits (a shell, not Node), for a machine where no other command runs.
    const timer = JSON.parse(fs.readFileSync(`${dir}/pool.timer`, 'utf8')) as { pid: number };
    assert.match(fs.readFileSync(`/proc/${timer.pid}/cmdline`, 'utf8'), /^\/bin\/sh\0-c\0sleep \d+; exec .*--expire\0/);
    // Idle too long: the timer's command, or any reconcile, releases them; nothing refills an idle pool.
    const backdate = (id: string) => {
      const rec = JSON.parse(fs.readFileSync(`${dir}/${id}.json`, 'utf8'));
      fs.writeFileSync(`${dir}/${id}.json`, JSON.stringify({ ...rec, pooled: Date.now() - 11 * 60_000 }));
    };
    backdate(refilled[0]);
    const [node, ...expire] = expireArgv(openRoot(root.dir));
    execFileSync(node, expire);
    assert.deepEqual(pooled(), [refilled[1]]);
    backdate(refilled[1]);
    await root.run(['ps', '-a']);
    assert.deepEqual(await root.until(pooled, (l) => l.length === 0, 20_000), []);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(pooled(), []);
    for (const id of refilled) assert.ok(!fs.existsSync(`/run/berth/netns/berth-${root.key}-${id.slice(0, 12)}`));
    // Containers gone and the pool drained: nothing of it is left in the kernel.
    const rm = await run(['rm', '-f', 'pooled', 'published']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await run(['run', '--rm', 'busybox', 'true'])).code, 0);
    await root.until(pooled, (l) => l.length === 2, 20_000);
    const timer2 = JSON.parse(fs.readFileSync(`${dir}/pool.timer`, 'utf8')) as { pid: number };
    await root.drainPool();
    assert.deepEqual(await root.until(() => root.netLeftovers(), (l) => l.length === 0, 20_000), []);
    assert.equal(await root.until(() => fs.existsSync(`/proc/${timer2.pid}`), (alive) => !alive, 5000), false);
    assert.ok(records().length === 0);
  }

  test('concurrent network creates each get a subnet of their own, and every claim survives the others\' sweeps', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `race${i}`);
    const results = await Promise.all(names.map((n) => root.run(['network', 'create', n])));
    for (const [i, r] of results.entries()) assert.equal(r.code, 0, `${names[i]}: ${r.stderr}`);
    const { Networks } = await import('../../src/network/store.ts');
    const nets = new Networks(openRoot(root.dir)).list().filter((n) => names.includes(n.Name));
    assert.equal(nets.length, 8);
    assert.equal(new Set(nets.map((n) => n.Subnet)).size, 8, `distinct subnets: ${nets.map((n) => n.Subnet).join(' ')}`);
    // Each subnet is still claimed machine-wide by its network (a create sweeping the claim of
    // another one still at work was the bug), and a later create, which sweeps stale claims,
    // neither frees nor reuses any of them.
    const claims = process.env.BERTH_RUN_DIR ? `${process.env.BERTH_RUN_DIR}/subnets` : '/run/berth/subnets';
    const claimOf = (subnet: string) => fs.readFileSync(`${claims}/${subnet.replace('/', '_')}`, 'utf8').split('\n')[1];
    const one = await root.run(['network', 'create', 'race-late']);
    assert.equal(one.code, 0, one.stderr);
    for (const n of nets) assert.equal(claimOf(n.Subnet), n.Id, `${n.Name}'s claim on ${n.Subnet}`);
    const late = new Networks(openRoot(root.dir)).find('race-late')!;
    assert.ok(!nets.some((n) => n.Subnet === late.Subnet));
    for (const n of [...names, 'race-late']) assert.equal((await root.run(['network', 'rm', n])).code, 0);
    // Released by rm, or (when a concurrent sweeper held the claim's guard) by that sweeper.
    const held = () => [...nets, late].filter((n) => fs.existsSync(`${claims}/${n.Subnet.replace('/', '_')}`)).map((n) => n.Subnet);
    assert.deepEqual(await root.until(held, (l) => l.length === 0, 15_000), [], 'subnets released');
  });

  test('a network create racing the removal of the root\'s last network: the chain is there for the create, and goes with the last one', async () => {
    // rm of the only network removes the root's chain and its FORWARD jump; a create at the same
    // moment used to find the chain, skip -N, then fail its jump or rules once rm dropped it.
    const { Networks } = await import('../../src/network/store.ts');
    const key = openRoot(root.dir).key;
    const chain = `BERTH-${key}`;
    const before = new Set(sh('iptables', ['-S']).split('\n').filter((l) => l.includes(chain)));
    assert.equal(before.size, 0, `no network of this root has rules yet: ${[...before].join('; ')}`);
    let last = 'churn0';
    assert.equal((await root.run(['network', 'create', last])).code, 0);
    for (let i = 1; i <= 50; i++) {
      const next = `churn${i}`;
      const [rm, create] = await Promise.all([root.run(['network', 'rm', last]), root.run(['network', 'create', next])]);
      assert.equal(rm.code, 0, `rm ${last}: ${rm.stderr}`);
      assert.equal(create.code, 0, `create ${next} (iteration ${i}): ${create.stderr}`);
      // The survivor's rules are in place: its chain, the jump to it, its first rule.
      const { Bridge } = new Networks(openRoot(root.dir)).find(next)!;
      const rules = sh('iptables', ['-S', chain]);
      assert.ok(rules.includes(`-A ${chain} -i ${Bridge} -o ${Bridge} -j ACCEPT`), `iteration ${i}: ${rules}`);
      assert.match(sh('iptables', ['-S', 'FORWARD']), new RegExp(`-A FORWARD -j ${chain}`), `iteration ${i}: the jump`);
      last = next;
    }
    assert.equal((await root.run(['network', 'rm', last])).code, 0);
    assert.ok(!sh('iptables', ['-S']).includes(chain), 'the chain and its jump go with the last network');
  });

  test('bad input is refused clearly', async () => {
    for (const [args, msg] of [
      [['run', '--rm', '--network', 'nope', 'busybox', 'true'], /network nope not found/],
      [['run', '--rm', '-p', '70000:80', 'busybox', 'true'], /invalid port/],
      [['run', '--rm', '--ip', '10.1.1.1', 'busybox', 'true'], /user defined networks only/],
      [['network', 'create', '--subnet', '10.0.0.1/8', 'x'], /host bits/],
    ] as Array<[string[], RegExp]>) {
      const r = await root.run(args);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
  });

  test('without the CNI plugins: a clear error, and nothing half-made is left', async () => {
    const r = await collect(spawn(BERTH, ['run', '--rm', 'busybox', 'true'], { env: { ...root.env(), BERTH_CNI_PATH: '/nonexistent' }, stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /CNI plugin "bridge" not found: install Debian's containernetworking-plugins/);
    assert.deepEqual(root.netLeftovers(), []);
  });

  test('after everything is removed, nothing of the root is left in the kernel', async () => {
    await root.run(['ps', '-a']);
    await root.removeNetworks();
    assert.deepEqual(root.netLeftovers(), []);
    assert.deepEqual(root.bridges(), []);
    assert.doesNotMatch(sh('iptables-save', ['-t', 'filter']), new RegExp(`BERTH-${root.key}`));
  });
});
