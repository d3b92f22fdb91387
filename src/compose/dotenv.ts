// `.env`, `--env-file` and a service's `env_file`: KEY=VALUE lines as compose reads them.
// Comments (#), `export ` prefixes, single quotes (literal), double quotes (escapes, several
// lines, substitution), unquoted values (trimmed, ` #` starts a comment, substitution). A bare KEY
// takes its value from the lookup, or is left unset. Pure: text in, map out.
import { invalid } from '../core/errors.ts';
import { interpolate, type Lookup } from './interpolate.ts';

const KEY = /^[A-Za-z_][A-Za-z0-9_.\-[\]]*$/;

export function parseDotenv(text: string, file: string, lookup: Lookup = () => undefined): Record<string, string> {
  const out: Record<string, string> = {};
  // Earlier lines of the file count for later ones, before the environment.
  const get: Lookup = (n) => (n in out ? out[n] : lookup(n));
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trimStart();
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const eq = line.search(/[=:]/);
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!KEY.test(key)) throw invalid(`${file}:${i + 1}: unexpected character in variable name "${key}"`);
    if (eq < 0) {
      const v = lookup(key);
      if (v !== undefined) out[key] = v;
      continue;
    }
    let rest = line.slice(eq + 1).trimStart();
    const q = rest[0];
    if (q === "'" || q === '"') {
      // A quoted value may run over several lines until its closing quote.
      let body = rest.slice(1);
      let close = findClose(body, q);
      while (close < 0 && i + 1 < lines.length) {
        body += '\n' + lines[++i];
        close = findClose(body, q);
      }
      if (close < 0) throw invalid(`${file}:${i + 1}: unterminated quoted value for ${key}`);
      const raw = body.slice(0, close);
      out[key] = q === "'" ? raw : interpolate(unescape(raw), get);
      continue;
    }
    const hash = rest.search(/\s#/);
    if (hash >= 0) rest = rest.slice(0, hash);
    out[key] = interpolate(rest.trim(), get);
  }
  return out;
}

function findClose(s: string, q: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && q === '"') i++;
    else if (s[i] === q) return i;
  }
  return -1;
}

function unescape(s: string): string {
  return s.replace(/\\([nrt"\\$])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? (c === '$' ? '$$' : c));
}
