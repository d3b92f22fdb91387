// `berth save` and `berth load`: round trips into a fresh root, archives read and written by
// skopeo and umoci (independent implementations), and hostile archives that must leave nothing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';
import { OciLayout, sha } from '../helpers/oci.ts';
import { tar, type TEntry } from '../helpers/tarwriter.ts';

const tools = ['/usr/bin/skopeo', '/usr/bin/umoci'].every((p) => fs.existsSync(p));
const skip = !isRoot ? 'needs root' : !tools ? 'needs skopeo and umoci (./setup.sh installs them)' : false;

const skopeo = (...args: string[]) => execFileSync('/usr/bin/skopeo', ['--insecure-policy', ...args], { stdio: 'pipe' }).toString();
const umoci = (...args: string[]) => execFileSync('/usr/bin/umoci', args, { stdio: 'pipe' }).toString();
const file = (p: string, body: string | Buffer): TEntry => ({ path: p, body, mode: 0o644 });

describe('save and load', { skip }, () => {
  let root: TestRoot;
  let work: string;
  before(async () => {
    root = await TestRoot.withBusybox();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-archive-'));
  });
  after(async () => {
    await root?.cleanup();
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** A fresh root that is removed after `fn`. */
  async function fresh<T>(fn: (t: TestRoot) => Promise<T>): Promise<T> {
    const t = new TestRoot();
    try {
      return await fn(t);
    } finally {
      await t.cleanup();
    }
  }

  test('save two images (one committed on the other) -> load into a fresh root -> run; both formats in one tar', async () => {
    const c = await root.run(['run', '--name', 'sv', 'busybox', 'sh', '-c', 'echo saved > /saved.txt']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal((await root.run(['commit', '-c', 'CMD ["cat", "/saved.txt"]', 'sv', 'mine/saved:2'])).code, 0);
    assert.equal((await root.run(['rm', 'sv'])).code, 0);
    const out = path.join(work, 'two.tar');
    const s = await root.run(['save', '-o', out, 'busybox', 'mine/saved:2']);
    assert.equal(s.code, 0, s.stderr);
    const names = execFileSync('tar', ['tf', out]).toString().split('\n').filter(Boolean);
    for (const n of ['manifest.json', 'index.json', 'oci-layout', 'repositories']) assert.ok(names.includes(n), n);
    const manifest = JSON.parse(execFileSync('tar', ['xOf', out, 'manifest.json']).toString());
    assert.deepEqual(manifest.map((m: { RepoTags: string[] }) => m.RepoTags), [['busybox:latest'], ['mine/saved:2']]);
    // Shared base layer stored once.
    assert.equal(names.filter((n) => n.startsWith('blobs/sha256/') && n.length > 20).length, 2 + 2 + 2);

    await fresh(async (t) => {
      const l = await t.run(['load', '-i', out]);
      assert.equal(l.code, 0, l.stderr);
      assert.equal(l.stdout, 'Loaded image: busybox:latest\nLoaded image: mine/saved:2\n');
      assert.equal((await t.run(['run', '--rm', 'mine/saved:2'])).stdout, 'saved\n');
      assert.equal((await t.run(['run', '--rm', 'busybox', 'echo', 'ok'])).stdout, 'ok\n');
      const a = JSON.parse((await root.run(['image', 'inspect', 'mine/saved:2'])).stdout)[0];
      const b = JSON.parse((await t.run(['image', 'inspect', 'mine/saved:2'])).stdout)[0];
      assert.equal(b.Id, a.Id); // same config bytes: same image
      assert.deepEqual(fs.readdirSync(path.join(t.dir, 'tmp')), []);
    });
    // Stdout and stdin, gzip-compressed in between.
    const piped = execFileSync('sh', ['-c', `"$0" save mine/saved:2 | gzip -c`, path.join(process.cwd(), 'bin/berth')], { env: root.env(), maxBuffer: 1 << 28 });
    assert.equal(zlib.gunzipSync(piped).subarray(0, 512).toString('latin1').startsWith('blobs/'), true);
    await fresh(async (t) => {
      const l = await t.run(['load'], { input: piped });
      assert.equal(l.code, 0, l.stderr);
      assert.equal((await t.run(['run', '--rm', 'mine/saved:2'])).stdout, 'saved\n');
    });
  });

  test('skopeo reads what berth saves (both formats), and berth loads and runs what skopeo writes', async () => {
    const out = path.join(work, 'bb.tar');
    assert.equal((await root.run(['save', '-o', out, 'busybox:latest'])).code, 0);
    const asDocker = JSON.parse(skopeo('inspect', `docker-archive:${out}`));
    const asOci = JSON.parse(skopeo('inspect', `oci-archive:${out}`));
    const [diffId] = JSON.parse((await root.run(['image', 'inspect', 'busybox'])).stdout)[0].RootFS.Layers;
    assert.equal(asDocker.Layers.length, 1);
    assert.equal(asOci.Layers[0], diffId); // uncompressed layer: its digest is the diff id

    const dir = path.join(work, 'oci');
    skopeo('copy', '--quiet', `docker-archive:${out}`, `oci:${dir}:base`);
    const ociTar = path.join(work, 'from-skopeo-oci.tar');
    skopeo('copy', '--quiet', `oci:${dir}:base`, `oci-archive:${ociTar}:sk/oci:1`);
    const dockerTar = path.join(work, 'from-skopeo-docker.tar');
    skopeo('copy', '--quiet', `oci:${dir}:base`, `docker-archive:${dockerTar}:sk/docker:1`);
    await fresh(async (t) => {
      const a = await t.run(['load', '-i', ociTar]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(a.stdout, 'Loaded image: sk/oci:1\n');
      const b = await t.run(['load', '-i', dockerTar]);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(b.stdout, 'Loaded image: sk/docker:1\n');
      assert.equal((await t.run(['run', '--rm', 'sk/oci:1', 'echo', 'oci'])).stdout, 'oci\n');
      assert.equal((await t.run(['run', '--rm', 'sk/docker:1', 'echo', 'docker'])).stdout, 'docker\n');
      // One layer on disk for both: the gzip blob skopeo made and the plain one unpack to the same diff id.
      assert.deepEqual(fs.readdirSync(path.join(t.dir, 'layers')), [`${diffId.slice(7)}.erofs`]);
    });
  });

  test('an OCI layout umoci modified (new layer, new config) loads and runs', async () => {
    const dir = path.join(work, 'umoci');
    const out = path.join(work, 'u.tar');
    assert.equal((await root.run(['save', '-o', out, 'busybox'])).code, 0);
    skopeo('copy', '--quiet', `docker-archive:${out}`, `oci:${dir}:base`);
    const bundle = path.join(work, 'bundle');
    umoci('unpack', '--image', `${dir}:base`, bundle);
    fs.writeFileSync(path.join(bundle, 'rootfs/umoci.txt'), 'made by umoci\n');
    fs.rmSync(path.join(bundle, 'rootfs/etc/group'));
    umoci('repack', '--image', `${dir}:new`, bundle);
    umoci('config', '--image', `${dir}:new`, '--config.cmd', 'sh', '--config.cmd', '-c', '--config.cmd', 'cat /umoci.txt; test -e /etc/group || echo no group');
    const layoutTar = path.join(work, 'umoci.tar');
    execFileSync('tar', ['-C', dir, '-cf', layoutTar, '.']);
    await fresh(async (t) => {
      const l = await t.run(['load', '-i', layoutTar]);
      assert.equal(l.code, 0, l.stderr);
      // index.json names "base" and "new": bare tags, so the images are loaded by id.
      const ids = [...l.stdout.matchAll(/^Loaded image ID: (sha256:[a-f0-9]{64})$/gm)].map((m) => m[1]);
      assert.equal(ids.length, 2, l.stdout);
      const runs = await Promise.all(ids.map((id) => t.run(['run', '--rm', id])));
      assert.ok(runs.some((r) => r.stdout === 'made by umoci\nno group\n'), JSON.stringify(runs));
    });
  });

  // ---- hostile archives

  function docker(entries: TEntry[], manifest: unknown): Buffer {
    return tar([...entries, file('manifest.json', JSON.stringify(manifest))]);
  }

  const layerTar = tar([file('hello.txt', 'hi\n')]);
  const config = (diffIds: string[]) => JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: diffIds } });

  async function refused(t: TestRoot, archive: Buffer, message: RegExp): Promise<void> {
    const blobsBefore = fs.existsSync(path.join(t.dir, 'content/blobs/sha256')) ? fs.readdirSync(path.join(t.dir, 'content/blobs/sha256')).sort() : [];
    const layersBefore = fs.existsSync(path.join(t.dir, 'layers')) ? fs.readdirSync(path.join(t.dir, 'layers')).sort() : [];
    const r = await t.run(['load'], { input: archive });
    assert.equal(r.code, 125, r.stdout);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.deepEqual(fs.existsSync(path.join(t.dir, 'content/blobs/sha256')) ? fs.readdirSync(path.join(t.dir, 'content/blobs/sha256')).sort() : [], blobsBefore);
    assert.deepEqual(fs.existsSync(path.join(t.dir, 'layers')) ? fs.readdirSync(path.join(t.dir, 'layers')).sort() : [], layersBefore);
    assert.deepEqual(fs.existsSync(path.join(t.dir, 'tmp')) ? fs.readdirSync(path.join(t.dir, 'tmp')) : [], []);
    assert.deepEqual(fs.existsSync(path.join(t.dir, 'content/ingest')) ? fs.readdirSync(path.join(t.dir, 'content/ingest')) : [], []);
    assert.equal((await t.run(['images', '-q'])).stdout, '');
  }

  test('hostile docker archives: escaping paths and links, lying diff ids, a bad second image, truncation', async () => {
    const cfg = config([sha(layerTar)]);
    const good = { Config: 'c.json', RepoTags: ['ok:1'], Layers: ['l/layer.tar'] };
    await fresh(async (t) => {
      await refused(t, docker([file('c.json', cfg), file('l/layer.tar', layerTar)], [{ ...good, Config: '../../../etc/passwd' }]), /leaves the archive/);
      await refused(t, docker([file('c.json', cfg), file('l/layer.tar', layerTar)], [{ ...good, Layers: ['/etc/passwd'] }]), /absolute path/);
      await refused(t, docker([file('c.json', cfg), { path: 'l/layer.tar', type: '2', linkname: '../../../../etc/passwd' }], [good]), /leaves the archive/);
      await refused(t, docker([file('c.json', cfg), { path: 'a', type: '2', linkname: 'b' }, { path: 'b', type: '2', linkname: 'a' }], [{ ...good, Layers: ['a'] }]), /too many levels of links/);
      await refused(t, docker([file('c.json', cfg)], [good]), /"l\/layer.tar" is not in the archive/);
      await refused(t, docker([file('c.json', config([sha('other')])), file('l/layer.tar', layerTar)], [good]), /does not match its diff id/);
      // The first image is fine; the second one's layer escapes: nothing of either remains.
      const evil = tar([{ path: '../../escaped.txt', body: 'x', mode: 0o644 }]);
      const two = docker(
        [file('c.json', cfg), file('l/layer.tar', layerTar), file('c2.json', config([sha(evil)])), file('e/layer.tar', evil)],
        [good, { Config: 'c2.json', RepoTags: ['evil:1'], Layers: ['e/layer.tar'] }],
      );
      await refused(t, two, /escapes the layer/);
      assert.ok(!fs.existsSync(path.join(t.dir, '..', 'escaped.txt')));
      const whole = docker([file('c.json', cfg), file('l/layer.tar', layerTar)], [good]);
      await refused(t, whole.subarray(0, 700), /invalid tar|unexpected end|truncated/i);
      await refused(t, tar([file('readme', 'x')]), /neither manifest.json/);
      // And the intact archive loads: the checks above were not refusing everything.
      const ok = await t.run(['load'], { input: whole });
      assert.equal(ok.stdout, 'Loaded image: ok:1\n', ok.stderr);
    });
  });

  test('hostile OCI layouts: a blob that is not its digest, an ambiguous manifest, a size that lies', async () => {
    const layoutTar = (mutate?: (dir: string, img: ReturnType<OciLayout['image']>) => void) => {
      const dir = fs.mkdtempSync(path.join(work, 'lay-'));
      const lay = new OciLayout(dir);
      const img = lay.image({ layers: [{ tar: layerTar, compression: 'gzip' }] });
      lay.tag('x/y:1', img.manifest);
      mutate?.(dir, img);
      return execFileSync('tar', ['-C', dir, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
    };
    const blobFile = (dir: string, d: string) => path.join(dir, 'blobs/sha256', d.slice(7));
    await fresh(async (t) => {
      await refused(t, layoutTar((dir, img) => fs.appendFileSync(blobFile(dir, img.config.digest), ' ')), /does not match its digest/);
      await refused(
        t,
        layoutTar((dir, img) => {
          // Same name, different bytes: the layer blob is swapped for another valid gzip tar.
          fs.writeFileSync(blobFile(dir, img.layers[0].digest), zlib.gzipSync(tar([file('other.txt', 'swapped')])).subarray(0, img.layers[0].size));
        }),
        /does not match its (digest|diff id)|corrupt gzip/,
      );
      await refused(
        t,
        layoutTar((dir, img) => {
          const m = JSON.parse(fs.readFileSync(blobFile(dir, img.manifest.digest), 'utf8'));
          const ambiguous = Buffer.from(JSON.stringify({ ...m, mediaType: undefined, manifests: [] }));
          fs.writeFileSync(path.join(dir, 'blobs/sha256', sha(ambiguous).slice(7)), ambiguous);
          fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(ambiguous), size: ambiguous.length }] }));
        }),
        /ambiguous/,
      );
      await refused(
        t,
        layoutTar((dir, img) => {
          const m = JSON.parse(fs.readFileSync(blobFile(dir, img.manifest.digest), 'utf8'));
          m.layers[0].size += 1;
          const b = Buffer.from(JSON.stringify(m));
          fs.writeFileSync(path.join(dir, 'blobs/sha256', sha(b).slice(7)), b);
          fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: m.mediaType, digest: sha(b), size: b.length }] }));
        }),
        /descriptor says/,
      );
      const ok = await t.run(['load'], { input: layoutTar() });
      assert.equal(ok.stdout, 'Loaded image: x/y:1\n', ok.stderr);
      assert.deepEqual(JSON.parse((await t.run(['image', 'inspect', 'x/y:1'])).stdout)[0].RootFS.Layers, [sha(layerTar)]);
    });
  });
});
