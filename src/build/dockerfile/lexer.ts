// From text to logical lines: parser directives at the top, comment and blank lines dropped, line
// continuations (the escape character at the end of a line, blanks after it allowed) joined, also
// across comment lines and empty lines inside a continuation; and the bodies of heredocs.

import { trimLeftSpace } from './chars.ts';
import { DirectiveScanner } from './directives.ts';
import { parseError } from './errors.ts';

export interface LogicalLine {
  text: string;
  /** 1-based first and last physical line. */
  line: number;
  endLine: number;
}

/** Go's bytes.TrimRight(s, "\r\n"), by hand: a regexp would be quadratic on a run of \r. */
function trimNewline(s: string): string {
  let j = s.length;
  while (j > 0 && (s[j - 1] === '\n' || s[j - 1] === '\r')) j--;
  return s.slice(0, j);
}
const isComment = (s: string) => trimLeftSpace(s).startsWith('#');

export class LineReader {
  /** Physical lines, each with its line ending (heredoc bodies keep them). */
  private readonly lines: string[];
  private index = 0;
  readonly directives = new DirectiveScanner();
  private continuation!: RegExp;

  private readonly file: string;

  constructor(text: string, file: string) {
    this.file = file;
    this.lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
    if (this.lines.length && this.lines[0].startsWith('\ufeff')) this.lines[0] = this.lines[0].slice(1);
    this.setEscape('\\');
  }

  get escape(): string {
    return this.directives.escape;
  }

  /** Number of the last physical line read. */
  get lineNumber(): number {
    return this.index;
  }

  private setEscape(e: string): void {
    const q = e === '\\' ? '\\\\' : e;
    // The escape at the end of a line continues it, unless it is itself escaped (`\\`).
    this.continuation = new RegExp(`(?:([^${q}])|^)${q}[ \\t]*$`);
  }

  /** Strips a continuation escape; `more` when the instruction goes on on the next line. */
  private trimContinuation(s: string): { text: string; more: boolean } {
    const m = this.continuation.exec(s);
    if (!m) return { text: s, more: false };
    return { text: s.slice(0, m.index) + (m[1] ?? ''), more: true };
  }

  private scanDirective(token: string): void {
    try {
      const was = this.directives.escape;
      if (this.directives.scan(token) && this.directives.escape !== was) this.setEscape(this.directives.escape);
    } catch (err) {
      throw parseError(this.file, this.index, (err as Error).message);
    }
  }

  /** The next instruction's text, continuations joined; undefined at the end. */
  next(): LogicalLine | undefined {
    while (this.index < this.lines.length) {
      const physical = this.lines[this.index++];
      const token = trimLeftSpace(trimNewline(physical));
      this.scanDirective(token);
      if (isComment(token)) continue;
      const start = this.index;
      let { text, more } = this.trimContinuation(token);
      if (!more && !text) continue;
      while (more && this.index < this.lines.length) {
        const raw = this.lines[this.index++];
        const cont = trimNewline(raw);
        this.scanDirective(cont);
        // Comment lines and empty lines inside a continuation are skipped (docker warns of the latter).
        if (isComment(raw) || !trimLeftSpace(cont)) continue;
        const r = this.trimContinuation(cont);
        text += r.text;
        more = r.more;
      }
      return { text, line: start, endLine: this.index };
    }
    return undefined;
  }

  /**
   * The body of a heredoc that started on the line just read: the physical lines up to one that is
   * exactly `name` (after leading tabs with `<<-`), with their line endings.
   */
  heredoc(name: string, chomp: boolean): string | undefined {
    let content = '';
    while (this.index < this.lines.length) {
      const raw = this.lines[this.index++];
      let candidate = trimNewline(raw);
      if (chomp) candidate = candidate.replace(/^\t+/, '');
      if (candidate === name) return content;
      content += raw;
    }
    return undefined;
  }
}
