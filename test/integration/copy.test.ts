// docker cp both ways, and the symlink escapes other engines had (CVE-2018-15664, CVE-2019-14271).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';

describe('cp', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  let host: string;
  before(async () => {
    root = new TestRoot();
    await root.importBusybox();
    host = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cp-'));
    await root.run(['run', '-d', '--name', 'box', 'busybox', 'sh', '-c',
      'mkdir -p /data/sub && echo in > /data/sub/f && ln -s f /data/sub/link && ln -s /tmp /test && ' +
      `ln -s ${host} /hostlink && ln -s ../../../../../../${host.slice(1)} /tmp/up && sleep 300`]);
    await new Promise((r) => setTimeout(r, 300));
  });
  after(async () => {
    await root.run(['rm', '-f', 'box']);
    await root.cleanup();
    fs.rmSync(host, { recursive: true, force: true });
  });

  test('copies files and trees in and out, with docker\'s destination rules', async () => {
    fs.writeFileSync(path.join(host, 'a.txt'), 'from host\n');
    assert.equal((await root.run(['cp', path.join(host, 'a.txt'), 'box:/tmp/'])).code, 0);
    assert.equal((await root.run(['exec', 'box', 'cat', '/tmp/a.txt'])).stdout, 'from host\n');
    assert.equal((await root.run(['cp', path.join(host, 'a.txt'), 'box:/tmp/renamed.txt'])).code, 0);
    assert.equal((await root.run(['exec', 'box', 'cat', '/tmp/renamed.txt'])).stdout, 'from host\n');
    assert.equal((await root.run(['cp', 'box:/data', path.join(host, 'out')])).code, 0);
    assert.equal(fs.readFileSync(path.join(host, 'out/sub/f'), 'utf8'), 'in\n');
    assert.equal(fs.readlinkSync(path.join(host, 'out/sub/link')), 'f');
    assert.equal((await root.run(['cp', 'box:/data/sub/.', path.join(host, 'contents')])).code, 0);
    assert.deepEqual(fs.readdirSync(path.join(host, 'contents')).sort(), ['f', 'link']);
    const missing = await root.run(['cp', 'box:/nope', path.join(host, 'x')]);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /Could not find the file \/nope in container/);
    assert.match((await root.run(['inspect', '-f', '{{.State.Status}}', 'box'])).stdout, /running/); // thawed after
  });

  test('symlinks inside the container resolve inside it, never on the host', async () => {
    fs.writeFileSync(path.join(host, 'payload'), 'payload\n');
    fs.writeFileSync(path.join(host, 'victim'), 'untouched\n');
    // /test -> /tmp (absolute) must mean the container's /tmp (CVE-2018-15664).
    assert.equal((await root.run(['cp', path.join(host, 'payload'), 'box:/test/'])).code, 0);
    assert.equal((await root.run(['exec', 'box', 'cat', '/tmp/payload'])).stdout, 'payload\n');
    // /hostlink -> the host's directory path: inside the container that path does not exist.
    const r = await root.run(['cp', path.join(host, 'payload'), 'box:/hostlink/victim']);
    assert.notEqual(r.code, 0);
    assert.equal(fs.readFileSync(path.join(host, 'victim'), 'utf8'), 'untouched\n');
    // ../ chains stop at the container's root.
    await root.run(['cp', path.join(host, 'payload'), 'box:/tmp/up/victim']);
    assert.equal(fs.readFileSync(path.join(host, 'victim'), 'utf8'), 'untouched\n');
    // Reading follows the same rules: nothing of the host comes out.
    const out = await root.run(['cp', 'box:/hostlink/victim', path.join(host, 'leak')]);
    assert.notEqual(out.code, 0);
    assert.ok(!fs.existsSync(path.join(host, 'leak')));
  });

  test('a created or exited container: its root is mounted privately for the copy, nothing stays mounted', async () => {
    const created = await root.run(['create', '--name', 'later', 'busybox', 'sh', '-c', 'cat /etc/injected; echo out > /etc/made-by-run']);
    assert.equal(created.code, 0, created.stderr);
    fs.writeFileSync(path.join(host, 'injected'), 'put there before start\n');
    assert.equal((await root.run(['cp', path.join(host, 'injected'), 'later:/etc/'])).code, 0);
    assert.deepEqual(root.mounts(), []);
    const start = await root.run(['start', '-a', 'later']);
    assert.equal(start.stdout, 'put there before start\n');
    assert.equal((await root.run(['inspect', '-f', '{{.State.Status}}', 'later'])).stdout.trim(), 'exited');
    const back = path.join(host, 'made-by-run');
    assert.equal((await root.run(['cp', 'later:/etc/made-by-run', back])).code, 0);
    assert.equal(fs.readFileSync(back, 'utf8'), 'out\n');
    // The image is untouched: a new container does not see either file.
    assert.notEqual((await root.run(['run', '--rm', 'busybox', 'cat', '/etc/injected'])).code, 0);
    assert.equal((await root.run(['rm', 'later'])).code, 0);
  });
});
