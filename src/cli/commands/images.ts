import * as fs from 'node:fs';
import { digestHex } from '../../content/store.ts';
import { invalid } from '../../core/errors.ts';
import type { RunConfig } from '../../core/types.ts';
import { familiarRepository, parseReference } from '../../image/reference.ts';
import { parseArgs } from '../args.ts';
import { humanSize, since } from '../format.ts';
import { IMAGE_LIST, IMAGE_TABLE_DIGESTS, imageContext } from '../contexts.ts';
import type { Context } from '../context.ts';
import { formatInspect, formatList } from '../template.ts';

const shortId = (id: string) => digestHex(id).slice(0, 12);

import { applyChange } from '../../image/changes.ts';

export { applyChange };

export async function importCmd(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'change', short: 'c', type: 'list' },
    { name: 'message', short: 'm', type: 'string' },
    { name: 'platform', type: 'string' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help') || positionals.length < 1 || positionals.length > 2) {
    ctx.out('Usage:  berth import [OPTIONS] file|- [REPOSITORY[:TAG]]\n\nImport the contents from a tarball to create a filesystem image\n');
    return flags.get('help') ? 0 : 125;
  }
  const [file, name] = positionals;
  let changes: RunConfig = {};
  for (const c of (flags.get('change') as string[] | undefined) ?? []) changes = applyChange(changes, c);
  const engine = ctx.engine();
  if (name) parseReference(name); // a bad name fails before any work
  let source: AsyncIterable<Buffer>;
  if (file === '-') source = process.stdin;
  else {
    if (!fs.existsSync(file)) throw invalid(`open ${file}: no such file or directory`);
    source = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  }
  const rec = await engine.images.importRootfs(source, { name, changes, message: flags.get('message') as string | undefined });
  ctx.out(rec.id + '\n');
  return 0;
}

interface Row {
  Repository: string;
  Tag: string;
  Digest: string;
  ID: string;
  CreatedSince: string;
  CreatedAt: string;
  Size: string;
  VirtualSize: string;
}

export async function images(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'quiet', short: 'q', type: 'bool' },
    { name: 'all', short: 'a', type: 'bool' },
    { name: 'digests', type: 'bool' },
    { name: 'no-trunc', type: 'bool' },
    { name: 'format', type: 'string' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nList images\n');
    return 0;
  }
  const noTrunc = flags.get('no-trunc') === true;
  const rows: Row[] = [];
  const filter = positionals[0];
  for (const { record, names } of ctx.engine().images.list().sort((a, b) => b.record.created.localeCompare(a.record.created))) {
    const id = noTrunc ? record.id : shortId(record.id);
    const base = { Digest: '<none>', ID: id, CreatedSince: since(record.created), CreatedAt: record.created, Size: humanSize(record.size), VirtualSize: humanSize(record.size, 4) };
    // The digest a repository knows this image by, if it was pulled from there.
    const digestIn = (repo: string) => {
      const d = (record.repoDigests ?? []).map((r) => parseReference(r)).find((r) => familiarRepository(r) === repo);
      return d?.digest ?? '<none>';
    };
    if (!names.length) {
      // Pulled by digest only: docker lists the repository with no tag.
      const repos = [...new Set((record.repoDigests ?? []).map((r) => familiarRepository(parseReference(r))))];
      if (!repos.length && !filter) rows.push({ Repository: '<none>', Tag: '<none>', ...base });
      for (const repo of repos) if (!filter || filter === repo) rows.push({ Repository: repo, Tag: '<none>', ...base, Digest: digestIn(repo) });
      continue;
    }
    for (const n of names) {
      const ref = parseReference(n);
      const repo = familiarRepository(ref);
      if (filter && filter !== repo && filter !== `${repo}:${ref.tag}`) continue;
      rows.push({ Repository: repo, Tag: ref.tag ?? '<none>', ...base, Digest: digestIn(repo) });
    }
  }
  let format = flags.get('format') as string | undefined;
  const quiet = flags.get('quiet') === true;
  if (quiet && (!format || format === 'table')) {
    // One line per image, not per name: docker's -q lists each ID once.
    ctx.out([...new Set(rows.map((r) => r.ID))].map((id) => id + '\n').join(''));
    return 0;
  }
  const digests = flags.get('digests') === true;
  // --digests adds the column to a table format that lacks it, as docker does.
  if (digests && format?.startsWith('table') && format !== 'table' && !format.includes('{{.Digest}}')) format += '\t{{.Digest}}';
  const spec = digests ? { ...IMAGE_LIST, table: IMAGE_TABLE_DIGESTS } : IMAGE_LIST;
  ctx.out(formatList(format, rows.map((r) => imageContext(r)), spec, { quiet }));
  return 0;
}

export async function rmi(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'force', short: 'f', type: 'bool' },
    { name: 'no-prune', type: 'bool' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help') || !positionals.length) {
    ctx.out('Usage:  berth rmi [OPTIONS] IMAGE [IMAGE...]\n\nRemove one or more images\n');
    return flags.get('help') ? 0 : 125;
  }
  const engine = ctx.engine();
  const inUse = engine.containers.imageUsers();
  let failed = false;
  for (const name of positionals) {
    try {
      const lines = engine.images.remove(name, { force: flags.get('force') === true, inUse });
      ctx.out(lines.map((l) => l + '\n').join(''));
    } catch (err) {
      failed = true;
      ctx.err(`Error response from daemon: ${(err as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

export async function imagePrune(ctx: Context, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, [
    { name: 'all', short: 'a', type: 'bool' },
    { name: 'force', short: 'f', type: 'bool' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth image prune [OPTIONS]\n\nRemove unused images\n\nOptions:\n  -a, --all     Remove all unused images, not just dangling ones\n  -f, --force   Do not prompt for confirmation\n');
    return 0;
  }
  if (!flags.get('force')) throw invalid('image prune asks for confirmation: pass -f');
  const { lines, reclaimed } = ctx.engine().pruneImages(flags.get('all') === true);
  if (lines.length) ctx.out(`Deleted Images:\n${lines.join('\n')}\n\n`);
  ctx.out(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
  return 0;
}

export async function tag(ctx: Context, argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, [{ name: 'help', type: 'bool' }]);
  if (positionals.length !== 2) throw invalid('"berth tag" requires exactly 2 arguments.\nUsage:  berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]');
  const images = ctx.engine().images;
  images.tag(images.resolve(positionals[0]).id, positionals[1]);
  return 0;
}

export { inspectImage } from '../../image/inspect.ts';
import { inspectImage } from '../../image/inspect.ts';

export async function imageInspect(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'format', short: 'f', type: 'string' }, { name: 'help', type: 'bool' }]);
  if (!positionals.length) throw invalid('"berth image inspect" requires at least 1 argument.');
  const images = ctx.engine().images;
  const all = images.list();
  const out: object[] = [];
  let failed = false;
  for (const p of positionals) {
    try {
      const rec = images.resolve(p);
      out.push(inspectImage(rec, all.find((s) => s.record.id === rec.id)?.names ?? []));
    } catch (err) {
      failed = true;
      ctx.err(`Error: ${(err as Error).message}\n`);
    }
  }
  const shown = formatInspect(flags.get('format') as string | undefined, out);
  ctx.out(shown.out);
  for (const e of shown.errors) ctx.err(`${e}\n`);
  return failed || shown.errors.length ? 1 : 0;
}

export async function image(ctx: Context, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'ls': case 'list': return images(ctx, rest);
    case 'inspect': return imageInspect(ctx, rest);
    case 'rm': case 'remove': return rmi(ctx, rest);
    case 'import': return importCmd(ctx, rest);
    case 'prune': return imagePrune(ctx, rest);
    case 'tag': return tag(ctx, rest);
    case 'push': return (await import('./push.ts')).push(ctx, rest);
    case 'save': return (await import('./archive.ts')).save(ctx, rest);
    case 'load': return (await import('./archive.ts')).load(ctx, rest);
    default:
      ctx.out('Usage:  berth image COMMAND\n\nCommands:\n  import   Import a tarball as an image\n  inspect  Display detailed information on one or more images\n  load     Load images from a tar archive\n  ls       List images\n  prune    Remove unused images\n  push     Upload an image to a registry\n  rm       Remove one or more images\n  save     Save images to a tar archive\n  tag      Create a tag\n');
      return sub === undefined || sub === '--help' ? 0 : 125;
  }
}
