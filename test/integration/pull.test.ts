// `berth pull`, `login`, `logout` and run's pull of a missing image, against the real CNCF
// registry on loopback (plain, basic auth, token auth), with images pushed by skopeo from OCI
// layouts built here, and a proxy of our own that counts, breaks and redirects requests.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Engine } from '../../src/engine/engine.ts';
import { busyboxTar, isRoot, TestRoot } from '../helpers/berth.ts';
import { OciLayout, sha, type BuiltImage } from '../helpers/oci.ts';
import { Cdn, freePort, hasRegistryTools, Proxy, TestRegistry } from '../helpers/registry.ts';
import { tar } from '../helpers/tarwriter.ts';

const skip = !isRoot ? 'needs root' : !hasRegistryTools ? 'needs docker-registry, skopeo, htpasswd and openssl (./setup.sh installs them)' : false;

const hex = (d: string) => d.slice(7);
const short = (d: string) => d.slice(7, 19);
const file = (p: string, body: string) => ({ path: p, body, mode: 0o644 });

/** Every file under `dir` whose bytes contain `needle` (for secrets that must stay in one place). */
function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && fs.readFileSync(p).includes(needle)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

interface Images {
  busybox: BuiltImage;
  layered: BuiltImage;
  amd64: BuiltImage;
  arm64: BuiltImage;
  multi: string; // index digest
  tamper: BuiltImage;
  liar: BuiltImage;
  big: BuiltImage;
}

/** One layout with every test image, pushed under `repo names` by skopeo. */
async function publish(reg: TestRegistry, layoutDir: string): Promise<Images> {
  const lay = new OciLayout(layoutDir);
  const bb = fs.readFileSync(busyboxTar());
  const busybox = lay.image({ layers: [{ tar: bb, compression: 'gzip' }], cmd: ['sh'] });
  // Shares its first layer with busybox; the second (zstd) adds a file and whites out /etc/group.
  const layered = lay.image({
    layers: [
      { tar: bb, compression: 'gzip' },
      { tar: tar([file('hello.txt', 'layer two\n'), file('etc/.wh.group', '')]), compression: 'zstd' },
    ],
    cmd: ['cat', '/hello.txt'],
  });
  const amd64 = lay.image({ layers: [{ tar: bb, compression: 'gzip' }, { tar: tar([file('arch', 'amd64\n')]), compression: 'none' }] });
  const arm64 = lay.image({ layers: [{ tar: tar([file('arch', 'arm64\n')]), compression: 'gzip' }], architecture: 'arm64', variant: 'v8' });
  const multi = lay.index([
    { manifest: arm64.manifest, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { manifest: amd64.manifest, platform: { os: 'linux', architecture: 'amd64' } },
  ]);
  const armOnly = lay.index([{ manifest: arm64.manifest, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }]);
  const tamper = lay.image({ layers: [{ tar: tar([file('tamper.txt', 'x'.repeat(50_000) + 'original\n')]), compression: 'gzip' }] });
  // Its config names a diff id its layer does not have.
  const liarLayer = tar([file('liar.txt', 'not what the config says\n')]);
  const liar = lay.image({ layers: [{ tar: liarLayer, compression: 'gzip' }], diffIds: [sha(Buffer.concat([liarLayer, Buffer.from('x')]))] });
  // Incompressible, so a download can be cut in the middle.
  const big = lay.image({ layers: [{ tar: tar([{ path: 'random.bin', body: randomBytes(1_500_000), mode: 0o644 }]), compression: 'gzip' }] });
  const tags: Array<[string, { digest: string; mediaType: string; size: number }, string[]]> = [
    ['busybox', busybox.manifest, ['busybox:1', 'busybox:auto', 'private/busybox:1', 'public/busybox:1']],
    ['layered', layered.manifest, ['layered:1']],
    ['multi', { digest: multi.digest, mediaType: multi.mediaType, size: multi.size }, ['multi:1']],
    ['armonly', { digest: armOnly.digest, mediaType: armOnly.mediaType, size: armOnly.size }, ['armonly:1']],
    ['tamper', tamper.manifest, ['tamper:1']],
    ['liar', liar.manifest, ['liar:1']],
    ['big', big.manifest, ['big:1', 'big:2']],
  ];
  for (const [name, desc, dests] of tags) {
    lay.tag(name, { ...desc });
    for (const d of dests) await reg.push(layoutDir, name, d, { all: name === 'multi' || name === 'armonly' });
  }
  return { busybox, layered, amd64, arm64, multi: multi.digest, tamper, liar, big };
}

function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  const fd = fs.openSync('/dev/urandom', 'r');
  fs.readSync(fd, b, 0, n, null);
  fs.closeSync(fd);
  return b;
}

describe('pull from a registry', { skip }, () => {
  let reg: TestRegistry;
  let proxy: Proxy;
  let root: TestRoot;
  let work: string;
  let img: Images;
  let R: string; // the registry as berth sees it: the counting proxy

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pull-'));
    reg = await TestRegistry.start();
    img = await publish(reg, path.join(work, 'layout'));
    proxy = await Proxy.start(reg.port);
    R = proxy.host;
    root = new TestRoot();
  });
  after(async () => {
    await root?.cleanup();
    await proxy?.stop();
    await reg?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('pull by tag prints docker lines, records the repo digest, and the image runs', async () => {
    proxy.reset();
    const r = await root.run(['pull', `${R}/busybox:1`]);
    assert.equal(r.code, 0, r.stderr);
    const layer = img.busybox.layers[0].digest;
    assert.equal(
      r.stdout,
      [
        '1: Pulling from busybox',
        `${short(layer)}: Pulling fs layer`,
        `${short(layer)}: Download complete`,
        `${short(layer)}: Pull complete`,
        `Digest: ${img.busybox.manifest.digest}`,
        `Status: Downloaded newer image for ${R}/busybox:1`,
        `${R}/busybox:1`,
        '',
      ].join('\n'),
    );
    // Config and layer, once each.
    assert.deepEqual(proxy.blobGets().map((s) => s.url.split('/').pop()).sort(), [img.busybox.config.digest, layer].sort());
    const insp = JSON.parse((await root.run(['image', 'inspect', `${R}/busybox:1`])).stdout)[0];
    assert.equal(insp.Id, img.busybox.config.digest);
    assert.deepEqual(insp.RepoTags, [`${R}/busybox:1`]);
    assert.deepEqual(insp.RepoDigests, [`${R}/busybox@${img.busybox.manifest.digest}`]);
    assert.deepEqual(insp.RootFS.Layers, img.busybox.diffIds);
    // The manifest is kept byte for byte: its digest is the one the registry has.
    assert.ok(fs.existsSync(path.join(root.dir, 'content/blobs/sha256', hex(img.busybox.manifest.digest))));
    assert.ok(fs.existsSync(path.join(root.dir, 'content/blobs/sha256', hex(layer))));
    const run = await root.run(['run', '--rm', `${R}/busybox:1`, 'echo', 'hi']);
    assert.equal(run.stdout, 'hi\n', run.stderr);
    assert.equal(run.code, 0);
  });

  test('pulling again is up to date and fetches no blob', async () => {
    proxy.reset();
    const r = await root.run(['pull', `${R}/busybox:1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${short(img.busybox.layers[0].digest)}: Already exists\n`));
    assert.match(r.stdout, new RegExp(`Status: Image is up to date for ${R}/busybox:1\n`));
    assert.deepEqual(proxy.blobGets(), []);
    assert.equal((await root.run(['pull', '-q', `${R}/busybox:1`])).stdout, `${R}/busybox:1\n`);
  });

  test('pull by digest; the digest reference resolves; a wrong digest is refused', async () => {
    const byDigest = `${R}/busybox@${img.busybox.manifest.digest}`;
    const r = await root.run(['pull', byDigest]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${img.busybox.manifest.digest}: Pulling from busybox\n`));
    assert.match(r.stdout, new RegExp(`\n${byDigest}\n$`));
    const insp = await root.run(['image', 'inspect', '-f', '{{.Id}}', byDigest]);
    assert.equal(insp.stdout, `${img.busybox.config.digest}\n`, insp.stderr);
    // A digest the registry does not have under that name.
    const wrong = await root.run(['pull', `${R}/busybox@sha256:${'0'.repeat(64)}`]);
    assert.equal(wrong.code, 125);
    assert.match(wrong.stderr, /not found: manifest unknown/);
  });

  test('layers already here are not downloaded again; zstd and whiteouts apply', async () => {
    proxy.reset();
    const r = await root.run(['pull', `${R}/layered:1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${short(img.layered.layers[0].digest)}: Already exists\n`));
    assert.match(r.stdout, new RegExp(`${short(img.layered.layers[1].digest)}: Pull complete\n`));
    assert.deepEqual(proxy.blobGets().map((s) => s.url.split('/').pop()).sort(), [img.layered.config.digest, img.layered.layers[1].digest].sort());
    const run = await root.run(['run', '--rm', `${R}/layered:1`]);
    assert.equal(run.stdout, 'layer two\n', run.stderr);
    const wh = await root.run(['run', '--rm', `${R}/layered:1`, 'sh', '-c', 'test -e /etc/group && echo present || echo gone; test -e /etc/passwd && echo kept']);
    assert.equal(wh.stdout, 'gone\nkept\n', wh.stderr);
    assert.match((await root.run(['image', 'inspect', '-f', '{{.Size}}', `${R}/layered:1`])).stdout, /^[1-9]\d+\n$/);
  });

  test('an index gives the host platform, --platform another, and no match is an error', async () => {
    const r = await root.run(['pull', `${R}/multi:1`]);
    assert.equal(r.code, 0, r.stderr);
    // skopeo --all re-serialises the index it pushes: the registry's copy is the reference.
    img.multi = reg.tagDigest('multi', '1');
    assert.match(r.stdout, new RegExp(`Digest: ${img.multi}\n`));
    assert.equal((await root.run(['run', '--rm', `${R}/multi:1`, 'cat', '/arch'])).stdout, 'amd64\n');
    assert.equal((await root.run(['image', 'inspect', '-f', '{{.Id}}', `${R}/multi@${img.multi}`])).stdout, `${img.amd64.config.digest}\n`);

    const arm = await root.run(['pull', '--platform', 'linux/arm64', `${R}/multi:1`]);
    assert.equal(arm.code, 0, arm.stderr);
    const insp = JSON.parse((await root.run(['image', 'inspect', `${R}/multi:1`])).stdout)[0];
    assert.equal(insp.Id, img.arm64.config.digest);
    assert.equal(insp.Architecture, 'arm64');

    const before = fs.readdirSync(path.join(root.dir, 'layers')).sort();
    const none = await root.run(['pull', `${R}/armonly:1`]);
    assert.equal(none.code, 125);
    assert.match(none.stderr, /no matching manifest for linux\/amd64 in the manifest list entries/);
    const other = await root.run(['pull', '--platform', 'linux/s390x', `${R}/multi:1`]);
    assert.equal(other.code, 125);
    assert.match(other.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
    assert.deepEqual(fs.readdirSync(path.join(root.dir, 'layers')).sort(), before);
    assert.equal((await root.run(['image', 'inspect', `${R}/armonly:1`])).code, 1);
  });

  function assertNothingStored(t: TestRoot, image: BuiltImage): void {
    const blobs = path.join(t.dir, 'content/blobs/sha256');
    for (const d of [image.config.digest, image.manifest.digest, ...image.layers.map((l) => l.digest), ...image.diffIds])
      assert.ok(!fs.existsSync(path.join(blobs, hex(d))), `blob ${d} stored`);
    for (const d of image.diffIds) assert.ok(!fs.existsSync(path.join(t.dir, 'layers', `${hex(d)}.erofs`)), `layer ${d} stored`);
    assert.deepEqual(fs.existsSync(path.join(t.dir, 'content/ingest')) ? fs.readdirSync(path.join(t.dir, 'content/ingest')) : [], []);
    assert.deepEqual(fs.existsSync(path.join(t.dir, 'layers')) ? fs.readdirSync(path.join(t.dir, 'layers')).filter((n) => n.startsWith('.')) : [], []);
    assert.ok(!fs.existsSync(path.join(t.dir, 'images', `${hex(image.config.digest)}.json`)));
  }

  test('a tampered blob fails verification and stores nothing', async () => {
    const blob = reg.blobPath(img.tamper.layers[0].digest);
    const data = fs.readFileSync(blob);
    data[Math.floor(data.length / 2)] ^= 0xff;
    fs.writeFileSync(blob, data);
    const r = await root.run(['pull', `${R}/tamper:1`]);
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`filesystem layer verification failed for digest ${img.tamper.layers[0].digest}`));
    assertNothingStored(root, img.tamper);
    assert.equal((await root.run(['image', 'inspect', `${R}/tamper:1`])).code, 1);
  });

  test('a manifest whose bytes do not match the digest pulled by is refused', async () => {
    // The registry serves manifests from its blob files: an edited one keeps its old name.
    const file = reg.blobPath(img.liar.manifest.digest);
    const original = fs.readFileSync(file);
    fs.writeFileSync(file, Buffer.concat([original, Buffer.from(' ')]));
    try {
      const r = await root.run(['pull', `${R}/liar@${img.liar.manifest.digest}`]);
      assert.equal(r.code, 125);
      assert.match(r.stderr, new RegExp(`manifest verification failed for digest ${img.liar.manifest.digest}`));
      assertNothingStored(root, img.liar);
    } finally {
      fs.writeFileSync(file, original);
    }
  });

  test('a layer that does not match its diff id fails verification and stores nothing', async () => {
    const r = await root.run(['pull', `${R}/liar:1`]);
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`filesystem layer verification failed for digest ${img.liar.layers[0].digest}`));
    assertNothingStored(root, img.liar);
  });

  test('unknown repository or tag: not found, exit 125; unreachable registry names the host', async () => {
    const r = await root.run(['pull', `${R}/nope`]);
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`manifest for ${R}/nope:latest not found: manifest unknown`));
    const t = await root.run(['pull', `${R}/busybox:nope`]);
    assert.equal(t.code, 125);
    assert.match(t.stderr, new RegExp(`manifest for ${R}/busybox:nope not found: manifest unknown`));
    const port = await freePort();
    const down = await root.run(['pull', `127.0.0.1:${port}/busybox:1`]);
    assert.equal(down.code, 125);
    assert.match(down.stderr, new RegExp(`127\\.0\\.0\\.1:${port}.*connection refused`));
    assert.equal(down.stderr.trim().split('\n').length, 1, down.stderr);
  });

  test('a download cut short resumes with Range; a registry ignoring Range restarts it', async () => {
    const layer = img.big.layers[0].digest;
    proxy.reset();
    proxy.cut = { after: 300_000, times: 1 };
    const r = await root.run(['pull', `${R}/big:1`]);
    assert.equal(r.code, 0, r.stderr);
    const gets = proxy.blobGets().filter((s) => s.url.endsWith(layer));
    assert.equal(gets.length, 2, JSON.stringify(gets));
    assert.match(gets[1].range ?? '', /^bytes=\d+-$/);
    assert.equal(gets[1].status, 206);
    assert.ok(fs.existsSync(path.join(root.dir, 'layers', `${hex(img.big.diffIds[0])}.erofs`)));
    assert.equal((await root.run(['rmi', `${R}/big:1`])).code, 0);
    assert.ok(!fs.existsSync(path.join(root.dir, 'layers', `${hex(img.big.diffIds[0])}.erofs`)));
    assert.ok(!fs.existsSync(path.join(root.dir, 'content/blobs/sha256', hex(layer))), 'rmi removes the layer blob');

    proxy.reset();
    proxy.cut = { after: 300_000, times: 1 };
    proxy.ignoreRange = true;
    const again = await root.run(['pull', `${R}/big:2`]);
    assert.equal(again.code, 0, again.stderr);
    const gets2 = proxy.blobGets().filter((s) => s.url.endsWith(layer));
    assert.equal(gets2.length, 2);
    assert.equal(gets2[1].status, 200);
    assert.ok(fs.existsSync(path.join(root.dir, 'content/blobs/sha256', hex(layer))));
    assert.deepEqual(fs.readdirSync(path.join(root.dir, 'content/ingest')), []);
  });

  test('a pull killed mid-download is continued by the next one from where it stopped', async () => {
    const t = new TestRoot();
    try {
      const layer = img.big.layers[0];
      proxy.reset();
      proxy.stall = { after: 600_000, sent: 0 };
      const child = t.spawn(['pull', `${R}/big:1`]);
      const partial = () => {
        const dir = path.join(t.dir, 'content/ingest');
        const f = fs.existsSync(dir) ? fs.readdirSync(dir).find((n) => n.startsWith(hex(layer.digest)) && n.endsWith('.partial')) : undefined;
        return f ? fs.statSync(path.join(dir, f)).size : 0;
      };
      // The config is small and passes whole; the layer stops at 600 kB.
      const got = await t.until(partial, (n) => n >= 600_000, 20_000);
      assert.equal(got, 600_000);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      assert.ok(!fs.existsSync(path.join(t.dir, 'layers', `${hex(img.big.diffIds[0])}.erofs`)));
      proxy.reset();
      const r = await t.run(['pull', `${R}/big:1`]);
      assert.equal(r.code, 0, r.stderr);
      const gets = proxy.blobGets().filter((s) => s.url.endsWith(layer.digest));
      assert.equal(gets.length, 1, JSON.stringify(gets));
      assert.equal(gets[0].range, 'bytes=600000-');
      assert.equal(gets[0].status, 206);
      assert.ok(fs.existsSync(path.join(t.dir, 'layers', `${hex(img.big.diffIds[0])}.erofs`)));
      assert.deepEqual(fs.readdirSync(path.join(t.dir, 'content/ingest')), []);
      assert.deepEqual(fs.readdirSync(path.join(t.dir, 'layers')), [`${hex(img.big.diffIds[0])}.erofs`]);
    } finally {
      await t.cleanup();
    }
  });

  test('two pulls of one image in one process download each blob once', async () => {
    const t = new TestRoot();
    try {
      proxy.reset();
      const engine = new Engine(t.dir);
      const [a, b] = await Promise.all([engine.pull(`${R}/layered:1`), engine.pull(`${R}/layered:1`)]);
      assert.equal(a.image.id, b.image.id);
      for (const l of img.layered.layers) assert.equal(proxy.blobGets().filter((s) => s.url.endsWith(l.digest)).length, 1, l.digest);
      // And two processes at once: both succeed, the layer is downloaded once (the other
      // process waits for the first one's claim), one copy of it is kept.
      const t2 = new TestRoot();
      try {
        // What a killed pull or load leaves (dead pid): swept by the next pull.
        const dead = '4194303.1';
        fs.mkdirSync(path.join(t2.dir, 'content/ingest'), { recursive: true });
        fs.writeFileSync(path.join(t2.dir, 'content/ingest', `${dead}.abcd`), 'partial');
        fs.mkdirSync(path.join(t2.dir, 'layers', `.tmp-${dead}.abcd`), { recursive: true });
        fs.writeFileSync(path.join(t2.dir, 'layers', `.claim-${hex(img.busybox.diffIds[0])}`), dead.replace('.', ' '));
        fs.mkdirSync(path.join(t2.dir, 'tmp', `load-${dead}.abcd`), { recursive: true });
        proxy.reset();
        const [x, y] = await Promise.all([t2.run(['pull', `${R}/busybox:1`]), t2.run(['pull', `${R}/busybox:1`])]);
        assert.equal(x.code, 0, x.stderr);
        assert.equal(y.code, 0, y.stderr);
        assert.equal(proxy.blobGets().filter((s) => s.url.endsWith(img.busybox.layers[0].digest)).length, 1);
        assert.deepEqual(fs.readdirSync(path.join(t2.dir, 'layers')), [`${hex(img.busybox.diffIds[0])}.erofs`]);
        assert.deepEqual(fs.readdirSync(path.join(t2.dir, 'content/ingest')), []);
        assert.deepEqual(fs.readdirSync(path.join(t2.dir, 'tmp')), []);
      } finally {
        await t2.cleanup();
      }
    } finally {
      await t.cleanup();
    }
  });

  test('run pulls a missing image first (docker --pull missing)', async () => {
    const r = await root.run(['run', '--rm', `${R}/busybox:auto`, 'echo', 'hi']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    assert.match(r.stderr, new RegExp(`^Unable to find image '${R}/busybox:auto' locally\nauto: Pulling from busybox\n`));
    assert.match(r.stderr, new RegExp(`Status: (Downloaded newer image|Image is up to date) for ${R}/busybox:auto\n$`));
    const never = await root.run(['run', '--rm', '--pull', 'never', `${R}/layered:2`, 'true']);
    assert.equal(never.code, 125);
    assert.match(never.stderr, /No such image/);
    assert.deepEqual(root.leftovers(), []);
  });
});

describe('registries with authentication', { skip }, () => {
  const users = { alice: 'correct horse battery' };
  let basic: TestRegistry;
  let token: TestRegistry;
  let proxy: Proxy;
  let cdn: Cdn;
  let work: string;
  let root: TestRoot;
  let img: Images;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pull-auth-'));
    basic = await TestRegistry.start({ auth: 'basic', users });
    token = await TestRegistry.start({ auth: 'token', users, anonymous: ['public/busybox'] });
    img = await publish(basic, path.join(work, 'layout'));
    await publish(token, path.join(work, 'layout2'));
    proxy = await Proxy.start(basic.port);
    cdn = await Cdn.start(basic);
    root = new TestRoot();
  });
  after(async () => {
    await root?.cleanup();
    await cdn?.stop();
    await proxy?.stop();
    await basic?.stop();
    await token?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('basic auth: denied without login, wrong password refused, login keeps credentials 0600 and nowhere else', async () => {
    const R = proxy.host;
    const denied = await root.run(['pull', `${R}/busybox:1`]);
    assert.equal(denied.code, 125);
    assert.match(denied.stderr, new RegExp(`pull access denied for ${R}/busybox, repository does not exist or may require 'berth login'`));

    const wrong = await root.run(['login', '-u', 'alice', '--password-stdin', R], { input: 'wrong\n' });
    assert.equal(wrong.code, 125);
    assert.match(wrong.stderr, /login attempt to http:\/\/127\.0\.0\.1:\d+\/v2\/ failed with status: 401 Unauthorized/);
    assert.ok(!fs.existsSync(path.join(root.dir, 'auth.json')));

    const ok = await root.run(['login', '-u', 'alice', '--password-stdin', R], { input: users.alice + '\n' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'Login Succeeded\n');
    const st = fs.statSync(path.join(root.dir, 'auth.json'));
    assert.equal(st.mode & 0o777, 0o600);
    assert.ok(JSON.parse(fs.readFileSync(path.join(root.dir, 'auth.json'), 'utf8')).auths[R]);

    // Blobs redirect to another origin ("object storage"): it must not get our Authorization.
    proxy.reset();
    proxy.redirectTo = `http://127.0.0.1:${cdn.port}`;
    const r = await root.run(['pull', `${R}/busybox:1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Digest: ${img.busybox.manifest.digest}\n`));
    assert.ok(proxy.seen.some((s) => s.url.includes('/manifests/') && s.authorization?.startsWith('Basic ')));
    assert.equal(cdn.seen.length, 2);
    assert.deepEqual(cdn.seen.map((s) => s.authorization), [undefined, undefined]);
    assert.equal((await root.run(['run', '--rm', `${R}/busybox:1`, 'echo', 'hi'])).stdout, 'hi\n');

    const secret = Buffer.from(`alice:${users.alice}`).toString('base64');
    assert.deepEqual(filesContaining(root.dir, secret), [path.join(root.dir, 'auth.json')]);
    assert.deepEqual(filesContaining(root.dir, users.alice), []);

    const out = await root.run(['logout', R]);
    assert.equal(out.stdout, `Removing login credentials for ${R}\n`);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(root.dir, 'auth.json'), 'utf8')).auths, {});
    assert.equal((await root.run(['logout', R])).stdout, `Not logged in to ${R}\n`);
    proxy.reset();
    const after = await root.run(['pull', `${R}/layered:1`]);
    assert.equal(after.code, 125);
    assert.match(after.stderr, /pull access denied/);
  });

  test('token auth: anonymous pull where allowed, login through the realm, then private pull', async () => {
    const R = token.host;
    const pub = await root.run(['pull', `${R}/public/busybox:1`]);
    assert.equal(pub.code, 0, pub.stderr);
    const denied = await root.run(['pull', `${R}/private/busybox:1`]);
    assert.equal(denied.code, 125);
    assert.match(denied.stderr, /pull access denied for 127\.0\.0\.1:\d+\/private\/busybox/);

    const wrong = await root.run(['login', '-u', 'alice', '--password-stdin', R], { input: 'nope' });
    assert.equal(wrong.code, 125);
    assert.match(wrong.stderr, /unauthorized: incorrect username or password/);

    token.tokens!.requests.length = 0;
    const ok = await root.run(['login', '-u', 'alice', '--password-stdin', R], { input: users.alice });
    assert.equal(ok.code, 0, ok.stderr);
    const r = await root.run(['pull', `${R}/private/busybox:1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Status: (Downloaded newer image|Image is up to date) for 127\.0\.0\.1:\d+\/private\/busybox:1\n/);
    // The realm got the credentials (as with docker) and was asked for exactly the pull scope.
    const basicAuth = 'Basic ' + Buffer.from(`alice:${users.alice}`).toString('base64');
    assert.ok(token.tokens!.requests.every((q) => q.authorization === basicAuth));
    assert.ok(token.tokens!.requests.some((q) => q.query.includes(encodeURIComponent('repository:private/busybox:pull'))));
    assert.equal((await root.run(['run', '--rm', `${R}/private/busybox:1`, 'echo', 'ok'])).stdout, 'ok\n');
    assert.equal(fs.statSync(path.join(root.dir, 'auth.json')).mode & 0o777, 0o600);
    assert.deepEqual(root.leftovers(), []);
  });
});
