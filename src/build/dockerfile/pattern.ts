// The shell patterns of `${v#pat}`, `${v%pat}` and `${v/pat/repl}`: `*` any string, `?` one
// character, `\` escapes `*`, `?` or itself. No bracket expressions (BuildKit has none either).

const SPECIAL = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

export function shellPatternRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') out += greedy ? '.*' : '.*?';
    else if (ch === '?') out += '.';
    else if (ch === '\\') {
      // In `${v/a\/b/c}` the escape only keeps `/` or `}` from ending the pattern.
      if (chars[i + 1] === '}' || chars[i + 1] === '/') continue;
      const next = chars[++i];
      if (next !== '*' && next !== '?' && next !== '\\') throw new Error(`invalid escape '\\${next ?? ''}'`);
      out += '\\' + next;
    } else if (SPECIAL.has(ch)) out += '\\' + ch;
    else out += ch;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}
