// Bad input gets a clear one-line error and docker's exit code, and leaves nothing behind.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';

describe('bad input', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  const cases: Array<[string, string[], number, RegExp]> = [
    ['missing image', ['run', '--rm', '--pull', 'never', 'nosuch:1', 'true'], 125, /No such image: nosuch:1/],
    ['command not found', ['run', '--rm', 'busybox', 'nosuchcmd'], 127, /exec: "nosuchcmd": executable file not found in \$PATH/],
    ['command not executable', ['run', '--rm', 'busybox', '/etc/passwd'], 126, /exec: "\/etc\/passwd": permission denied/],
    ['a directory as command', ['run', '--rm', 'busybox', '/tmp'], 126, /exec: "\/tmp": permission denied/],
    ['invalid memory value', ['run', '--rm', '-m', 'lots', 'busybox', 'true'], 125, /invalid size: "lots"/],
    ['memory below minimum', ['run', '--rm', '-m', '1k', 'busybox', 'true'], 125, /Minimum memory limit allowed is 6MB/],
    ['unknown flag', ['run', '--bogus', 'busybox', 'true'], 125, /unknown flag: --bogus/],
    ['unknown user', ['run', '--rm', '-u', 'nobody2', 'busybox', 'true'], 125, /unable to find user nobody2/],
    ['bad image name', ['run', '--rm', 'UPPER', 'true'], 125, /invalid reference format/],
    ['too many cpus', ['run', '--rm', '--cpus', '64', 'busybox', 'true'], 125, /range of CPUs is from 0.01 to/],
    ['unknown command', ['frobnicate'], 125, /is not a berth command/],
  ];
  for (const [name, args, code, msg] of cases) {
    test(name, async () => {
      const r = await root.run(args);
      assert.equal(r.code, code, `stderr: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.ok(r.stderr.trim().split('\n').length <= 2, `not a short error: ${r.stderr}`);
      assert.deepEqual(root.leftovers(), []);
    });
  }

  test('a non --rm container that failed to start is kept as exited, and removable', async () => {
    const r = await root.run(['run', '--name', 'broken', 'busybox', 'nosuchcmd']);
    assert.equal(r.code, 127);
    const ps = await root.run(['ps', '-a', '--format', '{{.Names}} {{.State}}']);
    assert.match(ps.stdout, /broken exited/);
    assert.equal((await root.run(['rm', 'broken'])).code, 0);
    assert.deepEqual(root.leftovers(), []);
  });

  test('exec in a working directory that is not there: no such file (a start makes it, an exec does not)', async () => {
    assert.equal((await root.run(['run', '-d', '--name', 'wd', '-w', '/made/here', 'busybox', 'sleep', '60'])).code, 0);
    assert.equal((await root.run(['exec', 'wd', 'pwd'])).stdout, '/made/here\n');
    const r = await root.run(['exec', '-w', '/nope', 'wd', 'pwd']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /working directory \/nope: No such file or directory/);
    assert.equal((await root.run(['exec', 'wd', 'test', '-e', '/nope'])).code, 1); // not made by the failed exec
    await root.run(['rm', '-f', 'wd']);
  });

  test('corrupt or hostile tarballs import nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bad-'));
    try {
      const before = (await root.run(['images', '-q'])).stdout;
      const garbage = path.join(dir, 'garbage.tar');
      fs.writeFileSync(garbage, Buffer.alloc(1536, 0x41));
      const truncated = path.join(dir, 'truncated.tar');
      fs.writeFileSync(truncated, fs.readFileSync((await import('../helpers/berth.ts')).busyboxTar()).subarray(0, 700_000));
      const gzbad = path.join(dir, 'bad.tar.gz');
      fs.writeFileSync(gzbad, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(100, 7)]));
      for (const f of [garbage, truncated, gzbad]) {
        const r = await root.run(['import', f, 'bad:1']);
        assert.equal(r.code, 125, `${f}: ${r.stderr}`);
        assert.match(r.stderr, /^berth: .*(tar|checksum|truncated|gzip|corrupt|invalid)/i);
      }
      const missing = await root.run(['import', path.join(dir, 'nope.tar'), 'bad:1']);
      assert.equal(missing.code, 125);
      assert.match(missing.stderr, /no such file/);
      assert.equal((await root.run(['images', '-q'])).stdout, before);
      assert.equal((await root.run(['image', 'inspect', 'bad:1'])).code, 1);
      assert.deepEqual(fs.readdirSync(path.join(root.dir, 'content', 'ingest')), []);
      assert.deepEqual(root.leftovers(), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
