// berth search: docker search's flags, table and templates, over the index's search API
// (src/registry/search.ts); the same call the daemon's GET /images/search makes.
import { invalid } from '../../core/errors.ts';
import { parseArgs } from '../args.ts';
import type { Context } from '../context.ts';

export const SEARCH_LIST = {
  // The docker CLI no longer shows the automated column by default (automated builds are gone).
  table: 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}',
  headers: { Name: 'NAME', Description: 'DESCRIPTION', StarCount: 'STARS', IsOfficial: 'OFFICIAL', IsAutomated: 'AUTOMATED' },
};

export async function search(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'filter', short: 'f', type: 'list' },
    { name: 'format', type: 'string' },
    { name: 'limit', type: 'string' },
    { name: 'no-trunc', type: 'bool' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth search [OPTIONS] TERM\n\nSearch the Docker Hub (or the registry named in TERM) for images\n\nOptions:\n  -f, --filter filter   Filter output based on conditions provided (stars=N, is-official=true|false, is-automated=true|false)\n      --format string   Pretty-print search using a Go template\n      --limit int       Max number of search results (default 25)\n      --no-trunc        Don\'t truncate output\n');
    return 0;
  }
  if (positionals.length !== 1) throw invalid('"berth search" requires exactly 1 argument.');
  const filters: Record<string, string[]> = {};
  for (const f of (flags.get('filter') as string[] | undefined) ?? []) {
    const eq = f.indexOf('=');
    if (eq < 1) throw invalid(`bad format of filter (expected name=value): ${f}`);
    (filters[f.slice(0, eq)] ??= []).push(f.slice(eq + 1));
  }
  const limitFlag = flags.get('limit') as string | undefined;
  const { parseSearchFilters, searchImages } = await import('../../registry/search.ts');
  const results = await searchImages(positionals[0], { limit: limitFlag === undefined ? undefined : Number(limitFlag), filters: parseSearchFilters(filters) });
  const noTrunc = flags.get('no-trunc') === true;
  // docker's search table: descriptions cut at 45 characters, [OK] for the flags.
  const rows = results.map((r) => {
    const d = r.description.replace(/\n/g, ' ');
    return {
      Name: r.name,
      Description: !noTrunc && d.length > 45 ? `${d.slice(0, 44)}…` : d,
      StarCount: String(r.star_count),
      IsOfficial: r.is_official ? '[OK]' : '',
      IsAutomated: r.is_automated ? '[OK]' : '',
    };
  });
  const { formatList } = await import('../template.ts');
  ctx.out(formatList(flags.get('format') as string | undefined, rows, SEARCH_LIST));
  return 0;
}
