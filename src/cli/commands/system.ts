// `berth system df`: disk usage by images (shared and unique layer bytes), containers, volumes.
import { digestHex } from '../../content/store.ts';
import { invalid } from '../../core/errors.ts';
import { familiarRepository, parseReference } from '../../image/reference.ts';
import { parseArgs } from '../args.ts';
import { humanSize, since, table } from '../format.ts';
import type { Context } from '../context.ts';
import { containerContext, DF_SUMMARY, dfContext, imageContext, volumeContext } from '../contexts.ts';
import { containerSummary, statusText } from '../../engine/summary.ts';
import { compile, formatList, goStruct, run, TemplateError } from '../template.ts';

const reclaim = (r: number, total: number) => `${humanSize(r)}${total ? ` (${Math.round((r / total) * 100)}%)` : ''}`;

export async function df(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'verbose', short: 'v', type: 'bool' },
    { name: 'format', type: 'string' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth system df [OPTIONS]\n\nShow berth disk usage\n\nOptions:\n      --format string   Format output using a template, or "json"\n  -v, --verbose         Show detailed information on space usage\n');
    return 0;
  }
  if (positionals.length) throw invalid('"berth system df" accepts no arguments.');
  const u = await ctx.engine().diskUsage();
  const cSize = u.containers.reduce((a, c) => a + c.size, 0);
  const vSize = u.volumes.reduce((a, v) => a + v.size, 0);
  const summary = [
    { Type: 'Images', TotalCount: String(u.images.length), Active: String(u.images.filter((i) => i.containers > 0).length), Size: humanSize(u.layersSize), Reclaimable: reclaim(u.reclaimableImages, u.layersSize) },
    {
      Type: 'Containers',
      TotalCount: String(u.containers.length),
      Active: String(u.containers.filter((c) => c.running).length),
      Size: humanSize(cSize),
      Reclaimable: reclaim(u.containers.filter((c) => !c.running).reduce((a, c) => a + c.size, 0), cSize),
    },
    { Type: 'Local Volumes', TotalCount: String(u.volumes.length), Active: String(u.volumes.filter((v) => v.links > 0).length), Size: humanSize(vSize), Reclaimable: reclaim(u.volumes.filter((v) => !v.links).reduce((a, v) => a + v.size, 0), vSize) },
    { Type: 'Build Cache', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
  ];
  const format = flags.get('format') as string | undefined;
  if (!flags.get('verbose')) {
    ctx.out(formatList(format, summary.map(dfContext), DF_SUMMARY));
    return 0;
  }
  const imageRows = u.images.flatMap((i) => {
    const base = { ID: digestHex(i.id).slice(0, 12), CreatedSince: since(i.created), Size: humanSize(i.size), SharedSize: humanSize(i.shared), UniqueSize: humanSize(i.unique), Containers: String(i.containers) };
    if (!i.names.length) return [{ Repository: '<none>', Tag: '<none>', ...base }];
    return i.names.map((n) => {
      const ref = parseReference(n);
      return { Repository: familiarRepository(ref), Tag: ref.tag ?? '<none>', ...base };
    });
  });
  const containerRows = u.containers.map(({ container: c, size }) => ({
    ID: c.record.Id.slice(0, 12),
    Image: c.record.ImageName,
    Command: JSON.stringify([...(c.record.Config.Entrypoint ?? []), ...c.record.Config.Cmd].join(' ')),
    LocalVolumes: String(c.record.HostConfig.Mounts.filter((m) => m.Type === 'volume').length),
    Size: humanSize(size),
    CreatedSince: since(c.record.Created),
    Status: c.state.Status,
    Names: c.record.Name,
  }));
  const volumeRows = u.volumes.map((v) => ({ Name: v.volume.Name, Links: String(v.links), Size: humanSize(v.size) }));
  if (format) {
    ctx.out(verboseFormat(format, u));
    return 0;
  }
  ctx.out(`Images space usage:\n\n`);
  ctx.out(table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'], imageRows.map((r) => [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size, r.SharedSize, r.UniqueSize, r.Containers])));
  ctx.out(`\nContainers space usage:\n\n`);
  ctx.out(table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES'], containerRows.map((r) => [r.ID, r.Image, r.Command, r.LocalVolumes, r.Size, r.CreatedSince, r.Status, r.Names])));
  ctx.out(`\nLocal Volumes space usage:\n\n`);
  ctx.out(table(['VOLUME NAME', 'LINKS', 'SIZE'], volumeRows.map((r) => [r.Name, r.Links, r.Size])));
  ctx.out(`\nBuild cache usage: 0B\n`);
  return 0;
}

export async function system(ctx: Context, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'df') return df(ctx, rest);
  ctx.out('Usage:  berth system COMMAND\n\nCommands:\n  df   Show berth disk usage\n');
  return sub === undefined || sub === '--help' ? 0 : 125;
}

/**
 * system df -v with a format: docker runs it once over its diskUsageContext, whose lists hold
 * the listing commands' contexts (IDs in full) with the usage columns filled; no newline added.
 */
function verboseFormat(format: string, u: Awaited<ReturnType<ReturnType<Context['engine']>['diskUsage']>>): string {
  const images = u.images.flatMap((i) => {
    const usage = { Containers: String(i.containers), SharedSize: humanSize(i.shared, 4), UniqueSize: humanSize(i.unique, 4) };
    const base = { Digest: '', ID: i.id, CreatedSince: since(i.created), CreatedAt: i.created, Size: humanSize(i.size), VirtualSize: humanSize(i.size, 4) };
    const names = i.names.length ? i.names.map((n) => parseReference(n)) : [undefined];
    return names.map((ref) => imageContext({ Repository: ref ? familiarRepository(ref) : '<none>', Tag: ref?.tag ?? '<none>', ...base }, usage));
  });
  const containers = u.containers.map(({ container: c, size }) => containerContext({
    id: c.record.Id, names: [c.record.Name], image: c.record.ImageName, command: [...(c.record.Config.Entrypoint ?? []), ...c.record.Config.Cmd].join(' '),
    created: c.record.Created, runningFor: since(c.record.Created), ports: '', state: c.state.Status, status: statusText(c), labels: c.record.Config.Labels ?? {},
    mounts: c.record.HostConfig.Mounts.map((m) => ({ name: m.Source, driver: m.Type === 'volume' ? 'local' : undefined })),
    networks: Object.keys((containerSummary(c) as { NetworkSettings: { Networks: object } }).NetworkSettings.Networks).sort(), size: humanSize(size),
  }, false));
  const volumes = u.volumes.map((v) => volumeContext(v.volume, { links: v.links, size: humanSize(v.size, 4) }));
  const data = goStruct('*formatter.diskUsageContext', { Images: images, Containers: containers, Volumes: volumes, BuildCache: [] });
  try {
    return run(compile(format === 'json' ? '{{json .}}' : format), data);
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(`template parsing error: ${err.message}`, err.phase);
    throw err;
  }
}
