// Variable substitution in compose files (the spec's 12-interpolation.md): $VAR, ${VAR},
// ${VAR:-default}, ${VAR-default}, ${VAR:+alt}, ${VAR+alt}, ${VAR:?message}, ${VAR?message}, and
// $$ for a literal dollar. Defaults may hold substitutions themselves and are only evaluated when
// used, so `${A:-${B:?needed}}` fails only when A is empty. Pure: the caller gives the lookup.
import { invalid } from '../core/errors.ts';
import { Tagged } from './yaml.ts';

export type Lookup = (name: string) => string | undefined;

type Part = string | { name: string; op?: ':-' | '-' | ':+' | '+' | ':?' | '?'; word: Part[] };

const NAME_START = /[_a-zA-Z]/;
const NAME = /[_a-zA-Z0-9]/;
const OPS = [':-', ':+', ':?', '-', '+', '?'] as const;

/** Parses from `i`; inside braces (nested) it stops at the matching `}` and returns its index. */
function parse(s: string, i: number, nested: boolean): { parts: Part[]; end: number } {
  const parts: Part[] = [];
  let text = '';
  while (i < s.length) {
    const c = s[i];
    if (nested && c === '}') break;
    if (c !== '$') {
      text += c;
      i++;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      text += '$';
      i += 2;
      continue;
    }
    if (next !== undefined && NAME_START.test(next)) {
      let j = i + 1;
      while (j < s.length && NAME.test(s[j])) j++;
      if (text) parts.push(text), (text = '');
      parts.push({ name: s.slice(i + 1, j), word: [] });
      i = j;
      continue;
    }
    if (next !== '{') {
      text += '$';
      i++;
      continue;
    }
    let j = i + 2;
    if (j >= s.length || !NAME_START.test(s[j])) throw invalid(`invalid interpolation format for "${s}": a variable name must follow "\${"`);
    while (j < s.length && NAME.test(s[j])) j++;
    const name = s.slice(i + 2, j);
    if (text) parts.push(text), (text = '');
    if (s[j] === '}') {
      parts.push({ name, word: [] });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => s.startsWith(o, j));
    if (!op) throw invalid(`invalid interpolation format for "${s}": unexpected "${s[j] ?? 'end of text'}" after "\${${name}"`);
    const inner = parse(s, j + op.length, true);
    if (s[inner.end] !== '}') throw invalid(`invalid interpolation format for "${s}": missing "}"`);
    parts.push({ name, op, word: inner.parts });
    i = inner.end + 1;
  }
  if (text) parts.push(text);
  return { parts, end: i };
}

function evaluate(parts: Part[], lookup: Lookup, unset: Set<string>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    const v = lookup(p.name);
    const word = () => evaluate(p.word, lookup, unset);
    switch (p.op) {
      case undefined:
        if (v === undefined) unset.add(p.name);
        out += v ?? '';
        break;
      case ':-': out += v ? v : word(); break;
      case '-': out += v !== undefined ? v : word(); break;
      case ':+': out += v ? word() : ''; break;
      case '+': out += v !== undefined ? word() : ''; break;
      case ':?':
      case '?':
        if (p.op === ':?' ? !v : v === undefined) {
          const msg = word();
          throw invalid(`required variable ${p.name} is missing a value${msg ? `: ${msg}` : ''}`);
        }
        out += v;
        break;
    }
  }
  return out;
}

/** One string with its variables substituted; names used but unset go into `unset` (compose warns). */
export function interpolate(s: string, lookup: Lookup, unset: Set<string> = new Set()): string {
  if (!s.includes('$')) return s;
  return evaluate(parse(s, 0, false).parts, lookup, unset);
}

/**
 * Every string value of a parsed file (not the keys, as compose does), with the path of the
 * value in errors. `x-` extension fields are substituted too.
 */
export function interpolateTree(value: unknown, lookup: Lookup, unset: Set<string>, at = ''): unknown {
  if (typeof value === 'string') {
    try {
      return interpolate(value, lookup, unset);
    } catch (err) {
      throw invalid(`${at || '(top)'}: ${(err as Error).message}`);
    }
  }
  if (value instanceof Tagged) return new Tagged(value.tag, interpolateTree(value.value, lookup, unset, at));
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, lookup, unset, `${at}[${i}]`));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateTree(v, lookup, unset, at ? `${at}.${k}` : k);
    return out;
  }
  return value;
}
