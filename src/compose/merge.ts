// Several files (or a service and what it extends) into one, by the spec's merge rules
// (13-merge.md): mappings merge key by key, sequences append, except that command, entrypoint
// and healthcheck.test are replaced, and ports, volumes, secrets and configs are unique by their
// key (a later entry with the same key replaces the earlier one). `!reset` removes what earlier
// files set, `!override` replaces instead of merging. Works on canonical (normalised) services.
import { Tagged } from './yaml.ts';
import type { FileReference, PortConfig, ServiceVolume } from './types.ts';

type Json = Record<string, unknown>;

const isMap = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Tagged);

const REPLACED = new Set(['command', 'entrypoint', 'services.*.healthcheck.test']);

const portKey = (p: PortConfig) => `${p.host_ip ?? ''}|${p.target}|${p.published ?? ''}|${p.protocol ?? 'tcp'}`;
const KEYED: Record<string, (x: never) => string> = {
  ports: portKey,
  volumes: (v: ServiceVolume) => v.target,
  secrets: (r: FileReference) => r.target ?? r.source,
  configs: (r: FileReference) => r.target ?? r.source,
};

function byKey<T>(base: T[], over: T[], key: (x: T) => string): T[] {
  const out = [...base];
  for (const item of over) {
    const i = out.findIndex((x) => key(x) === key(item));
    if (i >= 0) out[i] = item;
    else out.push(item);
  }
  return out;
}

/** Merges `over` onto `base`; `at` is the key path, for the keys with their own rules. */
export function mergeValue(base: unknown, over: unknown, at: string[] = []): unknown {
  if (over instanceof Tagged) return over.tag === 'reset' ? undefined : stripTags(over.value);
  const key = at.at(-1) ?? '';
  if (isMap(base) && isMap(over)) {
    const out: Json = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const m = k in base ? mergeValue(base[k], v, [...at, k]) : v instanceof Tagged ? (v.tag === 'reset' ? undefined : stripTags(v.value)) : stripTags(v);
      if (m === undefined) delete out[k];
      else out[k] = m;
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over)) {
    if (REPLACED.has(key) || (key === 'test' && at.at(-2) === 'healthcheck')) return over;
    const inService = at.length === 3 && at[0] === 'services';
    if (inService && KEYED[key]) return byKey(base, over, KEYED[key] as (x: unknown) => string);
    // Plain sequences append; a string already there is not repeated.
    return [...base, ...over.filter((x) => typeof x !== 'string' || !base.includes(x))];
  }
  return stripTags(over);
}

/** A single file's markers mean nothing without an earlier file: the values themselves. */
export function stripTags(v: unknown): unknown {
  if (v instanceof Tagged) return v.tag === 'reset' ? undefined : stripTags(v.value);
  if (Array.isArray(v)) return v.map(stripTags);
  if (isMap(v)) {
    const out: Json = {};
    for (const [k, x] of Object.entries(v)) {
      const y = stripTags(x);
      if (y !== undefined) out[k] = y;
    }
    return out;
  }
  return v;
}
