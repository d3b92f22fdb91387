// docker's container filters (ps --filter, and the API's `filters`): each key's values are ORed
// (label values are ANDed: a container must carry every label asked for), different keys are ANDed.
import { invalid } from '../core/errors.ts';
import type { Container } from './container/types.ts';

/** `k` (present) or `k=v` (with that value), as docker's label filters read them. */
export function hasLabel(labels: Record<string, string>, spec: string): boolean {
  const eq = spec.indexOf('=');
  return eq < 0 ? spec in labels : labels[spec.slice(0, eq)] === spec.slice(eq + 1);
}

export type Filters = Map<string, string[]>;

const KEYS = ['label', 'name', 'id', 'status', 'ancestor', 'exited', 'before', 'since'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** "key=value" strings (the CLI form) into a filter map; unknown keys are errors, as in docker. */
export function parseFilters(list: string[]): Filters {
  const out: Filters = new Map();
  for (const f of list) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw invalid(`bad format of filter (expected name=value): ${f}`);
    const key = f.slice(0, eq).toLowerCase();
    const value = f.slice(eq + 1);
    if (!KEYS.includes(key)) throw invalid(`invalid filter '${key}'`);
    if (key === 'status' && !STATUSES.includes(value)) throw invalid(`invalid filter 'status=${value}'`);
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

/** A name filter's pattern; one that is not a valid regular expression matches nothing, as in moby. */
function nameRegExp(v: string): RegExp | undefined {
  try {
    return new RegExp(v);
  } catch {
    return undefined;
  }
}

export function matches(c: Container, filters: Filters, imageOf: (ref: string) => string | undefined, all: Container[]): boolean {
  const r = c.record;
  const created = (ref: string) => all.find((x) => x.record.Id.startsWith(ref) || x.record.Name === ref)?.record.Created;
  for (const [key, values] of filters) {
    const ok = values[key === 'label' ? 'every' : 'some']((v) => {
      switch (key) {
        case 'label': return hasLabel(r.Config.Labels ?? {}, v);
        case 'name': return nameRegExp(v)?.test(r.Name) ?? false;
        case 'id': return r.Id.startsWith(v);
        case 'status': return c.state.Status === v;
        case 'ancestor': return r.ImageName === v || r.Image === imageOf(v);
        case 'exited': return c.state.Status === 'exited' && String(c.state.ExitCode) === v;
        case 'before': { const t = created(v); return t !== undefined && r.Created < t; }
        case 'since': { const t = created(v); return t !== undefined && r.Created > t; }
        default: return false;
      }
    });
    if (!ok) return false;
  }
  return true;
}
