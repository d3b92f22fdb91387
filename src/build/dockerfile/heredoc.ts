// Heredoc markers in RUN, COPY and ADD lines: `<<EOF`, `<<-EOF` (leading tabs stripped), `<<"EOF"`
// or `<<'EOF'` (quoted: no expansion of the body), with an optional file descriptor (`3<<EOF`).
// Several on one line are read one after the other, in order.

import type { Heredoc } from '../types.ts';
import { expandWord, expandWords } from './words.ts';

const MARKER = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;

/** A heredoc marker word, or undefined when the word is not one. Throws on a malformed quote. */
export function parseMarker(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = MARKER.exec(word);
  if (!m || !m[3]) return undefined;
  const rest = m[3];
  // The delimiter must be one word; it was quoted (so the body is not expanded) when removing
  // quotes changes the number of quote characters in it.
  const words = expandWords(rest, {}, { skipUnset: true });
  if (words.length !== 1) return undefined;
  const raw = expandWords(rest, {}, { skipUnset: true, rawQuotes: true });
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return { name: words[0], chomp: m[2] === '-', expand: quotes(words[0]) === quotes(raw[0] ?? '') };
}

/** The heredoc markers of a line, in order. Heredocs are recognised with `\` as escape, always. */
export function markersOf(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = expandWords(line, {}, { skipUnset: true, rawQuotes: true, rawEscapes: true });
  } catch {
    return []; // a line the lexer cannot split has no heredocs (as in BuildKit)
  }
  const out: Omit<Heredoc, 'content'>[] = [];
  for (const w of words) {
    const h = parseMarker(w);
    if (h) out.push(h);
  }
  return out;
}

/** A heredoc's body as used: with `<<-`, leading tabs removed from every line. */
export function heredocText(h: Heredoc): string {
  return h.chomp ? h.content.replace(/^\t+/gm, '') : h.content;
}

/**
 * The file a COPY/ADD heredoc source becomes: tabs stripped for `<<-`, then, unless the delimiter
 * was quoted, `$` variables expanded and `\` escapes removed while quotes stay literal (BuildKit
 * expands these bodies with `\` as escape whatever the Dockerfile's escape directive says).
 */
export function heredocFile(h: Heredoc, env: Record<string, string>, onUnset?: (name: string) => void): string {
  const text = heredocText(h);
  return h.expand ? expandWord(text, env, { skipQuotes: true, ...(onUnset ? { onUnset } : {}) }) : text;
}
