// The wildcard part of a .dockerignore pattern, matched without backtracking. Docker turns such a
// pattern into a Go regexp, which runs in linear time; a JavaScript regexp would backtrack
// exponentially on patterns like `*a*a*a*a*b`, so the pattern is compiled to a small automaton and
// run over the path keeping the set of live states (time: path length x pattern length).
//
// Meaning, as moby's patternmatcher gives it: `*` any run without `/`; `?` one character but `/`;
// `**/` (or a `**` inside the pattern) any number of leading directories, `**` at the end anything;
// `[...]`/`[^...]` a character class (with ranges; `\` escapes inside); `\x` the character x; `^`
// outside a class anchors to the start (so it only matches as the first character).

type Token =
  | { t: 'lit'; c: string }
  | { t: 'one' } // ?
  | { t: 'star' } // *
  | { t: 'dirs' } // **/ in the middle: empty, or anything ending in /
  | { t: 'all' } // ** at the end
  | { t: 'anchor' } // ^
  | { t: 'class'; neg: boolean; ranges: [number, number][] };

const bad = () => new Error('syntax error in pattern');

function tokenize(chars: string[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        out.push({ t: i + 1 >= chars.length ? 'all' : 'dirs' });
      } else out.push({ t: 'star' });
    } else if (ch === '?') out.push({ t: 'one' });
    else if (ch === '^') out.push({ t: 'anchor' });
    else if (ch === '\\') {
      if (i + 1 >= chars.length) throw bad();
      out.push({ t: 'lit', c: chars[++i] });
    } else if (ch === '[') {
      i++;
      const neg = chars[i] === '^';
      if (neg) i++;
      const ranges: [number, number][] = [];
      // As Go's filepath.Match (which docker uses to validate): no empty class, no `]` or `-` first.
      const item = (): number => {
        let c = chars[i];
        if (c === undefined || c === '-' || c === ']') throw bad();
        if (c === '\\') {
          c = chars[++i];
          if (c === undefined) throw bad();
        }
        i++;
        return c.codePointAt(0)!;
      };
      for (;;) {
        if (chars[i] === ']' && ranges.length) break;
        const lo = item();
        let hi = lo;
        if (chars[i] === '-') {
          i++;
          hi = item();
          if (hi < lo) throw bad();
        }
        ranges.push([lo, hi]);
      }
      out.push({ t: 'class', neg, ranges });
    } else out.push({ t: 'lit', c: ch });
  }
  return out;
}

function classMatches(tok: Extract<Token, { t: 'class' }>, c: string): boolean {
  const cp = c.codePointAt(0)!;
  const inside = tok.ranges.some(([lo, hi]) => cp >= lo && cp <= hi);
  return inside !== tok.neg;
}

/** A matcher for the whole path (anchored at both ends). Throws on a malformed pattern. */
export function compileGlob(pattern: string): (path: string) => boolean {
  const tokens = tokenize(Array.from(pattern));
  const n = tokens.length;
  // States 0..n: "before token i"; `inside[i]` for a `dirs` token part-way through its `.*/`.
  const close = (live: Uint8Array, atStart: boolean) => {
    for (let i = 0; i < n; i++) {
      if (!live[i]) continue;
      const t = tokens[i].t;
      if (t === 'star' || t === 'dirs' || t === 'all' || (t === 'anchor' && atStart)) live[i + 1] = 1;
    }
  };
  return (path: string) => {
    let live = new Uint8Array(n + 1);
    let inside = new Uint8Array(n);
    live[0] = 1;
    close(live, true);
    for (const c of path) {
      const next = new Uint8Array(n + 1);
      const nextInside = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (inside[i]) {
          nextInside[i] = 1;
          if (c === '/') next[i + 1] = 1;
        }
        if (!live[i]) continue;
        const tok = tokens[i];
        switch (tok.t) {
          case 'lit':
            if (c === tok.c) next[i + 1] = 1;
            break;
          case 'one':
            if (c !== '/') next[i + 1] = 1;
            break;
          case 'class':
            if (classMatches(tok, c)) next[i + 1] = 1;
            break;
          case 'star':
            if (c !== '/') next[i] = 1;
            break;
          case 'all':
            next[i] = 1;
            break;
          case 'dirs':
            nextInside[i] = 1;
            if (c === '/') next[i + 1] = 1;
            break;
          case 'anchor':
            break;
        }
      }
      if (!next.includes(1) && !nextInside.includes(1)) return false;
      close(next, false);
      live = next;
      inside = nextInside;
    }
    return live[n] === 1;
  };
}
