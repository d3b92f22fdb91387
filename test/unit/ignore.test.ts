import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { BerthError } from '../../src/core/errors.ts';
import { cleanPath, ignoreFileCandidates, ignoreMatcher, loadIgnore, parseIgnore, readIgnoreLines, type MatchState } from '../../src/build/ignore.ts';

function expect(text: string, excluded: string[], included: string[]) {
  const m = parseIgnore(text);
  for (const p of excluded) assert.equal(m.matches(p), true, `${p} should be excluded by ${JSON.stringify(text)}`);
  for (const p of included) assert.equal(m.matches(p), false, `${p} should be included by ${JSON.stringify(text)}`);
}

test('the reference\'s .dockerignore example', () => {
  const text = '# comment\n*/temp*\n*/*/temp*\ntemp?\n';
  expect(
    text,
    ['somedir/temporary.txt', 'somedir/temp', 'somedir/temp/inside', 'somedir/subdir/temporary.txt', 'tempa', 'tempb'],
    ['temp', 'temporary.txt', 'tempab', 'a/b/c/temp', 'somedir', 'comment', '# comment'],
  );
});

test('** matches any number of directories', () => {
  expect('**/*.go', ['a.go', 'x/a.go', 'x/y/z/a.go'], ['a.goo', 'x/a.g']);
  expect('a/**/b', ['a/b', 'a/x/b', 'a/x/y/b', 'a/x/b/c'], ['a/bb', 'b', 'x/a/b']);
  expect('a/**', ['a/x', 'a/x/y'], ['a', 'ab']);
  expect('**', ['a', 'a/b', '.git'], []);
  expect('**/node_modules', ['node_modules', 'x/node_modules', 'x/node_modules/y'], ['node_modules2', 'xnode_modules']);
  expect('**foo', ['foo', 'barfoo', 'x/foo'], ['foox']);
});

test('exceptions with ! and the last matching line wins', () => {
  expect('*.md\n!README.md', ['CHANGES.md'], ['README.md', 'docs/x.md']);
  expect('*.md\n!README*.md\nREADME-secret.md', ['x.md', 'README-secret.md'], ['README-x.md']);
  expect('*.md\nREADME-secret.md\n!README*.md', ['x.md'], ['README-secret.md', 'README-x.md']);
  // An exception inside an excluded directory re-includes just that path.
  expect('build\n!build/keep', ['build', 'build/x', 'build/sub/y'], ['build/keep', 'build/keep/z']);
  expect('*\n!src\n!package.json', ['README', 'node_modules', 'node_modules/a'], ['src', 'src/a/b.ts', 'package.json']);
  // A later exclusion inside a re-included directory applies again.
  expect('*\n!src\nsrc/secret', ['x', 'src/secret', 'src/secret/a'], ['src', 'src/ok']);
});

test('patterns are cleaned: leading /, ./, trailing /, .. and blanks', () => {
  expect('/foo', ['foo', 'foo/x'], ['x/foo']);
  expect('./foo/', ['foo', 'foo/x'], ['foo2']);
  expect('  a/../b  ', ['b', 'b/c'], ['a', 'a/b']);
  expect('!  /keep\n', [], ['keep']);
  expect('#notcomment?\n #x\n', [], ['#notcomment', ' #x']);
  expect(' #x', ['#x'], []); // only a # in the first column starts a comment
  assert.deepEqual(readIgnoreLines('\ufeff/a\r\n!./b/\r\n\r\n# c\n/\n'), ['a', '!b', '/']);
  assert.equal(cleanPath('a//b/./c/..'), 'a/b');
  assert.equal(cleanPath(''), '.');
  assert.equal(cleanPath('../a'), '../a');
});

test('wildcards: * and ? stay in one element, classes, escapes', () => {
  expect('*.txt', ['a.txt', 'a.txt/inside'], ['d/a.txt', 'atxt']);
  expect('d?', ['da', 'd.'], ['d', 'd/a', 'dab']);
  expect('[a-c]x', ['ax', 'cx'], ['dx', 'Ax']);
  expect('[^a]x', ['bx'], ['ax']);
  expect('x\\*y', ['x*y'], ['xay']);
  expect('a.b', ['a.b'], ['axb']);
  expect('a+(b)|{c}$', ['a+(b)|{c}$'], ['aab']);
  expect('x]', ['x]'], ['x']);
  expect('é?', ['éa', 'é€'], ['é']);
  // `^` outside a class anchors (docker builds a regexp): only useful first, never in the middle.
  expect('^foo*', ['foo', 'foo1'], ['^foo']);
  expect('a^b*', [], ['a^b', 'ab']);
  expect('^foo', ['^foo'], ['foo']); // no wildcard: compared as plain text
  expect('[a\\-z]x', ['-x', 'ax', 'zx'], ['bx']);
  expect('**/*.go', ['a.go', 'a/b/c.go'], []);
});

test('wildcard matching takes linear time (docker\'s regexps never backtrack)', () => {
  const t0 = performance.now();
  assert.equal(parseIgnore('*a*a*a*a*a*a*a*a*a*b').matches('a'.repeat(200)), false);
  assert.equal(parseIgnore('**/a*/**/b*/**/c*/**/d*/**/e').matches(Array(40).fill('ab').join('/') + '/x'), false);
  assert.equal(parseIgnore('**/a*/**/b*/**/c*/**/d*/**/e').matches('a/b/c/d/e'), true);
  assert.ok(performance.now() - t0 < 500, `took ${performance.now() - t0} ms`);
});

test('malformed patterns are InvalidArgument errors', () => {
  assert.throws(() => parseIgnore('['), { name: 'BerthError', code: 'InvalidArgument', message: '.dockerignore: bad pattern "[": syntax error in pattern' });
  assert.throws(() => parseIgnore('a\\'), { code: 'InvalidArgument' });
  assert.throws(() => parseIgnore('!'), { code: 'InvalidArgument', message: '.dockerignore: illegal exclusion pattern: "!"' });
  assert.throws(() => parseIgnore(' ! '), { code: 'InvalidArgument' });
  // Classes as Go's filepath.Match validates them: not empty, no `]` or `-` first, ranges in order.
  for (const bad of ['[]a]', '[a-]', '[z-a]', '[-a]', '[^]', '[a', 'x[\\'])
    assert.throws(() => parseIgnore(bad), { code: 'InvalidArgument', message: `.dockerignore: bad pattern "${bad}": syntax error in pattern` }, bad);
});

test('walking: check() with the parent state agrees with matches(); mayReinclude() says where to descend', () => {
  const m = parseIgnore('node_modules\n*.log\nbuild\n!build/keep.txt\n');
  assert.equal(m.hasExceptions, true);
  assert.equal(m.mayReinclude('node_modules'), false);
  assert.equal(m.mayReinclude('build'), true);
  assert.equal(m.mayReinclude('x.log'), false);
  const n = parseIgnore('vendor\n!**/*.go');
  assert.equal(n.mayReinclude('vendor'), true); // a wildcard exception may match anywhere
  assert.equal(parseIgnore('a').mayReinclude('a'), false);
  assert.equal(parseIgnore('a\n!a/b/**').mayReinclude('a'), true);
  assert.equal(parseIgnore('a\n!a/b/**').mayReinclude('a/c'), false);

  const tree = ['a', 'a/b', 'a/b/c.log', 'build', 'build/keep.txt', 'build/other', 'node_modules', 'node_modules/x', 'src', 'src/x.log', 'src/main.ts'];
  const states = new Map<string, MatchState>();
  for (const p of tree) {
    const parent = p.includes('/') ? states.get(p.slice(0, p.lastIndexOf('/'))) : undefined;
    const r = m.check(p, parent);
    states.set(p, r.state);
    assert.equal(r.excluded, m.matches(p), p);
  }
  // `*.log` matches at the root only: `*` never crosses a `/` (docker's well-known surprise).
  assert.deepEqual(tree.filter((p) => !m.matches(p)), ['a', 'a/b', 'a/b/c.log', 'build/keep.txt', 'src', 'src/x.log', 'src/main.ts']);
});

// What `docker build` (docker CLI 28.2.2, classic builder, dockerd 20.10.24) sent for a context of
// these files: `COPY . /c` from scratch, then `docker export`. Each row: .dockerignore, files left out.
const CONTEXT = [".git/HEAD",".git/config","README-secret.md","README.md","a.txt","a/b/c/temp","a/b/temporary.txt","b.md","br[a]cket","build/keep.txt","build/other","build/sub/y","docs/README.md","docs/x.md","node_modules/m/index.js","sp ace/f","src/main.go","src/sub/deep.go","src/sub/temp1","src/x.log","temp","tempa","tempab","vendor/v.go","vendor/v.txt","x]"];
const DOCKER: [string, string[]][] = [
  ["# comment\n*/temp*\n*/*/temp*\ntemp?\n", ["a/b/temporary.txt","src/sub/temp1","tempa"]],
  ["*.md\n!README*.md\nREADME-secret.md\n", ["README-secret.md","b.md"]],
  ["*.md\nREADME-secret.md\n!README*.md\n", ["b.md"]],
  ["**/*.go\n", ["src/main.go","src/sub/deep.go","vendor/v.go"]],
  ["build\n!build/keep.txt\n", ["build/other","build/sub/y"]],
  ["*\n!src\n!build/keep.txt\nsrc/sub\n", [".git/HEAD",".git/config","README-secret.md","README.md","a.txt","a/b/c/temp","a/b/temporary.txt","b.md","br[a]cket","build/other","build/sub/y","docs/README.md","docs/x.md","node_modules/m/index.js","sp ace/f","src/sub/deep.go","src/sub/temp1","temp","tempa","tempab","vendor/v.go","vendor/v.txt","x]"]],
  ["/node_modules/\n./.git\n*.log\n", [".git/HEAD",".git/config","node_modules/m/index.js"]],
  ["a/**/temp*\n**/temp1\n", ["a/b/c/temp","a/b/temporary.txt","src/sub/temp1"]],
  ["br[a]cket\nx\\]\nsp?ace\n", ["sp ace/f","x]"]],
  ["**\n!vendor/*.go\n!docs\n", [".git/HEAD",".git/config","README-secret.md","README.md","a.txt","a/b/c/temp","a/b/temporary.txt","b.md","br[a]cket","build/keep.txt","build/other","build/sub/y","node_modules/m/index.js","sp ace/f","src/main.go","src/sub/deep.go","src/sub/temp1","src/x.log","temp","tempa","tempab","vendor/v.txt","x]"]],
  // The classic builder also left out vendor/v.go here: its walker skips an excluded directory unless
  // an exception starts with the directory's path. BuildKit's walker (fsutil) goes in when an
  // exception has wildcards, so `!**/*.go` re-includes vendor/v.go; berth follows BuildKit.
  ["vendor\n!**/*.go\n", ["vendor/v.txt"]],
  ["a\n!a/b\na\n", []],
  ["[^bt]*\n!a.txt\n", [".git/HEAD",".git/config","README-secret.md","README.md","a/b/c/temp","a/b/temporary.txt","docs/README.md","docs/x.md","node_modules/m/index.js","sp ace/f","src/main.go","src/sub/deep.go","src/sub/temp1","src/x.log","vendor/v.go","vendor/v.txt","x]"]],
  ["  src/../docs  \n!docs/README.md\n #x\n", ["docs/x.md"]],
];

test('agrees with what the docker CLI leaves out of a context', () => {
  for (const [text, excluded] of DOCKER) {
    const m = parseIgnore(text);
    assert.deepEqual(CONTEXT.filter((f) => m.matches(f)), excluded, text);
  }
});

test('paths given to matches() are cleaned too', () => {
  const m = parseIgnore('a/b');
  assert.equal(m.matches('./a/b'), true);
  assert.equal(m.matches('/a/b/'), true);
  assert.equal(m.matches('a//b/c'), true);
  assert.equal(m.matches('.'), false);
  assert.equal(ignoreMatcher([]).matches('anything'), false);
});

test('<Dockerfile>.dockerignore beside the Dockerfile wins over the context\'s .dockerignore', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ignore-'));
  try {
    fs.mkdirSync(path.join(dir, 'docker'));
    fs.writeFileSync(path.join(dir, '.dockerignore'), 'root-rule\n');
    assert.deepEqual(ignoreFileCandidates(dir, 'docker/Dockerfile.prod'), [path.join(dir, 'docker/Dockerfile.prod.dockerignore'), path.join(dir, '.dockerignore')]);
    assert.equal(loadIgnore(dir, 'docker/Dockerfile.prod').matches('root-rule'), true);
    fs.writeFileSync(path.join(dir, 'docker/Dockerfile.prod.dockerignore'), 'prod-rule\n');
    const m = loadIgnore(dir, 'docker/Dockerfile.prod');
    assert.equal(m.matches('prod-rule'), true);
    assert.equal(m.matches('root-rule'), false);
    assert.equal(loadIgnore(dir).matches('root-rule'), true);
    assert.equal(loadIgnore(path.join(dir, 'docker')).matches('x'), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the ignore file is looked up inside the context: a Dockerfile name with .. or / and symlinks stay in it', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ignore-'));
  try {
    const dir = path.join(base, 'ctx');
    fs.mkdirSync(dir);
    // Outside the context: what a remote client's dockerfile=../out/Dockerfile would name.
    fs.mkdirSync(path.join(base, 'out'));
    fs.writeFileSync(path.join(base, 'out/Dockerfile.dockerignore'), 'host-rule\n');
    fs.writeFileSync(path.join(base, 'rules'), 'host-rule\n');
    assert.deepEqual(ignoreFileCandidates(dir, '../out/Dockerfile'), [path.join(dir, 'out/Dockerfile.dockerignore'), path.join(dir, '.dockerignore')]);
    assert.deepEqual(ignoreFileCandidates(dir, path.join(base, 'out/Dockerfile'))[0], path.join(dir, base, 'out/Dockerfile.dockerignore'));
    assert.equal(loadIgnore(dir, '../out/Dockerfile').matches('host-rule'), false);
    assert.equal(loadIgnore(dir, path.join(base, 'out/Dockerfile')).matches('host-rule'), false);
    fs.symlinkSync(path.join(base, 'rules'), path.join(dir, '.dockerignore'));
    assert.equal(loadIgnore(dir).matches('host-rule'), false);
    fs.rmSync(path.join(dir, '.dockerignore'));
    fs.symlinkSync('../../rules', path.join(dir, '.dockerignore'));
    assert.equal(loadIgnore(dir).matches('host-rule'), false);
    // A link that stays inside is followed.
    fs.rmSync(path.join(dir, '.dockerignore'));
    fs.writeFileSync(path.join(dir, 'mine'), 'my-rule\n');
    fs.symlinkSync('/mine', path.join(dir, '.dockerignore'));
    assert.equal(loadIgnore(dir).matches('my-rule'), true);
    fs.rmSync(path.join(dir, '.dockerignore'));
    fs.mkdirSync(path.join(dir, '.dockerignore'));
    assert.throws(() => loadIgnore(dir), /not a regular file/);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('property: matching never throws, and a plain pattern excludes exactly that path and what is under it', () => {
  const elem = fc.string({ unit: fc.constantFrom(...'abc.-_ é'), minLength: 1, maxLength: 4 }).filter((s) => s !== '.' && s !== '..' && s.trim() === s);
  const rel = fc.array(elem, { minLength: 1, maxLength: 4 }).map((a) => a.join('/'));
  fc.assert(
    fc.property(rel, rel, (pattern, file) => {
      const m = parseIgnore(pattern);
      const expected = file === pattern || file.startsWith(pattern + '/');
      assert.equal(m.matches(file), expected, `${pattern} vs ${file}`);
    }),
    { seed: 7, numRuns: 2000 },
  );
  const anyText = fc.string({ unit: fc.constantFrom(...'*?[]!\\/.#\n ab^{}$'), maxLength: 60 });
  fc.assert(
    fc.property(anyText, rel, (text, file) => {
      try {
        parseIgnore(text).matches(file);
      } catch (err) {
        assert.ok(err instanceof BerthError, String(err));
      }
    }),
    { seed: 8, numRuns: 2000 },
  );
});
