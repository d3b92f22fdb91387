// bin/berth's start (src/cli/start.ts): the bundle runs with a V8 code cache per command, made at
// the end of the command's first run, and a rebuilt bundle never runs an older bundle's cache.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { REPO } from '../helpers/berth.ts';

const NODE = path.join(REPO, 'node_modules/node/bin/node');

/** A copy of the bundle files in a tree of its own, so the test owns its .cache/code. */
function tree(): { dir: string; berth: (args: string[]) => string; caches: () => string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-code-cache-'));
  fs.mkdirSync(path.join(dir, 'dist'));
  for (const f of ['berth-start.cjs', 'berth.cjs', 'berth-build.cjs']) fs.copyFileSync(path.join(REPO, 'dist', f), path.join(dir, 'dist', f));
  const berth = (args: string[]) => execFileSync(NODE, [path.join(dir, 'dist/berth-start.cjs'), ...args], { encoding: 'utf8', env: { ...process.env, BERTH_ROOT: path.join(dir, 'root') } });
  const caches = () => {
    try {
      return fs.readdirSync(path.join(dir, '.cache/code')).sort();
    } catch {
      return [];
    }
  };
  return { dir, berth, caches };
}

test('a command writes its code cache once, and runs the same with it', (t) => {
  const { dir, berth, caches } = tree();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const first = berth(['version']);
  assert.match(first, /^berth version \d/m);
  const [made] = caches();
  assert.match(made, /^version-[0-9a-f]+-\d+-\d+-\d+-\d+\.bin$/);
  const file = path.join(dir, '.cache/code', made);
  const { mtimeMs } = fs.statSync(file);
  assert.equal(berth(['version']), first);
  assert.equal(fs.statSync(file).mtimeMs, mtimeMs, 'an accepted cache is not written again');
  // Global options before the command name the same cache; another command has its own.
  berth(['--root', path.join(dir, 'root'), 'version']);
  berth(['images', '-q']);
  assert.deepEqual(caches().map((n) => n.split('-')[0]), ['images', 'version']);
  // build runs its own bundle (without the other commands); -v before it still means version.
  assert.match(berth(['build', '--help']), /^Usage: +berth build/);
  const ino = fs.statSync(path.join(dir, 'dist/berth-build.cjs')).ino;
  assert.ok(caches().some((n) => new RegExp(`^build-[0-9a-f]+-${ino}-`).test(n)), caches().join(' '));
  assert.equal(berth(['-v', 'build']), first);
  // Other V8 flags (bin/berth's for ps) make a cache of their own, and leave the first one be.
  const before = caches();
  execFileSync(NODE, ['--invocation-count-for-maglev=4000', path.join(dir, 'dist/berth-start.cjs'), 'version'], { env: { ...process.env, BERTH_ROOT: path.join(dir, 'root') } });
  assert.equal(caches().filter((n) => n.startsWith('version-')).length, 2);
  assert.ok(before.every((n) => caches().includes(n)));
});

test('a rebuilt bundle of the same length does not run the old bundle\'s cache; a corrupt cache is replaced', (t) => {
  const { dir, berth, caches } = tree();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bundle = path.join(dir, 'dist/berth.cjs');
  const v = berth(['version']).match(/^berth version (\S+)/m)![1];
  // V8 checks only a cache's source length: the same length with another version string would
  // run the old bytecode (and print the old version) if the cache were taken.
  const other = v.replace(/\d$/, (d) => String((Number(d) + 1) % 10));
  const text = fs.readFileSync(bundle, 'utf8').replace(`VERSION = "${v}"`, `VERSION = "${other}"`);
  assert.equal(text.length, fs.statSync(bundle).size);
  fs.writeFileSync(`${bundle}.tmp`, text);
  fs.renameSync(`${bundle}.tmp`, bundle);
  assert.match(berth(['version']), new RegExp(`^berth version ${other.replace(/\./g, '\\.')}$`, 'm'));
  assert.equal(caches().length, 1, 'the old bundle\'s cache of the command is removed');

  const file = path.join(dir, '.cache/code', caches()[0]);
  fs.writeFileSync(file, Buffer.alloc(4096, 7));
  assert.match(berth(['version']), new RegExp(`^berth version ${other.replace(/\./g, '\\.')}$`, 'm'));
  assert.notEqual(fs.readFileSync(file)[0], 7, 'a rejected cache is written anew');
});
