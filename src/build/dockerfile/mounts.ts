// `RUN --mount=type=cache,target=/root/.cache,sharing=locked`: a comma-separated (CSV) list of
// key=value fields. Paths, ids and sizes stay raw (the builder expands them, as BuildKit does at
// dispatch); the type, sharing mode and flags are checked here. Errors are plain Errors with
// BuildKit's wording; the caller adds the position.

import type { RunMount } from '../types.ts';

const TYPES = new Set(['bind', 'cache', 'tmpfs', 'secret', 'ssh']);
const SHARING = new Set(['shared', 'private', 'locked']);
const KEYS =
  'type, from, source, src, target, dst, destination, readonly, ro, readwrite, rw, id, sharing, required, size, mode, uid, gid, env';

/** CSV fields as Go's encoding/csv reads one record: `"` quotes a field, `""` is a quote in it. */
export function csvFields(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new Error(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++];
      }
      if (i < s.length && s[i] !== ',') throw new Error(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
    } else {
      const end = s.indexOf(',', i);
      field = s.slice(i, end < 0 ? s.length : end);
      if (field.includes('"')) throw new Error(`failed to parse csv mounts: bare " in non-quoted-field`);
      i = end < 0 ? s.length : end;
    }
    out.push(field);
    if (i >= s.length) return out;
    i++; // the comma
  }
}

function bool(key: string, value: string): boolean {
  // Go's strconv.ParseBool
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new Error(`invalid value for ${key}: ${value}`);
}

const literal = (key: string, value: string) => {
  if (value.includes('$')) throw new Error(`'${key}' doesn't support variable expansion`);
  return value;
};

export function parseMount(spec: string): RunMount {
  const m: RunMount = { type: 'bind' };
  let roSet = false;
  let sharing: string | undefined;
  let mode: string | undefined, uid: string | undefined, gid: string | undefined;
  for (const field of csvFields(spec)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    if (value === undefined) {
      if (key === 'readonly' || key === 'ro') m.readonly = roSet = true;
      else if (key === 'readwrite' || key === 'rw') {
        m.readonly = false;
        roSet = true;
      } else if (key === 'required') {
        if (m.type !== 'secret' && m.type !== 'ssh') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = true;
      } else throw new Error(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    switch (key) {
      case 'type': {
        const t = literal(key, value).toLowerCase();
        if (!TYPES.has(t)) throw new Error(`unsupported mount type "${value}" (one of bind, cache, tmpfs, secret, ssh)`);
        m.type = t as RunMount['type'];
        break;
      }
      case 'from':
        // BuildKit: a stage name only, never a variable (define an alias stage instead).
        if (value.indexOf('$') >= 0 && value.indexOf('$') !== value.length - 1)
          throw new Error(`'from' doesn't support variable expansion, define alias stage instead`);
        m.from = value;
        break;
      case 'source':
      case 'src':
        m.source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = value;
        break;
      case 'readonly':
      case 'ro':
        m.readonly = bool(key, literal(key, value));
        roSet = true;
        break;
      case 'readwrite':
      case 'rw':
        m.readonly = !bool(key, literal(key, value));
        roSet = true;
        break;
      case 'required':
        if (m.type !== 'secret' && m.type !== 'ssh') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = bool(key, literal(key, value));
        break;
      case 'size':
        if (m.type !== 'tmpfs') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        m.size = value;
        break;
      case 'id':
        m.id = value;
        break;
      case 'sharing':
        sharing = literal(key, value).toLowerCase();
        if (!SHARING.has(sharing)) throw new Error(`unsupported sharing value "${value}" (one of shared, private, locked)`);
        m.sharing = sharing as RunMount['sharing'];
        break;
      case 'mode':
        if (!value.includes('$') && !/^[0-7]+$/.test(value)) throw new Error(`invalid value ${value} for mode`);
        mode = m.mode = value;
        break;
      case 'uid':
        if (!value.includes('$') && !/^\d+$/.test(value)) throw new Error(`invalid value ${value} for uid`);
        uid = m.uid = value;
        break;
      case 'gid':
        if (!value.includes('$') && !/^\d+$/.test(value)) throw new Error(`invalid value ${value} for gid`);
        gid = m.gid = value;
        break;
      case 'env':
        m.env = value;
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}' (known keys: ${KEYS})`);
    }
  }
  if (m.type !== 'secret' && m.type !== 'ssh' && m.type !== 'cache') {
    if (mode !== undefined) throw new Error(`mode not allowed for "${m.type}" type mounts`);
    if (uid !== undefined) throw new Error(`uid not allowed for "${m.type}" type mounts`);
    if (gid !== undefined) throw new Error(`gid not allowed for "${m.type}" type mounts`);
  }
  // Bind, secret and ssh mounts are read-only unless asked otherwise; cache and tmpfs writable.
  if (!roSet) m.readonly = m.type !== 'cache' && m.type !== 'tmpfs';
  if (m.type === 'secret') {
    if (m.from !== undefined) throw new Error('secret mount should not have a from');
    if (sharing !== undefined) throw new Error('secret mount should not define sharing');
    if (!m.source && !m.target && !m.id) throw new Error('invalid secret mount. one of source, target required');
    if (m.source && m.id) throw new Error("both source and id can't be set");
  }
  if (sharing !== undefined && m.type !== 'cache') throw new Error(`invalid cache sharing set for ${m.type} mount`);
  return m;
}
