// develop.watch rules: checked as docker compose v2 checks them, and a batch of changed paths
// into what each service needs (files to sync, a restart, a rebuild).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadProject } from '../../src/compose/load.ts';
import { planChanges, watchRules } from '../../src/compose/watch.ts';

function project(text: string) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-watch-'));
  fs.writeFileSync(path.join(d, 'compose.yaml'), text);
  return { dir: d, p: loadProject({ files: [path.join(d, 'compose.yaml')], projectName: 'w' }) };
}

const APP = `
services:
  web:
    build: ./web
    develop:
      watch:
        - {path: ./web/html, action: sync, target: /www/, ignore: ["*.tmp", cache/]}
        - {path: ./web/nginx.conf, action: sync+restart, target: /etc/nginx.conf}
        - {path: ./web/package.json, action: rebuild}
  api:
    build: ./api
    develop:
      watch:
        - {path: ./api/src, action: sync+exec, target: /app, exec: {command: "kill -HUP 1"}}
  db: {image: busybox}
`;

test('rules: paths from the project directory, targets normalised; bad rules are refused', () => {
  const { dir, p } = project(APP);
  const rules = watchRules(p, [], (d) => (d === path.join(dir, 'web') ? 'html/node_modules\n**/*.log\n' : undefined));
  assert.deepEqual(rules.map((r) => [r.service, r.path, r.action, r.target]), [
    ['web', path.join(dir, 'web/html'), 'sync', '/www/'],
    ['web', path.join(dir, 'web/nginx.conf'), 'sync+restart', '/etc/nginx.conf'],
    ['web', path.join(dir, 'web/package.json'), 'rebuild', undefined],
    ['api', path.join(dir, 'api/src'), 'sync+exec', '/app'],
  ]);
  assert.deepEqual(rules[3].exec?.command, ['/bin/sh', '-c', 'kill -HUP 1']);
  assert.throws(() => watchRules(p, ['db'], () => undefined), /none of the selected services is configured for watch/);
  const bad = (rule: string, want: RegExp) => assert.throws(() => watchRules(project(`services:\n  s:\n    image: busybox\n    develop: {watch: [${rule}]}\n`).p, [], () => undefined), want);
  bad('{path: ., action: sync}', /action sync needs a target/);
  bad('{path: ., action: sync, target: rel}', /must be an absolute path/);
  bad('{path: ., action: rebuild}', /action rebuild needs a build section/);
  bad('{path: ., action: explode}', /action must be one of "rebuild", "sync"/);
});

test('a batch: synced paths mapped into the target, ignores (the rule\'s, .dockerignore\'s, editors\'), restart and rebuild', () => {
  const { dir, p } = project(APP);
  const rules = watchRules(p, [], (d) => (d === path.join(dir, 'web') ? 'html/node_modules\n**/*.log\n' : undefined));
  const at = (...xs: string[]) => xs.map((x) => path.join(dir, x));
  let plan = planChanges(rules, at('web/html/index.html', 'web/html/a/b.css', 'web/html/x.tmp', 'web/html/cache/y', 'web/html/.index.html.swp',
    'web/html/node_modules/m.js', 'web/html/debug.log', 'web/html/.git/HEAD', 'web/other.txt', 'api/src/main.js'));
  const web = plan.get('web')!;
  assert.deepEqual([...web.syncs], [[path.join(dir, 'web/html/index.html'), '/www/index.html'], [path.join(dir, 'web/html/a/b.css'), '/www/a/b.css']]);
  assert.equal(web.count, 2);
  assert.equal(web.restart, false);
  assert.equal(web.rebuild, false);
  assert.deepEqual([...plan.get('api')!.syncs.values()], ['/app/main.js']);
  assert.equal(plan.get('api')!.execs.length, 1);

  plan = planChanges(rules, at('web/nginx.conf', 'web/html/index.html'));
  assert.deepEqual([...plan.get('web')!.syncs.values()], ['/etc/nginx.conf', '/www/index.html']);
  assert.equal(plan.get('web')!.restart, true);
  // A rebuild replaces the containers: no copies or restart before it.
  plan = planChanges(rules, at('web/nginx.conf', 'web/package.json'));
  assert.deepEqual([plan.get('web')!.rebuild, plan.get('web')!.restart, plan.get('web')!.syncs.size], [true, false, 0]);
  assert.equal(plan.has('api'), false);
});
