// Docker's word processing (BuildKit's shell lexer): quote removal, escapes and `$` expansion,
// applied by the builder to an instruction's raw words at dispatch time, when the environment
// (ARGs, ENVs) is known. It imitates the POSIX shell's rules but never runs anything: no command
// substitution, no globbing, no arithmetic. The parser also uses it with raw quotes and escapes kept,
// to find heredoc markers.

import { invalid } from '../../core/errors.ts';
import { isSpace } from './chars.ts';
import { shellPatternRegex } from './pattern.ts';

export interface ExpandOptions {
  /** The escape character (`\` unless the Dockerfile's `# escape=` says otherwise). */
  escape?: string;
  /** Leave `$name` / `${name...}` as written when name is not set (the parser's heredoc scan). */
  skipUnset?: boolean;
  /** Keep quote characters in the result. */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Quotes are ordinary characters (BuildKit's expansion of heredoc bodies). */
  skipQuotes?: boolean;
  /** Told of each variable referenced but not set (the builder may warn, as BuildKit's linter does). */
  onUnset?: (name: string) => void;
}

const EOF = '';
const MAX_DEPTH = 100;

/** The expansion's failures, without the "failed to process" wrapping. */
class WordError extends Error {}

class Words {
  words: string[] = [];
  buf = '';
  inWord = false;
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else this.addRaw(ch);
  }
  addRaw(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  done(): string[] {
    if (this.buf.length) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private depth = 0;
  private rawEscapes: boolean;
  private readonly escape: string;
  private readonly env: Record<string, string>;
  private readonly opts: ExpandOptions;
  constructor(text: string, env: Record<string, string>, opts: ExpandOptions) {
    this.env = env;
    this.opts = opts;
    this.chars = Array.from(text);
    this.escape = opts.escape ?? '\\';
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  private peek(): string {
    return this.pos < this.chars.length ? this.chars[this.pos] : EOF;
  }
  private next(): string {
    return this.pos < this.chars.length ? this.chars[this.pos++] : EOF;
  }
  private get(name: string): string | undefined {
    if (Object.hasOwn(this.env, name)) return this.env[name];
    this.opts.onUnset?.(name);
    return undefined;
  }

  /** Reads up to `stop` (consumed) or the end; returns the text and its split into words. */
  run(stop: string, rawEscapes: boolean): { text: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.runInner(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private runInner(stop: string): { text: string; words: string[] } {
    let text = '';
    const words = new Words();
    while (this.peek() !== EOF) {
      let ch = this.peek();
      if (stop !== EOF && ch === stop) {
        this.next();
        return { text, words: words.done() };
      }
      if (ch === '$') {
        const v = this.dollar();
        text += v;
        words.addString(v); // an expanded value splits into words
        continue;
      }
      if (ch === '<' || (!this.opts.skipQuotes && (ch === "'" || ch === '"'))) {
        const v = ch === '<' ? this.possibleHeredoc() : ch === "'" ? this.singleQuote() : this.doubleQuote();
        text += v;
        words.addRaw(v); // quoted text stays one word, spaces included
        continue;
      }
      ch = this.next();
      if (ch === this.escape) {
        if (this.rawEscapes) {
          words.addRaw(ch);
          text += ch;
        }
        ch = this.next();
        if (ch === EOF) break; // an escape at the very end is dropped
        words.addRaw(ch);
      } else words.addChar(ch);
      text += ch;
    }
    if (stop !== EOF) throw new WordError(`unexpected end of statement while looking for matching ${stop}`);
    return { text, words: words.done() };
  }

  private singleQuote(): string {
    // Everything up to the next ' is literal; a ' cannot be escaped inside.
    let out = '';
    const open = this.next();
    if (this.opts.rawQuotes) out += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new WordError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return this.opts.rawQuotes ? out + ch : out;
      out += ch;
    }
  }

  private doubleQuote(): string {
    // Literal except `$` expansions; the escape character escapes only " $ and itself.
    let out = '';
    const open = this.next();
    if (this.opts.rawQuotes) out += open;
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new WordError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        this.next();
        return this.opts.rawQuotes ? out + p : out;
      }
      if (p === '$') {
        out += this.dollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.escape) {
        if (this.rawEscapes) out += ch;
        const after = this.peek();
        if (after === EOF) continue;
        if (after === '"' || after === '$' || after === this.escape) ch = this.next();
      }
      out += ch;
    }
  }

  private possibleHeredoc(): string {
    // `<<` and the blanks after it stay glued to the delimiter word, so `<< EOF` is one word.
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let out = '<<';
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') out += this.next();
    return out;
  }

  private name(): string {
    let name = '';
    for (;;) {
      const ch = this.peek();
      if (ch === EOF) return name;
      if (!name && /^\p{Nd}$/u.test(ch)) {
        while (/^\p{Nd}$/u.test(this.peek())) name += this.next();
        return name; // positional: $1, $12
      }
      if (!name && '@*#?-$!0'.includes(ch)) return this.next(); // special parameters
      if (!/^[\p{L}\p{Nd}_]$/u.test(ch)) return name;
      name += this.next();
    }
  }

  private dollar(): string {
    // `${a:-${b:-...}}` recurses; bound it so that hostile input is an error, not a stack overflow.
    if (++this.depth > MAX_DEPTH) throw new WordError(`substitutions nested deeper than ${MAX_DEPTH}`);
    try {
      return this.dollarInner();
    } finally {
      this.depth--;
    }
  }

  private dollarInner(): string {
    this.next(); // $
    if (this.peek() !== '{') {
      const name = this.name();
      if (!name) return '$';
      const v = this.get(name);
      if (v === undefined && this.opts.skipUnset) return '$' + name;
      return v ?? '';
    }
    this.next(); // {
    const first = this.peek();
    if (first === EOF) throw new WordError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new WordError('syntax error: bad substitution');
    const name = this.name();
    let op = this.next();
    if (op === EOF) throw new WordError("syntax error: missing '}'");
    if (op === '}') {
      const v = this.get(name);
      if (v === undefined && this.opts.skipUnset) return '${' + name + '}';
      return v ?? '';
    }
    if (op === '/') return this.replace(name);
    let mod = op;
    let nullIsUnset = false;
    if (op === ':') {
      nullIsUnset = true;
      op = this.next();
      mod += op;
    }
    if (op === EOF) throw new WordError("syntax error: missing '}'");
    const isTrim = op === '#' || op === '%';
    if (nullIsUnset && isTrim) throw new WordError(`unsupported modifier (${mod}) in substitution`);
    const word = this.until('}', isTrim, "syntax error: missing '}'");
    const v = this.get(name);
    if (v === undefined && this.opts.skipUnset) return '${' + name + mod + word + '}';
    const empty = v === undefined || (nullIsUnset && v === '');
    switch (op) {
      case '-':
        return empty ? word : v!;
      case '+':
        return empty ? '' : word;
      case '?':
        if (v === undefined) throw new WordError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (empty) throw new WordError(`${name}: ${word || 'is not allowed to be empty'}`);
        return v;
      case '#':
      case '%': {
        // # and % remove the shortest matching prefix/suffix, ## and %% the longest.
        const greedy = word.startsWith(op);
        const pattern = greedy ? word.slice(1) : word;
        return op === '#' ? trimPrefix(pattern, v ?? '', greedy) : trimSuffix(pattern, v ?? '', greedy);
      }
      default:
        throw new WordError(`unsupported modifier (${mod}) in substitution`);
    }
  }

  /** `${name/pattern/replacement}` (first match) and `${name//pattern/replacement}` (all). */
  private replace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pattern = this.until('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.until('}', true, "syntax error: missing '}'");
    const v = this.get(name);
    if (v === undefined && this.opts.skipUnset) return '${' + name + '/' + (all ? '/' : '') + pattern + '/' + replacement + '}';
    const re = patternRegex(pattern, true, false, all);
    return (v ?? '').replace(re, () => replacement);
  }

  private until(stop: string, rawEscapes: boolean, atEnd: string): string {
    try {
      return this.run(stop, rawEscapes).text;
    } catch (err) {
      if (err instanceof WordError && this.peek() === EOF) throw new WordError(atEnd);
      throw err;
    }
  }
}

function patternRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  try {
    return shellPatternRegex(pattern, greedy, anchored, global);
  } catch (err) {
    throw new WordError(`invalid pattern (${pattern}) in substitution: ${(err as Error).message}`);
  }
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = patternRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** A shortest rightmost match is a leftmost match on the reversed value and pattern. */
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const rev = (s: string) => Array.from(s).reverse().join('');
  return rev(trimPrefix(reversePattern(pattern), rev(value), greedy));
}

/** Reverses a pattern keeping each `\x` escape pair in order. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    if (chars[i] === '\\' && i < chars.length - 1) {
      out.unshift('\\' + chars[i + 1]);
      i += 2;
    } else out.unshift(chars[i++]);
  }
  return out.join('');
}

function process(raw: string, env: Record<string, string>, opts: ExpandOptions): { text: string; words: string[] } {
  try {
    return new Lexer(raw, env, opts).run(EOF, opts.rawEscapes ?? false);
  } catch (err) {
    if (err instanceof WordError) {
      const shown = raw.length > 200 ? raw.slice(0, 200) + '...' : raw;
      throw invalid(`failed to process "${shown}": ${err.message}`);
    }
    throw err;
  }
}

/** Docker's ProcessWord: quotes removed, escapes and variables resolved, one string. */
export function expandWord(raw: string, env: Record<string, string>, opts: ExpandOptions = {}): string {
  return process(raw, env, opts).text;
}

/**
 * Docker's ProcessWords: the same, then split into words at unquoted blanks (also blanks that come
 * from variable values), for instructions that take a list (EXPOSE, the heredoc scan).
 */
export function expandWords(raw: string, env: Record<string, string>, opts: ExpandOptions = {}): string[] {
  return process(raw, env, opts).words;
}
