import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { interpolate } from '../../src/compose/interpolate.ts';
import { parseDotenv } from '../../src/compose/dotenv.ts';

const env: Record<string, string> = { SET: 'v', EMPTY: '', N: '42' };
const look = (n: string) => env[n];

test('substitution forms, as the spec defines them', () => {
  const cases: Array<[string, string]> = [
    ['$SET', 'v'], ['${SET}', 'v'], ['a${SET}b', 'avb'], ['$SET.x', 'v.x'],
    ['${UNSET:-d}', 'd'], ['${EMPTY:-d}', 'd'], ['${SET:-d}', 'v'],
    ['${UNSET-d}', 'd'], ['${EMPTY-d}', ''], ['${SET-d}', 'v'],
    ['${SET:+a}', 'a'], ['${EMPTY:+a}', ''], ['${UNSET:+a}', ''],
    ['${SET+a}', 'a'], ['${EMPTY+a}', 'a'], ['${UNSET+a}', ''],
    ['$$', '$'], ['$$SET', '$SET'], ['$${SET}', '${SET}'], ['cost: 5$', 'cost: 5$'], ['$ 1', '$ 1'],
    ['${UNSET:-${SET}}', 'v'], ['${UNSET:-${N:-x}y}', '42y'], ['${UNSET:-a:b-c}', 'a:b-c'],
    ['${SET:?never}', 'v'], ['${UNSET:-${OTHER:-}}', ''],
  ];
  for (const [input, want] of cases) assert.equal(interpolate(input, look), want, input);
});

test('required variables stop with their message; defaults are evaluated only when used', () => {
  assert.throws(() => interpolate('${UNSET:?set it first}', look), { code: 'InvalidArgument', message: 'required variable UNSET is missing a value: set it first' });
  assert.throws(() => interpolate('${EMPTY:?}', look), { message: 'required variable EMPTY is missing a value' });
  assert.equal(interpolate('${EMPTY?no}', look), '');
  assert.throws(() => interpolate('${UNSET?no}', look), /UNSET/);
  assert.equal(interpolate('${SET:-${UNSET:?boom}}', look), 'v');
  assert.throws(() => interpolate('${SET', look), /invalid interpolation format/);
  assert.throws(() => interpolate('${}', look), /invalid interpolation format/);
  assert.throws(() => interpolate('${A B}', look), /invalid interpolation format/);
});

test('unset variables are reported, blank in the result', () => {
  const unset = new Set<string>();
  assert.equal(interpolate('x${NOPE}y$ALSO', look, unset), 'xy');
  assert.deepEqual([...unset].sort(), ['ALSO', 'NOPE']);
});

const name = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,6}$/);
const plain = fc.string({ maxLength: 20 }).map((s) => s.replace(/[${}]/g, ''));

test('property: text without $ is unchanged; $$ always yields one $', () => {
  fc.assert(fc.property(plain, (s) => interpolate(s, look) === s), { seed: 1801, numRuns: 300 });
  fc.assert(fc.property(plain, plain, (a, b) => interpolate(`${a}$$${b}`, look) === `${a}$${b}`), { seed: 1802, numRuns: 300 });
});

test('property: each form agrees with its definition for any value and default', () => {
  fc.assert(
    fc.property(name, fc.option(plain, { nil: undefined }), plain, (n, value, word) => {
      const l = (k: string) => (k === n ? value : undefined);
      const set = value !== undefined;
      const nonEmpty = !!value;
      assert.equal(interpolate(`\${${n}}`, l), value ?? '');
      assert.equal(interpolate(`\${${n}:-${word}}`, l), nonEmpty ? value : word);
      assert.equal(interpolate(`\${${n}-${word}}`, l), set ? value : word);
      assert.equal(interpolate(`\${${n}:+${word}}`, l), nonEmpty ? word : '');
      assert.equal(interpolate(`\${${n}+${word}}`, l), set ? word : '');
      if (nonEmpty) assert.equal(interpolate(`\${${n}:?${word}}`, l), value);
      else assert.throws(() => interpolate(`\${${n}:?${word}}`, l), /missing a value/);
    }),
    { seed: 1803, numRuns: 500 },
  );
});

test('property: escaping with $$ round-trips any text', () => {
  fc.assert(fc.property(fc.string({ maxLength: 30 }), (s) => interpolate(s.replace(/\$/g, '$$$$'), look) === s), { seed: 1804, numRuns: 500 });
});

test('.env files: quotes, comments, export, multi-line, references', () => {
  const text = [
    '# comment', 'export A=1', 'B = two words  # trailing', "C='lit $A'", 'D="x\\ny $A"', 'E="multi', 'line"', 'F=${A}${B}', 'G', 'H=', 'I=a#b',
  ].join('\n');
  const got = parseDotenv(text, '.env', (n) => (n === 'G' ? 'from-env' : undefined));
  assert.deepEqual(got, { A: '1', B: 'two words', C: 'lit $A', D: 'x\ny 1', E: 'multi\nline', F: '1two words', G: 'from-env', H: '', I: 'a#b' });
  assert.throws(() => parseDotenv('1A=x', '.env'), /\.env:1: unexpected character/);
  assert.throws(() => parseDotenv('A="open', '.env'), /unterminated/);
});
