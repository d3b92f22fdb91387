// WWW-Authenticate challenges (RFC 7235): `Bearer realm="...",service="...",scope="..."` or
// `Basic realm="..."`, possibly several in one header.

export interface Challenge {
  scheme: string; // lowercase: "basic", "bearer"
  params: Record<string, string>; // keys lowercase
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let s = header;
  const skipSpace = () => {
    s = s.replace(/^[\s,]+/, '');
  };
  skipSpace();
  while (s) {
    const scheme = TOKEN.exec(s)?.[0];
    if (!scheme) break;
    s = s.slice(scheme.length);
    const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(ch);
    // auth-params until the next token that is not followed by "=" (the next scheme).
    for (;;) {
      skipSpace();
      const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*/.exec(s);
      if (!m) break;
      s = s.slice(m[0].length);
      let value = '';
      if (s.startsWith('"')) {
        let i = 1;
        for (; i < s.length && s[i] !== '"'; i++) {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
        }
        s = s.slice(i + 1);
      } else {
        value = TOKEN.exec(s)?.[0] ?? '';
        s = s.slice(value.length);
      }
      ch.params[m[1].toLowerCase()] = value;
    }
  }
  return out;
}
