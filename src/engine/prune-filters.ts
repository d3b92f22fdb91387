// docker's prune filters (containers, volumes): `until` (a timestamp or a duration before now:
// only things created before it), `label` (each given label must be there, with its value if
// one is given) and `label!` (none of them may be). Pure: the clock is a parameter.
import { invalid } from '../core/errors.ts';
import { hasLabel } from './filters.ts';
import { parseTime } from './logs.ts';

export interface Prunable {
  labels: Record<string, string>;
  /** ISO time; absent (volumes of older records): `until` never spares it. */
  created?: string;
}

export { hasLabel };

/** A predicate for the things a prune may remove; unknown filter keys are refused as docker does. */
export function pruneFilter(filters: Map<string, string[]>, allowed: string[], now = Date.now()): (x: Prunable) => boolean {
  for (const key of filters.keys()) if (!allowed.includes(key)) throw invalid(`invalid filter '${key}'`);
  const until = (filters.get('until') ?? []).map((u) => parseTime(u, now));
  if (until.length > 1) throw invalid('more than one until filter specified');
  const want = filters.get('label') ?? [];
  const refuse = filters.get('label!') ?? [];
  return (x) => {
    if (until.length && x.created !== undefined && Date.parse(x.created) >= until[0]) return false;
    return want.every((l) => hasLabel(x.labels, l)) && !refuse.some((l) => hasLabel(x.labels, l));
  };
}
