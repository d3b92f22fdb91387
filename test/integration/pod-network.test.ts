// A CRI pod's network with the real Debian CNI plugins and a private conf dir (bridge berthcri*,
// host-local in a free private /24, portmap, loopback): set up, joined by a container through
// `--network ns:PATH`, a host port reaching it, torn down with nothing left; status() for a
// missing or broken conf; a failure half way, a kill -9 of the process that set it up, a
// namespace gone before the tear-down, a state root removed with its pod networks.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collect, isRoot, REPO, TestRoot } from '../helpers/berth.ts';
import { openRoot, type StateRoot } from '../../src/core/root.ts';
import { formatSubnet, overlaps, parseProcRoutes, parseSubnet } from '../../src/network/cidr.ts';
import { PodNetworks } from '../../src/network/pod-network.ts';
import { deleteNetns, POD_RUN_DIR } from '../../src/network/sweep.ts';
import { namespaceType } from '../../src/kernel/netns.ts';

const BIN_DIRS = ['/opt/cni/bin', '/usr/lib/cni'];
const hasCni = BIN_DIRS.some((d) => fs.existsSync(path.join(d, 'bridge')));

/** A /24 of 10.200-249 that no route of the machine overlaps. */
function freeSubnet(): string {
  const routes = parseProcRoutes(fs.readFileSync('/proc/net/route', 'utf8'));
  for (let i = 0; i < 50; i++) {
    const s = parseSubnet(`10.${200 + ((process.pid + i) % 50)}.${process.pid % 250}.0/24`);
    if (!routes.some((r) => r.bits > 0 && overlaps(r, s))) return formatSubnet(s);
  }
  throw new Error('no free subnet');
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    }).on('error', reject).on('timeout', function (this: http.ClientRequest) { this.destroy(new Error('timeout')); });
  });
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
const podId = (n: number) => `${n.toString(16).padStart(2, '0')}${'c'.repeat(62)}`;
const pod = (name: string, portMappings: Parameters<PodNetworks['setUp']>[1]['portMappings'] = []) => ({ name, namespace: 'default', uid: `uid-${name}`, portMappings });

describe('pod networks (CRI)', { skip: (!isRoot && 'needs root') || (!hasCni && 'needs the CNI plugins') }, () => {
  let root: TestRoot;
  let sroot: StateRoot;
  let tmp: string;
  let confDir: string;
  let ipamDir: string;
  const bridge = `berthcri${(process.pid % 0xfffffff).toString(16).slice(0, 7)}`;
  const subnet = freeSubnet();
  const gateway = subnet.replace(/\.0\/24$/, '.1');
  let pods: PodNetworks;

  /** What one pod's network could leave behind. */
  function podLeftovers(id: string, netns: string, key = sroot.key, rootDir = sroot.dir): string[] {
    const found: string[] = [];
    if (fs.existsSync(netns)) found.push(netns);
    found.push(...fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(netns)));
    let ports = '';
    try {
      ports = sh('ip', ['-o', 'link', 'show', 'master', bridge]).trim();
    } catch {}
    if (ports) found.push(...ports.split('\n'));
    for (const table of ['nat', 'filter']) found.push(...sh('iptables-save', ['-t', table]).split('\n').filter((l) => l.includes(id)));
    for (const d of fs.existsSync(ipamDir) ? fs.readdirSync(ipamDir) : []) {
      for (const f of fs.readdirSync(path.join(ipamDir, d))) if (/^\d+\.\d+\.\d+\.\d+$/.test(f)) found.push(path.join(ipamDir, d, f));
    }
    for (const f of [path.join(rootDir, 'networks', 'pods', `${id}.json`), path.join(POD_RUN_DIR, `${key}-${id}.json`)]) if (fs.existsSync(f)) found.push(f);
    return found;
  }

  function writeConf(dir: string, extra: object[] = []): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, '10-pods.conflist'), JSON.stringify({
      cniVersion: '1.0.0', name: `berthcri-test-${process.pid}`,
      plugins: [
        {
          type: 'bridge', bridge, isGateway: true, ipMasq: true, hairpinMode: true,
          ipam: { type: 'host-local', dataDir: ipamDir, ranges: [[{ subnet, gateway }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        ...extra,
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'loopback' },
      ],
    }));
  }

  before(async () => {
    root = await TestRoot.withBusybox();
    sroot = openRoot(root.dir);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-podnet-'));
    confDir = path.join(tmp, 'net.d');
    ipamDir = path.join(tmp, 'ipam');
    writeConf(confDir);
    pods = new PodNetworks(sroot, { confDir, binDirs: BIN_DIRS });
  });
  after(async () => {
    for (const id of pods.ids()) await pods.tearDown(id).catch(() => undefined);
    await root.cleanup();
    try { execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' }); } catch {}
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('status: ready only with a usable configuration, and says why not', () => {
    assert.deepEqual(pods.status(), { ready: true });
    const empty = new PodNetworks(sroot, { confDir: path.join(tmp, 'none'), binDirs: BIN_DIRS }).status();
    assert.equal(empty.ready, false);
    assert.equal(empty.reason, 'NetworkPluginNotReady');
    assert.match(empty.message ?? '', /cni plugin not initialized: no valid network config found in .*none$/);
    const brokenDir = path.join(tmp, 'broken');
    fs.mkdirSync(brokenDir);
    fs.writeFileSync(path.join(brokenDir, '10-x.conflist'), '{"cniVersion": "1.0.0", "name": "x", "plugins": [');
    const broken = new PodNetworks(sroot, { confDir: brokenDir, binDirs: BIN_DIRS }).status();
    assert.equal(broken.ready, false);
    assert.match(broken.message ?? '', /10-x\.conflist: not JSON/);
    // A plugin that is installed nowhere: not usable either.
    fs.writeFileSync(path.join(brokenDir, '20-y.conf'), JSON.stringify({ cniVersion: '1.0.0', name: 'y', type: 'berth-no-such-plugin' }));
    assert.match(new PodNetworks(sroot, { confDir: brokenDir, binDirs: BIN_DIRS }).status().message ?? '', /berth-no-such-plugin" not found/);
    // The first that parses is used, even after a broken one.
    writeConf(brokenDir);
    fs.rmSync(path.join(brokenDir, '20-y.conf'));
    assert.deepEqual(new PodNetworks(sroot, { confDir: brokenDir, binDirs: BIN_DIRS }).status(), { ready: true });
  });

  test('setUp: an address; a container joins with --network ns:PATH, reaches the gateway, serves a host port; tearDown leaves nothing', async () => {
    const id = podId(1);
    const port = await freePort();
    const t0 = performance.now();
    const p = await pods.setUp(id, pod('web', [{ hostPort: port, containerPort: 80, protocol: 'tcp' }, { hostPort: 0, containerPort: 81, protocol: 'tcp' }]));
    const ms = performance.now() - t0;
    assert.ok(p.ip.startsWith(subnet.replace(/0\/24$/, '')), `${p.ip} in ${subnet}`);
    assert.deepEqual(p.additionalIps, []);
    assert.equal(p.netns, `/run/berth/netns/berth-${sroot.key}-${id.slice(0, 12)}`);
    assert.deepEqual(pods.get(id), p);
    assert.deepEqual(new PodNetworks(sroot, { confDir, binDirs: BIN_DIRS }).get(id), p, 'from the record, in any process');
    // Asking again answers the same network.
    assert.deepEqual(await pods.setUp(id, pod('web')), p);
    console.log(`# pod network set up in ${ms.toFixed(0)} ms`);

    const r = await root.run(['run', '--rm', '--network', `ns:${p.netns}`, 'busybox', 'sh', '-c', `ip -o -4 addr show eth0; ip -o link show lo; ping -c1 -W2 ${gateway} >/dev/null && echo gateway-ok; cat /etc/resolv.conf`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`inet ${p.ip.replace(/\./g, '\\.')}/24`));
    assert.match(r.stdout, /lo: <LOOPBACK,UP/);
    assert.match(r.stdout, /gateway-ok/);
    assert.match(r.stdout, /nameserver /);

    const web = await root.run(['run', '-d', '--name', 'podweb', '--dns', '10.96.0.10', '--dns-search', 'svc.cluster.local', '--network', `ns:${p.netns}`, 'busybox', 'sh', '-c', 'mkdir /www && echo hello-pod > /www/index.html && exec httpd -f -p 80 -h /www']);
    assert.equal(web.code, 0, web.stderr);
    const body = await root.eventually(() => get(`http://127.0.0.1:${port}/`).catch((e: Error) => e.message), (b) => b === 'hello-pod\n');
    assert.equal(body, 'hello-pod\n');
    const ins = JSON.parse((await root.run(['inspect', 'podweb'])).stdout)[0];
    assert.equal(ins.HostConfig.NetworkMode, `ns:${p.netns}`);
    assert.equal(ins.NetworkSettings.SandboxKey, p.netns);
    assert.deepEqual(ins.NetworkSettings.Networks, {});
    const resolv = await root.run(['exec', 'podweb', 'cat', '/etc/resolv.conf']);
    assert.match(resolv.stdout, /nameserver 10\.96\.0\.10\nsearch svc\.cluster\.local/);
    // A pod's other containers join the sandbox's namespace (the CRI's container:<sandbox>).
    const peer = await root.run(['run', '--rm', '--network', 'container:podweb', 'busybox', 'wget', '-qO-', 'http://127.0.0.1:80/']);
    assert.equal(peer.stdout, 'hello-pod\n', peer.stderr);
    assert.equal((await root.run(['rm', '-f', 'podweb'])).code, 0);
    // berth never removes a namespace it did not make.
    assert.ok(fs.existsSync(p.netns));

    await pods.tearDown(id);
    assert.deepEqual(podLeftovers(id, p.netns), []);
    assert.equal(pods.get(id), undefined);
    await pods.tearDown(id); // again: nothing to do, no error
    assert.deepEqual(root.netLeftovers(), []);
    assert.ok(!fs.existsSync(path.join(POD_RUN_DIR, `${sroot.key}.root`)), 'the root is named machine-wide only while it has pods');
  });

  test('--network ns: refuses what is not a network namespace file', async () => {
    for (const [target, why] of [['/etc/hostname', /not a network namespace file/], ['/proc/self/ns/uts', /namespace of type uts/], ['/nonexistent', /no such file/], ['relative', /absolute path/]] as const) {
      const r = await root.run(['run', '--rm', '--network', `ns:${target}`, 'busybox', 'true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, why);
    }
  });

  test('a chain that fails half way is undone: DEL of what was added, no namespace, no record', async () => {
    // A plugin between bridge and portmap that refuses every ADD.
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'berth-fail'), '#!/bin/sh\ncat >/dev/null\nif [ "$CNI_COMMAND" = ADD ]; then echo \'{"cniVersion":"1.0.0","code":11,"msg":"refused on purpose"}\'; exit 1; fi\nexit 0\n', { mode: 0o755 });
    const failDir = path.join(tmp, 'fail.d');
    writeConf(failDir, [{ type: 'berth-fail' }]);
    const failing = new PodNetworks(sroot, { confDir: failDir, binDirs: [bin, ...BIN_DIRS] });
    const id = podId(2);
    await assert.rejects(failing.setUp(id, pod('fails', [{ hostPort: await freePort(), containerPort: 80, protocol: 'tcp' }])), /refused on purpose/);
    assert.deepEqual(podLeftovers(id, `/run/berth/netns/berth-${sroot.key}-${id.slice(0, 12)}`), []);
    // Not ready: the plugins are not all where the daemon looks.
    assert.equal(new PodNetworks(sroot, { confDir: failDir, binDirs: BIN_DIRS }).status().ready, false);
  });

  test('alongside: runs in the namespace while ADD runs; a failure of either undoes the network after both settled', async () => {
    // Success: the namespace is there when it runs, the ADD result is not yet.
    const id = podId(7);
    let during: { kind?: string; net?: unknown } = {};
    const p = await pods.setUp(id, pod('along'), {
      alongside: async (netns) => {
        during = { kind: namespaceType(netns), net: pods.get(id) };
      },
    });
    assert.deepEqual(during, { kind: 'net', net: undefined });
    assert.ok(p.ip);
    await pods.tearDown(id);
    assert.deepEqual(podLeftovers(id, p.netns), []);

    // Its failure: thrown, the network (ADD done by then) torn down.
    const id2 = podId(8);
    const ns2 = `/run/berth/netns/berth-${sroot.key}-${id2.slice(0, 12)}`;
    await assert.rejects(pods.setUp(id2, pod('along-fails'), { alongside: async () => { throw new Error('start refused'); } }), /start refused/);
    assert.deepEqual(podLeftovers(id2, ns2), []);

    // ADD failing: its error wins, and the tear-down waits for what runs alongside.
    const bin = path.join(tmp, 'bin');
    const failing = new PodNetworks(sroot, { confDir: path.join(tmp, 'fail.d'), binDirs: [bin, ...BIN_DIRS] });
    let finished = false;
    await assert.rejects(failing.setUp(id2, pod('both-fail'), {
      alongside: async () => {
        await new Promise((r) => setTimeout(r, 300));
        finished = true;
        throw new Error('start refused');
      },
    }), /refused on purpose/);
    assert.equal(finished, true);
    assert.deepEqual(podLeftovers(id2, ns2), []);
  });

  test('kill -9 of the process that set it up: a new process tears it down from the record', async () => {
    const id = podId(3);
    const script = path.join(tmp, 'setup-and-die.ts');
    fs.writeFileSync(script, [
      `import { openRoot } from '${REPO}/src/core/root.ts';`,
      `import { PodNetworks } from '${REPO}/src/network/pod-network.ts';`,
      `const pn = new PodNetworks(openRoot(${JSON.stringify(root.dir)}), { confDir: ${JSON.stringify(confDir)}, binDirs: ${JSON.stringify(BIN_DIRS)} });`,
      `const p = await pn.setUp(${JSON.stringify(id)}, { name: 'k', namespace: 'default', uid: 'u', portMappings: [{ hostPort: ${await freePort()}, containerPort: 80, protocol: 'tcp' }] });`,
      `process.stdout.write(JSON.stringify(p) + '\\n', () => process.kill(process.pid, 'SIGKILL'));`,
    ].join('\n'));
    const child = await collect(spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] }), 30_000);
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    const p = JSON.parse(child.stdout);
    assert.deepEqual(pods.get(id), p);
    assert.ok(sh('iptables-save', ['-t', 'nat']).includes(id), 'the host port rules are there');
    // The root's sweep (any berth command) keeps it: a pod's network is not an orphan.
    await root.run(['ps', '-a']);
    assert.ok(fs.existsSync(p.netns));
    await pods.tearDown(id);
    assert.deepEqual(podLeftovers(id, p.netns), []);
  });

  test('kill -9 in the middle of ADD (bridge done, a later plugin running): tearDown from the record leaves nothing', async () => {
    const bin = path.join(tmp, 'bin-slow');
    fs.mkdirSync(bin, { recursive: true });
    const marker = path.join(tmp, 'slow-started');
    fs.writeFileSync(path.join(bin, 'berth-slow'), `#!/bin/sh\ncat >/dev/null\nif [ "$CNI_COMMAND" = ADD ]; then : > ${marker}; sleep 2; fi\nexit 0\n`, { mode: 0o755 });
    const slowDir = path.join(tmp, 'slow.d');
    writeConf(slowDir, [{ type: 'berth-slow' }]);
    const id = podId(6);
    const script = path.join(tmp, 'setup-killed.ts');
    fs.writeFileSync(script, [
      `import { openRoot } from '${REPO}/src/core/root.ts';`,
      `import { PodNetworks } from '${REPO}/src/network/pod-network.ts';`,
      `const pn = new PodNetworks(openRoot(${JSON.stringify(root.dir)}), { confDir: ${JSON.stringify(slowDir)}, binDirs: ${JSON.stringify([bin, ...BIN_DIRS])} });`,
      `await pn.setUp(${JSON.stringify(id)}, { name: 'k', namespace: 'default', uid: 'u', portMappings: [{ hostPort: ${await freePort()}, containerPort: 80, protocol: 'tcp' }] });`,
    ].join('\n'));
    const child = spawn(process.execPath, [script], { stdio: 'ignore' });
    assert.ok(await root.until(() => fs.existsSync(marker), (x) => x, 15_000), 'the slow plugin started');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const netns = `/run/berth/netns/berth-${sroot.key}-${id.slice(0, 12)}`;
    assert.ok(fs.existsSync(netns), 'killed with its namespace made');
    assert.equal(pods.get(id), undefined, 'no network to report: ADD never completed');
    await pods.tearDown(id);
    assert.deepEqual(podLeftovers(id, netns), []);
  });

  test('a namespace gone before the tear-down: DEL still frees the address and the rules', async () => {
    const id = podId(4);
    const p = await pods.setUp(id, pod('gone', [{ hostPort: await freePort(), containerPort: 80, protocol: 'tcp' }]));
    assert.equal(deleteNetns(p.netns).status, 0);
    assert.ok(fs.readdirSync(path.join(ipamDir, fs.readdirSync(ipamDir)[0])).includes(p.ip));
    await pods.tearDown(id);
    assert.deepEqual(podLeftovers(id, p.netns), []);
  });

  test('a state root removed with its pod networks: the next sweep of any root tears them down', async () => {
    const goneDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-podnet-root-'));
    const gone = openRoot(goneDir);
    const id = podId(5);
    const p = await new PodNetworks(gone, { confDir, binDirs: BIN_DIRS }).setUp(id, pod('orphan', [{ hostPort: await freePort(), containerPort: 80, protocol: 'tcp' }]));
    assert.notDeepEqual(podLeftovers(id, p.netns, gone.key, gone.dir), []);
    fs.rmSync(goneDir, { recursive: true, force: true });
    await root.run(['ps', '-a']); // reconciles: sweeps, machine-wide
    const left = await root.until(() => podLeftovers(id, p.netns, gone.key, gone.dir), (l) => l.length === 0, 15_000);
    assert.deepEqual(left, []);
    // The name of the removed root goes with its last pod.
    assert.equal(await root.until(() => fs.existsSync(path.join(POD_RUN_DIR, `${gone.key}.root`)), (x) => !x), false);
  });
});
