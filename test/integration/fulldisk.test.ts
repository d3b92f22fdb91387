// A full disk under the state root (a small tmpfs mounted on a test root; the layer store is in
// it too): import, docker load, pull and commit that do not fit, and a write into a volume, each
// end in a clear "no space left on device" from the CLI and through the daemon (dockerd's 500
// with the message), never a stack trace or a host path; nothing half-written is left in the
// store, which stays readable; and once space is freed, the same command succeeds.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestRoot } from '../helpers/berth.ts';
import { skip, TestDaemon } from '../helpers/daemon.ts';
import { OciLayout } from '../helpers/oci.ts';
import { hasRegistryTools, TestRegistry } from '../helpers/registry.ts';

const MB = 1 << 20;

describe('a full disk under the state root', { skip }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  let scratch: string;
  let bigTar: string;
  before(async () => {
    root = new TestRoot();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=96m,mode=0700', 'berth-test', root.dir]);
    await root.importBusybox();
    // A 16 MB layer that does not compress, outside the tmpfs.
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-full-'));
    fs.mkdirSync(path.join(scratch, 'rootfs'));
    fs.writeFileSync(path.join(scratch, 'rootfs', 'blob'), crypto.randomBytes(16 * MB));
    bigTar = path.join(scratch, 'big.tar');
    execFileSync('tar', ['-C', path.join(scratch, 'rootfs'), '-cf', bigTar, '.']);
    d = new TestDaemon(root);
    await d.start();
  });
  after(async () => {
    await d?.stop();
    await root.run(['rm', '-f', 'writer', 'vol-writer']);
    await root.unmountLayers();
    execFileSync('umount', [root.dir]);
    fs.rmSync(root.dir, { recursive: true, force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  /**
   * Fills the tmpfs until `leaveMB` are left (with a file of ours beside the store, another with
   * `fill` again), runs `fn`, and frees the space again whatever happened.
   */
  async function full(leaveMB: number, fn: (fill: (leaveMB: number) => void) => Promise<void>): Promise<void> {
    let n = 0;
    const fill = (leave: number) => {
      const st = fs.statfsSync(root.dir);
      const size = st.bavail * st.bsize - leave * MB;
      if (size > 0) execFileSync('fallocate', ['-l', String(size), path.join(root.dir, `filler-${n++}`)]);
    };
    fill(leaveMB);
    try {
      await fn(fill);
    } finally {
      for (const f of fs.readdirSync(root.dir)) if (f.startsWith('filler-')) fs.rmSync(path.join(root.dir, f));
    }
  }
  /** The store's files and directories (but the event log, which grows by design, and the staging directory). */
  const files = () => execFileSync('find', [root.dir, '-not', '-name', 'events.log*', '-not', '-name', 'filler-*', '-not', '-name', 'd.sock', '-not', '-path', path.join(root.dir, 'tmp')], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();

  const ok = async (args: string[]): Promise<string> => {
    const r = await root.run(args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** A CLI's failure says "no space left on device", without a stack trace or a host path. */
  function noSpace(r: { code: number | null; stderr: string }, what: string): void {
    assert.notEqual(r.code, 0, `${what} succeeded`);
    assert.match(r.stderr, /no space left on device/i, what);
    assert.doesNotMatch(r.stderr, /\n\s+at /, what);
    assert.ok(!r.stderr.includes(root.dir), `${what} shows the state root: ${r.stderr}`);
  }
  /** The store is readable: images listed and inspected, a container runs. */
  async function readable(): Promise<void> {
    assert.match(await ok(['images']), /busybox/);
    assert.equal((await d.request('GET', '/images/busybox/json')).status, 200);
    assert.equal(await ok(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'fine']), 'fine\n');
  }

  test('import and docker load that do not fit; freed, the same commands succeed', async () => {
    const archive = path.join(scratch, 'big-save.tar');
    // The archive to load, saved while there is room.
    await ok(['import', bigTar, 'big:1']);
    await ok(['save', '-o', archive, 'big:1']);
    await ok(['rmi', 'big:1']);
    await full(8, async () => {
      const before = files();
      noSpace(await root.run(['import', bigTar, 'big:1']), 'berth import');
      assert.deepEqual(files(), before);
      noSpace(await d.docker(['load', '-i', archive]), 'docker load');
      assert.deepEqual(files(), before);
    });
    await readable();
    await ok(['import', bigTar, 'big:1']);
    await ok(['rmi', 'big:1']);
    const loaded = await d.docker(['load', '-i', archive]);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.ok(JSON.parse(await ok(['image', 'inspect', 'big:1']))[0].Size >= 16 * MB);
    await ok(['rmi', 'big:1']);
  });

  test('commit of a diff that does not fit, from the CLI and the API (500); freed, the same commit succeeds', async () => {
    await ok(['run', '--name', 'writer', '--network', 'none', 'busybox', 'sh', '-c', 'head -c 16777216 /dev/urandom > /written']);
    await full(8, async () => {
      const before = files();
      noSpace(await root.run(['commit', 'writer', 'written:1']), 'berth commit');
      assert.deepEqual(files(), before);
      const api = await d.request('POST', '/commit?container=writer&repo=written&tag=1');
      assert.equal(api.status, 500, api.body);
      assert.match(JSON.parse(api.body).message, /no space left on device/);
      assert.ok(!api.body.includes(root.dir), api.body);
      assert.deepEqual(files(), before);
      assert.equal((await root.run(['image', 'inspect', 'written:1'])).code, 1);
    });
    await readable();
    await ok(['commit', 'writer', 'written:1']);
    assert.equal((await ok(['run', '--rm', '--network', 'none', 'written:1', 'wc', '-c', '/written'])).trim(), `${16 * MB} /written`);
    await ok(['rm', 'writer']);
    await ok(['rmi', 'written:1']);
  });

  test('a write into a volume that does not fit fails in the container; the volume stays whole; freed, the same run succeeds', async () => {
    await ok(['volume', 'create', 'full']);
    const write = ['run', '--rm', '--network', 'none', '-v', 'full:/v', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/v/f bs=1M count=8 2>&1 && echo written'];
    await full(4, async () => {
      for (const [who, run] of [['berth', () => root.run(write)], ['docker', () => d.docker(write)]] as const) {
        const r = await run();
        assert.equal(r.code, 1, `${who}: ${r.stderr}`);
        assert.match(r.stdout, /No space left on device/, who);
        fs.rmSync(path.join(root.dir, 'volumes', 'full', '_data', 'f'));
      }
      assert.equal(JSON.parse(await ok(['volume', 'inspect', 'full']))[0].Name, 'full');
    });
    // A volume created when nothing is left: whole, or a clear error and none at all.
    let made = false;
    await full(0, async () => {
      const r = await d.docker(['volume', 'create', 'made-full']);
      if (r.code !== 0) noSpace(r, 'docker volume create');
      made = r.code === 0;
      assert.equal((await ok(['volume', 'ls', '-q'])).includes('made-full'), made);
    });
    assert.match(await ok(write), /written\n$/);
    assert.match((await d.docker(write)).stdout, /written\n$/);
    await ok(['volume', 'rm', 'full', ...(made ? ['made-full'] : [])]);
    await ok(['volume', 'create', 'made-full']);
    await ok(['volume', 'rm', 'made-full']);
  });

  test('run --rm as the disk fills up, a few KB at a time: each ends (in the container or with "no space"), nothing left running or half-written', async () => {
    // Somewhere in this range a start's state no longer fits once its command runs: that start
    // used to leave the command unrecorded and its monitor waiting for good (docker run hung).
    await ok(['volume', 'create', 'sweep']);
    const write = ['run', '--rm', '--network', 'none', '-v', 'sweep:/v', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/v/f bs=1M count=1 2>&1'];
    for (let kb = 0; kb <= 60; kb += 4) {
      await full(kb / 1024, async () => {
        for (const [who, run] of [['berth', () => root.run(write, { timeoutMs: 10_000 })], ['docker', () => d.docker(write, { timeoutMs: 10_000 })]] as const) {
          const r = await run();
          const inside = r.code === 1 && /No space left on device/.test(r.stdout);
          if (!inside) noSpace(r, `${who} run with ${kb} KB left`);
          fs.rmSync(path.join(root.dir, 'volumes', 'sweep', '_data', 'f'), { force: true });
        }
      });
    }
    // An --rm container whose start failed and whose removal failed too is kept (as dockerd's),
    // never running; once there is room, it goes.
    const kept = (await ok(['ps', '-a', '--format', '{{.ID}} {{.State}}'])).split('\n').filter(Boolean);
    for (const k of kept) assert.match(k, / created$/);
    if (kept.length) await ok(['rm', ...kept.map((k) => k.split(' ')[0])]);
    assert.deepEqual(files().filter((f) => f.endsWith('.tmp')), []);
    assert.deepEqual(root.leftovers().filter((l) => !l.includes(' - tmpfs berth-test ')), []);
    await ok(['volume', 'rm', 'sweep']);
  });

  test('a pull that does not fit, from the CLI and docker pull; freed, the same pull succeeds', { skip: !hasRegistryTools && 'needs docker-registry and skopeo' }, async () => {
    const reg = await TestRegistry.start();
    try {
      const layoutDir = path.join(scratch, 'layout');
      const lay = new OciLayout(layoutDir);
      // A layer of its own (none stored already has its diff id), of 16 MB that do not compress.
      const tar = execFileSync('tar', ['-C', path.join(scratch, 'rootfs'), '-cf', '-', '--transform', 's/blob/pulled/', '.'], { maxBuffer: 64 * MB });
      const img = lay.image({ layers: [{ tar, compression: 'gzip' }], cmd: ['sh'] });
      lay.tag('big', { ...img.manifest });
      await reg.push(layoutDir, 'big', 'full/big:1');
      const ref = `${reg.host}/full/big:1`;
      await full(8, async () => {
        const before = files();
        const pulled = await root.run(['pull', ref]);
        noSpace(pulled, 'berth pull');
        assert.doesNotMatch(pulled.stdout, /Retrying/, 'a full disk is not retried as the network is');
        assert.deepEqual(files(), before);
        noSpace(await d.docker(['pull', ref]), 'docker pull');
        assert.deepEqual(files(), before);
      });
      await readable();
      await ok(['pull', ref]);
      await ok(['rmi', ref]);
      const again = await d.docker(['pull', ref]);
      assert.equal(again.code, 0, again.stderr);
      await ok(['rmi', ref]);
    } finally {
      await reg.stop();
    }
  });

  test('nothing leaked', async () => {
    assert.equal(await ok(['ps', '-a', '-q']), '');
    // But the tmpfs itself, which is the state root.
    assert.deepEqual(root.leftovers().filter((l) => !l.includes(' - tmpfs berth-test ')), []);
  });
});
