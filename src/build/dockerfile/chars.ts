// Character classes as Go's unicode package defines them, so that splitting at blanks agrees with
// Docker's (JavaScript's \s differs: it includes U+FEFF and lacks U+0085).

const SPACES = new Set([
  '\t', '\n', '\v', '\f', '\r', ' ', '\u0085', '\u00a0', '\u1680',
  '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a',
  '\u2028', '\u2029', '\u202f', '\u205f', '\u3000',
]);

/** Go's unicode.IsSpace for one character (code point). */
export function isSpace(ch: string): boolean {
  return SPACES.has(ch);
}

/** Go's strings.TrimSpace / TrimLeftFunc(unicode.IsSpace). */
export function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length && SPACES.has(s[i])) i++;
  return s.slice(i);
}

export function trimSpace(s: string): string {
  let j = s.length;
  while (j > 0 && SPACES.has(s[j - 1])) j--;
  return trimLeftSpace(s.slice(0, j));
}

/** Go regexp `[\t\v\f\r ]+`: the separator between an instruction's keyword and its arguments. */
export const BLANKS = /[\t\v\f\r ]+/;
