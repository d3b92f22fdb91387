import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BerthError } from '../../src/core/errors.ts';
import { expandWord, expandWords, parseDockerfile } from '../../src/build/dockerfile/parse.ts';

const env = { PWD: '/home', FOO: 'foo', EMPTY: '', P: 'a/b/c', SPACED: 'x  y', V: 'one.two.one' };

test('expandWord: quotes, escapes, variables (Docker\'s ProcessWord)', () => {
  const cases: [string, string][] = [
    ['hello', 'hello'],
    ['he"l"lo', 'hello'],
    ["he'll'o", 'hello'],
    ["he\\'llo", "he'llo"],
    ['"a \'b\' c"', "a 'b' c"],
    ["'a \"b\" c'", 'a "b" c'],
    ["'$PWD'", '$PWD'],
    ["'a\\b'", 'a\\b'],
    ['"$PWD"', '/home'],
    ['"${PWD}x"', '/homex'],
    ['\\$PWD', '$PWD'],
    ['"\\$PWD"', '$PWD'],
    ['"a\\"b"', 'a"b'],
    ['"a\\b"', 'a\\b'], // inside double quotes the escape only escapes " $ and itself
    ['"a\\\\b"', 'a\\b'],
    ['a\\ b', 'a b'],
    ['\\\\', '\\'],
    ['trailing\\', 'trailing'],
    ['$PWD/x', '/home/x'],
    ['${PWD}x', '/homex'],
    ['$PWDx', ''],
    ['$NOPE', ''],
    ['$', '$'],
    ['a$', 'a$'],
    ['$.x', '$.x'],
    ['$1x', 'x'],
    ['${PWD:-x}', '/home'],
    ['${NOPE:-x}', 'x'],
    ['${EMPTY:-x}', 'x'],
    ['${EMPTY-x}', ''],
    ['${NOPE-x}', 'x'],
    ['${NOPE:-$PWD/y}', '/home/y'],
    ['${NOPE:-"a b"}', 'a b'],
    ['${PWD:+x}', 'x'],
    ['${NOPE:+x}', ''],
    ['${EMPTY:+x}', ''],
    ['${EMPTY+x}', 'x'],
    ['${EMPTY?}', ''],
    ['${FOO:?}', 'foo'],
    ['${P#*/}', 'b/c'],
    ['${P##*/}', 'c'],
    ['${P%/*}', 'a/b'],
    ['${P%%/*}', 'a'],
    ['${V#one}', '.two.one'],
    ['${V%one}', 'one.two.'],
    ['${V%.???}', 'one.two'],
    ['${V#x}', 'one.two.one'],
    ['${V/one/1}', '1.two.one'],
    ['${V//one/1}', '1.two.1'],
    ['${V//./-}', 'one-two-one'],
    ['${P/\\//-}', 'a-b/c'],
    ['${P//\\//-}', 'a-b-c'],
    ['${V/t*o/X}', 'one.Xne'], // the longest match, as in bash
    ['${NOPE/a/b}', ''],
    ['<<EOF', '<<EOF'],
  ];
  for (const [raw, want] of cases) assert.equal(expandWord(raw, env), want, raw);
});

test('expandWord errors are BerthErrors with Docker\'s wording', () => {
  const cases: [string, string][] = [
    ['${NOPE:?}', 'NOPE: is not allowed to be unset'],
    ['${NOPE?}', 'NOPE: is not allowed to be unset'],
    ['${EMPTY:?}', 'EMPTY: is not allowed to be empty'],
    ['${NOPE:?must be set}', 'NOPE: must be set'],
    ['${', "syntax error: missing '}'"],
    ['${}', 'syntax error: bad substitution'],
    ['${:}', 'syntax error: bad substitution'],
    ['${FOO', "syntax error: missing '}'"],
    ['${FOO:-x', "syntax error: missing '}'"],
    ['${FOO:x}', 'unsupported modifier (:x) in substitution'],
    ['${FOO:#x}', 'unsupported modifier (:#) in substitution'],
    ['${FOO/a}', "syntax error: missing '/' in ${}"],
    ['"open', 'unexpected end of statement while looking for matching double-quote'],
    ["'open", 'unexpected end of statement while looking for matching single-quote'],
  ];
  for (const [raw, msg] of cases)
    assert.throws(() => expandWord(raw, env), { name: 'BerthError', code: 'InvalidArgument', message: `failed to process "${raw}": ${msg}` }, raw);
});

test('expandWord with the backtick escape (# escape=`)', () => {
  const opts = { escape: '`' };
  assert.equal(expandWord('c:\\dir\\$FOO', env, opts), 'c:\\dir\\foo');
  assert.equal(expandWord('`$FOO', env, opts), '$FOO');
  assert.equal(expandWord('"a`"b"', env, opts), 'a"b');
  assert.equal(expandWord('a` b', env, opts), 'a b');
});

test('the reference\'s environment replacement examples', () => {
  // ENV abc=hello / ENV abc=bye def=$abc / ENV ghi=$abc: def is hello, ghi is bye.
  const e1 = { abc: expandWord('hello', {}) };
  const e2 = { ...e1, abc: expandWord('bye', e1), def: expandWord('$abc', e1) };
  const e3 = { ...e2, ghi: expandWord('$abc', e2) };
  assert.deepEqual(e3, { abc: 'bye', def: 'hello', ghi: 'bye' });
  // ENV FOO=/bar; WORKDIR ${FOO}; ADD . $FOO; COPY \$FOO /quux
  const e = { FOO: '/bar' };
  assert.equal(expandWord('${FOO}', e), '/bar');
  assert.equal(expandWord('$FOO', e), '/bar');
  assert.equal(expandWord('\\$FOO', e), '$FOO');
  assert.equal(expandWord('${variable:-word}', {}), 'word');
  assert.equal(expandWord('${variable:+word}', { variable: 'set' }), 'word');
});

test('expandWords splits at unquoted blanks, also inside variable values', () => {
  assert.deepEqual(expandWords('a "b c" d', env), ['a', 'b c', 'd']);
  assert.deepEqual(expandWords('  80/tcp   $SPACED ', env), ['80/tcp', 'x', 'y']);
  assert.deepEqual(expandWords('"$SPACED"', env), ['x  y']);
  assert.deepEqual(expandWords('a\\ b c', env), ['a b', 'c']);
  assert.deepEqual(expandWords("'' x", env), ['x']);
  assert.deepEqual(expandWords('$EMPTY', env), []);
  assert.deepEqual(expandWords('pre$SPACED', env), ['prex', 'y']);
});

test('expandWord options: skipUnset keeps unknown variables, onUnset reports them, raw quotes/escapes', () => {
  assert.equal(expandWord('$NOPE ${NOPE} ${NOPE:-d} $FOO', env, { skipUnset: true }), '$NOPE ${NOPE} ${NOPE:-d} foo');
  const unset: string[] = [];
  expandWord('$A ${B:-x} $FOO "$C"', env, { onUnset: (n) => unset.push(n) });
  assert.deepEqual(unset, ['A', 'B', 'C']);
  assert.equal(expandWord('"a" \'b\' \\c', env, { rawQuotes: true, rawEscapes: true }), '"a" \'b\' \\c');
});

// Property tests, seeded so that a failure reproduces.
const SPECIAL = [...'$\'"\\`{}:-+?#%/ \t\nab1_=<[]'];
const specialString = (max: number) => fc.string({ unit: fc.constantFrom(...SPECIAL), maxLength: max });

test('property: expandWord never throws anything but a BerthError', () => {
  fc.assert(
    fc.property(fc.oneof(specialString(60), fc.string({ unit: 'binary', maxLength: 200 })), fc.boolean(), (raw, backtick) => {
      try {
        expandWord(raw, env, backtick ? { escape: '`' } : {});
        expandWords(raw, env);
      } catch (err) {
        assert.ok(err instanceof BerthError, String(err));
      }
    }),
    { seed: 1717, numRuns: 3000 },
  );
});

test('property: a word without $, quotes or escapes expands to itself', () => {
  const plain = fc.string({ unit: 'binary', maxLength: 100 }).filter((s) => !/[$'"\\]/.test(s));
  fc.assert(
    fc.property(plain, (raw) => {
      assert.equal(expandWord(raw, env), raw);
    }),
    { seed: 2024, numRuns: 2000 },
  );
});

test('property: the parser never throws anything but a BerthError and never hangs', () => {
  const fragments = fc.constantFrom(
    'FROM x', 'FROM x AS y', 'RUN <<EOF', 'RUN <<-EOT cat', 'EOF', '\tEOT', 'COPY <<A /x', 'A', 'ONBUILD RUN <<B', 'B',
    '# escape=`', '# syntax=x', '\\', '`', 'ENV a="b', 'ENV a b', 'RUN ["a"', 'CMD ["a", 1]', 'HEALTHCHECK CMD',
    'HEALTHCHECK --interval=1s CMD x', 'ARG x=1', 'RUN --mount=type=cache,target=/x a', 'COPY --from=a b c',
    'SHELL ["sh"]', 'LABEL a=b c="d e"', 'VOLUME []', 'ONBUILD ONBUILD', '', '   ', '# c', 'RUN a \\', 'x <<',
  );
  const line = fc.oneof(fragments, specialString(30), fc.string({ unit: 'binary', maxLength: 40 }));
  const doc = fc.oneof(
    fc.array(line, { maxLength: 80 }).map((l) => l.join('\n')),
    fc.string({ unit: 'binary', maxLength: 4000 }),
  );
  let slowest = 0;
  fc.assert(
    fc.property(doc, (text) => {
      const t0 = performance.now();
      try {
        parseDockerfile(text);
      } catch (err) {
        assert.ok(err instanceof BerthError, String((err as Error)?.stack ?? err));
        assert.match(err.message, /^Dockerfile:\d+: /);
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }),
    { seed: 99, numRuns: 2000 },
  );
  assert.ok(slowest < 500, `slowest parse took ${slowest} ms`);
});

test('hostile inputs stay fast: long runs, deep nesting', () => {
  const cases: (() => unknown)[] = [
    () => parseDockerfile('FROM x\nRUN a' + '\r'.repeat(50000) + 'b\n'),
    () => parseDockerfile('# syntax=a' + ' '.repeat(50000) + 'b\nFROM x\n'),
    () => parseDockerfile('FROM x\nRUN ' + '['.repeat(50000) + '\n'),
    () => parseDockerfile('FROM x\nENV a' + ' '.repeat(50000) + 'b\n'),
    () => parseDockerfile('FROM x\nRUN ' + 'a\\ '.repeat(20000) + '\n'),
    () => parseDockerfile('FROM x\nRUN ' + '<<A '.repeat(5000) + '\n'),
    () => assert.throws(() => expandWord('${a:-'.repeat(5000) + '}'.repeat(5000), {}), /nested deeper than 100/),
    () => assert.throws(() => expandWord('"${a:-'.repeat(3000), {}), { code: 'InvalidArgument' }),
  ];
  for (const [i, f] of cases.entries()) {
    const t0 = performance.now();
    try {
      f();
    } catch (err) {
      assert.ok(err instanceof BerthError, String(err));
    }
    assert.ok(performance.now() - t0 < 1000, `case ${i} took ${performance.now() - t0} ms`);
  }
});
