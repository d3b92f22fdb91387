// Remote build contexts: a Git repository served by a real `git daemon` (git://) and over dumb
// HTTP, archives in every compression and a lone Dockerfile from a node HTTP server, through
// `berth build <url>` and through the daemon's POST /build?remote= (raw HTTP and docker-py).
// Unreachable servers, bad refs and a server that never answers fail with clear errors, in time,
// and leave no scratch behind.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collect, isRoot, TestRoot } from '../helpers/berth.ts';
import { builder } from '../helpers/build.ts';
import { daemonFor } from '../helpers/daemon.ts';
import { freePort } from '../helpers/registry.ts';

const hasGit = spawnSync('git', ['--version']).status === 0;

function sh(cwd: string, cmd: string): string {
  return execFileSync('sh', ['-ec', cmd], { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
}

describe('build: remote contexts', { skip: (!isRoot && 'needs root') || (!hasGit && 'needs git') }, () => {
  let root: TestRoot;
  let work = '';
  let gitd: ChildProcess | undefined;
  let gitPort = 0;
  let web: http.Server;
  let webUrl = '';
  let mainSha = '';
  const hung: http.ServerResponse[] = [];
  /** The paths the web server was asked for, in order. */
  const requests: string[] = [];

  const { build, out, scratchLeft } = builder(() => root);

  before(async () => {
    root = await TestRoot.withBusybox();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-remote-'));
    // The repository: main (root Dockerfile, sub/ with its own), a tag, and a branch "other".
    const repo = path.join(work, 'src');
    fs.mkdirSync(path.join(repo, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(repo, 'Dockerfile'), 'FROM busybox\nCOPY which /which\n');
    fs.writeFileSync(path.join(repo, 'which'), 'main\n');
    fs.writeFileSync(path.join(repo, 'sub/Dockerfile'), 'FROM busybox\nCOPY hello /hello\n');
    fs.writeFileSync(path.join(repo, 'sub/hello'), 'from sub\n');
    fs.writeFileSync(path.join(repo, 'sub/Other.Dockerfile'), 'FROM busybox\nCOPY hello /other\n');
    sh(repo, 'git init -q -b main . && git add -A && git commit -qm one && git tag v1 && echo main-2 > which && git commit -qam two && git checkout -qb other && echo other > which && git commit -qam three && git checkout -q main');
    mainSha = sh(repo, 'git rev-parse HEAD').trim();
    const served = path.join(work, 'served');
    fs.mkdirSync(served);
    sh(work, `git clone -q --bare src served/app.git && git -C served/app.git update-server-info`);
    gitPort = await freePort();
    gitd = spawn('git', ['daemon', '--export-all', `--base-path=${served}`, '--reuseaddr', '--listen=127.0.0.1', `--port=${gitPort}`, served], { stdio: 'ignore' });
    // Archives of a context, in every compression, and a Dockerfile alone.
    const ctxDir = path.join(work, 'ctx');
    fs.mkdirSync(ctxDir);
    fs.writeFileSync(path.join(ctxDir, 'Dockerfile'), 'FROM busybox\nCOPY data /data\n');
    fs.writeFileSync(path.join(ctxDir, 'data'), 'from a tarball\n');
    fs.mkdirSync(path.join(ctxDir, 'deep'));
    fs.writeFileSync(path.join(ctxDir, 'deep/Dockerfile.alt'), 'FROM busybox\nCOPY data /alt\n');
    sh(work, 'tar -C ctx -cf ctx.tar . && gzip -kc ctx.tar > ctx.tgz && bzip2 -kc ctx.tar > ctx.tbz && xz -kc ctx.tar > ctx.txz && zstd -qc ctx.tar > ctx.tzst');
    web = http.createServer((req, res) => {
      const url = req.url ?? '/';
      requests.push(url);
      if (url === '/hang') return void hung.push(res); // never answers
      if (url === '/Dockerfile') return void res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('FROM busybox\nRUN echo from-url > /u\n');
      if (url === '/binary') return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([0, 1, 2, 3, 255, 0]));
      const file = url.startsWith('/git/') ? path.join(served, url.slice(5).split('?')[0]) : path.join(work, url.slice(1));
      if (!file.startsWith(work) || !fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return void res.writeHead(404).end('not found');
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    webUrl = `http://127.0.0.1:${(web.address() as net.AddressInfo).port}`;
    await root.until(() => spawnSync('git', ['ls-remote', `git://127.0.0.1:${gitPort}/app.git`]).status, (s) => s === 0, 10_000);
  });
  after(async () => {
    for (const r of hung) r.destroy();
    web?.closeAllConnections();
    web?.close();
    if (gitd?.pid && gitd.exitCode === null) gitd.kill();
    await root.cleanup();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('git://: the default branch, a branch, a tag, a commit, a subdirectory and -f inside it', async () => {
    const base = `git://127.0.0.1:${gitPort}/app.git`;
    for (const [ref, tag, want] of [['', 'head', 'main-2\n'], ['#other', 'other', 'other\n'], ['#v1', 'tag', 'main\n'], [`#${mainSha}`, 'sha', 'main-2\n']] as const) {
      const r = await build(['-t', `git:${tag}`, base + ref]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await out(`git:${tag}`, 'cat', '/which'), want, ref);
    }
    const sub = await build(['-t', 'git:sub', `${base}#main:sub`]);
    assert.equal(sub.code, 0, sub.stderr);
    assert.equal(await out('git:sub', 'cat', '/hello'), 'from sub\n');
    const f = await build(['-t', 'git:f', '-f', 'Other.Dockerfile', `${base}#:sub`]);
    assert.equal(f.code, 0, f.stderr);
    assert.equal(await out('git:f', 'cat', '/other'), 'from sub\n');
    assert.deepEqual(scratchLeft(), []);
  });

  test('http(s) .git URLs (a dumb HTTP server: no shallow fetch), and archives in every compression', async () => {
    const r = await build(['-t', 'git:http', `${webUrl}/git/app.git#other:sub`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await out('git:http', 'cat', '/hello'), 'from sub\n');
    for (const name of ['ctx.tar', 'ctx.tgz', 'ctx.tbz', 'ctx.txz', 'ctx.tzst']) {
      const t = await build(['-t', `tar:${name.slice(4)}`, `${webUrl}/${name}`]);
      assert.equal(t.code, 0, `${name}: ${t.stderr}`);
      assert.equal(await out(`tar:${name.slice(4)}`, 'cat', '/data'), 'from a tarball\n');
    }
    const alt = await build(['-t', 'tar:alt', '-f', 'deep/Dockerfile.alt', `${webUrl}/ctx.tgz`]);
    assert.equal(alt.code, 0, alt.stderr);
    assert.equal(await out('tar:alt', 'cat', '/alt'), 'from a tarball\n');
    const df = await build(['-t', 'url:df', `${webUrl}/Dockerfile`]);
    assert.equal(df.code, 0, df.stderr);
    assert.equal(await out('url:df', 'cat', '/u'), 'from-url\n');
    assert.deepEqual(scratchLeft(), []);
  });

  test('ADD <git URL>: the tree at a ref and subdir, .git only with --keep-git-dir; COPY refuses one', async () => {
    const ctx = path.join(work, 'addgit');
    fs.mkdirSync(ctx, { recursive: true });
    const base = `git://127.0.0.1:${gitPort}/app.git`;
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox\nADD ${base}#v1 /src/\nADD ${webUrl}/git/app.git#other:sub /sub/\nADD --keep-git-dir ${base}#other /full/\nADD --exclude=which ${base}#other /ex/\n`);
    const r = await build(['-t', 'addgit:1', ctx]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await out('addgit:1', 'sh', '-c', 'cat /src/which; ls -A /src; ls -A /sub; cat /full/which; test -f /full/.git/HEAD && echo has-git; ls -A /ex'), 'main\nDockerfile\nsub\nwhich\nDockerfile\nOther.Dockerfile\nhello\nother\nhas-git\nDockerfile\nsub\n');
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox\nCOPY ${base.replace('git://', 'git@')} /x/\n`);
    const copy = await build([ctx]);
    assert.notEqual(copy.code, 0);
    assert.match(copy.stderr, /source can't be a git ref for COPY/);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox\nADD ${base}#no-such-ref /x/\n`);
    const bad = await build([ctx]);
    assert.match(bad.stderr, /error fetching no-such-ref from .*couldn't find remote ref/s);
    assert.deepEqual(scratchLeft(), []);
  });

  test('ADD <git URL> is keyed by the commit its ref names: a rebuild asks only for the refs (no clone), a new commit or another tag rebuilds', async () => {
    // A repository of this test's own (it moves a branch), served over dumb HTTP, where a clone
    // shows as requests for objects.
    const src = path.join(work, 'moving');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'which'), 'one\n');
    sh(src, 'git init -q -b main . && git add -A && git commit -qm one && git tag -a v1 -m v1');
    sh(work, 'git clone -q --bare moving served/moving.git && git -C served/moving.git update-server-info');
    const ctx = path.join(work, 'addgit-cache');
    fs.mkdirSync(ctx);
    const dockerfile = (ref: string) => fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox\nADD ${webUrl}/git/moving.git#${ref} /src/\nRUN cat /src/which > /seen\n`);
    const objects = () => requests.filter((u) => u.startsWith('/git/moving.git/objects/'));
    dockerfile('main');
    const first = await build(['-t', 'addgit:c', ctx]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(await out('addgit:c', 'cat', '/seen'), 'one\n');
    assert.ok(objects().length > 0, 'the first build fetched the repository');

    requests.length = 0;
    const again = await build(['-t', 'addgit:c', ctx]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /ADD http\S+#main \/src\/\n#\d+ CACHED/);
    assert.match(again.stderr, /RUN cat \/src\/which > \/seen\n#\d+ CACHED/);
    assert.ok(requests.some((u) => u.startsWith('/git/moving.git/info/refs')), 'the rebuild asked for the refs');
    assert.deepEqual(objects(), [], 'the rebuild fetched no objects');

    // The branch moves: the ADD (and what follows it) runs again, with the new commit's files.
    fs.writeFileSync(path.join(src, 'which'), 'two\n');
    sh(src, `git commit -qam two && git push -q ${path.join(work, 'served/moving.git')} main && git -C ${path.join(work, 'served/moving.git')} update-server-info`);
    const moved = await build(['-t', 'addgit:c', ctx]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.doesNotMatch(moved.stderr, /ADD http\S+#main \/src\/\n#\d+ CACHED/);
    assert.equal(await out('addgit:c', 'cat', '/seen'), 'two\n');
    // An annotated tag: its commit (not the tag object) is what is checked out, and a rebuild is a hit.
    dockerfile('v1');
    const tag = await build(['-t', 'addgit:t', ctx]);
    assert.equal(tag.code, 0, tag.stderr);
    assert.equal(await out('addgit:t', 'cat', '/seen'), 'one\n');
    requests.length = 0;
    const tagAgain = await build(['-t', 'addgit:t', ctx]);
    assert.equal(tagAgain.code, 0, tagAgain.stderr);
    assert.match(tagAgain.stderr, /ADD http\S+#v1 \/src\/\n#\d+ CACHED/);
    assert.deepEqual(objects(), []);
    assert.deepEqual(scratchLeft(), []);
  });

  test('clear errors, never a hang: a closed port, a bad ref, a missing subdirectory, a 404, a binary, a server that never answers', async () => {
    const closed = await freePort();
    for (const [url, message] of [
      [`git://127.0.0.1:${closed}/app.git`, /error fetching .*127\.0\.0\.1:\d+\/app\.git.*(refused|unable to connect)/is],
      [`git://127.0.0.1:${gitPort}/app.git#no-such-ref`, /error fetching no-such-ref from .*couldn't find remote ref/is],
      [`git://127.0.0.1:${gitPort}/app.git#main:nope`, /"nope" not found/],
      [`git://127.0.0.1:${gitPort}/app.git#--upload-pack=touch${path.join(work, 'pwned')}`, /invalid refspec/],
      [`http://127.0.0.1:${closed}/ctx.tgz`, /unable to download remote context .*ECONNREFUSED/],
      [`${webUrl}/missing.tgz`, /404/],
      [`${webUrl}/binary`, /neither an archive nor a Dockerfile/],
    ] as const) {
      const t0 = Date.now();
      const r = await build([url]);
      assert.notEqual(r.code, 0, url);
      assert.match(r.stderr, message, url);
      assert.ok(Date.now() - t0 < 20_000, `${url} took ${Date.now() - t0} ms`);
    }
    assert.equal(fs.existsSync(path.join(work, 'pwned')), false);
    const t0 = Date.now();
    const r = await build([`${webUrl}/hang`], { env: { BERTH_BUILD_REMOTE_TIMEOUT: '2' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /timed out after 2s/);
    assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
    assert.deepEqual(scratchLeft(), []);
  });

  describe('through the daemon', () => {
    const daemon = daemonFor(() => root);
    const post = (query: string) => daemon().request('POST', `/build?${query}`);

    test('POST /build?remote=: a Git URL with dockerfile= inside it, an archive, a Dockerfile, and errors', async () => {
      const g = await post(`t=api:git&dockerfile=Other.Dockerfile&remote=${encodeURIComponent(`git://127.0.0.1:${gitPort}/app.git#main:sub`)}`);
      assert.equal(g.status, 200);
      assert.match(g.body, /"aux":\{"ID":"sha256:[a-f0-9]{64}"\}/);
      assert.equal(await out('api:git', 'cat', '/other'), 'from sub\n');
      const t = await post(`t=api:tar&remote=${encodeURIComponent(`${webUrl}/ctx.txz`)}`);
      assert.match(t.body, /Successfully tagged api:tar/);
      assert.equal(await out('api:tar', 'cat', '/data'), 'from a tarball\n');
      const d = await post(`t=api:df&remote=${encodeURIComponent(`${webUrl}/Dockerfile`)}`);
      assert.match(d.body, /Successfully tagged api:df/);
      const bad = await post(`remote=${encodeURIComponent(`git://127.0.0.1:${gitPort}/app.git#nope`)}`);
      assert.match(bad.status === 200 ? bad.body : bad.body, /couldn't find remote ref/);
      const notUrl = await post('remote=ftp%3A%2F%2Fx');
      assert.equal(notUrl.status, 400);
      assert.deepEqual(scratchLeft(), []);
    });

    test('docker-py: client.images.build(path=<git URL>)', { skip: spawnSync('python3', ['-c', 'import docker']).status !== 0 && 'needs python3-docker' }, async () => {
      const script = `
import docker
c = docker.DockerClient(base_url='unix://${daemon().socket}')
img, logs = c.images.build(path='git://127.0.0.1:${gitPort}/app.git#v1', tag='py:git')
print(img.id)
try:
    c.images.build(path='${webUrl}/missing.tgz')
except (docker.errors.BuildError, docker.errors.APIError) as e:
    print('failed', e)
`;
      // Not spawnSync: the HTTP server the daemon downloads from runs in this process.
      const r = await collect(spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] }), 120_000);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^sha256:[a-f0-9]{64}\nfailed .*404/s);
    });
  });
});
