import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadProject, normalizeProjectName } from '../../src/compose/load.ts';
import { parsePort, parseServiceVolume, shellSplit } from '../../src/compose/normalize.ts';

function dir(files: Record<string, string>): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-load-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(d, name)), { recursive: true });
    fs.writeFileSync(path.join(d, name), text);
  }
  return d;
}

const load = (d: string, o: Parameters<typeof loadProject>[0] = {}) => loadProject({ cwd: d, env: {}, ...o });

test('files: compose.yaml and its override found; the project name is the directory name', () => {
  const d = dir({ 'My App/compose.yaml': 'services:\n  web:\n    image: busybox\n    environment: [A=1]\n', 'My App/compose.override.yaml': 'services:\n  web:\n    environment: {B: 2}\n' });
  const p = load(path.join(d, 'My App', 'sub'.replace('sub', '')));
  assert.equal(p.name, 'myapp');
  assert.deepEqual(p.services.web.environment, { A: '1', B: '2' });
  assert.equal(p.configFiles.length, 2);
  assert.deepEqual(p.networks, { default: { name: 'myapp_default' } });
  assert.throws(() => load(fs.mkdtempSync(path.join(os.tmpdir(), 'empty-'))), /no configuration file provided/);
});

test('project name: -p over COMPOSE_PROJECT_NAME over name: over the directory', () => {
  const d = dir({ 'compose.yaml': 'name: fromfile\nservices:\n  a: {image: x}\n', '.env': 'COMPOSE_PROJECT_NAME=fromdotenv\n' });
  assert.equal(load(d, { projectName: 'flag' }).name, 'flag');
  assert.equal(load(d).name, 'fromdotenv');
  fs.rmSync(path.join(d, '.env'));
  assert.equal(load(d).name, 'fromfile');
  assert.throws(() => load(d, { projectName: 'Bad Name' }), /invalid project name/);
  assert.equal(normalizeProjectName('My_App.v2'), 'my_appv2');
});

test('interpolation from the environment over .env, with --env-file instead of .env', () => {
  const d = dir({ 'compose.yaml': 'services:\n  a:\n    image: "busybox:${TAG:-latest}"\n    command: echo ${MSG:?say something}\n', '.env': 'MSG=hi\nTAG=1\n', 'prod.env': 'MSG=prod\n' });
  assert.equal(load(d).services.a.image, 'busybox:1');
  assert.equal(load(d, { env: { TAG: '2' } }).services.a.image, 'busybox:2');
  assert.deepEqual(load(d, { envFiles: ['prod.env'] }).services.a.command, ['echo', 'prod']);
  fs.writeFileSync(path.join(d, '.env'), '');
  assert.throws(() => load(d), /services\.a\.command: required variable MSG is missing a value: say something/);
});

test('schema errors name the file, the path and what was expected', () => {
  const cases: Array<[string, RegExp]> = [
    ['services:\n  web:\n    image: x\n    ports: [true]\n', /compose\.yaml: services\.web\.ports\[0\] must be a number, a string or a mapping$/],
    ['services:\n  web:\n    image: x\n    imagee: y\n', /compose\.yaml: services\.web: additional property imagee is not allowed$/],
    ['services:\n  web:\n    image: x\n    depends_on: {db: {condition: nope}}\n', /services\.web\.depends_on\.db\.condition must be one of/],
    ['services: [a]\n', /compose\.yaml: services must be a mapping/],
    ['services:\n  web:\n    image: [\n', /compose\.yaml: yaml:/],
  ];
  for (const [text, want] of cases) assert.throws(() => load(dir({ 'compose.yaml': text })), want);
});

test('merge: -f files in order; ports and volumes unique by key, command replaced, !reset and !override', () => {
  const d = dir({
    'a.yaml': 'services:\n  web:\n    image: x\n    command: [a, b]\n    ports: ["8080:80", "9090:90"]\n    volumes: ["v1:/data", "./x:/x"]\n    dns: [1.1.1.1]\n    labels: {k: v}\nvolumes: {v1: {}, v2: {}}\n',
    'b.yaml': 'services:\n  web:\n    command: c\n    ports: ["8080:80", "7070:70"]\n    volumes: ["v2:/data"]\n    dns: [8.8.8.8]\n    labels: !reset {}\n',
    'c.yaml': 'services:\n  web:\n    ports: !override ["1:1"]\n',
  });
  const p = load(d, { files: ['a.yaml', 'b.yaml', 'c.yaml'] });
  const web = p.services.web;
  assert.deepEqual(web.command, ['c']);
  assert.deepEqual(web.ports, [{ mode: 'ingress', protocol: 'tcp', target: 1, published: '1' }]);
  assert.deepEqual(web.volumes?.map((v) => `${v.source}:${v.target}`), ['v2:/data', `${d}/x:/x`]);
  assert.deepEqual(web.dns, ['1.1.1.1', '8.8.8.8']);
  assert.equal(web.labels, undefined);
  assert.equal(load(d, { files: ['a.yaml', 'b.yaml'] }).services.web.ports?.length, 3);
  fs.writeFileSync(path.join(d, 'd.yaml'), 'services:\n  web: !override\n    image: y\n  extra: {image: z}\n');
  assert.deepEqual(load(d, { files: ['a.yaml', 'd.yaml'] }).services.web, { image: 'y', networks: { default: null } });
  fs.writeFileSync(path.join(d, 'e.yaml'), 'services:\n  extra: !reset null\n');
  assert.deepEqual(Object.keys(load(d, { files: ['a.yaml', 'd.yaml', 'e.yaml'] }).services), ['web']);
});

test('extends (same file and another file), include, anchors and merge keys', () => {
  const d = dir({
    'compose.yaml': [
      'include: [sub/inc.yaml]',
      'x-base: &base {image: busybox, environment: {A: "1"}}',
      'services:',
      '  base: {<<: *base, command: [base]}',
      '  child: {extends: base, environment: {B: "2"}}',
      '  far: {extends: {file: other.yaml, service: svc}}',
    ].join('\n'),
    'other.yaml': 'services:\n  svc:\n    image: far\n    volumes: [./here:/here]\n',
    'sub/inc.yaml': 'services:\n  inc:\n    image: inc\n    volumes: [./d:/d]\n',
  });
  const p = load(d);
  assert.deepEqual(p.services.child.environment, { A: '1', B: '2' });
  assert.deepEqual(p.services.child.command, ['base']);
  assert.equal(p.services.far.image, 'far');
  assert.equal(p.services.far.volumes?.[0].source, path.join(d, 'here'));
  assert.equal(p.services.inc.volumes?.[0].source, path.join(d, 'sub', 'd'));
});

test('profiles: inactive services are left out unless enabled; a required dependency on one is an error', () => {
  const d = dir({ 'compose.yaml': 'services:\n  a: {image: x}\n  dbg: {image: x, profiles: [debug]}\n' });
  assert.deepEqual(Object.keys(load(d).services), ['a']);
  assert.deepEqual(Object.keys(load(d, { profiles: ['debug'] }).services).sort(), ['a', 'dbg']);
  assert.deepEqual(Object.keys(load(d, { env: { COMPOSE_PROFILES: 'debug' } }).services).sort(), ['a', 'dbg']);
  assert.deepEqual(Object.keys(load(d, { targets: ['dbg'] }).services).sort(), ['a', 'dbg']);
});

test('bad projects fail before anything: cycles, undefined references, no image', () => {
  const cases: Array<[string, RegExp]> = [
    ['services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n', /dependency cycle detected: a -> b -> a|b -> a -> b/],
    ['services:\n  a: {image: x, depends_on: [zz]}\n', /depends on undefined service "zz"/],
    ['services:\n  a: {image: x, networks: [front]}\n', /refers to undefined network front/],
    ['services:\n  a: {image: x, volumes: ["data:/d"]}\n', /refers to undefined volume data/],
    ['services:\n  a: {command: x}\n', /neither an image nor a build context/],
  ];
  for (const [text, want] of cases) assert.throws(() => load(dir({ 'compose.yaml': text })), want);
});

test('short syntax: ports, volumes and commands', () => {
  assert.deepEqual(parsePort('127.0.0.1:8000-8001:80-81/udp', 'p'), [
    { mode: 'ingress', host_ip: '127.0.0.1', protocol: 'udp', target: 80, published: '8000' },
    { mode: 'ingress', host_ip: '127.0.0.1', protocol: 'udp', target: 81, published: '8001' },
  ]);
  assert.deepEqual(parsePort('8000-8010:80', 'p'), [{ mode: 'ingress', protocol: 'tcp', target: 80, published: '8000-8010' }]);
  assert.deepEqual(parsePort(80, 'p'), [{ mode: 'ingress', protocol: 'tcp', target: 80 }]);
  assert.throws(() => parsePort('1-3:1-2', 'p'), /don't match/);
  assert.deepEqual(parseServiceVolume('./a:/b:ro', '/proj', 'v'), { type: 'bind', source: '/proj/a', target: '/b', read_only: true, bind: { create_host_path: true } });
  assert.deepEqual(parseServiceVolume('name:/b:nocopy', '/proj', 'v'), { type: 'volume', source: 'name', target: '/b', volume: { nocopy: true } });
  assert.deepEqual(shellSplit(`sh -c 'echo "$A" b' "x y" z\\ w`), ['sh', '-c', 'echo "$A" b', 'x y', 'z w']);
});

test('the validator kept in a cache directory reports as the freshly compiled one', () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-cache-'));
  const d = dir({ 'compose.yaml': 'services:\n  web:\n    image: x\n    ports: [true]\n' });
  const run = () => assert.throws(() => load(d, { cacheDir: cache }), /services\.web\.ports\[0\] must be a number, a string or a mapping/);
  run();
  const files = fs.readdirSync(cache);
  assert.equal(files.length, 1);
  assert.match(files[0], /^compose-schema-[0-9a-f]{16}\.cjs$/);
  run();
  // A damaged cache file is compiled again, not trusted, and written anew.
  const other = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-cache-'));
  fs.writeFileSync(path.join(other, files[0]), 'syntax error(');
  assert.throws(() => load(d, { cacheDir: other }), /ports\[0\] must be/);
  assert.equal(fs.readFileSync(path.join(other, files[0]), 'utf8'), fs.readFileSync(path.join(cache, files[0]), 'utf8'));
});

test('yaml: a plain integer with a leading zero is octal (a file mode), as docker compose reads it', async () => {
  const { parseYaml } = await import('../../src/compose/yaml.ts');
  assert.deepEqual(parseYaml('a: 0440\nb: 440\nc: "0440"\nd: 0\ne: 08\nf: yes\n', 'x.yaml'), { a: 0o440, b: 440, c: '0440', d: 0, e: 8, f: 'yes' });
});
