// berth compose watch on a real app: a web server whose pages are synced into its container
// (new files in new directories, deletions, ignored files), a config file synced then the
// service restarted, and an api rebuilt and recreated when its context changes; in-process and
// through berth's daemon.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH, isRoot, TestRoot } from '../helpers/berth.ts';
import { TestDaemon } from '../helpers/daemon.ts';

const skip = !isRoot ? 'needs root' : false;

const FILES: Record<string, string> = {
  'web/Dockerfile': 'FROM busybox\nCOPY html /www\nCMD ["sh", "-c", "trap \\"exit 0\\" TERM; cat /etc/web.conf 2>/dev/null; sleep 1000 & wait"]\n',
  'web/.dockerignore': 'html/drafts\n',
  'web/html/index.html': 'v1\n',
  'web/web.conf': 'conf 1\n',
  'web/hook.txt': 'hook 1\n',
  'api/Dockerfile': 'FROM busybox\nCOPY version /version\nCMD ["sh", "-c", "trap \\"exit 0\\" TERM; cat /version; sleep 1000 & wait"]\n',
  'api/version': 'api 1\n',
  'compose.yaml': `
services:
  web:
    build: ./web
    develop:
      watch:
        - {path: ./web/html, action: sync, target: /www, ignore: ["**/*.tmp"]}
        - {path: ./web/web.conf, action: sync+restart, target: /etc/web.conf}
        - {path: ./web/hook.txt, action: sync+exec, target: /hook.txt, initial_sync: true, exec: {command: "cp /hook.txt /www/hooked.html"}}
  api:
    build: ./api
    develop:
      watch:
        - {path: ./api, action: rebuild}
`,
};

interface Watcher {
  child: ChildProcess;
  stderr(): string;
}

/** Starts `compose watch` and waits for "Watch enabled". */
async function startWatch(spawnIt: () => ChildProcess): Promise<Watcher> {
  const child = spawnIt();
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.resume();
  const end = Date.now() + 120_000;
  while (!err.includes('Watch enabled')) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`watch did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, stderr: () => err };
}

async function stopWatch(w: Watcher): Promise<number | null> {
  if (w.child.exitCode !== null) return w.child.exitCode;
  const gone = new Promise<number | null>((r) => w.child.once('exit', (code) => r(code)));
  w.child.kill('SIGINT');
  return gone;
}

describe('berth compose watch', { skip }, () => {
  let root: TestRoot;
  let dir: string;
  const file = () => path.join(dir, 'compose.yaml');
  const compose = (args: string[]) => root.run(['compose', '-f', file(), '-p', 'wat', ...args], { timeoutMs: 60_000 });
  const cat = (service: string, what: string) => compose(['exec', '-T', service, 'sh', '-c', what]).then((r) => r.stdout);

  before(async () => {
    root = await TestRoot.withBusybox();
    dir = fs.mkdtempSync(path.join(root.dir, 'app-'));
    for (const [f, text] of Object.entries(FILES)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), text);
    }
  });
  after(async () => {
    await root?.cleanup();
  });

  test('sync, sync+restart and rebuild, as changes are made', async () => {
    const w = await startWatch(() => root.spawn(['compose', '-f', file(), '-p', 'wat', 'watch']));
    try {
      // watch brought the services up, building their images.
      assert.match(w.stderr(), /Service web {2}Built/);
      assert.equal(await cat('web', 'cat /www/index.html'), 'v1\n');

      // initial_sync: the hook file was copied (and its command run) when the watch began.
      const initial = await root.eventually(() => cat('web', 'cat /www/hooked.html'), (o) => o === 'hook 1\n', 15_000);
      assert.equal(initial, 'hook 1\n');
      // sync+exec: copied, then the command runs in the container.
      fs.writeFileSync(path.join(dir, 'web/hook.txt'), 'hook 2\n');
      const hooked = await root.eventually(() => cat('web', 'cat /www/hooked.html'), (o) => o === 'hook 2\n', 15_000);
      assert.equal(hooked, 'hook 2\n');

      // A changed page, a new one in new directories, and files the rules leave out.
      fs.writeFileSync(path.join(dir, 'web/html/index.html'), 'v2\n');
      fs.mkdirSync(path.join(dir, 'web/html/a/b'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'web/html/a/b/new.html'), 'new\n');
      fs.writeFileSync(path.join(dir, 'web/html/a/b/skip.tmp'), 'ignored in a new directory too\n');
      fs.writeFileSync(path.join(dir, 'web/html/scratch.tmp'), 'ignored by the rule\n');
      fs.mkdirSync(path.join(dir, 'web/html/drafts'));
      fs.writeFileSync(path.join(dir, 'web/html/drafts/d.html'), 'ignored by .dockerignore\n');
      fs.writeFileSync(path.join(dir, 'web/html/.index.html.swp'), 'an editor\'s\n');
      const synced = await root.eventually(() => cat('web', 'cat /www/index.html /www/a/b/new.html'), (o) => o === 'v2\nnew\n', 15_000);
      assert.equal(synced, 'v2\nnew\n');
      assert.match(w.stderr(), /Syncing service "web" after \d+ changes were detected/);
      assert.equal(await cat('web', 'ls -a /www | sort | tr "\\n" " "'), '. .. a hooked.html index.html ');
      assert.equal(await cat('web', 'ls /www/a/b'), 'new.html\n');

      // A deletion is one too.
      fs.rmSync(path.join(dir, 'web/html/a/b/new.html'));
      const deleted = await root.eventually(() => cat('web', 'ls /www/a/b'), (o) => o === '', 15_000);
      assert.equal(deleted, '');

      // sync+restart: the new config is in place, and the service started again with it.
      const before = JSON.parse((await root.run(['inspect', 'wat-web-1'])).stdout)[0];
      fs.writeFileSync(path.join(dir, 'web/web.conf'), 'conf 2\n');
      const logs = await root.eventually(() => compose(['logs', '--no-log-prefix', 'web']), (r) => r.stdout.includes('conf 2'), 20_000);
      assert.equal(logs.stdout, 'conf 2\n');
      const restarted = JSON.parse((await root.run(['inspect', 'wat-web-1'])).stdout)[0];
      assert.equal(restarted.Id, before.Id);
      assert.notEqual(restarted.State.StartedAt, before.State.StartedAt);

      // rebuild: a new image, and a new container made from it.
      const api1 = JSON.parse((await root.run(['inspect', 'wat-api-1'])).stdout)[0];
      fs.writeFileSync(path.join(dir, 'api/version'), 'api 2\n');
      const api = await root.eventually(() => compose(['logs', '--no-log-prefix', 'api']), (r) => r.stdout.includes('api 2'), 60_000);
      assert.equal(api.stdout, 'api 2\n');
      assert.match(w.stderr(), /Rebuilding service\(s\) \["api"\] after changes were detected/);
      const api2 = JSON.parse((await root.run(['inspect', 'wat-api-1'])).stdout)[0];
      assert.notEqual(api2.Id, api1.Id);
      assert.notEqual(api2.Image, api1.Image);
      // --prune (the default): the image the rebuild replaced is gone.
      await root.until(() => w.stderr(), (e) => /service\(s\) \["api"\] successfully built/.test(e), 20_000);
      assert.equal((await root.run(['image', 'inspect', api1.Image])).code, 1);
    } finally {
      assert.equal(await stopWatch(w), 0, w.stderr());
    }
    // Stopping the watch leaves the services running.
    assert.equal((await compose(['ps', '--format', '{{.Name}} {{.State}}'])).stdout, 'wat-api-1 running\nwat-web-1 running\n');
  });

  test('up --watch: the logs attached, changes synced, Ctrl-C stops the services', async () => {
    const w = await startWatch(() => root.spawn(['compose', '-f', file(), '-p', 'wat', 'up', '--watch', 'web']));
    let out = '';
    w.child.stdout!.on('data', (d) => (out += d));
    fs.writeFileSync(path.join(dir, 'web/html/index.html'), 'from up --watch\n');
    const synced = await root.eventually(() => cat('web', 'cat /www/index.html'), (o) => o === 'from up --watch\n', 15_000);
    assert.equal(synced, 'from up --watch\n');
    assert.match(w.stderr(), /Syncing service "web"/);
    await stopWatch(w);
    assert.match(out, /wat-web-1 exited with code/);
    assert.equal((await compose(['ps', '-a', '--format', '{{.Name}} {{.State}}', 'web'])).stdout, 'wat-web-1 exited\n');
    assert.equal((await compose(['start', 'web'])).code, 0);
  });

  test('through berth\'s daemon, with --no-up: the files sync into the running service', async () => {
    const d = new TestDaemon(root);
    await d.start();
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, BERTH_HOST: `unix://${d.socket}` };
      delete env.BERTH_ROOT;
      const w = await startWatch(() => spawn(BERTH, ['compose', '-f', file(), '-p', 'wat', 'watch', '--no-up', 'web'], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
      try {
        fs.writeFileSync(path.join(dir, 'web/html/index.html'), 'v3\n');
        const synced = await root.eventually(() => cat('web', 'cat /www/index.html'), (o) => o === 'v3\n', 15_000);
        assert.equal(synced, 'v3\n');
      } finally {
        assert.equal(await stopWatch(w), 0, w.stderr());
      }
    } finally {
      await d.stop();
    }
    const bad = await root.run(['compose', '-f', file(), '-p', 'wat', 'watch', '--no-up', 'nosuch']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /no such service: nosuch/);
    fs.writeFileSync(path.join(dir, 'missing.yaml'), 'services:\n  m:\n    image: busybox\n    develop: {watch: [{path: ./nowhere, action: sync+restart, target: /x}]}\n');
    const missing = await root.run(['compose', '-f', path.join(dir, 'missing.yaml'), '-p', 'miss', 'watch']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /service "m": develop.watch path .*nowhere does not exist/);
    assert.equal((await root.run(['compose', '-p', 'miss', 'ps', '-aq'])).stdout, '');
    assert.equal((await compose(['down', '--rmi', 'local', '-t', '1'])).code, 0);
    assert.equal((await root.run(['ps', '-aq'])).stdout, '');
  });
});
