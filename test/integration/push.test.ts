// `berth push` to the real CNCF registry on loopback (anonymous, basic auth, token auth); what it
// pushed is read back by skopeo (an independent client) and pulled into a fresh root and run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { busyboxTar, isRoot, TestRoot } from '../helpers/berth.ts';
import { OciLayout, sha } from '../helpers/oci.ts';
import { hasRegistryTools, Proxy, TestRegistry } from '../helpers/registry.ts';
import { tar } from '../helpers/tarwriter.ts';

const skip = !isRoot ? 'needs root' : !hasRegistryTools ? 'needs docker-registry, skopeo, htpasswd and openssl (./setup.sh installs them)' : false;
const short = (d: string) => d.slice(7, 19);

/** skopeo as a child (not execFileSync: with token auth it asks this very process's token server). */
async function skopeo(args: string[]): Promise<string> {
  const child = spawn('/usr/bin/skopeo', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`skopeo ${args.join(' ')} failed (${code}): ${err}`);
  return out;
}

async function layersOf(root: TestRoot, name: string): Promise<string[]> {
  const r = await root.run(['image', 'inspect', name]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0].RootFS.Layers;
}

describe('push to a registry', { skip }, () => {
  let reg: TestRegistry;
  let root: TestRoot;
  let work: string;
  let R: string;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-push-'));
    reg = await TestRegistry.start();
    R = reg.host;
    root = await TestRoot.withBusybox();
  });
  after(async () => {
    await root?.cleanup();
    await reg?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('an imported image: docker lines, skopeo reads it, a fresh root pulls and runs it; a second push is identical', async () => {
    const [diffId] = await layersOf(root, 'busybox');
    assert.equal((await root.run(['tag', 'busybox', `${R}/pushed/busybox:1`])).code, 0);
    const r = await root.run(['push', `${R}/pushed/busybox:1`]);
    assert.equal(r.code, 0, r.stderr);
    const m = /^1: digest: (sha256:[a-f0-9]{64}) size: (\d+)\n$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    const digest = m[1];
    assert.equal(
      r.stdout,
      [`The push refers to repository [${R}/pushed/busybox]`, `${short(diffId)}: Preparing`, `${short(diffId)}: Pushed`, `1: digest: ${digest} size: ${m[2]}`, ''].join('\n'),
    );
    assert.equal(reg.tagDigest('pushed/busybox', '1'), digest);

    // skopeo: the manifest, the config's diff ids, and a layer blob that is gzip of the diff id's tar.
    const insp = JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${R}/pushed/busybox:1`]));
    assert.equal(insp.Digest, digest);
    assert.equal(insp.Layers.length, 1);
    const cfg = JSON.parse(await skopeo(['inspect', '--config', '--tls-verify=false', `docker://${R}/pushed/busybox:1`]));
    assert.deepEqual(cfg.rootfs.diff_ids, [diffId]);
    assert.deepEqual(cfg.config.Cmd, ['sh']);
    const oci = path.join(work, 'oci');
    await skopeo(['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', `docker://${R}/pushed/busybox:1`, `oci:${oci}:b`]);
    const blob = fs.readFileSync(path.join(oci, 'blobs/sha256', insp.Layers[0].slice(7)));
    assert.equal(sha(zlib.gunzipSync(blob)), diffId);
    assert.equal(sha(fs.readFileSync(busyboxTar())), diffId);

    const again = await root.run(['push', `${R}/pushed/busybox:1`]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`${short(diffId)}: Layer already exists\n1: digest: ${digest} size: ${m[2]}\n$`));
    const rd = JSON.parse((await root.run(['image', 'inspect', `${R}/pushed/busybox:1`])).stdout)[0].RepoDigests;
    assert.deepEqual(rd, [`${R}/pushed/busybox@${digest}`]);
    const ls = await root.run(['images', '--digests', `${R}/pushed/busybox`]);
    assert.match(ls.stdout, new RegExp(`^${R}/pushed/busybox\\s+1\\s+${digest}\\s+[a-f0-9]{12}\\s`, 'm'), ls.stdout);

    // Another repository of the same registry: the layer is mounted from the first, not sent again.
    assert.equal((await root.run(['tag', 'busybox', `${R}/mounted/busybox:1`])).code, 0);
    const mounted = await root.run(['push', `${R}/mounted/busybox:1`]);
    assert.equal(mounted.code, 0, mounted.stderr);
    assert.match(mounted.stdout, new RegExp(`${short(diffId)}: Mounted from pushed/busybox\n1: digest: ${digest} size: ${m[2]}\n$`));

    const fresh = new TestRoot();
    try {
      const pull = await fresh.run(['pull', `${R}/pushed/busybox:1`]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.match(pull.stdout, new RegExp(`Digest: ${digest}\n`));
      const run = await fresh.run(['run', '--rm', `${R}/pushed/busybox:1`, 'echo', 'from the registry']);
      assert.equal(run.stdout, 'from the registry\n', run.stderr);
    } finally {
      await fresh.cleanup();
    }
  });

  test('a committed image pushes only its new layer where the base is already; the -q form prints the name', async () => {
    const c = await root.run(['run', '--name', 'pc', 'busybox', 'sh', '-c', 'echo committed > /made.txt']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal((await root.run(['commit', '-c', 'CMD ["cat", "/made.txt"]', 'pc', `${R}/pushed/busybox:2`])).code, 0);
    assert.equal((await root.run(['rm', 'pc'])).code, 0);
    const [base, top] = await layersOf(root, `${R}/pushed/busybox:2`);
    const r = await root.run(['push', `${R}/pushed/busybox:2`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${short(base)}: Layer already exists\n`));
    assert.match(r.stdout, new RegExp(`${short(top)}: Pushed\n`));
    assert.equal((await root.run(['push', '-q', `${R}/pushed/busybox:2`])).stdout, `${R}/pushed/busybox:2\n`);
    const fresh = new TestRoot();
    try {
      const run = await fresh.run(['run', '--rm', `${R}/pushed/busybox:2`]);
      assert.equal(run.stdout, 'committed\n', run.stderr);
    } finally {
      await fresh.cleanup();
    }
  });

  test('a pulled image (gzip and zstd layers) is pushed byte for byte: same manifest digest elsewhere', async () => {
    const lay = new OciLayout(path.join(work, 'layout'));
    const img = lay.image({
      layers: [
        { tar: fs.readFileSync(busyboxTar()), compression: 'gzip' },
        { tar: tar([{ path: 'z.txt', body: 'zstd layer\n', mode: 0o644 }]), compression: 'zstd' },
      ],
      cmd: ['cat', '/z.txt'],
    });
    lay.tag('src', img.manifest);
    await reg.push(lay.dir, 'src', 'source/zimg:1');
    assert.equal((await root.run(['pull', '-q', `${R}/source/zimg:1`])).code, 0);
    assert.equal((await root.run(['tag', `${R}/source/zimg:1`, `${R}/copy/zimg:1`])).code, 0);
    const r = await root.run(['push', `${R}/copy/zimg:1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`1: digest: ${img.manifest.digest} size: ${img.manifest.size}\n$`));
    assert.equal(reg.tagDigest('copy/zimg', '1'), img.manifest.digest);
  });

  test('an upload the registry fails is retried from the start; failing three times fails the push and tags nothing', async () => {
    const proxy = await Proxy.start(reg.port);
    try {
      const name = `${proxy.host}/retried/busybox:1`;
      assert.equal((await root.run(['tag', 'busybox', name])).code, 0);
      proxy.failUploads = { times: 1, minBytes: 4096 }; // the layer, not the config
      const r = await root.run(['push', name]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /: Retrying \(attempt 2: blob upload sha256:[a-f0-9]{64}: unavailable: injected failure\)\n/);
      assert.match(r.stdout, /: Pushed\n1: digest: sha256:[a-f0-9]{64} size: \d+\n$/);
      const puts = proxy.seen.filter((s) => s.method === 'PUT' && s.url.includes('/blobs/uploads/'));
      assert.deepEqual(puts.map((s) => s.status), [201, 503, 201]); // the config, then the layer twice
      // An image the registry knows nowhere (nothing to mount from), failing three times: the push
      // fails with the registry's words, and nothing is tagged there.
      const own = path.join(work, 'own.tar');
      fs.writeFileSync(own, tar([{ path: 'own.bin', body: randomBytes(20_000), mode: 0o644 }]));
      assert.equal((await root.run(['import', own, `${proxy.host}/retried/other:1`])).code, 0);
      proxy.failUploads = { times: 3, minBytes: 4096 };
      const down = await root.run(['push', `${proxy.host}/retried/other:1`]);
      assert.equal(down.code, 125);
      assert.match(down.stderr, /unavailable: injected failure/);
      assert.equal(fs.existsSync(path.join(reg.storage, 'docker/registry/v2/repositories/retried/other/_manifests/tags/1')), false);
    } finally {
      await proxy.stop();
    }
  });

  test('unknown local tag and a digest reference are refused before any request', async () => {
    const r = await root.run(['push', `${R}/nothere:1`]);
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`An image does not exist locally with the tag: ${R}/nothere:1`));
    const d = await root.run(['push', `${R}/x@sha256:${'a'.repeat(64)}`]);
    assert.equal(d.code, 125);
    assert.match(d.stderr, /cannot push a digest reference/);
  });
});

describe('push with authentication', { skip }, () => {
  const users = { alice: 'correct horse battery' };
  let basic: TestRegistry;
  let token: TestRegistry;
  let root: TestRoot;

  before(async () => {
    basic = await TestRegistry.start({ auth: 'basic', users });
    token = await TestRegistry.start({ auth: 'token', users, anonymous: ['public/busybox'] });
    root = await TestRoot.withBusybox();
  });
  after(async () => {
    await root?.cleanup();
    await basic?.stop();
    await token?.stop();
  });

  for (const kind of ['basic', 'token'] as const) {
    test(`${kind} auth: denied without login, pushed after, readable with the credentials`, async () => {
      const reg = kind === 'basic' ? basic : token;
      const R = reg.host;
      const name = `${R}/${kind === 'token' ? 'public' : 'team'}/busybox:1`;
      assert.equal((await root.run(['tag', 'busybox', name])).code, 0);
      const denied = await root.run(['push', name]);
      assert.equal(denied.code, 125);
      assert.match(denied.stderr, /(push access denied|unauthorized|denied)/);
      assert.equal((await root.run(['login', '-u', 'alice', '--password-stdin', R], { input: users.alice })).code, 0);
      if (reg.tokens) reg.tokens.requests.length = 0;
      const r = await root.run(['push', name]);
      assert.equal(r.code, 0, r.stderr);
      const digest = /digest: (sha256:[a-f0-9]{64})/.exec(r.stdout)![1];
      // The token asked for is for pushing exactly this repository.
      if (reg.tokens) assert.ok(reg.tokens.requests.some((q) => q.query.includes(encodeURIComponent(`repository:${name.slice(R.length + 1, -2)}:pull,push`))), JSON.stringify(reg.tokens.requests));
      const insp = JSON.parse(await skopeo(['inspect', '--tls-verify=false', '--creds', `alice:${users.alice}`, `docker://${name}`]));
      assert.equal(insp.Digest, digest);
      assert.equal((await root.run(['logout', R])).code, 0);
    });
  }
});
