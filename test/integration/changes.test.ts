// diff and commit: a container's copy-on-write layer read back and turned into an image.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';

describe('diff and commit', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  test('diff lists added, changed and deleted paths; commit makes them an image layer', async () => {
    const r = await root.run(['run', '--name', 'changed', '-e', 'KEEP=1', '-w', '/app', 'busybox', 'sh', '-c', [
      'mkdir -p /app/sub', 'echo hi > /app/f', 'ln /app/f /app/hard', 'ln -s f /app/link', 'mkfifo /app/fifo', 'chmod 4755 /app/f',
      'rm /bin/ls', 'echo extra >> /etc/group', 'rm -rf /home', 'mkdir -p /home/fresh',
    ].join(' && ')]);
    assert.equal(r.code, 0, r.stderr);
    const d = await root.run(['diff', 'changed']);
    const lines = d.stdout.trim().split('\n');
    for (const l of ['A /app', 'A /app/f', 'A /app/hard', 'A /app/link', 'A /app/fifo', 'C /bin', 'D /bin/ls', 'C /etc', 'C /etc/group', 'C /home', 'A /home/fresh'])
      assert.ok(lines.includes(l), `missing "${l}" in:\n${d.stdout}`);
    assert.ok(!lines.some((l) => /\/(proc|sys|dev)$|etc\/(hostname|hosts|resolv.conf)$/.test(l)), `berth's own mount points listed:\n${d.stdout}`);

    const c = await root.run(['commit', '-c', 'CMD ["cat", "/app/f"]', '-m', 'test commit', 'changed', 'committed:1']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^sha256:[a-f0-9]{64}\n$/);
    assert.equal((await root.run(['run', '--rm', 'committed:1'])).stdout, 'hi\n');
    const check = await root.run(['run', '--rm', 'committed:1', 'sh', '-c',
      'pwd; echo $KEEP; stat -c "%A %h" /app/f; readlink /app/link; test -p /app/fifo && echo fifo; test -e /bin/ls || echo ls-gone; tail -1 /etc/group; ls -A /home']);
    assert.equal(check.code, 0, check.stderr);
    // The old /home/user is gone: the recreated directory is opaque in the new layer.
    assert.equal(check.stdout, '/app\n1\n-rwsr-xr-x 2\nf\nfifo\nls-gone\nextra\nfresh\n');
    const insp = JSON.parse((await root.run(['image', 'inspect', 'committed:1'])).stdout)[0];
    assert.equal(insp.RootFS.Layers.length, 2);
    assert.equal(insp.Comment, 'test commit');
    assert.deepEqual(insp.Config.Cmd, ['cat', '/app/f']);
    await root.run(['rm', 'changed']);
  });

  test('a running container is paused for the commit and keeps running', async () => {
    await root.run(['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo state > /tmp/s; sleep 60']);
    await new Promise((r) => setTimeout(r, 200));
    const c = await root.run(['commit', 'live', 'live:snap']);
    assert.equal(c.code, 0, c.stderr);
    assert.match((await root.run(['inspect', '-f', '{{.State.Status}}', 'live'])).stdout, /running/);
    assert.equal((await root.run(['run', '--rm', 'live:snap', 'cat', '/tmp/s'])).stdout, 'state\n');
    await root.run(['rm', '-f', 'live']);
    assert.equal((await root.run(['diff', 'nosuch'])).code, 125);
    assert.deepEqual(root.leftovers(), []);
  });

  test('export writes the merged filesystem; importing it gives the same files', async () => {
    await root.run(['run', '--name', 'exp', 'busybox', 'sh', '-c', 'rm -rf /home && mkdir /home && echo new > /home/only; rm /bin/vi; echo data > /root/f']);
    const out = path.join(os.tmpdir(), `berth-export-${process.pid}.tar`);
    try {
      assert.equal((await root.run(['export', '-o', out, 'exp'])).code, 0);
      const names = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).split('\n');
      assert.ok(names.includes('home/only') && names.includes('root/f') && names.includes('bin/sh'));
      assert.ok(!names.includes('bin/vi') && !names.includes('home/user/'), 'deleted paths were exported');
      assert.ok(!names.some((n) => n.includes('.wh.')), 'whiteouts leaked into the export');
      assert.equal((await root.run(['import', out, 'exported:1'])).code, 0);
      const r = await root.run(['run', '--rm', 'exported:1', 'sh', '-c', 'cat /home/only /root/f; ls /home; test -e /bin/vi || echo vi-gone']);
      assert.equal(r.stdout, 'new\ndata\nonly\nvi-gone\n');
    } finally {
      fs.rmSync(out, { force: true });
      await root.run(['rm', 'exp']);
    }
  });
});
