// `berth save` and `berth load`: images to and from tar archives (docker-archive + OCI layout).
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalid } from '../../core/errors.ts';
import { familiarReference, parseReference } from '../../image/reference.ts';
import { parseArgs } from '../args.ts';
import type { Context } from '../context.ts';

export async function save(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'output', short: 'o', type: 'string' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth save [OPTIONS] IMAGE [IMAGE...]\n\nSave one or more images to a tar archive (streamed to STDOUT by default)\n\nOptions:\n  -o, --output string   Write to a file, instead of STDOUT\n');
    return 0;
  }
  if (!positionals.length) throw invalid('"berth save" requires at least 1 argument.\nUsage:  berth save [OPTIONS] IMAGE [IMAGE...]');
  const output = flags.get('output') as string | undefined;
  const engine = ctx.engine();
  for (const n of positionals) engine.images.resolve(n); // an unknown image fails before any output
  if (!output) {
    if (process.stdout.isTTY) throw invalid('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    await pipeline(Readable.from(engine.save(positionals)), process.stdout);
    return 0;
  }
  // Written beside the target and renamed: a failed save never leaves a truncated archive under the name.
  const tmp = `${output}.${process.pid}.berth-save.tmp`;
  try {
    await pipeline(Readable.from(engine.save(positionals)), fs.createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    fs.renameSync(tmp, output);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  return 0;
}

export async function load(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'input', short: 'i', type: 'string' },
    { name: 'quiet', short: 'q', type: 'bool' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth load [OPTIONS]\n\nLoad images from a tar archive (docker-archive or OCI image layout, optionally gzip or zstd) or STDIN\n\nOptions:\n  -i, --input string   Read from tar archive file, instead of STDIN\n  -q, --quiet          Suppress the load output\n');
    return 0;
  }
  if (positionals.length) throw invalid('"berth load" accepts no arguments.\nUsage:  berth load [OPTIONS]');
  const input = flags.get('input') as string | undefined;
  let source: AsyncIterable<Buffer>;
  if (input) {
    if (!fs.existsSync(input)) throw invalid(`open ${input}: no such file or directory`);
    source = fs.createReadStream(input, { highWaterMark: 1 << 20 });
  } else {
    if (process.stdin.isTTY) throw invalid('requested load from stdin, but stdin is empty');
    source = process.stdin;
  }
  const loaded = await ctx.engine().load(source);
  if (!flags.get('quiet')) {
    for (const img of loaded) {
      if (!img.names.length) ctx.out(`Loaded image ID: ${img.id}\n`);
      for (const n of img.names) ctx.out(`Loaded image: ${familiarReference(parseReference(n))}\n`);
    }
  }
  return 0;
}
