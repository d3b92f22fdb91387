// docker's network list filters (GET /networks?filters=, `network ls --filter`): values of one key
// are ORed, keys are ANDed; unknown keys are errors, as in docker.
import { invalid } from '../core/errors.ts';
import { hasLabel } from './filters.ts';

/** The parts of a network's inspect shape the filters look at. */
export interface NetworkView {
  Name: string;
  Id: string;
  Driver: string;
  Scope: string;
  Labels?: Record<string, string> | null;
  Containers?: Record<string, unknown> | null;
}

const BUILTIN = ['bridge', 'host', 'none'];
const KEYS = ['name', 'id', 'driver', 'type', 'scope', 'label', 'dangling'];

export function networkMatcher(filters: Map<string, string[]>): (n: NetworkView) => boolean {
  for (const [key, values] of filters) {
    if (!KEYS.includes(key)) throw invalid(`invalid filter '${key}'`);
    if (key === 'type') for (const v of values) if (v !== 'custom' && v !== 'builtin') throw invalid(`invalid filter: 'type'='${v}'`);
    if (key === 'dangling') for (const v of values) if (!['true', 'false', '1', '0'].includes(v)) throw invalid(`invalid filter 'dangling=${v}'`);
  }
  return (n) => {
    for (const [key, values] of filters) {
      if (values.length === 0) continue;
      const one = (v: string): boolean => {
        switch (key) {
          // docker matches name and id as substrings (a partial id is its prefix)
          case 'name': return n.Name.includes(v);
          case 'id': return n.Id.includes(v);
          case 'driver': return n.Driver === v;
          case 'scope': return n.Scope === v;
          case 'type': return (v === 'builtin') === BUILTIN.includes(n.Name);
          case 'label': return hasLabel(n.Labels ?? {}, v);
          case 'dangling': {
            // dangling: a custom network no container is attached to
            const dangling = !BUILTIN.includes(n.Name) && Object.keys(n.Containers ?? {}).length === 0;
            return dangling === (v === 'true' || v === '1');
          }
          default: return false;
        }
      };
      if (!(key === 'label' ? values.every(one) : values.some(one))) return false;
    }
    return true;
  };
}
