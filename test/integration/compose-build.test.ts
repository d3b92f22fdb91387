// berth compose with services built from a Dockerfile: up of a service whose image is missing,
// up --build, compose build, pull_policy: build, the build section's args, target, dockerfile,
// labels and tags, a context relative to the compose file; in-process, through berth's daemon,
// and docker-compose 1.29 building through the daemon.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH, collect, isRoot, TestRoot, type Result } from '../helpers/berth.ts';
import { TestDaemon } from '../helpers/daemon.ts';

const DOCKER_COMPOSE = '/usr/bin/docker-compose';
const skip = !isRoot ? 'needs root' : false;

const DOCKERFILE = `FROM busybox AS base
ARG GREETING=hi
RUN echo "$GREETING" > /greeting
FROM base AS prod
RUN echo prod > /stage
FROM base AS dev
RUN echo dev > /stage
LABEL from.dockerfile=yes
CMD ["sh", "-c", "cat /greeting /stage; trap 'exit 0' TERM; sleep 1000 & wait"]
`;

const COMPOSE = `
services:
  app:
    build:
      context: ./svc
      dockerfile: Dockerfile.dev
      target: dev
      args:
        GREETING: \${GREETING:-hello}
      tags: ["berth-test-extra:1"]
      labels:
        com.example.built-by: compose
  tool:
    build: ./tool
    image: berth-test/tool:dev
    pull_policy: build
    command: ["cat", "/v"]
`;

/** An app directory: compose.yaml with the contexts svc/ and tool/ beside it. */
function writeApp(dir: string, toolVersion = 'v1'): void {
  fs.mkdirSync(path.join(dir, 'svc'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'tool'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'svc', 'Dockerfile.dev'), DOCKERFILE);
  fs.writeFileSync(path.join(dir, 'tool', 'Dockerfile'), `FROM busybox\nRUN echo ${toolVersion} > /v\n`);
  fs.writeFileSync(path.join(dir, 'compose.yaml'), COMPOSE);
}

describe('berth compose build', { skip }, () => {
  let root: TestRoot;
  let dir: string;
  const compose = (args: string[]) => root.run(['compose', '-f', path.join(dir, 'compose.yaml'), '-p', 'bld', ...args], { timeoutMs: 120_000 });
  const inspect = async (what: string) => JSON.parse((await root.run(['inspect', what])).stdout)[0];

  before(async () => {
    root = await TestRoot.withBusybox();
    dir = fs.mkdtempSync(path.join(root.dir, 'app-'));
    writeApp(dir);
  });
  after(async () => {
    await root?.cleanup();
  });

  test('up builds a missing image with the build section\'s args, target, dockerfile, labels and tags', async () => {
    // The test's working directory is not the app's: the context is relative to the compose file.
    const up = await compose(['up', '-d']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /Service app {2}Built/);
    const logs = await root.eventually(() => compose(['logs', '--no-log-prefix', 'app']), (r) => r.stdout.includes('dev'));
    assert.equal(logs.stdout, 'hello\ndev\n');
    const image = await inspect('bld-app');
    assert.equal(image.Config.Labels['com.example.built-by'], 'compose');
    assert.equal(image.Config.Labels['from.dockerfile'], 'yes');
    assert.equal((await inspect('berth-test-extra:1')).Id, image.Id);
    assert.equal((await inspect('bld-app-1')).Image, image.Id);
    // tool has an image: name, so that is its tag.
    assert.match((await compose(['logs', 'tool'])).stdout, /bld-tool-1 +\| v1/);
  });

  test('a second up builds only pull_policy: build services; --build rebuilds and recreates what changed', async () => {
    const app1 = (await inspect('bld-app-1')).Id;
    const again = await compose(['up', '-d']);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /Service app {2}Build/);
    assert.match(again.stderr, /Service tool {2}Built/);
    assert.equal((await inspect('bld-app-1')).Id, app1);

    writeApp(dir, 'v2');
    const rebuilt = await root.run(['compose', '-f', path.join(dir, 'compose.yaml'), '-p', 'bld', 'up', '-d', '--build'], { timeoutMs: 120_000 });
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    assert.match(rebuilt.stderr, /Service app {2}Built/);
    // app's build was all cached: same image, same container. tool's image changed: recreated.
    assert.equal((await inspect('bld-app-1')).Id, app1);
    assert.match(rebuilt.stderr, /Container bld-tool-1 {2}Recreated/);
    const tool = await root.eventually(() => compose(['logs', 'tool']), (r) => /v2/.test(r.stdout));
    assert.match(tool.stdout, /bld-tool-1 +\| v2/);
    // tool's image is in no registry: compose pull warns, the service is built instead.
    const pull = await compose(['pull', 'tool']);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stderr, /Image berth-test\/tool:dev {2}\S/);
  });

  test('compose build takes --build-arg; the environment fills the file\'s variables; --no-build refuses a missing image', async () => {
    const b = await compose(['build', '--build-arg', 'GREETING=from-flag', 'app']);
    assert.equal(b.code, 0, b.stderr);
    const up = await compose(['up', '-d', 'app']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /Container bld-app-1 {2}Recreated/);
    const logs = await root.eventually(() => compose(['logs', '--no-log-prefix', 'app']), (r) => r.stdout.includes('from-flag'));
    assert.match(logs.stdout, /^from-flag\ndev\n$/m);

    assert.equal((await compose(['down', '--rmi', 'local'])).code, 0);
    assert.equal((await root.run(['image', 'inspect', 'bld-app'])).code, 1);
    // berth-test/tool:dev was named by the file (image:): --rmi local keeps it.
    assert.equal((await root.run(['image', 'inspect', 'berth-test/tool:dev'])).code, 0);
    // run builds a missing image too.
    const run = await compose(['run', '--rm', 'app', 'cat', '/greeting', '/stage']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'hello\ndev\n');
    assert.match(run.stderr, /Service app {2}Built/);
    assert.equal((await root.run(['rmi', 'bld-app'])).code, 0);
    const nobuild = await compose(['up', '-d', '--no-build', 'app']);
    assert.equal(nobuild.code, 125);
    assert.match(nobuild.stderr, /service "app": image not found, and --no-build forbids building it/);
    assert.equal((await root.run(['ps', '-aq'])).stdout, '');

    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'services:\n  x:\n    build: {context: ./svc, dockerfile: Dockerfile.dev, target: nope}\n');
    const failed = await root.run(['compose', '-f', bad, '-p', 'bld', 'up', '-d']);
    assert.equal(failed.code, 125);
    assert.match(failed.stderr, /service "x" failed to build: .*nope/);
  });

  test('a remote context (an HTTP URL) and build.ssh with a key file', async () => {
    const server = http.createServer((_req, res) => res.end('FROM busybox\nRUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo agent > /agent\nCMD ["cat", "/agent"]\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const key = path.join(dir, 'id_test');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/Dockerfile`;
      fs.writeFileSync(path.join(dir, 'remote.yaml'), `services:\n  r:\n    build:\n      context: ${url}\n      ssh: ["default=./id_test"]\n`);
      const up = await root.run(['compose', '-f', path.join(dir, 'remote.yaml'), '-p', 'rem', 'up'], { timeoutMs: 120_000 });
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stdout, /rem-r-1 +\| agent/);
      assert.equal((await root.run(['compose', '-f', path.join(dir, 'remote.yaml'), '-p', 'rem', 'down', '--rmi', 'local'])).code, 0);
    } finally {
      server.close();
    }
  });

  test('through berth\'s daemon: up --build builds in the daemon, relative to the client\'s file', async () => {
    const d = new TestDaemon(root);
    await d.start();
    try {
      // The file is interpolated from the client's environment, not the daemon's.
      const env: NodeJS.ProcessEnv = { ...process.env, BERTH_HOST: `unix://${d.socket}`, GREETING: 'from-the-client' };
      delete env.BERTH_ROOT;
      const up = await collect(spawn(BERTH, ['compose', '-f', path.join(dir, 'compose.yaml'), '-p', 'remote', 'up', '-d', '--build'], { env, stdio: ['ignore', 'pipe', 'pipe'] }), 120_000);
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stderr, /Service app {2}Built/);
      const logs = await root.eventually(() => d.berth(['compose', '-p', 'remote', 'logs', '--no-log-prefix', 'app']), (r) => r.stdout.includes('dev'));
      assert.equal(logs.stdout, 'from-the-client\ndev\n');
      assert.equal((await d.berth(['compose', '-f', path.join(dir, 'compose.yaml'), '-p', 'remote', 'down', '--rmi', 'local'])).code, 0);
      assert.equal((await root.run(['ps', '-aq'])).stdout, '');
    } finally {
      await d.stop();
    }
  });
});

describe('docker-compose 1.29 builds through berth daemon', { skip: skip || (!fs.existsSync(DOCKER_COMPOSE) && 'needs docker-compose') }, () => {
  let root: TestRoot;
  let dir: string;
  let d: TestDaemon;
  const dc = (args: string[]): Promise<Result> =>
    collect(spawn(DOCKER_COMPOSE, ['-f', path.join(dir, 'compose.yaml'), '-p', 'legacybuild', ...args], { env: { ...process.env, DOCKER_HOST: `unix://${d.socket}` }, stdio: ['ignore', 'pipe', 'pipe'] }), 120_000);

  before(async () => {
    root = await TestRoot.withBusybox();
    dir = fs.mkdtempSync(path.join(root.dir, 'app-'));
    writeApp(dir);
    // 1.29 reads the legacy format: no build.tags or pull_policy: build.
    fs.writeFileSync(path.join(dir, 'compose.yaml'), COMPOSE.replace(/ *tags: .*\n/, '').replace(/ *pull_policy: build\n/, '').replace('${GREETING:-hello}', 'hello-dc'));
    d = new TestDaemon(root);
    await d.start();
  });
  after(async () => {
    await d?.stop();
    await root?.cleanup();
  });

  test('build, up --build, logs, images, down --rmi local: as against dockerd', async () => {
    const b = await dc(['build']);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout + b.stderr, /Successfully tagged legacybuild_app:latest/);
    assert.match(b.stdout + b.stderr, /Successfully tagged berth-test\/tool:dev/);
    const up = await dc(['up', '-d', '--build']);
    assert.equal(up.code, 0, up.stderr);
    const logs = await root.eventually(() => dc(['logs', '--no-color']), (r) => /dev/.test(r.stdout) && /v1/.test(r.stdout));
    assert.match(logs.stdout, /app_1 +\| hello-dc\n.*app_1 +\| dev/s);
    assert.match(logs.stdout, /tool_1 +\| v1/);
    const image = JSON.parse((await root.run(['image', 'inspect', 'legacybuild_app'])).stdout)[0];
    assert.equal(image.Config.Labels['com.example.built-by'], 'compose');
    const images = await dc(['images']);
    assert.match(images.stdout, /legacybuild_app_1 +legacybuild_app +latest/);
    const down = await dc(['down', '--rmi', 'local']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal((await root.run(['ps', '-aq'])).stdout, '');
    assert.equal((await root.run(['image', 'inspect', 'legacybuild_app'])).code, 1);
  });
});
