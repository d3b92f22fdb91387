// Bind mounts, named and anonymous volumes, tmpfs; volumes outlive containers.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { busyboxTar, isRoot, TestRoot } from '../helpers/berth.ts';

describe('volumes and mounts', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  let host: string;
  before(async () => {
    root = new TestRoot();
    await root.importBusybox();
    host = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vol-'));
  });
  after(async () => {
    await root.cleanup();
    fs.rmSync(host, { recursive: true, force: true });
  });

  test('bind mounts: read-write, read-only, a single file; -v creates a missing host dir', async () => {
    fs.writeFileSync(path.join(host, 'in.txt'), 'from-host\n');
    const r = await root.run(['run', '--rm', '-v', `${host}:/data`, '-v', `${host}/in.txt:/etc/in.txt:ro`, '-v', `${host}/made:/made`, 'busybox', 'sh', '-c',
      'cat /data/in.txt; echo from-ctr > /data/out.txt; cat /etc/in.txt; echo x > /etc/in.txt 2>/dev/null || echo ro; touch /made/m']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from-host\nfrom-host\nro\n');
    assert.equal(fs.readFileSync(path.join(host, 'out.txt'), 'utf8'), 'from-ctr\n');
    assert.ok(fs.existsSync(path.join(host, 'made/m')));
    const m = await root.run(['run', '--rm', '--mount', `type=bind,source=${host},target=/b,readonly`, 'busybox', 'sh', '-c', 'touch /b/y 2>/dev/null || echo ro']);
    assert.equal(m.stdout, 'ro\n');
    const missing = await root.run(['run', '--rm', '--mount', `type=bind,source=${host}/nope,target=/b`, 'busybox', 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /bind source path does not exist/);
  });

  test('named volumes persist across containers; in-use volumes are not removed; anonymous ones go with --rm', async () => {
    assert.equal((await root.run(['volume', 'create', '--label', 'k=v', 'data'])).stdout, 'data\n');
    assert.equal((await root.run(['run', '--rm', '-v', 'data:/d', 'busybox', 'sh', '-c', 'echo kept > /d/f'])).code, 0);
    assert.equal((await root.run(['run', '--rm', '--mount', 'source=data,target=/e', 'busybox', 'cat', '/e/f'])).stdout, 'kept\n');
    const insp = JSON.parse((await root.run(['volume', 'inspect', 'data'])).stdout)[0];
    assert.equal(insp.Name, 'data');
    assert.equal(insp.Driver, 'local');
    assert.deepEqual(insp.Labels, { k: 'v' });
    assert.equal(fs.readFileSync(path.join(insp.Mountpoint, 'f'), 'utf8'), 'kept\n');
    // auto-created by -v, listed, inspect of a container shows the mounts
    await root.run(['run', '-d', '--name', 'user', '-v', 'auto:/a', '-v', '/anon', 'busybox', 'sleep', '30']);
    assert.deepEqual((await root.run(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean).filter((n) => n.length < 64).sort(), ['auto', 'data']);
    const mounts = JSON.parse((await root.run(['inspect', 'user'])).stdout)[0].Mounts;
    assert.deepEqual(mounts.map((x: { Type: string; Destination: string; RW: boolean }) => [x.Type, x.Destination, x.RW]), [['volume', '/a', true], ['volume', '/anon', true]]);
    const inUse = await root.run(['volume', 'rm', 'auto']);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /volume is in use/);
    const anon = mounts[1].Name as string;
    await root.run(['rm', '-f', '-v', 'user']);
    assert.equal((await root.run(['volume', 'inspect', anon])).code, 1); // rm -v took the anonymous volume
    assert.equal((await root.run(['volume', 'rm', 'auto'])).code, 0);
    const before = (await root.run(['volume', 'ls', '-q'])).stdout;
    assert.equal((await root.run(['run', '--rm', '-v', '/scratch', 'busybox', 'true'])).code, 0);
    assert.equal((await root.run(['volume', 'ls', '-q'])).stdout, before);
    assert.equal((await root.run(['volume', 'rm', 'data'])).code, 0);
    assert.equal((await root.run(['volume', 'ls', '-q'])).stdout, '');
  });

  test('volume prune removes unused anonymous volumes, named ones too with -a, never one in use', async () => {
    await root.run(['volume', 'create', 'kept']);
    await root.run(['volume', 'create', 'idle']);
    await root.run(['create', '--name', 'holder', '-v', 'kept:/k', '-v', '/anon-used', 'busybox', 'true']);
    await root.run(['create', '--name', 'gone', '-v', '/anon-free', 'busybox', 'true']);
    await root.run(['rm', 'gone']); // without -v: its anonymous volume stays, unused
    const ls = async () => (await root.run(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean).sort();
    const all = await ls();
    assert.equal(all.length, 4);
    assert.equal((await root.run(['volume', 'prune'])).code, 125); // asks for -f
    const p = await root.run(['volume', 'prune', '-f']);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stdout.split('\n').filter((l) => /^[a-f0-9]{64}$/.test(l)).length, 1); // the free anonymous one
    assert.equal((await ls()).length, 3);
    assert.equal((await root.run(['volume', 'prune', '-f', '-a'])).code, 0);
    const left = await ls();
    assert.equal(left.length, 2);
    assert.ok(left.includes('kept') && !left.includes('idle'));
    assert.equal((await root.run(['rm', '-v', 'holder'])).code, 0);
    assert.equal((await root.run(['volume', 'rm', 'kept'])).code, 0);
    assert.deepEqual(await ls(), []);
  });

  test('tmpfs mounts; dangerous or malformed destinations are refused', async () => {
    const t = await root.run(['run', '--rm', '--read-only', '--tmpfs', '/run:size=1m,mode=1777', '--mount', 'type=tmpfs,target=/scratch,tmpfs-size=2m', 'busybox', 'sh', '-c',
      'echo a > /run/a && echo b > /scratch/b && df -k /run /scratch | tail -2 | awk \'{print $2}\'']);
    assert.equal(t.code, 0, t.stderr);
    assert.equal(t.stdout, '1024\n2048\n');
    for (const [spec, msg] of [['/proc:/proc', /cannot mount over \/proc/], [`${host}:/`, /destination can't be "\/"/], [`${host}:rel`, /not an absolute path/], ['bad name!:/x', /invalid characters/]] as const) {
      const r = await root.run(['run', '--rm', '-v', spec, 'busybox', 'true']);
      assert.equal(r.code, 125, `${spec}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
    const dup = await root.run(['run', '--rm', '-v', `${host}:/x`, '--tmpfs', '/x', 'busybox', 'true']);
    assert.match(dup.stderr, /Duplicate mount point: \/x/);
    assert.deepEqual(root.leftovers(), []);
  });

  test('a symlink in the image cannot redirect a mount outside the container', async () => {
    // An image whose /escape -> / and /up -> ../../../../tmp: followed on the host, a mount
    // target through them would land on the host's own / or /tmp.
    const links = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-links-'));
    const tar = path.join(links, 'image.tar');
    fs.copyFileSync(busyboxTar(), tar);
    fs.symlinkSync('/', path.join(links, 'escape'));
    fs.symlinkSync('../../../../tmp', path.join(links, 'up'));
    execFileSync('tar', ['-rf', tar, '-C', links, 'escape', 'up']);
    assert.equal((await root.run(['import', tar, 'linked:1'])).code, 0);
    const marker = `berth-escape-${process.pid}`;
    const r = await root.run(['run', '--rm', '-v', `${host}:/escape/${marker}`, '-v', `${host}:/up/${marker}`, 'linked:1', 'sh', '-c', `ls -d /${marker} /tmp/${marker}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `/${marker}\n/tmp/${marker}\n`);
    assert.ok(!fs.existsSync(`/${marker}`), 'a mount point appeared in the host\'s /');
    assert.ok(!fs.existsSync(`/tmp/${marker}`), 'a mount point appeared in the host\'s /tmp');
    await root.run(['rmi', 'linked:1']);
    fs.rmSync(links, { recursive: true, force: true });
  });
});
