// docker search: an index's v1 search API (Docker Hub's index.docker.io, or the registry named
// at the start of the term), with dockerd's checks of the limit and its filters applied here.
import { BerthError, invalid } from '../core/errors.ts';
import { readBody, registryBase, send } from './client.ts';

/** One result, as dockerd answers GET /images/search. */
export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

export interface SearchFilters {
  stars?: number;
  isOfficial?: boolean;
  isAutomated?: boolean;
}

const DEFAULT_INDEX = 'index.docker.io';

/**
 * The index a term searches and the query sent to it: `localhost:5000/app` searches that
 * registry for `app`; anything else Docker Hub's index (docker's rule for a registry host: a dot,
 * a port, or localhost).
 */
export function searchTarget(term: string): { index: string; query: string } {
  const slash = term.indexOf('/');
  const first = slash < 0 ? '' : term.slice(0, slash);
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    const index = first === 'docker.io' ? DEFAULT_INDEX : first;
    return { index, query: term.slice(slash + 1) };
  }
  return { index: DEFAULT_INDEX, query: term };
}

/** Filters as the API takes them ({"is-official":{"true":true},"stars":{"3":true}}). */
export function parseSearchFilters(filters: Record<string, string[]>): SearchFilters {
  const out: SearchFilters = {};
  const bool = (k: string, v: string[]) => {
    const x = v.at(-1)!;
    if (x !== 'true' && x !== 'false' && x !== '1' && x !== '0') throw invalid(`Invalid filter '${k}=${x}'`);
    return x === 'true' || x === '1';
  };
  for (const [k, v] of Object.entries(filters)) {
    if (!v.length) continue;
    if (k === 'stars') {
      const n = Number(v.at(-1));
      if (!Number.isInteger(n)) throw invalid(`Invalid filter 'stars=${v.at(-1)}'`);
      out.stars = Math.max(...v.map(Number));
    } else if (k === 'is-official') out.isOfficial = bool(k, v);
    else if (k === 'is-automated') out.isAutomated = bool(k, v);
    else throw invalid(`Invalid filter '${k}'`);
  }
  return out;
}

export async function searchImages(term: string, opts: { limit?: number; filters?: SearchFilters; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<SearchResult[]> {
  const limit = opts.limit ?? 25;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid(`Limit ${limit} is outside the range of [1, 100]`);
  if (!term) throw invalid('a search term is required');
  const { index, query } = searchTarget(term);
  const base = index === DEFAULT_INDEX ? new URL(`https://${DEFAULT_INDEX}`) : registryBase(index, opts.env);
  const url = new URL('/v1/search', base);
  url.searchParams.set('q', query);
  url.searchParams.set('n', String(limit));
  let res;
  try {
    res = await send(url, { signal: opts.signal });
  } catch (err) {
    // dockerd answers an unreachable index with a 500 naming the request.
    throw new BerthError('Internal', (err as Error).message, { cause: err });
  }
  if (res.statusCode !== 200) {
    res.resume();
    throw new BerthError('Internal', `Unexpected status code ${res.statusCode}`);
  }
  let doc: { results?: unknown };
  try {
    doc = JSON.parse((await readBody(res, 8 << 20, 'search response')).toString('utf8'));
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw new BerthError('Internal', `invalid search response from ${index}: ${(err as Error).message}`);
  }
  const results = Array.isArray(doc.results) ? doc.results : [];
  const f = opts.filters ?? {};
  return results
    .filter((r): r is Record<string, unknown> => !!r && typeof r === 'object')
    .map((r) => ({
      name: String(r.name ?? ''),
      description: String(r.description ?? ''),
      star_count: Number(r.star_count) || 0,
      is_official: r.is_official === true,
      is_automated: r.is_automated === true,
    }))
    .filter((r) => (f.stars === undefined || r.star_count >= f.stars) && (f.isOfficial === undefined || r.is_official === f.isOfficial) && (f.isAutomated === undefined || r.is_automated === f.isAutomated))
    .slice(0, limit);
}
