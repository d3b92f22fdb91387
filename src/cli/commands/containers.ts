import { invalid } from '../../core/errors.ts';
import { parseArgs } from '../args.ts';
import { matches, parseFilters } from '../../engine/filters.ts';
import { since, table } from '../format.ts';
import { statusText } from '../../engine/summary.ts';
import type { Context } from '../main.ts';
import { renderTemplate } from '../template.ts';
import { psPorts } from '../../network/ports.ts';

export async function ps(ctx: Context, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, [
    { name: 'all', short: 'a', type: 'bool' },
    { name: 'quiet', short: 'q', type: 'bool' },
    { name: 'no-trunc', type: 'bool' },
    { name: 'format', type: 'string' },
    { name: 'filter', short: 'f', type: 'list' },
    { name: 'last', short: 'n', type: 'string' },
    { name: 'latest', short: 'l', type: 'bool' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth ps [OPTIONS]\n\nList containers\n');
    return 0;
  }
  const noTrunc = flags.get('no-trunc') === true;
  const engine = ctx.engine();
  const containers = engine.containers;
  const filters = parseFilters((flags.get('filter') as string[] | undefined) ?? []);
  const last = flags.get('latest') ? 1 : flags.get('last') !== undefined ? Number(flags.get('last')) : undefined;
  // A status filter, or -n/-l, looks at all containers, as in docker.
  let list = containers.list(flags.get('all') === true || filters.has('status') || filters.has('exited') || last !== undefined);
  containers.sweepNames(list);
  const imageOf = (ref: string) => engine.images.idOf(ref);
  const everything = list;
  list = list.filter((c) => matches(c, filters, imageOf, everything));
  if (last !== undefined) list = list.slice(0, last);
  // -q needs only the ids: no status texts, health or port files per container.
  if (flags.get('quiet')) {
    ctx.out(list.map((c) => (noTrunc ? c.record.Id : c.record.Id.slice(0, 12)) + '\n').join(''));
    return 0;
  }
  const rows = list.map((c) => {
    const cmd = [...(c.record.Config.Entrypoint ?? []), ...c.record.Config.Cmd].join(' ');
    return {
      ID: noTrunc ? c.record.Id : c.record.Id.slice(0, 12),
      Image: c.record.ImageName,
      Command: noTrunc ? `"${cmd}"` : `"${cmd.length > 20 ? cmd.slice(0, 19) + '…' : cmd}"`,
      CreatedAt: c.record.Created,
      RunningFor: since(c.record.Created),
      Status: statusText(c, containers.health(c.record)?.Status),
      State: c.state.Status,
      Ports: psPorts(containers.networkView(c)?.Ports ?? []),
      Names: c.record.Name,
    };
  });
  const format = flags.get('format') as string | undefined;
  if (format) ctx.out(rows.map((r) => renderTemplate(format, r) + '\n').join(''));
  else ctx.out(table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names])));
  return 0;
}

export async function rm(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'force', short: 'f', type: 'bool' },
    { name: 'volumes', short: 'v', type: 'bool' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]\n\nRemove one or more containers\n');
    return 0;
  }
  if (!positionals.length) throw invalid('"berth rm" requires at least 1 argument.');
  const containers = ctx.engine().containers;
  let failed = false;
  for (const name of positionals) {
    try {
      await containers.remove(name, flags.get('force') === true, flags.get('volumes') === true);
      ctx.out(name + '\n');
    } catch (err) {
      failed = true;
      ctx.err(`Error response from daemon: ${(err as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

/** docker container prune: stopped containers (those with the given labels) removed. */
async function prune(ctx: Context, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, [
    { name: 'force', short: 'f', type: 'bool' },
    { name: 'filter', type: 'list' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth container prune [OPTIONS]\n\nRemove all stopped containers\n\nOptions:\n      --filter filter   Provide filter values (label=<key> or label=<key>=<value>)\n  -f, --force           Do not prompt for confirmation\n');
    return 0;
  }
  if (!flags.get('force')) throw invalid('container prune asks for confirmation: pass -f');
  const labels = ((flags.get('filter') as string[] | undefined) ?? []).map((f) => {
    if (!f.startsWith('label=')) throw invalid(`invalid filter '${f.split('=')[0]}'`);
    return f.slice('label='.length);
  });
  const deleted = await ctx.engine().containers.prune(labels);
  if (deleted.length) ctx.out(`Deleted Containers:\n${deleted.join('\n')}\n\n`);
  ctx.out('Total reclaimed space: 0B\n');
  return 0;
}

export async function container(ctx: Context, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'ls': case 'ps': case 'list': return ps(ctx, rest);
    case 'rm': case 'remove': return rm(ctx, rest);
    case 'run': return (await import('./run.ts')).run(ctx, rest);
    case 'prune': return prune(ctx, rest);
    default:
      ctx.out('Usage:  berth container COMMAND\n\nCommands:\n  ls     List containers\n  prune  Remove all stopped containers\n  rm     Remove one or more containers\n  run    Create and run a new container\n');
      return sub === undefined || sub === '--help' ? 0 : 125;
  }
}
