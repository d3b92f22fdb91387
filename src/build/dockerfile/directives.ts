// Parser directives: `# name=value` comment lines at the very top (`syntax`, `escape`, `check`),
// case-insensitive names. The first line that is not one (a blank line, another comment, an
// instruction, an unknown directive) ends them, and later ones are plain comments.

import { trimLeftSpace } from './chars.ts';

const KNOWN = new Set(['syntax', 'escape', 'check']);
// Go's `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`; the trailing blanks are trimmed by hand, as a
// lazy group before them is quadratic in a backtracking engine.
const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.*)$/;
function trimBlanksEnd(s: string): string {
  let j = s.length;
  while (j > 0 && '\t\n\f\r '.includes(s[j - 1])) j--;
  return s.slice(0, j);
}

export class DirectiveScanner {
  readonly directives: Record<string, string> = {};
  escape = '\\';
  private done = false;

  /**
   * Looks at one physical line (newline removed). True when it was a directive. Throws a plain
   * Error (the caller adds the position) for a repeated directive or a bad escape character.
   */
  scan(line: string): boolean {
    if (this.done) return false;
    if (!line.startsWith('#')) {
      this.done = true;
      return false;
    }
    const m = DIRECTIVE.exec(trimLeftSpace(line.slice(1)));
    const name = m?.[1].toLowerCase();
    const value = m ? trimBlanksEnd(m[2]) : '';
    if (!m || !name || !value || !KNOWN.has(name)) {
      this.done = true;
      return false;
    }
    if (Object.hasOwn(this.directives, name)) throw new Error(`only one ${name} parser directive can be used`);
    if (name === 'escape') {
      if (value !== '`' && value !== '\\') throw new Error(`invalid escape token '${value}' does not match \` or \\`);
      this.escape = value;
    }
    this.directives[name] = value;
    return true;
  }
}
