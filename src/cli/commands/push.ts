// `berth push`: the engine reports the push as events; this renders docker's lines.
import { invalid } from '../../core/errors.ts';
import type { PushEvent } from '../../engine/push.ts';
import { familiarRepository, parseReference } from '../../image/reference.ts';
import { parseArgs } from '../args.ts';
import type { Context } from '../context.ts';
import { layerProgress, type LayerProgress } from '../progress.ts';

const STATUS: Record<string, string> = {
  preparing: 'Preparing',
  waiting: 'Waiting',
  pushing: 'Pushing',
  retrying: 'Retrying',
  pushed: 'Pushed',
  mounted: 'Mounted from',
  exists: 'Layer already exists',
};

function render(p: LayerProgress, e: PushEvent): void {
  if (e.type === 'start') p.line(`The push refers to repository [${familiarRepository(e.ref)}]`);
  else if (e.type === 'layer') {
    // In a log, waiting and byte counts are noise: one line when prepared, one when settled.
    const key = e.status === 'waiting' || e.status === 'pushing' ? 'preparing' : e.status === 'retrying' ? `${e.status} ${e.error}` : e.status;
    const bar = e.status === 'pushing' && e.total ? { current: e.current ?? 0, total: e.total } : undefined;
    const detail = e.status === 'retrying' && e.error ? ` (${e.error})` : e.status === 'mounted' ? ` ${e.from}` : '';
    p.layer(e.id, `${STATUS[e.status]}${detail}`, key, bar);
  }
}

export async function push(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'quiet', short: 'q', type: 'bool' },
    { name: 'all-tags', short: 'a', type: 'bool' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth push [OPTIONS] NAME[:TAG]\n\nUpload an image to a registry\n\nOptions:\n  -q, --quiet   Suppress verbose output\n');
    return 0;
  }
  if (positionals.length !== 1) throw invalid('"berth push" requires exactly 1 argument.\nUsage:  berth push [OPTIONS] NAME[:TAG]');
  if (flags.get('all-tags')) throw invalid('flag --all-tags is not supported');
  const ref = parseReference(positionals[0]); // a bad name fails before any work
  const quiet = flags.get('quiet') === true;
  const p = quiet ? undefined : layerProgress(ctx.out, process.stdout.isTTY === true);
  let res;
  try {
    res = await ctx.engine().push(positionals[0], { onEvent: (e) => p && render(p, e) });
  } finally {
    p?.finish();
  }
  if (quiet) ctx.out(`${positionals[0]}\n`);
  else ctx.out(`${ref.tag}: digest: ${res.digest} size: ${res.size}\n`);
  return 0;
}
