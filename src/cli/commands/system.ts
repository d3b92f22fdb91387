// `berth system df`: disk usage by images (shared and unique layer bytes), containers, volumes.
import { digestHex } from '../../content/store.ts';
import { invalid } from '../../core/errors.ts';
import { familiarRepository, parseReference } from '../../image/reference.ts';
import { parseArgs } from '../args.ts';
import { humanSize, since, table } from '../format.ts';
import type { Context } from '../context.ts';
import { renderTemplate } from '../template.ts';

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
  if (format && !flags.get('verbose')) {
    ctx.out(summary.map((r) => renderTemplate(format, r) + '\n').join(''));
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
    ctx.out(renderTemplate(format, { Images: imageRows, Containers: containerRows, Volumes: volumeRows, BuildCache: [] }) + '\n');
    return 0;
  }
  if (!flags.get('verbose')) {
    ctx.out(table(['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], summary.map((r) => [r.Type, r.TotalCount, r.Active, r.Size, r.Reclaimable])));
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
