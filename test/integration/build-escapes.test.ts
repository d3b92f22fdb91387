// A build context is untrusted input (a tar from POST /build or stdin): what it holds must never
// make the builder read or write host files outside the context. These cases add to the path
// escapes build.test.ts checks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';

describe('build escapes', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  const cleanups: Array<() => void> = [];
  const build = (args: string[], input?: string | Buffer) => root.run(['build', '--progress', 'plain', ...args], { input, timeoutMs: 120_000 });

  before(async () => {
    root = await TestRoot.withBusybox();
  });
  after(async () => {
    await root.cleanup();
    for (const c of cleanups.reverse()) c();
  });

  const streamed = (files: Record<string, string>, special: (dir: string) => void): Buffer => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-escctx-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), data);
    special(dir);
    return execFileSync('tar', ['-C', dir, '-c', '.']);
  };

  test('a fifo or device node in a streamed context is never opened on the host (RUN --mount=type=bind)', async () => {
    // Opening a fifo would block the builder's process (the daemon's, through POST /build) for good.
    const fifo = streamed({ Dockerfile: 'FROM busybox\nRUN --mount=type=bind,source=pipe,target=/p true\n' }, (d) => execFileSync('mkfifo', [path.join(d, 'pipe')]));
    const r = await build(['-'], fifo);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pipe.*not a regular file or directory/);
    const dev = streamed({ Dockerfile: 'FROM busybox\nRUN --mount=type=bind,source=zero,target=/z true\n' }, (d) => execFileSync('mknod', [path.join(d, 'zero'), 'c', '1', '5']));
    const z = await build(['-'], dev);
    assert.notEqual(z.code, 0);
    assert.match(z.stderr, /zero.*not a regular file or directory/);
    assert.deepEqual(root.leftovers(), []);
  });

  test('.dockerignore is read inside the context: a symlink out of it, a fifo', async () => {
    // A host file the context's .dockerignore points at: read, it would hide secret.txt.
    const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-hostign-'));
    cleanups.push(() => fs.rmSync(hostDir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(hostDir, 'rules'), 'secret.txt\n');
    const link = streamed({ Dockerfile: 'FROM busybox\nCOPY secret.txt /s\n', 'secret.txt': 'in context\n' }, (d) => fs.symlinkSync(path.join(hostDir, 'rules'), path.join(d, '.dockerignore')));
    const r = await build(['-t', 'ign:1', '-'], link);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await root.run(['run', '--rm', 'ign:1', 'cat', '/s'])).stdout, 'in context\n');
    const fifo = streamed({ Dockerfile: 'FROM busybox\n' }, (d) => execFileSync('mkfifo', [path.join(d, '.dockerignore')]));
    const f = await build(['-'], fifo);
    assert.notEqual(f.code, 0);
    assert.match(f.stderr, /\.dockerignore.*not a regular file/);
  });

  test('a file a COPY makes from a heredoc or an ADD URL is named inside its destination', async () => {
    const up = '../'.repeat(24);
    const hd = `/tmp/berth-heredoc-escape-${process.pid}`;
    const url = `/tmp/berth-url-escape-${process.pid}`;
    cleanups.push(() => fs.rmSync(hd, { force: true }));
    cleanups.push(() => fs.rmSync(url, { force: true }));
    const name = `${up}${hd.slice(1)}`;
    const r = await build(['-'], streamed({ Dockerfile: `FROM busybox\nCOPY <<${name} /\nfrom the heredoc\n${name}\n` }, () => undefined));
    assert.equal(fs.existsSync(hd), false, 'the heredoc was written on the host');
    assert.notEqual(r.code, 0);
    const http = await import('node:http');
    const server = http.createServer((_req, res) => res.end('from the url\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      // %2f is a "/" only once decoded: the URL's last path segment is the whole climb.
      const seg = encodeURIComponent(`${up}${url.slice(1)}`);
      const u = await build(['-t', 'urlname:1', '-'], streamed({ Dockerfile: `FROM busybox\nADD http://127.0.0.1:${port}/dl/${seg} /got/\n` }, () => undefined));
      assert.equal(fs.existsSync(url), false, 'the download was written on the host');
      assert.equal(u.code, 0, u.stderr);
      const ls = await root.run(['run', '--rm', 'urlname:1', 'cat', `/got/${path.basename(url)}`]);
      assert.equal(ls.stdout, 'from the url\n');
    } finally {
      server.close();
    }
  });

  test('COPY --from a stage whose directory replaced a symlink in a lower layer reads only the stage', async () => {
    // Layer 1 has /a -> a host directory (absolute); layer 2 makes /a a real, empty directory.
    // A lookup of /a/secret in layer 1 must not let the host kernel follow that link.
    const host = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-lower-'));
    cleanups.push(() => fs.rmSync(host, { recursive: true, force: true }));
    fs.writeFileSync(path.join(host, 'secret'), 'host secret\n');
    const df = `FROM busybox AS s\nRUN ln -s ${host} /a\nRUN rm /a && mkdir /a\nFROM busybox\nCOPY --from=s /a/secret /x\n`;
    const r = await build(['-t', 'lower:1', '-'], streamed({ Dockerfile: df }, () => undefined));
    if (r.code === 0) {
      const got = await root.run(['run', '--rm', 'lower:1', 'cat', '/x']);
      assert.notEqual(got.stdout, 'host secret\n', 'a host file was copied into the image');
    }
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not found/);
  });
});
