// rmi's conflicts with containers, image prune, system df (shared vs unique sizes), and the
// sweep of layers and blobs no image references.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Engine } from '../../src/engine/engine.ts';
import { isRoot, TestRoot } from '../helpers/berth.ts';

const hex = (d: string) => d.slice(7);

describe('rmi, image prune, system df', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => {
    root = await TestRoot.withBusybox();
  });
  after(async () => {
    await root?.cleanup();
  });

  const inspect = async (name: string) => JSON.parse((await root.run(['image', 'inspect', name])).stdout)[0];

  test('rmi: a stopped container\'s image needs -f, which only untags it; a running one\'s cannot be forced', async () => {
    assert.equal((await root.run(['tag', 'busybox', 'used:1'])).code, 0);
    const id = (await inspect('used:1')).Id;
    // A second name would make rmi just untag; remove it so used:1 is the image's only name.
    assert.equal((await root.run(['run', '--name', 'stopped1', 'used:1', 'true'])).code, 0);
    assert.equal((await root.run(['rmi', 'busybox'])).stdout, 'Untagged: busybox:latest\n');
    const r = await root.run(['rmi', 'used:1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`unable to remove repository reference "used:1" \\(must force\\) - container [a-f0-9]{12} is using its referenced image ${hex(id).slice(0, 12)}`));
    const byId = await root.run(['rmi', hex(id).slice(0, 12)]);
    assert.match(byId.stderr, /\(must be forced\) - image is being used by stopped container/);
    const f = await root.run(['rmi', '-f', 'used:1']);
    assert.equal(f.code, 0, f.stderr);
    assert.equal(f.stdout, 'Untagged: used:1\n');
    // The image stays, unnamed, and the container still starts from it.
    assert.equal((await root.run(['image', 'inspect', '-f', '{{.Id}}', id])).stdout, `${id}\n`);
    assert.equal((await root.run(['start', '-a', 'stopped1'])).code, 0);
    assert.equal((await root.run(['tag', id, 'busybox:latest'])).code, 0);

    const run = await root.run(['run', '-d', '--name', 'running1', 'busybox', 'sleep', '60']);
    assert.equal(run.code, 0, run.stderr);
    const hard = await root.run(['rmi', '-f', hex(id)]);
    assert.equal(hard.code, 1);
    assert.match(hard.stderr, /\(cannot be forced\) - image is being used by running container/);
    assert.equal((await root.run(['rm', '-f', 'running1', 'stopped1'])).code, 0);
  });

  test('prune removes dangling images only, -a every unused one; layers in use stay; system df counts shared layers once', async () => {
    // base: busybox. top: busybox + one layer (committed). dangling: an untagged import of a different tar.
    const c = await root.run(['run', '--name', 'p1', 'busybox', 'sh', '-c', 'head -c 100000 /dev/urandom > /blob']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal((await root.run(['commit', 'p1', 'top:1'])).code, 0);
    assert.equal((await root.run(['rm', 'p1'])).code, 0);
    const other = fs.mkdtempSync(path.join(root.dir, '..', 'berth-prune-'));
    const tarFile = path.join(other, 'one.tar');
    fs.writeFileSync(path.join(other, 'f'), 'dangling\n');
    (await import('node:child_process')).execFileSync('tar', ['-C', other, '-cf', tarFile, 'f']);
    const dangling = (await root.run(['import', tarFile])).stdout.trim();
    fs.rmSync(other, { recursive: true, force: true });
    const [base] = (await inspect('busybox')).RootFS.Layers;
    const [, top] = (await inspect('top:1')).RootFS.Layers;
    const topId = (await inspect('top:1')).Id;

    const dfv = await root.run(['system', 'df', '-v']);
    assert.equal(dfv.code, 0, dfv.stderr);
    const line = (repo: string) => dfv.stdout.split('\n').find((l) => l.startsWith(repo + ' '))!.trim().split(/\s{2,}/);
    const bb = line('busybox');
    const tp = line('top');
    // busybox: all shared (top uses its layer). top: busybox's layer shared, its own layer unique.
    assert.equal(bb[6], '0B', dfv.stdout);
    assert.equal(bb[5], bb[4]);
    assert.equal(tp[5], bb[4]);
    assert.match(tp[6], /^10\d\.?\d*kB$/, dfv.stdout);
    const json = (await root.run(['system', 'df', '--format', 'json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(json.map((r) => r.Type), ['Images', 'Containers', 'Local Volumes', 'Build Cache']);
    assert.equal(json[0].TotalCount, '3');

    const usedBy = await root.run(['run', '-d', '--name', 'keeper', 'top:1', 'sleep', '60']);
    assert.equal(usedBy.code, 0, usedBy.stderr);
    const p = await root.run(['image', 'prune', '-f']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, new RegExp(`^Deleted Images:\ndeleted: ${dangling}\ndeleted: sha256:[a-f0-9]{64}\n\nTotal reclaimed space: \\d+(\\.\\d+)?kB\n$`));
    assert.equal((await root.run(['image', 'inspect', dangling])).code, 1);

    // -a: busybox is unused, but its layer is top's too; top is in use and stays whole.
    const all = await root.run(['image', 'prune', '-a', '-f']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /untagged: busybox:latest\n/);
    assert.ok(fs.existsSync(path.join(root.dir, 'layers', `${hex(base)}.erofs`)));
    assert.ok(fs.existsSync(path.join(root.dir, 'layers', `${hex(top)}.erofs`)));
    assert.equal((await root.run(['image', 'inspect', '-f', '{{.Id}}', 'top:1'])).stdout, `${topId}\n`);
    assert.equal((await root.run(['rm', '-f', 'keeper'])).code, 0);

    const last = await root.run(['image', 'prune', '-a', '-f']);
    assert.match(last.stdout, /untagged: top:1\n/);
    assert.deepEqual(fs.readdirSync(path.join(root.dir, 'layers')), []);
    assert.deepEqual(fs.readdirSync(path.join(root.dir, 'content/blobs/sha256')), []);
    assert.equal((await root.run(['image', 'prune', '-f'])).stdout, 'Total reclaimed space: 0B\n');
    await root.importBusybox();
  });

  test('layers and blobs that no image references are swept; referenced ones and recent ones stay', async () => {
    const engine = new Engine(root.dir);
    const orphanLayer = path.join(root.dir, 'layers', 'f'.repeat(64));
    fs.mkdirSync(orphanLayer);
    fs.writeFileSync(path.join(orphanLayer, 'file'), 'x'.repeat(1000));
    const orphanBlob = engine.images.content.put('an orphan blob').digest;
    const before = fs.readdirSync(path.join(root.dir, 'content/blobs/sha256')).length;
    assert.equal(engine.images.sweepUnreferenced(new Set()), 0); // within the grace period: kept
    assert.ok(fs.existsSync(orphanLayer));
    assert.equal(engine.images.sweepUnreferenced(new Set(), 0), 1000);
    assert.ok(!fs.existsSync(orphanLayer));
    assert.ok(!engine.images.content.has(orphanBlob));
    assert.equal(fs.readdirSync(path.join(root.dir, 'content/blobs/sha256')).length, before - 1);
    assert.equal((await root.run(['run', '--rm', 'busybox', 'echo', 'intact'])).stdout, 'intact\n');
  });
});
