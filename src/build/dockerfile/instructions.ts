// One instruction from its split line: arguments checked and shaped into the builder's types.
// Errors are plain Errors worded like BuildKit's; parse.ts adds the file and line.

import { parseDuration } from '../../core/units.ts';
import type { Command, From, Heredoc, Instruction, Source } from '../types.ts';
import { isSpace } from './chars.ts';
import { Flags } from './flags.ts';
import { parseMarker } from './heredoc.ts';
import { parseMount } from './mounts.ts';
import { parseJsonArray, parseWords, splitBlanks, splitCommand, type SplitLine } from './split.ts';

export interface Request extends SplitLine {
  source: Source;
  heredocs: Heredoc[];
  escape: string;
}

export const KEYWORDS = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

const noFlags = (r: Request) => new Flags(r.flags).parse();
const atLeastOne = (kw: string) => new Error(`${kw} requires at least one argument`);
const exactlyOne = (kw: string) => new Error(`${kw} requires exactly one argument`);

/** Exec form when the arguments are a JSON array of strings, else shell form (as Docker does). */
function command(args: string): Command | undefined {
  if (!args) return undefined;
  const json = parseJsonArray(args);
  if (json.ok) return { form: 'exec', args: json.args };
  if (json.notStrings) throw new Error('when using JSON array syntax, arrays must be comprised of strings only');
  return { form: 'shell', text: args };
}

/** A JSON array, or else words split at blanks (COPY, ADD, VOLUME). */
function list(args: string): string[] {
  const json = parseJsonArray(args);
  if (json.ok) return json.args;
  if (json.notStrings) throw new Error('when using JSON array syntax, arrays must be comprised of strings only');
  return splitBlanks(args);
}

/** True when the instruction's arguments can carry heredocs (RUN, COPY, ADD not in JSON form). */
export function takesHeredocs(keyword: string, args: string, escape: string): boolean {
  const kw = keyword.toUpperCase();
  if (kw === 'ONBUILD') {
    const sub = splitCommand(args, escape);
    return takesHeredocs(sub.keyword, sub.args, escape) && sub.keyword.toUpperCase() !== 'ONBUILD';
  }
  if (kw !== 'RUN' && kw !== 'COPY' && kw !== 'ADD') return false;
  return !parseJsonArray(args).ok;
}

export function parseFrom(r: Request): From {
  const flags = new Flags(r.flags).string('platform').parse();
  const args = splitBlanks(r.args);
  let name: string | undefined;
  if (args.length === 3 && args[1].toLowerCase() === 'as') {
    name = args[2].toLowerCase();
    if (!STAGE_NAME.test(name)) throw new Error(`invalid name for build stage: "${args[2]}", name can't start with a number or contain symbols`);
  } else if (args.length !== 1) {
    throw new Error('FROM requires either one or three arguments (FROM image [AS name])');
  }
  return { source: r.source, image: args[0], ...(name ? { name } : {}), ...(flags.used('platform') ? { platform: flags.get('platform') } : {}) };
}

function keyValues(kw: string, r: Request): [string, string][] {
  noFlags(r);
  const words = parseWords(r.args, r.escape);
  if (!words.length) throw atLeastOne(kw);
  if (!words[0].includes('=')) {
    // The legacy form `ENV name value...`: the value is the rest of the line.
    const m = /[\t\v\f\r ]+/.exec(r.args);
    if (!m) throw new Error(`${kw} must have two arguments`);
    return [[r.args.slice(0, m.index), r.args.slice(m.index + m[0].length)]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) throw new Error(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    if (eq === 0) throw new Error(`${kw} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function parseRun(r: Request): Instruction {
  const flags = new Flags(r.flags).strings('mount').string('network').string('security').parse();
  const cmd = command(r.args);
  if (!cmd) throw atLeastOne('RUN');
  const network = flags.get('network');
  if (network !== undefined && network !== 'default' && network !== 'none' && network !== 'host')
    throw new Error(`invalid network mode "${network}" (one of default, none, host)`);
  const security = flags.get('security');
  if (security !== undefined && security !== 'sandbox' && security !== 'insecure')
    throw new Error(`security "${security}" is not valid (one of sandbox, insecure)`);
  return {
    kind: 'RUN',
    source: r.source,
    command: cmd,
    mounts: flags.list('mount').map(parseMount),
    ...(network ? { network } : {}),
    ...(security ? { security } : {}),
    heredocs: r.heredocs,
  };
}

function parseCopy(kw: 'COPY' | 'ADD', r: Request): Instruction {
  const flags = new Flags(r.flags).string('chown').string('chmod').bool('link').strings('exclude');
  if (kw === 'COPY') flags.string('from').bool('parents');
  else flags.string('checksum').bool('keep-git-dir').bool('unpack');
  flags.parse();
  const words = list(r.args);
  if (words.length < 2)
    throw new Error(`${kw} requires at least two arguments, but only one was provided. Destination could not be determined`);
  const dest = words[words.length - 1];
  if (parseMarker(dest)) throw new Error(`${kw} cannot accept a heredoc as a destination`);
  const sources: string[] = [];
  const heredocs: Heredoc[] = [];
  for (const src of words.slice(0, -1)) {
    const marker = parseMarker(src);
    if (!marker) {
      sources.push(src);
      continue;
    }
    const body = r.heredocs.find((h) => h.name === marker.name);
    heredocs.push({ ...marker, content: body?.content ?? '' });
  }
  const opt = (name: string) => (flags.used(name) ? flags.get(name) : undefined);
  const base = {
    source: r.source,
    sources,
    dest,
    link: flags.isTrue('link'),
    parents: kw === 'COPY' && flags.isTrue('parents'),
    exclude: flags.list('exclude'),
    heredocs,
    ...(opt('chown') !== undefined ? { chown: opt('chown') } : {}),
    ...(opt('chmod') !== undefined ? { chmod: opt('chmod') } : {}),
  };
  if (kw === 'COPY') return { kind: 'COPY', ...base, ...(opt('from') !== undefined ? { from: opt('from') } : {}) };
  return {
    kind: 'ADD',
    ...base,
    ...(opt('checksum') !== undefined ? { checksum: opt('checksum') } : {}),
    ...(flags.used('keep-git-dir') ? { keepGitDir: flags.isTrue('keep-git-dir') } : {}),
    ...(flags.used('unpack') ? { unpack: flags.isTrue('unpack') } : {}),
  };
}

/** A HEALTHCHECK duration flag: Go syntax, 0 or at least 1ms. */
function interval(flags: Flags, name: string): string | undefined {
  const v = flags.get(name);
  if (!v) return undefined;
  let ns: number;
  try {
    ns = parseDuration(v);
  } catch {
    throw new Error(`time: invalid duration "${v}" for --${name}`);
  }
  if (ns !== 0 && ns < 1e6) throw new Error(`Interval "${name}" cannot be less than 1ms`);
  return v;
}

function parseHealthcheck(r: Request): Instruction {
  let sep = 0;
  while (sep < r.args.length && !isSpace(r.args[sep])) sep++;
  if (sep === 0) throw atLeastOne('HEALTHCHECK');
  let next = sep;
  while (next < r.args.length && isSpace(r.args[next])) next++;
  const type = r.args.slice(0, sep).toUpperCase();
  const rest = r.args.slice(next);
  if (type === 'NONE') {
    if (rest) throw new Error('HEALTHCHECK NONE takes no arguments');
    return { kind: 'HEALTHCHECK', source: r.source };
  }
  const flags = new Flags(r.flags).string('interval').string('timeout').string('start-period').string('start-interval').string('retries').parse();
  if (type !== 'CMD') throw new Error(`Unknown type "${type}" in HEALTHCHECK (try CMD)`);
  const cmd = command(rest);
  if (!cmd || (cmd.form === 'exec' && !cmd.args.length)) throw new Error('Missing command after HEALTHCHECK CMD');
  const retries = flags.get('retries');
  if (retries) {
    if (!/^[+-]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2 ** 31 - 1) throw new Error(`invalid value "${retries}" for --retries`);
    if (Number(retries) < 0) throw new Error(`--retries cannot be negative (${Number(retries)})`);
  }
  const check: NonNullable<Extract<Instruction, { kind: 'HEALTHCHECK' }>['check']> = { command: cmd };
  const set = (key: 'interval' | 'timeout' | 'startPeriod' | 'startInterval', flag: string) => {
    const v = interval(flags, flag);
    if (v !== undefined) check[key] = v;
  };
  set('interval', 'interval');
  set('timeout', 'timeout');
  set('startPeriod', 'start-period');
  set('startInterval', 'start-interval');
  if (retries) check.retries = retries;
  return { kind: 'HEALTHCHECK', source: r.source, check };
}

function single(kw: 'USER' | 'WORKDIR' | 'STOPSIGNAL' | 'MAINTAINER', r: Request): Instruction {
  noFlags(r);
  if (!r.args) throw exactlyOne(kw);
  return { kind: kw, source: r.source, value: r.args };
}

/** The instruction's text as stored in an image's OnBuild list: heredoc bodies written out again. */
export function onbuildExpression(text: string, heredocs: Heredoc[]): string {
  let out = text.replace(/^\s*ONBUILD\s*/i, '');
  for (const h of heredocs) out += '\n' + h.content + h.name;
  return out;
}

function parseOnbuild(r: Request): Instruction {
  if (!r.args) throw atLeastOne('ONBUILD');
  noFlags(r);
  const sub = splitCommand(r.args, r.escape);
  const kw = sub.keyword.toUpperCase();
  if (kw === 'ONBUILD') throw new Error('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (kw === 'MAINTAINER' || kw === 'FROM') throw new Error(`${kw} isn't allowed as an ONBUILD trigger`);
  const text = onbuildExpression(r.source.text, []);
  const trigger = parseInstruction({ ...sub, source: { ...r.source, text }, heredocs: r.heredocs, escape: r.escape });
  return { kind: 'ONBUILD', source: r.source, trigger, expression: onbuildExpression(r.source.text, r.heredocs) };
}

/** Any instruction but FROM. */
export function parseInstruction(r: Request): Instruction {
  const kw = r.keyword.toUpperCase();
  switch (kw) {
    case 'RUN':
      return parseRun(r);
    case 'CMD':
    case 'ENTRYPOINT': {
      noFlags(r);
      const cmd = command(r.args);
      if (!cmd) throw atLeastOne(kw);
      return { kind: kw, source: r.source, command: cmd };
    }
    case 'SHELL': {
      noFlags(r);
      const cmd = command(r.args);
      if (!cmd || (cmd.form === 'exec' && !cmd.args.length)) throw atLeastOne(kw);
      if (cmd.form !== 'exec') throw new Error('SHELL requires the arguments to be in JSON form');
      return { kind: 'SHELL', source: r.source, args: cmd.args };
    }
    case 'ENV':
    case 'LABEL':
      return { kind: kw, source: r.source, pairs: keyValues(kw, r) };
    case 'ARG': {
      noFlags(r);
      const words = parseWords(r.args, r.escape);
      if (!words.length) throw atLeastOne(kw);
      const args = words.map((w) => {
        const eq = w.indexOf('=');
        if (eq === 0) throw new Error('ARG names can not be blank');
        return eq < 0 ? { name: w } : { name: w.slice(0, eq), value: w.slice(eq + 1) };
      });
      return { kind: 'ARG', source: r.source, args };
    }
    case 'EXPOSE': {
      noFlags(r);
      const values = splitBlanks(r.args);
      if (!values.length) throw atLeastOne(kw);
      return { kind: 'EXPOSE', source: r.source, values };
    }
    case 'VOLUME': {
      noFlags(r);
      const values = list(r.args).map((v) => v.trim());
      if (!values.length) throw atLeastOne(kw);
      if (values.some((v) => !v)) throw new Error('VOLUME specified can not be an empty string');
      return { kind: 'VOLUME', source: r.source, values };
    }
    case 'USER':
    case 'WORKDIR':
    case 'STOPSIGNAL':
    case 'MAINTAINER':
      return single(kw, r);
    case 'HEALTHCHECK':
      return parseHealthcheck(r);
    case 'ONBUILD':
      return parseOnbuild(r);
    case 'COPY':
    case 'ADD':
      return parseCopy(kw, r);
    case 'FROM':
      throw new Error('FROM is not allowed here');
    default:
      throw new Error(`unknown instruction: ${r.keyword}${suggest(kw)}`);
  }
}

/** "(did you mean COPY?)" for a misspelt keyword. */
function suggest(word: string): string {
  let best = '';
  let bestDist = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const k of KEYWORDS) {
    const d = distance(word, k);
    if (d < bestDist) [best, bestDist] = [k, d];
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
