// The CRI's ImageService (issue 19) against real registries on 127.0.0.1: pulls by tag, digest
// and without a tag, the image's user, status by every reference, lists, removal, the store the
// Docker API and the CLI share, credentials of every kind the kubelet passes, and failures that
// end in a clear gRPC status.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { busyboxTar, isRoot, TestRoot } from '../helpers/berth.ts';
import { CriDaemon, hasCrictl, type CallError, type CriClient } from '../helpers/cri.ts';
import { OciLayout, type BuiltImage } from '../helpers/oci.ts';
import { freePort, hasRegistryTools, TestRegistry } from '../helpers/registry.ts';

const skip = !isRoot ? 'needs root' : !hasRegistryTools ? 'needs docker-registry, skopeo, htpasswd and openssl' : false;
const users = { alice: 's3cret' };

describe('CRI ImageService', { skip }, () => {
  let root: TestRoot;
  let d: CriDaemon;
  let c: CriClient;
  let reg: TestRegistry;
  let basic: TestRegistry;
  let token: TestRegistry;
  let layout: string;
  const img: Record<string, BuiltImage> = {};
  let r: string; // the plain registry's host

  before(async () => {
    root = new TestRoot();
    layout = path.join(root.dir, 'layout');
    const lay = new OciLayout(layout);
    const bb = { tar: fs.readFileSync(busyboxTar()), compression: 'gzip' as const };
    img.busybox = lay.image({ layers: [bb] });
    img.uid = lay.image({ layers: [bb], user: '1002' });
    img.username = lay.image({ layers: [bb], user: 'www-data' });
    img.uidGroup = lay.image({ layers: [bb], user: '1003:1003' });
    img.usernameGroup = lay.image({ layers: [bb], user: 'www-data:www-data' });
    for (const [name, b] of Object.entries(img)) lay.tag(name, b.manifest);
    [reg, basic, token] = await Promise.all([TestRegistry.start(), TestRegistry.start({ auth: 'basic', users }), TestRegistry.start({ auth: 'token', users })]);
    r = reg.host;
    for (const [name, dests] of Object.entries({ busybox: ['busybox:1', 'busybox:latest', 'busybox:2', 'other/busybox:1'], uid: ['user:uid'], username: ['user:name'], uidGroup: ['user:uid-group'], usernameGroup: ['user:name-group'] }))
      for (const dst of dests) await reg.push(layout, name, dst);
    await basic.push(layout, 'busybox', 'private/busybox:1');
    await token.push(layout, 'busybox', 'private/busybox:1');
    d = new CriDaemon(root);
    await d.start();
    c = d.client();
  });
  after(async () => {
    await d?.stop();
    await Promise.all([reg?.stop(), basic?.stop(), token?.stop()]);
    await root?.cleanup();
  });

  const status = async (image: string) => (await c.call('ImageStatus', { image: { image } })).image;
  const rm = (image: string) => c.call('RemoveImage', { image: { image } });
  const isCode = (code: grpc.status, re: RegExp) => (e: CallError) => {
    assert.equal(grpc.status[e.code], grpc.status[code], e.details);
    assert.match(e.details, re);
    return true;
  };

  test('a pull by tag answers the image id (its config digest); status is the same by tag, id and digest', async () => {
    const { image_ref } = await c.call('PullImage', { image: { image: `${r}/busybox:1` } });
    assert.equal(image_ref, img.busybox.config.digest);
    const s = await status(`${r}/busybox:1`);
    assert.ok(s);
    assert.equal(s.id, img.busybox.config.digest);
    assert.deepEqual(s.repo_tags, [`${r}/busybox:1`]);
    assert.deepEqual(s.repo_digests, [`${r}/busybox@${img.busybox.manifest.digest}`]);
    assert.ok(Number(s.size) > 1_000_000, `size ${s.size}`); // busybox, uncompressed
    assert.equal(s.uid, null);
    assert.equal(s.username, '');
    assert.equal(s.pinned, false);
    assert.equal(s.spec, null); // as containerd 1.6
    for (const ref of [s.id, s.id.slice(7), s.id.slice(7, 19), s.repo_digests[0], s.repo_tags[0]]) assert.deepEqual(await status(ref), s, ref);
  });

  test('a second tag of the same image joins its repo_tags; removal by one name takes every name', async () => {
    await c.call('PullImage', { image: { image: `${r}/busybox:2` } });
    await c.call('PullImage', { image: { image: `${r}/other/busybox:1` } });
    const s = await status(`${r}/busybox:2`);
    assert.deepEqual(s!.repo_tags, [`${r}/busybox:1`, `${r}/busybox:2`, `${r}/other/busybox:1`]);
    assert.deepEqual(s!.repo_digests, [`${r}/busybox@${img.busybox.manifest.digest}`, `${r}/other/busybox@${img.busybox.manifest.digest}`]);
    const listed = (await c.call('ListImages', {})).images.filter((i) => i.id === s!.id);
    assert.equal(listed.length, 1);
    assert.deepEqual(listed[0], s);
    await rm(`${r}/busybox:2`);
    for (const ref of [`${r}/busybox:1`, `${r}/busybox:2`, `${r}/other/busybox:1`, s!.id]) assert.equal(await status(ref), null, ref);
    // Removing what is not there succeeds (the kubelet retries removals).
    await rm(`${r}/busybox:2`);
    await rm(s!.id);
    await rm('never-pulled:1');
  });

  test('a pull without a tag is :latest', async () => {
    await c.call('PullImage', { image: { image: `${r}/busybox` } });
    assert.deepEqual((await status(`${r}/busybox`))!.repo_tags, [`${r}/busybox:latest`]);
    assert.deepEqual((await status(`${r}/busybox:latest`))!.repo_tags, [`${r}/busybox:latest`]);
    await rm(`${r}/busybox`);
    assert.equal(await status(`${r}/busybox:latest`), null);
  });

  test('a pull by digest has no tag, only that digest', async () => {
    const ref = `${r}/busybox@${img.busybox.manifest.digest}`;
    const { image_ref } = await c.call('PullImage', { image: { image: ref } });
    const s = await status(ref);
    assert.equal(s!.id, image_ref);
    assert.deepEqual(s!.repo_tags, []);
    assert.deepEqual(s!.repo_digests, [ref]);
    await rm(image_ref);
    assert.equal(await status(ref), null);
  });

  test("the image's user: a number is uid, a name is username, a group is left out", async () => {
    const cases: Array<[string, number | null, string]> = [['uid', 1002, ''], ['name', null, 'www-data'], ['uid-group', 1003, ''], ['name-group', null, 'www-data']];
    for (const [tag, uid, username] of cases) {
      const name = `${r}/user:${tag}`;
      await c.call('PullImage', { image: { image: name } });
      const s = await status(name);
      assert.deepEqual(s!.uid, uid === null ? null : { value: String(uid) }, tag);
      assert.equal(s!.username, username, tag);
      await rm(name);
    }
  });

  test('ListImages filters by image reference; verbose status carries the OCI configuration', async () => {
    await c.call('PullImage', { image: { image: `${r}/busybox:1` } });
    await c.call('PullImage', { image: { image: `${r}/user:uid` } });
    const all = (await c.call('ListImages', {})).images.map((i) => i.id);
    assert.ok(all.includes(img.busybox.config.digest) && all.includes(img.uid.config.digest));
    const one = (await c.call('ListImages', { filter: { image: { image: `${r}/user:uid` } } })).images;
    assert.deepEqual(one.map((i) => i.id), [img.uid.config.digest]);
    assert.deepEqual((await c.call('ListImages', { filter: { image: { image: `${r}/nothing:1` } } })).images, []);
    const v = await c.call('ImageStatus', { image: { image: `${r}/user:uid` }, verbose: true });
    const info = JSON.parse(v.info.info);
    assert.equal(info.imageSpec.config.User, '1002');
    assert.equal(info.manifestDigest, img.uid.manifest.digest);
    assert.equal(info.chainID, img.uid.diffIds[0]); // one layer: its diff id
    assert.deepEqual((await c.call('ImageStatus', { image: { image: `${r}/user:uid` } })).info, {});
    // StreamImages (the kubelet's paged list) is served from ListImages: the same images, and the stream ends.
    const streamed = [];
    for await (const m of c.stream('StreamImages', {})) streamed.push(...m.images);
    assert.deepEqual(streamed.map((i) => i.id).sort(), [...all].sort());
    const filtered = [];
    for await (const m of c.stream('StreamImages', { filter: { image: { image: `${r}/user:uid` } } })) filtered.push(...m.images);
    assert.deepEqual(filtered.map((i) => i.id), [img.uid.config.digest]);
    await rm(`${r}/user:uid`);
  });

  test('one image store: a CRI pull shows in `berth images` and the Docker API; an image berth imported is in ListImages', async () => {
    const ls = await d.berth(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, new RegExp(`^${r}/busybox:1 ${img.busybox.config.digest.slice(7, 19)}$`, 'm'));
    const api = JSON.parse((await d.request('GET', `/images/${encodeURIComponent(`${r}/busybox:1`)}/json`)).body);
    assert.equal(api.Id, img.busybox.config.digest);
    await root.importBusybox('docker.io/library/imported:7');
    const s = await status('imported:7');
    assert.deepEqual(s!.repo_tags, ['docker.io/library/imported:7']);
    assert.deepEqual(s!.repo_digests, []);
    assert.ok((await c.call('ListImages', {})).images.some((i) => i.id === s!.id));
    // and a CRI removal is seen by berth
    await rm('imported:7');
    assert.doesNotMatch((await d.berth(['images'])).stdout, /imported/);
  });

  test('an unknown image is NOT_FOUND, an unreachable registry UNAVAILABLE, a bad reference INVALID_ARGUMENT', async () => {
    await assert.rejects(c.call('PullImage', { image: { image: `${r}/no-such-image:1` } }), isCode(grpc.status.NOT_FOUND, new RegExp(`failed to pull and unpack image "${r}/no-such-image:1".*(not found|unknown)`, 'i')));
    await assert.rejects(c.call('PullImage', { image: { image: `${r}/busybox:no-such-tag` } }), isCode(grpc.status.NOT_FOUND, /no-such-tag/));
    const dead = `127.0.0.1:${await freePort()}`;
    await assert.rejects(c.call('PullImage', { image: { image: `${dead}/busybox:1` } }), isCode(grpc.status.UNAVAILABLE, /connection refused|ECONNREFUSED/i));
    await assert.rejects(c.call('PullImage', { image: { image: `${r}/Busybox:1` } }), isCode(grpc.status.INVALID_ARGUMENT, /must be lowercase/));
    await assert.rejects(c.call('PullImage', { image: { image: '' } }), isCode(grpc.status.INVALID_ARGUMENT, /no image specified/));
    await assert.rejects(c.call('ImageStatus', { image: { image: '' } }), isCode(grpc.status.INVALID_ARGUMENT, /no image specified/));
    assert.equal(await status('no-such-image:1'), null);
  });

  test('basic auth: username/password and the auth field pull; none or wrong ones are refused clearly', async () => {
    const name = `${basic.host}/private/busybox:1`;
    await assert.rejects(c.call('PullImage', { image: { image: name } }), isCode(grpc.status.PERMISSION_DENIED, /unauthorized|authentication required/i));
    await assert.rejects(c.call('PullImage', { image: { image: name }, auth: { username: 'alice', password: 'wrong' } }), isCode(grpc.status.PERMISSION_DENIED, /unauthorized|authentication required/i));
    assert.equal((await c.call('PullImage', { image: { image: name }, auth: { username: 'alice', password: 's3cret' } })).image_ref, img.busybox.config.digest);
    await rm(name);
    const auth = Buffer.from('alice:s3cret').toString('base64');
    assert.equal((await c.call('PullImage', { image: { image: name }, auth: { auth, server_address: basic.host } })).image_ref, img.busybox.config.digest);
    await rm(name);
    await assert.rejects(c.call('PullImage', { image: { image: name }, auth: { auth: Buffer.from('no-colon').toString('base64') } }), isCode(grpc.status.INVALID_ARGUMENT, /AuthConfig.auth/));
    // Credentials were for that pull only: nothing was kept.
    assert.equal(fs.existsSync(path.join(root.dir, 'auth.json')), false);
  });

  test('token auth: credentials, a registry token and an identity (refresh) token each pull', async () => {
    const name = `${token.host}/private/busybox:1`;
    await assert.rejects(c.call('PullImage', { image: { image: name } }), isCode(grpc.status.PERMISSION_DENIED, /denied|unauthorized|authentication required/i));
    assert.equal((await c.call('PullImage', { image: { image: name }, auth: { username: 'alice', password: 's3cret' } })).image_ref, img.busybox.config.digest);
    await rm(name);
    // A bearer token fetched beforehand, as a kubelet credential provider may hand one over.
    const bearer = await new Promise<string>((resolve, reject) => {
      const u = `http://127.0.0.1:${token.tokens!.port}/token?service=berth-test-registry&scope=repository:private/busybox:pull`;
      http.get(u, { headers: { authorization: 'Basic ' + Buffer.from('alice:s3cret').toString('base64') } }, (res) => {
        let b = '';
        res.on('data', (x) => (b += x));
        res.on('end', () => resolve(JSON.parse(b).token));
      }).on('error', reject);
    });
    assert.equal((await c.call('PullImage', { image: { image: name }, auth: { registry_token: bearer } })).image_ref, img.busybox.config.digest);
    await rm(name);
    await assert.rejects(c.call('PullImage', { image: { image: name }, auth: { registry_token: 'not-a-token' } }), isCode(grpc.status.PERMISSION_DENIED, /.+/));
    token.tokens!.refreshTokens['refresh-alice'] = 'alice';
    assert.equal((await c.call('PullImage', { image: { image: name }, auth: { identity_token: 'refresh-alice' } })).image_ref, img.busybox.config.digest);
    assert.ok(token.tokens!.requests.some((q) => q.query.startsWith('POST ') && q.query.includes('grant_type=refresh_token')));
    await rm(name);
    await assert.rejects(c.call('PullImage', { image: { image: name }, auth: { identity_token: 'stolen' } }), isCode(grpc.status.PERMISSION_DENIED, /invalid refresh token|unauthorized/i));
  });

  test('ImageFsInfo: the layer store, with the bytes and inodes it uses, now', async () => {
    await c.call('PullImage', { image: { image: `${r}/busybox:1` } });
    const before = Date.now();
    const { image_filesystems: [fsu] } = await c.call('ImageFsInfo', {});
    assert.equal(fsu.fs_id!.mountpoint, path.join(root.dir, 'layers'));
    assert.ok(Number(fsu.used_bytes!.value) > 1_000_000, `used ${fsu.used_bytes!.value}`);
    assert.ok(Number(fsu.inodes_used!.value) > 2, `inodes ${fsu.inodes_used!.value}`);
    assert.ok(Math.abs(Number(BigInt(fsu.timestamp) / 1_000_000n) - before) < 10_000);
  });

  test('crictl pull, images, inspecti, rmi', { skip: hasCrictl ? false : 'crictl not found (BERTH_CRICTL)' }, async () => {
    const name = `${r}/user:name`;
    let x = await d.crictl(['pull', name]);
    assert.equal(x.code, 0, x.stderr);
    assert.match(x.stdout, new RegExp(`Image is up to date for ${img.username.config.digest}`));
    x = await d.crictl(['images', '--digests']);
    assert.equal(x.code, 0, x.stderr);
    assert.match(x.stdout, new RegExp(`${r}/user\\s+name\\s+${img.username.manifest.digest.slice(7, 20)}`));
    x = await d.crictl(['inspecti', '-o', 'json', name]);
    assert.equal(x.code, 0, x.stderr);
    assert.equal(JSON.parse(x.stdout).status.username, 'www-data');
    x = await d.crictl(['rmi', name]);
    assert.equal(x.code, 0, x.stderr);
    x = await d.crictl(['inspecti', name]);
    assert.notEqual(x.code, 0);
    assert.match(x.stderr, /no such image/i);
  });
});
