// import, images, tag, image inspect, rmi on a real rootfs tarball.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { busyboxTar, isRoot, TestRoot } from '../helpers/berth.ts';

describe('images', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(() => {
    root = new TestRoot();
  });
  after(async () => {
    await root.cleanup();
  });

  test('import from a file and from stdin (gzip), then list, inspect, tag, run, remove', async () => {
    const imp = await root.run(['import', '-c', 'ENV FOO=bar', '-c', 'CMD ["sh", "-c", "echo $FOO"]', busyboxTar(), 'my/busybox:1']);
    assert.equal(imp.code, 0, imp.stderr);
    const id = imp.stdout.trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const gz = execFileSync('gzip', ['-c', busyboxTar()], { maxBuffer: 1 << 28 });
    const imp2 = await root.run(['import', '-', 'other:latest'], { input: gz });
    assert.equal(imp2.code, 0, imp2.stderr);

    const ls = await root.run(['images']);
    assert.match(ls.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n/);
    assert.match(ls.stdout, new RegExp(`my/busybox\\s+1\\s+${id.slice(7, 19)}\\s+`));
    assert.match(ls.stdout, /other\s+latest\s+[a-f0-9]{12}/);

    const insp = JSON.parse((await root.run(['image', 'inspect', 'my/busybox:1'])).stdout);
    assert.equal(insp[0].Id, id);
    assert.deepEqual(insp[0].RepoTags, ['my/busybox:1']);
    assert.deepEqual(insp[0].Config.Cmd, ['sh', '-c', 'echo $FOO']);
    assert.deepEqual(insp[0].Config.Env, ['FOO=bar']);
    assert.equal(insp[0].RootFS.Layers.length, 1);
    assert.equal((await root.run(['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}}', id.slice(7, 19)])).stdout, 'linux/amd64\n');

    // Both images share the one unpacked layer (same diff id).
    const insp2 = JSON.parse((await root.run(['image', 'inspect', 'other'])).stdout);
    assert.deepEqual(insp2[0].RootFS.Layers, insp[0].RootFS.Layers);
    assert.equal(fs.readdirSync(`${root.dir}/layers`).length, 1);

    const run = await root.run(['run', '--rm', 'my/busybox:1']);
    assert.equal(run.stdout, 'bar\n');

    assert.equal((await root.run(['tag', 'my/busybox:1', 'alias:2'])).code, 0);
    const un = await root.run(['rmi', 'alias:2']);
    assert.equal(un.stdout, 'Untagged: alias:2\n');
    const rm = await root.run(['rmi', 'my/busybox:1']);
    assert.match(rm.stdout, /Untagged: my\/busybox:1\nDeleted: sha256:/);
    // The shared layer stays while `other` uses it.
    assert.equal(fs.readdirSync(`${root.dir}/layers`).length, 1);
    assert.equal((await root.run(['rmi', 'other'])).code, 0);
    assert.deepEqual(fs.readdirSync(`${root.dir}/layers`), []);
    assert.equal((await root.run(['images', '-q'])).stdout, '');
    const gone = await root.run(['rmi', 'other']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /No such image: other/);
  });
});
