// berth diff / berth commit: a container's changes, listed or turned into an image layer.
import { invalid } from '../../core/errors.ts';
import { parseArgs } from '../args.ts';
import type { Context } from '../context.ts';
import { applyChange } from './images.ts';

export async function diff(ctx: Context, argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, []);
  if (positionals.length !== 1) throw invalid('"berth diff" requires exactly 1 argument.\nUsage:  berth diff CONTAINER');
  const kinds = ['C', 'A', 'D'];
  ctx.out((await ctx.engine().containers.diff(positionals[0])).map((c) => `${kinds[c.Kind]} ${c.Path}\n`).join(''));
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
  const instructions = (flags.get('change') as string[] | undefined) ?? [];
  for (const c of instructions) applyChange({}, c); // a bad one is refused before anything is read
  const rec = await ctx.engine().containers.commit(positionals[0], {
    name: positionals[1],
    instructions,
    comment: flags.get('message') as string | undefined,
    author: flags.get('author') as string | undefined,
    pause: flags.get('pause') !== false,
  });
  ctx.out(rec.id + '\n');
  return 0;
}

export async function exportCmd(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'output', short: 'o', type: 'string' }]);
  if (positionals.length !== 1) throw invalid('"berth export" requires exactly 1 argument.\nUsage:  berth export [OPTIONS] CONTAINER');
  const file = flags.get('output') as string | undefined;
  if (!file && process.stdout.isTTY) throw invalid('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const tar = ctx.engine().containers.export(positionals[0]);
  const { createWriteStream } = await import('node:fs');
  const { pipeline } = await import('node:stream/promises');
  const { Readable } = await import('node:stream');
  // A file is written whole or not at all: into a temporary name, renamed when complete.
  const tmp = file ? `${file}.${process.pid}.tmp` : undefined;
  try {
    await pipeline(Readable.from(tar), tmp ? createWriteStream(tmp) : process.stdout);
    if (tmp && file) (await import('node:fs')).renameSync(tmp, file);
  } catch (err) {
    if (tmp) (await import('node:fs')).rmSync(tmp, { force: true });
    throw err;
  }
  return 0;
}

/** "name:path" names a container path; a local path with a colon must start with / or ./ (docker's rule). */
function containerPath(arg: string): { container: string; path: string } | undefined {
  const colon = arg.indexOf(':');
  if (colon <= 0 || arg.startsWith('/') || arg.startsWith('.')) return undefined;
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) || '/' };
}

export async function cp(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'archive', short: 'a', type: 'bool' }, { name: 'follow-link', short: 'L', type: 'bool' }, { name: 'quiet', short: 'q', type: 'bool' }]);
  if (positionals.length !== 2) throw invalid('"berth cp" requires exactly 2 arguments.\nUsage:  berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH\n\tberth cp [OPTIONS] SRC_PATH CONTAINER:DEST_PATH');
  if (flags.get('archive') || flags.get('follow-link')) throw invalid('cp -a and -L are not supported yet');
  const [a, b] = positionals;
  if (a === '-' || b === '-') throw invalid('cp to or from a tar stream (-) is not supported yet');
  const src = containerPath(a);
  const dst = containerPath(b);
  if (src && dst) throw invalid('copying between containers is not supported');
  if (!src && !dst) throw invalid('must specify at least one container source');
  const containers = ctx.engine().containers;
  if (src) await containers.copy(src.container, { out: src.path, to: b });
  else await containers.copy(dst!.container, { in: a, to: dst!.path });
  return 0;
}
