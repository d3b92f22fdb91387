// berth diff / berth commit: a container's changes, listed or turned into an image layer.
import { invalid } from '../../core/errors.ts';
import type { RunConfig } from '../../core/types.ts';
import { parseArgs } from '../args.ts';
import type { Context } from '../main.ts';
import { applyChange } from './images.ts';

export async function diff(ctx: Context, argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, []);
  if (positionals.length !== 1) throw invalid('"berth diff" requires exactly 1 argument.\nUsage:  berth diff CONTAINER');
  const kinds = ['C', 'A', 'D'];
  ctx.out(ctx.engine().containers.diff(positionals[0]).map((c) => `${kinds[c.Kind]} ${c.Path}\n`).join(''));
  return 0;
}

export async function commit(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'change', short: 'c', type: 'list' },
    { name: 'message', short: 'm', type: 'string' },
    { name: 'author', short: 'a', type: 'string' },
    { name: 'pause', short: 'p', type: 'bool' },
  ]);
  if (positionals.length < 1 || positionals.length > 2) throw invalid('"berth commit" requires at least 1 and at most 2 arguments.\nUsage:  berth commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]');
  let changes: RunConfig = {};
  for (const c of (flags.get('change') as string[] | undefined) ?? []) changes = applyChange(changes, c);
  const rec = await ctx.engine().containers.commit(positionals[0], {
    name: positionals[1],
    changes,
    comment: flags.get('message') as string | undefined,
    author: flags.get('author') as string | undefined,
    pause: flags.get('pause') !== false,
  });
  ctx.out(rec.id + '\n');
  return 0;
}
