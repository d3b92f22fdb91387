// Registry hosts configuration (containerd's certs.d/<host>/hosts.toml) through real pulls: a
// loopback registry serving as docker.io's mirror with no internet, a registry name served over
// plain HTTP by its `server`, falling through hosts that fail, "pull"-only mirrors, the Docker
// API's pull, and a bad hosts.toml failing with its file and line.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxTar, isRoot, TestRoot } from '../helpers/berth.ts';
import { TestDaemon } from '../helpers/daemon.ts';
import { OciLayout, type BuiltImage } from '../helpers/oci.ts';
import { freePort, hasRegistryTools, Proxy, TestRegistry } from '../helpers/registry.ts';

const skip = !isRoot ? 'needs root' : !hasRegistryTools ? 'needs docker-registry, skopeo, htpasswd and openssl (./setup.sh installs them)' : false;

describe('registry hosts (hosts.toml)', { skip }, () => {
  let root: TestRoot;
  let mirror: TestRegistry; // holds the images
  let empty: TestRegistry; // holds nothing
  let proxy: Proxy; // in front of the mirror, to see which requests reach it
  let certs: string;
  let image: BuiltImage;
  let closedPort: number;
  const saved = process.env.BERTH_REGISTRY_CONFIG;

  const hostsToml = (host: string, text: string) => {
    fs.mkdirSync(path.join(certs, host), { recursive: true });
    fs.writeFileSync(path.join(certs, host, 'hosts.toml'), text);
  };

  before(async () => {
    [mirror, empty] = await Promise.all([TestRegistry.start(), TestRegistry.start()]);
    proxy = await Proxy.start(mirror.port);
    closedPort = await freePort();
    const layout = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-mirror-layout-'));
    const lay = new OciLayout(layout);
    image = lay.image({ layers: [{ tar: fs.readFileSync(busyboxTar()), compression: 'gzip' }], cmd: ['echo', 'from the mirror'] });
    lay.tag('bb', image.manifest);
    await mirror.push(layout, 'bb', 'library/busybox:1.36');
    await mirror.push(layout, 'bb', 'team/app:1');
    fs.rmSync(layout, { recursive: true, force: true });
    certs = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-certs.d-'));
    process.env.BERTH_REGISTRY_CONFIG = certs; // TestRoot and TestDaemon pass the environment on
    root = new TestRoot();
  });

  after(async () => {
    if (saved === undefined) delete process.env.BERTH_REGISTRY_CONFIG;
    else process.env.BERTH_REGISTRY_CONFIG = saved;
    await root?.cleanup();
    await proxy?.stop();
    await Promise.all([mirror?.stop(), empty?.stop()]);
    if (certs) fs.rmSync(certs, { recursive: true, force: true });
  });

  test('docker.io through a loopback mirror, no internet: the image keeps its name', async () => {
    // The upstream (docker.io's default server) is never reached: the mirror answers first.
    hostsToml('docker.io', `[host."http://127.0.0.1:${proxy.port}"]\n  capabilities = ["pull", "resolve"]\n`);
    const r = await root.run(['pull', 'busybox:1.36']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Digest: ${image.manifest.digest}`));
    assert.match(r.stdout, /docker\.io\/library\/busybox:1\.36/);
    const inspect = JSON.parse((await root.run(['image', 'inspect', 'busybox:1.36'])).stdout)[0];
    assert.deepEqual(inspect.RepoTags, ['busybox:1.36']);
    assert.deepEqual(inspect.RepoDigests, [`busybox@${image.manifest.digest}`]);
    assert.ok(proxy.seen.some((s) => s.url === '/v2/library/busybox/manifests/1.36' && s.status === 200), JSON.stringify(proxy.seen));
    const run = await root.run(['run', '--rm', 'busybox:1.36']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'from the mirror\n');
  });

  test('a host that fails is passed over for the next; a plain-HTTP server by name', async () => {
    // registry.test does not exist: its server is the loopback registry, over plain HTTP; before
    // it, a host refusing connections and a registry without the image.
    hostsToml(
      'registry.test',
      `server = "http://127.0.0.1:${proxy.port}"\n[host."http://127.0.0.1:${closedPort}"]\n[host."http://${empty.host}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
    proxy.seen.length = 0;
    const r = await root.run(['pull', 'registry.test/team/app:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /registry\.test\/team\/app:1/);
    const inspect = JSON.parse((await root.run(['image', 'inspect', 'registry.test/team/app:1'])).stdout)[0];
    assert.ok(inspect.RepoDigests.includes(`registry.test/team/app@${image.manifest.digest}`), inspect.RepoDigests);
    assert.ok(proxy.seen.some((s) => s.url === '/v2/team/app/manifests/1'));

    // When every host fails, the last one's error is the answer and the others' come with it.
    const gone = await root.run(['pull', 'registry.test/team/missing:1']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /manifest for registry\.test\/team\/missing:1 not found/);
    assert.match(gone.stderr, new RegExp(`tried first: http://127\\.0\\.0\\.1:${closedPort}: .*connection refused; http://${empty.host.replace(/\./g, '\\.')}: `));
  });

  test('a "pull"-only mirror serves content by digest; tags resolve at the server', async () => {
    hostsToml('pullonly.test', `server = "http://${empty.host}"\n[host."http://127.0.0.1:${proxy.port}"]\n  capabilities = ["pull"]\n`);
    // The server has no such tag, so a tag cannot be resolved, even though the mirror holds it.
    const byTag = await root.run(['pull', 'pullonly.test/team/app:1']);
    assert.notEqual(byTag.code, 0);
    assert.match(byTag.stderr, /not found/);
    proxy.seen.length = 0;
    const byDigest = await root.run(['pull', `pullonly.test/team/app@${image.manifest.digest}`]);
    assert.equal(byDigest.code, 0, byDigest.stderr);
    assert.ok(proxy.seen.some((s) => s.url === `/v2/team/app/manifests/${image.manifest.digest}` && s.status === 200));
  });

  test('the Docker API pulls through the same configuration', async () => {
    hostsToml('docker.io', `[host."http://127.0.0.1:${proxy.port}"]\n`);
    const d = new TestDaemon(root);
    await d.start();
    try {
      const res = await d.request('POST', '/images/create?fromImage=busybox&tag=1.36');
      assert.equal(res.status, 200, res.body);
      assert.match(res.body, new RegExp(`Digest: ${image.manifest.digest}`));
      assert.doesNotMatch(res.body, /errorDetail/);
    } finally {
      await d.stop();
    }
  });

  test('a bad hosts.toml fails the pull, naming the file, the line and what is wrong', async () => {
    hostsToml('bad.test', `[host."http://127.0.0.1:${proxy.port}"]\n  capabilities = ["pull", "resolve"]\n  skip_verify = yes\n`);
    const r = await root.run(['pull', 'bad.test/team/app:1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`${certs}/bad\\.test/hosts\\.toml: line 3: unsupported value "yes"`));
    hostsToml('bad.test', `[host."http://127.0.0.1:${proxy.port}"]\n  capabilitys = ["pull"]\n`);
    const r2 = await root.run(['pull', 'bad.test/team/app:1']);
    assert.match(r2.stderr, /unknown key "capabilitys" in \[host\."http:\/\/127\.0\.0\.1:\d+"\]/);
  });
});
