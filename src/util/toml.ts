// A strict reader for the part of TOML that configuration files such as containerd's hosts.toml
// use: comments, tables (`[a."b.c".d]`), bare/quoted/dotted keys, basic and literal strings,
// booleans, integers and (multi-line) arrays. Anything else (dates, floats, inline tables, arrays
// of tables, multi-line strings) is refused with the line it is on, never guessed at, so a file
// that means something else to a full TOML reader fails here instead of being misread.

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

export class TomlError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.line = line;
    this.name = 'TomlError';
  }
}

const BARE = /[A-Za-z0-9_-]/;
const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };

class Reader {
  private readonly s: string;
  pos = 0;
  line = 1;
  constructor(s: string) {
    this.s = s;
  }

  fail(msg: string): never {
    throw new TomlError(this.line, msg);
  }

  get done(): boolean {
    return this.pos >= this.s.length;
  }

  peek(): string {
    return this.s[this.pos] ?? '';
  }

  next(): string {
    const c = this.s[this.pos++] ?? '';
    if (c === '\n') this.line++;
    return c;
  }

  /** Spaces and tabs only: a newline ends a key/value or header. */
  blanks(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  /** Blanks, newlines and comments: what may sit between array elements or statements. */
  gaps(): void {
    for (;;) {
      this.blanks();
      const c = this.peek();
      if (c === '#') this.comment();
      else if (c === '\n') this.next();
      else if (c === '\r' && this.s[this.pos + 1] === '\n') this.pos++;
      else return;
    }
  }

  comment(): void {
    while (!this.done && this.peek() !== '\n') {
      const code = this.s.charCodeAt(this.pos);
      if ((code < 0x20 && code !== 0x09 && code !== 0x0d) || code === 0x7f) this.fail('control character in a comment');
      this.pos++;
    }
  }

  /** After a statement: optional blanks and comment, then a newline or the end. */
  endOfLine(): void {
    this.blanks();
    if (this.peek() === '#') this.comment();
    if (this.peek() === '\r' && this.s[this.pos + 1] === '\n') this.pos++;
    if (this.done) return;
    if (this.peek() !== '\n') this.fail(`unexpected ${JSON.stringify(this.peek())} after a value (one key = value per line)`);
    this.next();
  }

  key(): string[] {
    const parts: string[] = [];
    for (;;) {
      this.blanks();
      const c = this.peek();
      if (c === '"') parts.push(this.basicString());
      else if (c === "'") parts.push(this.literalString());
      else if (BARE.test(c)) {
        const start = this.pos;
        while (BARE.test(this.peek())) this.pos++;
        parts.push(this.s.slice(start, this.pos));
      } else this.fail(c ? `unexpected ${JSON.stringify(c)} where a key belongs` : 'a key is missing');
      this.blanks();
      if (this.peek() !== '.') return parts;
      this.pos++;
    }
  }

  basicString(): string {
    this.pos++; // "
    if (this.s.startsWith('""', this.pos)) this.fail('multi-line strings are not supported');
    let out = '';
    for (;;) {
      if (this.peek() === '\n' || this.done) this.fail('unterminated string');
      const c = this.next();
      if (c === '"') return out;
      if (c === '\\') {
        const e = this.next();
        if (e in ESCAPES) out += ESCAPES[e];
        else if (e === 'u' || e === 'U') {
          const n = e === 'u' ? 4 : 8;
          const hex = this.s.slice(this.pos, this.pos + n);
          if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(hex)) this.fail(`invalid \\${e} escape`);
          const cp = parseInt(hex, 16);
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail(`invalid code point \\${e}${hex}`);
          out += String.fromCodePoint(cp);
          this.pos += n;
        } else this.fail(`invalid escape \\${e}`);
      } else if (c.charCodeAt(0) < 0x20 && c !== '\t') this.fail('control character in a string');
      else out += c;
    }
  }

  literalString(): string {
    this.pos++; // '
    if (this.s.startsWith("''", this.pos)) this.fail('multi-line strings are not supported');
    const end = this.s.indexOf("'", this.pos);
    const nl = this.s.indexOf('\n', this.pos);
    if (end < 0 || (nl >= 0 && nl < end)) this.fail('unterminated string');
    const out = this.s.slice(this.pos, end);
    this.pos = end + 1;
    return out;
  }

  value(): TomlValue {
    const c = this.peek();
    if (c === '"') return this.basicString();
    if (c === "'") return this.literalString();
    if (c === '[') return this.array();
    if (c === '{') this.fail('inline tables are not supported; use a [table] header');
    const m = /^[^\s,\]#]+/.exec(this.s.slice(this.pos));
    const word = m?.[0] ?? '';
    this.pos += word.length;
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (/^[+-]?(0|[1-9](_?\d)*)$/.test(word)) {
      const n = Number(word.replace(/_/g, ''));
      if (!Number.isSafeInteger(n)) this.fail(`integer ${word} is too large`);
      return n;
    }
    if (!word) this.fail(c && c !== '\n' && c !== '\r' && c !== '#' ? `unexpected ${JSON.stringify(c)} where a value belongs` : 'a value is missing');
    this.fail(`unsupported value ${JSON.stringify(word)} (strings must be quoted)`);
  }

  array(): TomlValue[] {
    this.next(); // [
    const out: TomlValue[] = [];
    for (;;) {
      this.gaps();
      if (this.peek() === ']') {
        this.next();
        return out;
      }
      if (this.done) this.fail('unterminated array');
      out.push(this.value());
      this.gaps();
      if (this.peek() === ',') this.next();
      else if (this.peek() !== ']') this.fail(this.done ? 'unterminated array' : `expected "," or "]" in an array, found ${JSON.stringify(this.peek())}`);
    }
  }
}

const isTable = (v: TomlValue | undefined): v is TomlTable => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses TOML text into plain objects; throws TomlError naming the line. */
export function parseToml(text: string): TomlTable {
  const r = new Reader(text.startsWith('\ufeff') ? text.slice(1) : text);
  const root: TomlTable = Object.create(null);
  // Tables given a header of their own (a second [x] is an error) and tables made implicitly by a
  // dotted key (which a later header must not reopen).
  const headed = new Set<TomlTable>();
  const dotted = new Set<TomlTable>();
  let current = root;

  const descend = (from: TomlTable, path: string[], how: 'header' | 'dotted'): TomlTable => {
    let t = from;
    for (const k of path) {
      const v = t[k];
      if (v === undefined) {
        const child: TomlTable = Object.create(null);
        t[k] = child;
        if (how === 'dotted') dotted.add(child);
        t = child;
      } else if (isTable(v)) {
        if (how === 'header' && dotted.has(v)) r.fail(`table ${JSON.stringify(path.join('.'))} was already defined by a dotted key`);
        t = v;
      } else r.fail(`key ${JSON.stringify(k)} is already a value, not a table`);
    }
    return t;
  };

  for (;;) {
    r.gaps();
    if (r.done) return root;
    if (r.peek() === '[') {
      r.next();
      if (r.peek() === '[') r.fail('arrays of tables ([[...]]) are not supported');
      const path = r.key();
      if (r.peek() !== ']') r.fail('expected "]" to close the table header');
      r.next();
      const parent = descend(root, path.slice(0, -1), 'header');
      const last = path[path.length - 1];
      const existing = parent[last];
      if (isTable(existing) && dotted.has(existing)) r.fail(`table ${JSON.stringify(path.join('.'))} was already defined by a dotted key`);
      if (existing !== undefined && (!isTable(existing) || headed.has(existing))) r.fail(`table ${JSON.stringify(path.join('.'))} is defined twice`);
      current = descend(parent, [last], 'header');
      headed.add(current);
      r.endOfLine();
      continue;
    }
    const key = r.key();
    if (r.peek() !== '=') r.fail(`expected "=" after the key ${JSON.stringify(key.join('.'))}`);
    r.next();
    r.blanks();
    const value = r.value();
    const table = descend(current, key.slice(0, -1), 'dotted');
    const last = key[key.length - 1];
    if (last in table) r.fail(`key ${JSON.stringify(key.join('.'))} is defined twice`);
    table[last] = value;
    r.endOfLine();
  }
}
