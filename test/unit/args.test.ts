import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs, type FlagSpec } from '../../src/cli/args.ts';

const RUN: FlagSpec[] = [
  { name: 'rm', type: 'bool' },
  { name: 'interactive', short: 'i', type: 'bool' },
  { name: 'tty', short: 't', type: 'bool' },
  { name: 'detach', short: 'd', type: 'bool' },
  { name: 'env', short: 'e', type: 'list' },
  { name: 'workdir', short: 'w', type: 'string' },
  { name: 'user', short: 'u', type: 'string' },
  { name: 'memory', short: 'm', type: 'string' },
  { name: 'name', type: 'string' },
];

const flagsOf = (p: { flags: Map<string, unknown> }) => Object.fromEntries(p.flags);

test('a docker run command line', () => {
  const p = parseArgs(['--rm', '-e', 'A=b', '-w', '/tmp', '--user', '1000:1000', '-m', '64m', 'IMG', 'sh', '-c', 'echo $A', '-x'], RUN, { stopAtPositional: true });
  assert.deepEqual(flagsOf(p), { rm: true, env: ['A=b'], workdir: '/tmp', user: '1000:1000', memory: '64m' });
  assert.deepEqual(p.positionals, ['IMG', 'sh', '-c', 'echo $A', '-x']);
});

test('stopAtPositional keeps the container command\'s flags', () => {
  const p = parseArgs(['img', 'ls', '-la', '--rm', '--', '-e'], RUN, { stopAtPositional: true });
  assert.deepEqual(flagsOf(p), {});
  assert.deepEqual(p.positionals, ['img', 'ls', '-la', '--rm', '--', '-e']);
});

test('without stopAtPositional flags and positionals interleave', () => {
  const p = parseArgs(['a', '--rm', 'b', '-e', 'X=1', 'c'], RUN);
  assert.deepEqual(flagsOf(p), { rm: true, env: ['X=1'] });
  assert.deepEqual(p.positionals, ['a', 'b', 'c']);
});

test('long flags: --name value, --name=value, empty value, last one wins', () => {
  assert.deepEqual(flagsOf(parseArgs(['--name', 'web'], RUN)), { name: 'web' });
  assert.deepEqual(flagsOf(parseArgs(['--name=web'], RUN)), { name: 'web' });
  assert.deepEqual(flagsOf(parseArgs(['--name='], RUN)), { name: '' });
  assert.deepEqual(flagsOf(parseArgs(['--name=a=b'], RUN)), { name: 'a=b' });
  assert.deepEqual(flagsOf(parseArgs(['--name', 'a', '--name', 'b'], RUN)), { name: 'b' });
  // pflag takes the next argument as the value even when it looks like a flag.
  assert.deepEqual(flagsOf(parseArgs(['--name', '--rm'], RUN)), { name: '--rm' });
});

test('list flags accumulate in order and are not split on commas', () => {
  const p = parseArgs(['-e', 'A=1', '--env', 'B=2,3', '--env=C', '-eD=4', '-e=E=5'], RUN);
  assert.deepEqual(p.flags.get('env'), ['A=1', 'B=2,3', 'C', 'D=4', 'E=5']);
});

test('bool flags: bare, =true/=false, ParseBool spellings; they never take the next argument', () => {
  assert.deepEqual(flagsOf(parseArgs(['--rm'], RUN)), { rm: true });
  assert.deepEqual(flagsOf(parseArgs(['--rm=false'], RUN)), { rm: false });
  assert.deepEqual(flagsOf(parseArgs(['--rm=true'], RUN)), { rm: true });
  assert.deepEqual(flagsOf(parseArgs(['--rm=0', '-i=F', '-t=1'], RUN)), { rm: false, interactive: false, tty: true });
  const p = parseArgs(['--rm', 'false'], RUN);
  assert.deepEqual(flagsOf(p), { rm: true });
  assert.deepEqual(p.positionals, ['false']);
  assert.throws(() => parseArgs(['--rm=maybe'], RUN), {
    code: 'InvalidArgument',
    message: 'invalid argument "maybe" for "--rm" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
  });
});

test('short flags: grouped bools, attached values, a value-taking flag last in a group', () => {
  assert.deepEqual(flagsOf(parseArgs(['-it'], RUN)), { interactive: true, tty: true });
  assert.deepEqual(flagsOf(parseArgs(['-dit'], RUN)), { detach: true, interactive: true, tty: true });
  assert.deepEqual(flagsOf(parseArgs(['-wfoo'], RUN)), { workdir: 'foo' });
  assert.deepEqual(flagsOf(parseArgs(['-eA=b'], RUN)), { env: ['A=b'] });
  assert.deepEqual(flagsOf(parseArgs(['-ite', 'FOO'], RUN)), { interactive: true, tty: true, env: ['FOO'] });
  assert.deepEqual(flagsOf(parseArgs(['-iteFOO=1'], RUN)), { interactive: true, tty: true, env: ['FOO=1'] });
  assert.deepEqual(flagsOf(parseArgs(['-m', '-1'], RUN)), { memory: '-1' });
  const p = parseArgs(['-it', 'img', 'sh'], RUN, { stopAtPositional: true });
  assert.deepEqual(flagsOf(p), { interactive: true, tty: true });
  assert.deepEqual(p.positionals, ['img', 'sh']);
});

test('-- ends flags; a lone - is a positional', () => {
  const p = parseArgs(['--rm', '--', '-e', '--name', 'x'], RUN);
  assert.deepEqual(flagsOf(p), { rm: true });
  assert.deepEqual(p.positionals, ['-e', '--name', 'x']);
  assert.deepEqual(parseArgs(['-', '--rm'], RUN).positionals, ['-']);
  assert.deepEqual(parseArgs(['--', 'img', '-x'], RUN, { stopAtPositional: true }).positionals, ['img', '-x']);
});

test('errors use pflag\'s wording', () => {
  const err = (argv: string[], message: string) => assert.throws(() => parseArgs(argv, RUN), { name: 'BerthError', code: 'InvalidArgument', message });
  err(['--foo'], 'unknown flag: --foo');
  err(['--foo=bar'], 'unknown flag: --foo');
  err(['-x'], "unknown shorthand flag: 'x' in -x");
  err(['-itx'], "unknown shorthand flag: 'x' in -itx");
  err(['--name'], 'flag needs an argument: --name');
  err(['--env'], 'flag needs an argument: --env');
  err(['-e'], "flag needs an argument: 'e' in -e");
  err(['-ie'], "flag needs an argument: 'e' in -ie");
  // -h is only a flag when the command declares it.
  err(['-h'], "unknown shorthand flag: 'h' in -h");
  err(['--help'], 'unknown flag: --help');
  assert.deepEqual(flagsOf(parseArgs(['-h'], [...RUN, { name: 'help', short: 'h', type: 'bool' }])), { help: true });
});
