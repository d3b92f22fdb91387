// Splitting one logical line: the keyword, the builder flags (`--from=x`), the arguments as words
// (quotes kept, for ENV/LABEL/ARG) or as a JSON array (exec form).

import { BLANKS, isSpace, trimLeftSpace, trimSpace } from './chars.ts';

export interface SplitLine {
  keyword: string;
  flags: string[];
  args: string;
}

/** The keyword, the leading `--flag[=value]` words (quotes and escapes removed), the rest. */
export function splitCommand(line: string, escape: string): SplitLine {
  const trimmed = trimSpace(line);
  const m = BLANKS.exec(trimmed);
  if (!m) return { keyword: trimmed, flags: [], args: '' };
  const keyword = trimmed.slice(0, m.index);
  const { flags, rest } = extractFlags(trimmed.slice(m.index + m[0].length), escape);
  return { keyword, flags, args: trimSpace(rest) };
}

function extractFlags(line: string, escape: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < line.length && isSpace(line[pos])) pos++;
    if (pos >= line.length) return { flags, rest: '' };
    if (!line.startsWith('--', pos)) return { flags, rest: line.slice(pos) };
    // One flag word: quotes group, escapes take the next character literally.
    let word = '';
    let quote = '';
    let blankOk = false;
    for (; pos < line.length; pos++) {
      let ch = line[pos];
      if (!quote && isSpace(ch)) break;
      if (quote) {
        if (ch === quote) {
          quote = '';
          continue;
        }
      } else if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === line.length) {
          quote = '';
          continue;
        }
        ch = line[++pos];
      }
      word += ch;
    }
    if (word === '--') return { flags, rest: line.slice(pos) }; // `--` ends the flags
    if (blankOk || word) flags.push(word);
  }
}

/**
 * Words separated by blanks, quotes kept (and grouping blanks), an escape kept with the character
 * it escapes: the raw words of ENV, LABEL and ARG, expanded later.
 */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOk = false;
  const end = () => {
    if (blankOk || word) words.push(word);
    word = '';
    inWord = false;
    blankOk = false;
  };
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i];
    if (!inWord) {
      if (isSpace(ch)) continue;
      inWord = true;
    }
    if (!quote) {
      if (isSpace(ch)) {
        end();
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
      } else if (ch === escape) {
        if (i + 1 === chars.length) continue; // an escape at the end is dropped
        word += ch;
        ch = chars[++i];
      }
      word += ch;
      continue;
    }
    if (ch === quote) quote = '';
    else if (ch === escape && quote !== "'") {
      if (i + 1 === chars.length) {
        quote = '';
        continue;
      }
      word += ch;
      ch = chars[++i];
    }
    word += ch;
  }
  if (inWord) end();
  return words;
}

export type JsonResult = { ok: true; args: string[] } | { ok: false; notStrings?: boolean };

/** An exec-form argument list: a JSON array of strings. */
export function parseJsonArray(rest: string): JsonResult {
  const text = trimLeftSpace(rest);
  if (!text.startsWith('[')) return { ok: false };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false };
  }
  if (!Array.isArray(value)) return { ok: false };
  if (!value.every((v) => typeof v === 'string')) return { ok: false, notStrings: true };
  return { ok: true, args: value };
}

/** Go's regexp Split on `[\t\v\f\r ]+` (empty input gives no words). */
export function splitBlanks(rest: string): string[] {
  if (!rest) return [];
  return rest.split(new RegExp(BLANKS.source));
}
