// The build section into the builder's options, and when up builds, pulls or uses an image.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildPlan, imageAction } from '../../src/compose/build.ts';
import { loadProject } from '../../src/compose/load.ts';
import type { Service } from '../../src/compose/types.ts';

function project(text: string, env: Record<string, string> = {}) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-build-'));
  fs.writeFileSync(path.join(d, 'compose.yaml'), text);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return { dir: d, p: loadProject({ files: [path.join(d, 'compose.yaml')], projectName: 'shop' }) };
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
  }
}

test('build plan: context relative to the file, dockerfile inside it or not, args, labels, tags, target, secrets', () => {
  const { dir, p } = project(`
services:
  web:
    build:
      context: app
      dockerfile: docker/Dockerfile.prod
      target: prod
      args: [FROM_ENV, UNSET_ARG, "PLAIN=1"]
      labels: ["a.b=c"]
      tags: ["extra:1"]
      cache_from: [old:1]
      secrets: [{source: tok, target: token}]
      shm_size: 64m
  other:
    build: {context: ., dockerfile: ../elsewhere/Dockerfile}
    image: mine/other:2
secrets:
  tok: {environment: FROM_ENV}
`, { FROM_ENV: 'env-value' });
  const plan = buildPlan(p, 'web', { args: { PLAIN: '2' }, noCache: true }, (s) => `/files/${s}`);
  assert.deepEqual(plan.opts.context, { dir: path.join(dir, 'app') });
  assert.equal(plan.opts.dockerfile, 'docker/Dockerfile.prod');
  assert.equal(plan.opts.target, 'prod');
  assert.deepEqual(plan.opts.buildArgs, { FROM_ENV: 'env-value', PLAIN: '2' });
  assert.deepEqual(plan.opts.labels, { 'a.b': 'c' });
  assert.deepEqual(plan.opts.tags, ['shop-web', 'extra:1']);
  assert.deepEqual(plan.opts.cacheFrom, ['old:1']);
  assert.deepEqual(plan.opts.secrets, [{ id: 'token', src: '/files/tok' }]);
  assert.equal(plan.opts.noCache, true);
  assert.deepEqual(plan.warnings, ['service "web": build.shm_size is ignored: not supported by the builder']);
  const other = buildPlan(p, 'other', {}, () => '');
  assert.deepEqual(other.opts.tags, ['mine/other:2']);
  assert.equal(other.opts.dockerfile, undefined);
  assert.equal(other.dockerfileOutside, path.join(path.dirname(dir), 'elsewhere/Dockerfile'));
});

test('image action: --build, pull_policy, a missing image, --no-build', () => {
  const built = { image: 'x', build: { context: '/c' } } as Service;
  const pulled = { image: 'x' } as Service;
  assert.equal(imageAction('s', built, true, {}), 'use');
  assert.equal(imageAction('s', built, false, {}), 'build');
  assert.equal(imageAction('s', built, true, { build: true }), 'build');
  assert.equal(imageAction('s', { ...built, pull_policy: 'build' }, true, {}), 'build');
  assert.equal(imageAction('s', { ...built, pull_policy: 'always' }, true, {}), 'pull');
  assert.throws(() => imageAction('s', built, false, { noBuild: true }), /--no-build forbids building it/);
  assert.equal(imageAction('s', built, true, { build: true, noBuild: true }), 'use');
  assert.equal(imageAction('s', pulled, false, {}), 'pull');
  assert.equal(imageAction('s', pulled, true, {}), 'use');
  assert.equal(imageAction('s', pulled, true, { pull: 'always' }), 'pull');
  assert.throws(() => imageAction('s', { ...pulled, pull_policy: 'never' }, false, {}), /pull_policy is never/);
  assert.throws(() => imageAction('s', { ...pulled, pull_policy: 'build' }, true, {}), /has no build section/);
});

test('build plan: a remote context stays a URL, with its dockerfile inside it; ssh key paths from the file\'s directory', () => {
  const { dir, p } = project(`
services:
  r:
    build:
      context: https://example.com/repo.git#main:app
      dockerfile: docker/Dockerfile
      ssh: {default: "", deploy: ./keys/a}
`);
  const plan = buildPlan(p, 'r', {}, () => '');
  assert.deepEqual(plan.opts.context, { remote: 'https://example.com/repo.git#main:app' });
  assert.equal(plan.opts.dockerfile, 'docker/Dockerfile');
  assert.deepEqual(plan.ssh, ['default', `deploy=${path.join(dir, 'keys/a')}`]);
});
