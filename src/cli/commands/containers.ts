import { invalid } from '../../core/errors.ts';
import { parseArgs } from '../args.ts';
import { matches, parseFilters } from '../../engine/filters.ts';
import { humanSize, since } from '../format.ts';
import { containerSummary } from '../../engine/summary.ts';
import { checkContainerFormat, CONTAINER_LIST, containerContext, type ContainerRow } from '../contexts.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Context } from '../context.ts';
import type { Container } from '../../engine/container/types.ts';
import { formatList } from '../template.ts';
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
    { name: 'size', short: 's', type: 'bool' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth ps [OPTIONS]\n\nList containers\n');
    return 0;
  }
  const format = flags.get('format') as string | undefined;
  if (format && format !== 'table' && flags.get('quiet')) ctx.err('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
  // As docker: the format as typed is checked first, and one that reads .Size asks for sizes.
  const sizeUsed = format ? checkContainerFormat(format) : false;
  const withSize = flags.get('size') === true || sizeUsed;
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
  if (filters.size) list = list.filter((c) => matches(c, filters, imageOf, everything));
  if (last !== undefined) list = list.slice(0, last);
  // -q needs only the ids: no status texts, health or port files per container (a format
  // was checked above, as docker checks it).
  if (flags.get('quiet') && format !== 'raw') {
    ctx.out(list.map((c) => (noTrunc ? c.record.Id : c.record.Id.slice(0, 12)) + '\n').join(''));
    return 0;
  }
  const sizes = withSize ? await containerSizes(ctx, list) : undefined;
  // docker's ps is its formatter over the API's container summaries.
  const rows = list.map((c) => containerContext(containerRow(engine, c, noTrunc, sizes?.get(c.record.Id)), !noTrunc));
  // -s adds docker's SIZE column to the default table.
  const spec = withSize && (!format || format === 'table') ? { ...CONTAINER_LIST, table: `${CONTAINER_LIST.table}\t{{.Size}}` } : CONTAINER_LIST;
  ctx.out(formatList(format, rows, spec, { quiet: flags.get('quiet') === true }));
  return 0;
}

/** A container as docker's ps formatter sees it (the API's summary of it); compose ps shows the same. */
export function containerRow(engine: Engine, c: Container, noTrunc: boolean, size?: string): ContainerRow {
  const containers = engine.containers;
  const view = containers.networkView(c);
  const sum = containerSummary(c, containers.health(c.record)?.Status, view) as ContainerSummary;
  return {
    id: noTrunc ? sum.Id : sum.Id.slice(0, 12),
    names: sum.Names.map((n) => n.replace(/^\//, '')),
    image: sum.Image,
    command: sum.Command,
    created: c.record.Created,
    runningFor: since(c.record.Created),
    ports: psPorts(view?.Ports ?? []),
    state: sum.State,
    status: sum.Status,
    labels: sum.Labels,
    mounts: sum.Mounts.map((m) => ({ name: m.Name || m.Source, driver: m.Type === 'volume' ? 'local' : undefined })),
    networks: Object.keys(sum.NetworkSettings.Networks).sort(),
    size,
  };
}

/** docker's "2B (virtual 21.5MB)": the writable layer, and with the image under it. */
async function containerSizes(ctx: Context, list: Container[]): Promise<Map<string, string>> {
  const sizes = await ctx.engine().containerSizes(list);
  return new Map([...sizes].map(([id, { rw, rootFs }]) => [id, rootFs > 0 ? `${humanSize(rw)} (virtual ${humanSize(rootFs)})` : humanSize(rw)]));
}

interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  Command: string;
  State: string;
  Status: string;
  Labels: Record<string, string>;
  Mounts: { Type: string; Name?: string; Source: string }[];
  NetworkSettings: { Networks: Record<string, unknown> };
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
    case 'inspect': return (await import('./lifecycle.ts')).inspect(ctx, ['--type', 'container', ...rest]);
    case 'reopen-log': return reopenLog(ctx, rest);
    default:
      ctx.out('Usage:  berth container COMMAND\n\nCommands:\n  inspect     Display detailed information on one or more containers\n  ls          List containers\n  prune       Remove all stopped containers\n  reopen-log  Make running containers reopen their log file (after it was renamed)\n  rm          Remove one or more containers\n  run         Create and run a new container\n');
      return sub === undefined || sub === '--help' ? 0 : 125;
  }
}

/** berth's own: what the CRI's ReopenContainerLog does, for a log file rotated by renaming it. */
async function reopenLog(ctx: Context, argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, []);
  if (!positionals.length) throw invalid('"berth container reopen-log" requires at least 1 argument.\nUsage:  berth container reopen-log CONTAINER [CONTAINER...]');
  for (const n of positionals) await ctx.engine().containers.reopenLog(n);
  return 0;
}
