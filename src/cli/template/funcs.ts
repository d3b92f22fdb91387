// The functions a template may call: text/template's builtins and the ones the docker CLI adds
// (templates.go: json, split, join, title, lower, upper, pad, truncate), with their arities and
// parameter types so that calls fail as Go's do.
import { sprint, sprintf, sprintln } from './printf.ts';
import { formatValue, GoFloat, isFloat, isInt, isObject, isTypedNil, numberOf, toJSON, truth, typeName, utf8, visitKeys } from './values.ts';

export type Param = 'any' | 'string' | 'int' | 'strings';

export interface Func {
  params: Param[]; // fixed parameters
  variadic?: Param; // the type of the rest, when the function takes any number more
  fn: (...args: any[]) => unknown;
}

/** A function's own failure: Go reports it as "error calling NAME: MESSAGE". */
export class CallError extends Error {}

function err(msg: string): never {
  throw new CallError(msg);
}

const isNil = (v: unknown) => v === null || v === undefined || isTypedNil(v);

function kind(v: unknown): string {
  if (typeof v === 'number' || v instanceof GoFloat) return isFloat(v) ? 'float' : 'int';
  if (typeof v === 'string' || typeof v === 'boolean') return typeof v;
  return isNil(v) ? 'nil' : 'other';
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(utf8(a), utf8(b));
}

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (!rest.length) err('missing argument for comparison');
  for (const b of rest) {
    const [ka, kb] = [kind(a), kind(b)];
    if (ka !== kb) {
      if (!isNil(a) && !isNil(b)) err('incompatible types for comparison');
      continue;
    }
    if (ka === 'nil') return true;
    if (ka === 'other') err(`non-comparable type ${formatValue(a, false)}: ${typeName(a)}`);
    if (a === b || (numberOf(a) !== undefined && numberOf(a) === numberOf(b))) return true;
  }
  return false;
}

function less(a: unknown, b: unknown): boolean {
  const [ka, kb] = [kind(a), kind(b)];
  if (ka === 'nil' || ka === 'other' || ka === 'boolean') err('invalid type for comparison');
  if (ka !== kb) err('incompatible types for comparison');
  return ka === 'string' ? compareBytes(a as string, b as string) < 0 : numberOf(a)! < numberOf(b)!;
}

function index(item: unknown, ...keys: unknown[]): unknown {
  // A typed nil slice or map indexes as an empty one.
  if (item === null || item === undefined) err('index of untyped nil');
  for (const k of keys) {
    if (item === null || item === undefined) err('index of nil pointer');
    if (Array.isArray(item) || typeof item === 'string') {
      if (isNil(k)) err('cannot index slice/array with nil');
      if (!isInt(k)) err(`cannot index slice/array with type ${typeName(k)}`);
      const len = typeof item === 'string' ? utf8(item).length : item.length;
      if (k < 0 || k >= len) err(`index out of range: ${k}`);
      item = typeof item === 'string' ? utf8(item)[k] : item[k];
    } else if (isObject(item)) {
      if (typeof k !== 'string') err(`value has type ${typeName(k)}; should be string`);
      if (Object.hasOwn(item, k) && typeof item[k] !== 'function') item = item[k];
      // A missing key gives the zero value of the map's element type: "" in a map of strings.
      else item = Object.values(item).every((v) => typeof v === 'string') ? '' : undefined;
    } else err(`can't index item of type ${typeName(item)}`);
  }
  return item;
}

function slice(item: unknown, ...idx: unknown[]): unknown {
  if (item === null || item === undefined) err('slice of untyped nil');
  if (idx.length > 3) err(`too many slice indexes: ${idx.length}`);
  let len: number;
  if (typeof item === 'string') {
    if (idx.length === 3) err('cannot 3-index slice a string');
    len = utf8(item).length;
  } else if (Array.isArray(item)) len = item.length;
  else return err(`can't slice item of type ${typeName(item)}`);
  const ix = [0, len];
  idx.forEach((v, i) => {
    if (!isInt(v)) err(`cannot index slice/array with type ${typeName(v)}`);
    if (v < 0 || v > len) err(`index out of range: ${v}`);
    ix[i] = v;
  });
  if (ix[0] > ix[1]) err(`invalid slice index: ${ix[0]} > ${ix[1]}`);
  if (idx.length === 3 && ix[1] > (idx[2] as number)) err(`invalid slice index: ${ix[1]} > ${idx[2]}`);
  return typeof item === 'string' ? utf8(item).subarray(ix[0], ix[1]).toString('utf8') : item.slice(ix[0], ix[1]);
}

function len(item: unknown): number {
  if (isTypedNil(item)) return 0;
  if (item === null || item === undefined) err('reflect: call of reflect.Value.Type on zero Value');
  if (typeof item === 'string') return utf8(item).length;
  if (Array.isArray(item)) return item.length;
  if (isObject(item)) return visitKeys(item).length;
  return err(`len of type ${typeName(item)}`);
}

const HTML: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&#34;', '\0': '\uFFFD' };

function jsEscape(s: string): string {
  return s.replace(/[\\'"<>&=\x00-\x1f\x7f]/g, (c) => {
    if (c === '\\' || c === "'" || c === '"') return `\\${c}`;
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  });
}

function urlQuery(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Go's strings.Title: the first letter of each word upper-cased; words break at spaces and punctuation. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    const sep = /[\p{L}\p{Nd}_]/u.test(prev) ? false : /[\x00-\x7f]/.test(prev) || /\s/u.test(prev);
    out += sep ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function split(s: string, sep: string): string[] {
  return sep === '' ? [...s] : s.split(sep);
}

/** docker 28's join takes a []string (newer CLIs take any slice). */
function join(elems: string[], sep: string): string {
  return elems.join(sep);
}

const repeat = (n: number) => (n < 0 ? err('strings: negative Repeat count') : ' '.repeat(n));

export const FUNCS: Record<string, Func> = {
  and: { params: ['any'], variadic: 'any', fn: () => undefined }, // short-circuit: evaluated by exec
  or: { params: ['any'], variadic: 'any', fn: () => undefined },
  not: { params: ['any'], fn: (a) => !truth(a) },
  len: { params: ['any'], fn: len },
  index: { params: ['any'], variadic: 'any', fn: index },
  slice: { params: ['any'], variadic: 'any', fn: slice },
  eq: { params: ['any'], variadic: 'any', fn: eq },
  ne: { params: ['any', 'any'], fn: (a, b) => !eq(a, b) },
  lt: { params: ['any', 'any'], fn: less },
  le: { params: ['any', 'any'], fn: (a, b) => less(a, b) || eq(a, b) },
  gt: { params: ['any', 'any'], fn: (a, b) => !less(a, b) && !eq(a, b) },
  ge: { params: ['any', 'any'], fn: (a, b) => !less(a, b) },
  print: { params: [], variadic: 'any', fn: (...a) => sprint(a) },
  printf: { params: ['string'], variadic: 'any', fn: (f, ...a) => sprintf(f, a) },
  println: { params: [], variadic: 'any', fn: (...a) => sprintln(a) },
  html: { params: [], variadic: 'any', fn: (...a) => sprint(a).replace(/[<>&'"\0]/g, (c) => HTML[c]) },
  js: { params: [], variadic: 'any', fn: (...a) => jsEscape(sprint(a)) },
  urlquery: { params: [], variadic: 'any', fn: (...a) => urlQuery(sprint(a)) },
  call: { params: ['any'], variadic: 'any', fn: (f, ...a) => (typeof f === 'function' ? f(...a) : err(isNil(f) ? 'call of nil' : `non-function of type ${typeName(f)}`)) },
  // docker's additions (cli/templates/templates.go)
  json: { params: ['any'], fn: toJSON },
  split: { params: ['string', 'string'], fn: split },
  join: { params: ['strings', 'string'], fn: join },
  title: { params: ['string'], fn: title },
  lower: { params: ['string'], fn: (s) => s.toLowerCase() },
  upper: { params: ['string'], fn: (s) => s.toUpperCase() },
  pad: { params: ['string', 'int', 'int'], fn: (s, pre, suf) => (s === '' ? s : repeat(pre) + s + repeat(suf)) },
  truncate: {
    params: ['string', 'int'],
    fn: (s: string, n: number) => {
      const b = utf8(s);
      if (b.length < n) return s;
      if (n < 0) err(`runtime error: slice bounds out of range [:${n}]`);
      return b.subarray(0, n).toString('utf8');
    },
  },
};

/** docker's HeaderFunctions: a table's header row keeps the column names these would change. */
export const HEADER_FUNCS: Record<string, Func> = {
  ...FUNCS,
  json: { params: ['string'], fn: (v) => v },
  split: { params: ['string', 'string'], fn: (v) => v },
  join: { params: ['string', 'string'], fn: (v) => v },
  title: { params: ['string'], fn: (v) => v },
  lower: { params: ['string'], fn: (v) => v },
  upper: { params: ['string'], fn: (v) => v },
  truncate: { params: ['string', 'int'], fn: (v) => v },
};

export const FUNC_NAMES: ReadonlySet<string> = new Set(Object.keys(FUNCS));
