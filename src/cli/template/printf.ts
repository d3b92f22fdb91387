// Go's fmt as templates reach it: print, println and printf with the verbs scripts use
// (%v %s %q %d %t %x %X %o %b %c %U %e %f %g and width, precision, flags), with Go's
// "%!d(string=x)" marks for a wrong operand.
import { formatPrec, hexFloat } from './float.ts';
import { formatFloat, formatValue, GoFloat, isInt, isObject, typeName, utf8, visitKeys } from './values.ts';

/** fmt.Sprint: a space between operands when neither is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a, false);
  });
  return out;
}

export function sprintln(args: unknown[]): string {
  return args.map((a) => formatValue(a, false)).join(' ') + '\n';
}

const PLAIN_ASCII = /^[\x20-\x5b\x5d-\x7e]*$/;
const ESC: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\' };

/** strconv.Quote (asciiOnly for %+q): printable runes kept, others escaped. */
export function goQuote(s: string, quote = '"', asciiOnly = false): string {
  // Printable ASCII is kept as it is but for the quote and the backslash (ps quotes every row's command).
  if (PLAIN_ASCII.test(s) && !s.includes(quote)) return quote + s + quote;
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote) out += `\\${ch}`;
    else if (ch in ESC) out += ESC[ch];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if ((asciiOnly && cp > 0x7e) || !/[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(ch)) {
      out += cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return out + quote;
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}

/** Go's mark for an operand the verb cannot print: the operand itself printed with %v and the same flags. */
function bad(verb: string, a: unknown, f: Spec): string {
  return a === null || a === undefined ? `%!${verb}(<nil>)` : `%!${verb}(${typeName(a)}=${one('v', a, { ...f, plus: false })})`;
}

function pad(s: string, f: Spec, numeric = false): string {
  const len = [...s].length;
  if (f.width === undefined || len >= f.width) return s;
  if (f.minus) return s + ' '.repeat(f.width - len);
  if (f.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0] : '';
    return sign + '0'.repeat(f.width - len) + s.slice(sign.length);
  }
  return ' '.repeat(f.width - len) + s;
}

function signed(n: string, neg: boolean, f: Spec): string {
  return (neg ? '-' : f.plus ? '+' : f.space ? ' ' : '') + n;
}

function integer(a: number, verb: string, f: Spec): string {
  const base = { d: 10, x: 16, X: 16, o: 8, O: 8, b: 2 }[verb] ?? 10;
  let digits = Math.abs(a).toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  if (f.prec !== undefined) digits = f.prec === 0 && a === 0 ? '' : digits.padStart(f.prec, '0');
  let prefix = '';
  if (verb === 'O') prefix = '0o';
  else if (f.sharp) prefix = verb === 'x' ? '0x' : verb === 'X' ? '0X' : verb === 'o' && !digits.startsWith('0') ? '0' : verb === 'b' ? '0b' : '';
  return pad(signed(prefix + digits, a < 0, f), f, f.prec === undefined);
}

function float(a: number, verb: string, f: Spec): string {
  if (!Number.isFinite(a)) return pad(Number.isNaN(a) ? 'NaN' : signed('Inf', a < 0, { ...f, plus: f.plus || a > 0 }), f);
  const abs = Math.abs(a);
  const lower = verb.toLowerCase() as 'e' | 'f' | 'g';
  let s: string;
  if (lower === 'g' && f.prec === undefined) s = formatFloat(abs, 6);
  else s = formatPrec(abs, lower, f.prec ?? 6, f.sharp);
  if (verb === 'E' || verb === 'G') s = s.toUpperCase();
  return pad(signed(s, a < 0 || Object.is(a, -0), f), f, true);
}

function str(a: unknown, verb: string, f: Spec): string {
  let s = typeof a === 'string' ? a : '';
  if (f.prec !== undefined) s = [...s].slice(0, f.prec).join('');
  if (verb === 'q') s = f.sharp && !/[`\x00-\x08\x0a-\x1f\x7f]/.test(s) ? `\`${s}\`` : goQuote(s, '"', f.plus);
  return pad(s, f);
}

function hexString(a: string, verb: string, f: Spec): string {
  let bytes = utf8(a);
  if (f.prec !== undefined) bytes = bytes.subarray(0, f.prec);
  let hex = bytes.toString('hex');
  if (verb === 'X') hex = hex.toUpperCase();
  if (f.sharp) hex = (verb === 'X' ? '0X' : '0x') + hex;
  return pad(hex, f);
}

/** One operand under one verb, as fmt prints it. */
function one(verb: string, a: unknown, f: Spec): string {
  if (a instanceof GoFloat || (typeof a === 'number' && !isInt(a))) {
    const v = a instanceof GoFloat ? a.value : (a as number);
    if ('vgGeEfF'.includes(verb)) return float(v, verb === 'v' ? 'g' : verb, verb === 'v' ? { ...f, plus: false } : f);
    if (verb === 'x' || verb === 'X') return pad(signed(hexFloat(Math.abs(v), verb === 'X'), v < 0, f), f, true);
    return verb === 'T' ? pad('float64', f) : bad(verb, a, f);
  }
  if (Array.isArray(a) && verb !== 'v' && verb !== 'T') return pad(`[${a.map((x) => one(verb, x, { ...f, width: undefined })).join(' ')}]`, f);
  if (isObject(a) && verb !== 'T' && verb !== 'v') {
    return pad(`map[${visitKeys(a).map((k) => `${one(verb, k, { ...f, width: undefined })}:${one(verb, a[k], { ...f, width: undefined })}`).join(' ')}]`, f);
  }
  switch (verb) {
    case 'v':
      // %+v means field names (for structs), not a sign.
      if (typeof a === 'number' && !isInt(a)) return float(a, 'g', { ...f, plus: false });
      if (typeof a === 'number') return integer(a, 'd', { ...f, plus: false });
      if (f.sharp && typeof a === 'string') return pad(goQuote(a), f);
      return pad(formatValue(a, false), f);
    case 'T': return pad(typeName(a), f);
    case 's': case 'q':
      if (typeof a === 'string') return str(a, verb, f);
      if (verb === 'q' && isInt(a)) return pad(goQuote(String.fromCodePoint(a), "'", f.plus), f);
      return bad(verb, a, f);
    case 'd': case 'o': case 'O': case 'b':
      return isInt(a) ? integer(a, verb, f) : bad(verb, a, f);
    case 'x': case 'X':
      if (typeof a === 'string') return hexString(a, verb, f);
      return isInt(a) ? integer(a, verb, f) : bad(verb, a, f);
    case 't': return typeof a === 'boolean' ? pad(String(a), f) : bad(verb, a, f);
    case 'c': return isInt(a) ? pad(String.fromCodePoint(a), f) : bad(verb, a, f);
    case 'U': return isInt(a) ? pad(`U+${a.toString(16).toUpperCase().padStart(4, '0')}`, f) : bad(verb, a, f);
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
      // An int (a whole number in the data, or an integer constant) is refused, as Go does.
      return bad(verb, a, f);
    default: return bad(verb, a, f);
  }
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i++];
    if (c !== '%') {
      out += c;
      continue;
    }
    const f: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    for (; i < format.length; i++) {
      const flag = format[i];
      if (flag === '-') f.minus = true;
      else if (flag === '+') f.plus = true;
      else if (flag === '#') f.sharp = true;
      else if (flag === ' ') f.space = true;
      else if (flag === '0') f.zero = !f.minus;
      else break;
    }
    const num = (): number | undefined => {
      if (format[i] === '*') {
        i++;
        const a = args[argi++];
        return isInt(a) ? a : undefined;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    f.width = num();
    if (f.width !== undefined && f.width < 0) {
      f.minus = true;
      f.width = -f.width;
    }
    if (format[i] === '.') {
      i++;
      f.prec = num() ?? 0;
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += one(verb, args[argi++], f);
  }
  if (argi < args.length) out += `%!(EXTRA ${args.slice(argi).map((a) => (a === null || a === undefined ? '<nil>' : `${typeName(a)}=${formatValue(a, false)}`)).join(', ')})`;
  return out;
}
