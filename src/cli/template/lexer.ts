// Go text/template's lexer: the template as text and actions, each action as tokens. Positions are
// byte offsets into the template, because Go's messages count bytes ("template: :1:8: ...").
import { TemplateError } from './errors.ts';

export type TokenType =
  | 'text' | 'comment' | 'left' | 'right' | 'space' | 'eof'
  | 'field' | 'variable' | 'identifier' | 'keyword' | 'bool' | 'nil' | 'dot'
  | 'string' | 'rawString' | 'char' | 'number'
  | 'pipe' | 'leftParen' | 'rightParen' | 'declare' | 'assign' | 'comma' | 'punct';

export interface Token {
  type: TokenType;
  value: string;
  pos: number; // byte offset
  line: number;
}

export const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);
const SPACE = new Set([' ', '\t', '\r', '\n']);
const isAlnum = (c: string) => /^[\p{L}\p{Nd}_]$/u.test(c);

/** Tokens of a whole template; throws TemplateError on the first lexical error, as Go does. */
export function lex(input: string, name = ''): Token[] {
  return new Lexer(input, name).run();
}

class Lexer {
  private readonly tokens: Token[] = [];
  private i = 0;
  private start = 0;
  private line = 1;
  private startLine = 1;
  private parenDepth = 0;
  private readonly bytePos: number[];

  private readonly input: string;
  private readonly name: string;

  constructor(input: string, name: string) {
    this.input = input;
    this.name = name;
    // UTF-16 index -> UTF-8 byte offset, computed once.
    this.bytePos = new Array(input.length + 1);
    let b = 0;
    for (let k = 0; k < input.length; k++) {
      this.bytePos[k] = b;
      const c = input.charCodeAt(k);
      b += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? 4 : c >= 0xdc00 && c < 0xe000 ? 0 : 3;
    }
    this.bytePos[input.length] = b;
  }

  private fail(msg: string): never {
    throw new TemplateError(`template: ${this.name}:${this.startLine}: ${msg}`, 'parse');
  }

  private emit(type: TokenType, value = this.input.slice(this.start, this.i)): void {
    this.tokens.push({ type, value, pos: this.bytePos[this.start], line: this.startLine });
    this.advanceStart();
  }

  private advanceStart(): void {
    for (let k = this.start; k < this.i; k++) if (this.input[k] === '\n') this.line++;
    this.start = this.i;
    this.startLine = this.line;
  }

  run(): Token[] {
    const s = this.input;
    for (;;) {
      const open = s.indexOf('{{', this.i);
      if (open < 0) {
        this.i = s.length;
        if (this.i > this.start) this.emit('text');
        this.emit('eof', '');
        return this.tokens;
      }
      // `{{- ` trims the text before it: the marker needs the space, else `{{-3}}` is a number.
      const trimLeft = s[open + 2] === '-' && SPACE.has(s[open + 3] ?? '');
      let end = open;
      if (trimLeft) while (end > this.start && SPACE.has(s[end - 1])) end--;
      this.i = end;
      if (this.i > this.start) this.emit('text');
      this.i = open;
      this.advanceStart();
      this.i = open + 2 + (trimLeft ? 2 : 0);
      this.emit('left', '{{');
      if (s.startsWith('/*', this.i)) this.comment();
      else this.action();
    }
  }

  /** After `}}` or ` -}}`: the right trim marker eats the whitespace that follows. */
  private right(trim: boolean): void {
    this.i += trim ? 4 : 2;
    this.emit('right', '}}');
    if (trim) {
      while (this.i < this.input.length && SPACE.has(this.input[this.i])) this.i++;
      this.advanceStart();
    }
  }

  private atRightTrim(): boolean {
    return SPACE.has(this.input[this.i] ?? '') && this.input.startsWith('-}}', this.i + 1);
  }

  private comment(): void {
    const close = this.input.indexOf('*/', this.i + 2);
    if (close < 0) this.fail('unclosed comment');
    this.i = close + 2;
    this.emit('comment');
    if (this.atRightTrim()) return this.right(true);
    if (!this.input.startsWith('}}', this.i)) this.fail('comment ends before closing delimiter');
    this.right(false);
  }

  private action(): void {
    const s = this.input;
    for (;;) {
      if (this.atRightTrim()) {
        if (this.parenDepth) this.fail('unclosed left paren');
        return this.right(true);
      }
      if (s.startsWith('}}', this.i)) {
        if (this.parenDepth) this.fail('unclosed left paren');
        return this.right(false);
      }
      if (this.i >= s.length) this.fail('unclosed action');
      const c = s[this.i];
      if (SPACE.has(c)) {
        while (this.i < s.length && SPACE.has(s[this.i]) && !this.atRightTrim()) this.i++;
        this.emit('space');
      } else if (c === '=') {
        this.i++;
        this.emit('assign');
      } else if (c === ':') {
        if (s[this.i + 1] !== '=') this.fail('expected :=');
        this.i += 2;
        this.emit('declare');
      } else if (c === '|') {
        this.i++;
        this.emit('pipe');
      } else if (c === '"') this.quote();
      else if (c === '`') this.rawQuote();
      else if (c === "'") this.charConst();
      else if (c === '$') this.variable();
      else if (c === '.') {
        const n = s[this.i + 1] ?? '';
        if (n >= '0' && n <= '9') this.number();
        else this.field();
      } else if (c === '+' || c === '-' || (c >= '0' && c <= '9')) this.number();
      else if (isAlnum(c)) this.identifier();
      else if (c === '(') {
        this.i++;
        this.emit('leftParen');
        this.parenDepth++;
      } else if (c === ')') {
        this.i++;
        if (--this.parenDepth < 0) this.fail('unexpected right paren');
        this.emit('rightParen');
      } else if (c === ',') {
        this.i++;
        this.emit('comma');
      } else if (c > ' ' && c < '\x7f') {
        // Go passes other printable ASCII to the parser, which reports it as unexpected.
        this.i++;
        this.emit('punct');
      } else {
        const cp = s.codePointAt(this.i)!;
        this.fail(`unrecognized character in action: U+${cp.toString(16).toUpperCase().padStart(4, '0')}${cp >= 0x20 && cp !== 0x7f ? ` '${String.fromCodePoint(cp)}'` : ''}`);
      }
    }
  }

  private word(): void {
    while (this.i < this.input.length && isAlnum(this.input[this.i])) this.i++;
  }

  private field(): void {
    this.i++; // the dot
    this.word();
    if (this.i - this.start === 1) {
      this.emit('dot', '.');
      return;
    }
    this.checkTerminator();
    this.emit('field');
  }

  private variable(): void {
    this.i++;
    this.word();
    this.checkTerminator();
    this.emit('variable');
  }

  private identifier(): void {
    this.word();
    this.checkTerminator();
    const w = this.input.slice(this.start, this.i);
    if (KEYWORDS.has(w)) this.emit('keyword');
    else if (w === 'true' || w === 'false') this.emit('bool');
    else if (w === 'nil') this.emit('nil');
    else this.emit('identifier');
  }

  /** Go rejects `.A%b`: what ends a word must be space, punctuation of the grammar or the delimiter. */
  private checkTerminator(): void {
    const c = this.input[this.i] ?? '';
    if (c === '' || SPACE.has(c) || '.,|:)(='.includes(c) || this.input.startsWith('}}', this.i)) return;
    this.fail(`bad character U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${c}'`);
  }

  private quote(): void {
    const s = this.input;
    this.i++;
    for (;;) {
      const c = s[this.i];
      if (c === undefined || c === '\n') this.fail('unterminated quoted string');
      this.i++;
      if (c === '\\') {
        if (s[this.i] === undefined || s[this.i] === '\n') this.fail('unterminated quoted string');
        this.i++;
      } else if (c === '"') break;
    }
    this.emit('string');
  }

  private rawQuote(): void {
    const close = this.input.indexOf('`', this.i + 1);
    if (close < 0) this.fail('unterminated raw quoted string');
    this.i = close + 1;
    this.emit('rawString');
  }

  private charConst(): void {
    const s = this.input;
    this.i++;
    for (;;) {
      const c = s[this.i];
      if (c === undefined || c === '\n') this.fail('unterminated character constant');
      this.i++;
      if (c === '\\') {
        if (s[this.i] === undefined || s[this.i] === '\n') this.fail('unterminated character constant');
        this.i++;
      } else if (c === "'") break;
    }
    this.emit('char');
  }

  /** Go's lexNumber: a sign, a base prefix, digits, a fraction, an exponent; a letter after it is an error. */
  private number(): void {
    if (!this.scanNumber()) this.fail(`bad number syntax: ${JSON.stringify(this.input.slice(this.start, this.i))}`);
    // 1+2i is a complex constant, which berth does not evaluate; anything else like 3- is an error.
    const sign = this.input[this.i];
    if (sign === '+' || sign === '-') {
      this.scanNumber();
      this.fail(`bad number syntax: ${JSON.stringify(this.input.slice(this.start, this.i))}`);
    }
    this.emit('number');
  }

  private scanNumber(): boolean {
    const s = this.input;
    const accept = (set: string) => (s[this.i] !== undefined && set.includes(s[this.i]) ? (this.i++, true) : false);
    const run = (set: string) => {
      while (accept(set));
    };
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    run(digits);
    if (accept('.')) run(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      run('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      run('0123456789_');
    }
    accept('i');
    if (isAlnum(s[this.i] ?? '')) {
      this.i++;
      return false;
    }
    return true;
  }
}

/**
 * A number token's value as Go's parser reads it: an integer (base prefixes, underscores), else a
 * float; a whole number too large for 64 bits is an overflow, anything else illegal.
 */
export function parseGoNumber(text: string): number | 'overflow' | 'illegal' {
  const m = /^([+-]?)(.*)$/.exec(text)!;
  const sign = m[1] === '-' ? -1 : 1;
  let body = m[2];
  if (body.includes('_')) {
    if (/__|_$|_\.|\._|^_|[eEpP]_|_[eEpP]/.test(body) || !/^0[xXoObB]|^\d/.test(body)) return 'illegal';
    body = body.replace(/_/g, '');
  }
  let int: bigint | undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(body) || /^0[bB][01]+$/.test(body)) int = BigInt(body);
  else if (/^0[oO]?[0-7]+$/.test(body)) int = BigInt(`0o${body.replace(/^0[oO]?/, '')}`);
  else if (/^(0|[1-9]\d*)$/.test(body)) int = BigInt(body);
  if (int !== undefined && int <= (sign < 0 ? 1n << 63n : (1n << 64n) - 1n)) return sign * Number(int);
  let v: number | undefined;
  if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(body)) v = Number(body);
  else if (/^0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+$/.test(body)) {
    // A hex float: mantissa digits in base 16, exponent a power of two.
    const [mant, exp] = body.slice(2).split(/[pP]/);
    const [whole, frac = ''] = mant.split('.');
    v = (parseInt(whole || '0', 16) + (frac ? parseInt(frac, 16) / 16 ** frac.length : 0)) * 2 ** Number(exp);
  }
  if (v === undefined || !Number.isFinite(v)) return 'illegal';
  // Parsed as a float but written as an integer: too large for an int (or 08, not octal).
  if (!/[.eEpP]/.test(text)) return 'overflow';
  return sign * v;
}
