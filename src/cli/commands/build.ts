// `berth build [OPTIONS] PATH | -` and `berth history IMAGE`. The build runs in the engine
// (build/builder.ts) and reports events; this file parses docker's flags, feeds the context
// (a directory, a tar or a lone Dockerfile on stdin) and renders progress on stderr.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../../core/errors.ts';
import type { BuildOptions, Output, Secret } from '../../build/events.ts';
import { isRemoteContext } from '../../build/remote.ts';
import { parseSshSpec } from '../../build/ssh.ts';
import { familiarReference, parseReference } from '../../image/reference.ts';
import { imageHistory } from '../../image/history.ts';
import { parseArgs } from '../args.ts';
import { humanSize } from '../format.ts';
import type { Context } from '../context.ts';
import { plainRenderer, quietRenderer, ttyRenderer } from '../build-progress.ts';

const USAGE = `Usage:  berth build [OPTIONS] PATH | URL | -

Build an image from a Dockerfile (the context: a directory, a Git URL such as
https://host/repo.git#ref:subdir, a URL to an archive or a Dockerfile, or - for stdin)

Options:
      --build-arg list       Set build-time variables
      --cache-from strings   Images to consider as cache sources
  -f, --file string          Name of the Dockerfile (default: "PATH/Dockerfile"; - for stdin)
      --iidfile string       Write the image ID to the file
      --label list           Set metadata for an image
      --network string       Set the networking mode for the RUN instructions during build (default "default")
      --no-cache             Do not use cache when building the image
  -o, --output stringArray   Output destination (format: "type=local,dest=path" or "type=tar,dest=file")
      --platform string      Set target platform for build (the host's only)
      --progress string      Set type of progress output (auto, plain, tty, quiet) (default "auto")
      --pull                 Always attempt to pull a newer version of the image
  -q, --quiet                Suppress the build output and print image ID on success
      --secret stringArray   Secret to expose to the build (format: "id=mysecret[,src=/local/secret]")
      --ssh stringArray      SSH agent socket or keys to expose to the build (format: "default|<id>[=<socket>|<key>[,<key>]]")
  -t, --tag list             Name and optionally a tag in the "name:tag" format
      --target string        Set the target build stage to build
`;

function keyValues(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    if (eq === 0) throw invalid(`invalid ${what}: ${kv}`);
    if (eq < 0) {
      // docker: --build-arg NAME takes the value from the environment (skipped when unset)
      const v = process.env[kv];
      if (what === 'build-arg' && v === undefined) continue;
      out[kv] = v ?? '';
    } else out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

function csv(spec: string): Map<string, string> {
  return new Map(spec.split(',').map((p) => {
    const eq = p.indexOf('=');
    return eq < 0 ? [p, ''] : [p.slice(0, eq).trim(), p.slice(eq + 1)];
  }));
}

export function parseSecret(spec: string): Secret {
  const m = csv(spec);
  const id = m.get('id');
  if (!id) throw invalid(`invalid secret ${spec}: id is required`);
  const type = m.get('type') ?? 'file';
  if (m.has('env') || type === 'env') {
    const v = process.env[m.get('env') || m.get('src') || id];
    if (v === undefined) throw invalid(`secret ${id}: environment variable ${m.get('env') || id} is not set`);
    return { id, data: Buffer.from(v) };
  }
  const src = m.get('src') ?? m.get('source') ?? id;
  if (!fs.statSync(src, { throwIfNoEntry: false })?.isFile()) throw invalid(`secret ${id}: could not read ${src}`);
  return { id, src: path.resolve(src) };
}

export function parseOutput(spec: string): Output {
  if (spec === '-') return { type: 'tar', dest: '-' };
  if (!spec.includes('=')) return { type: 'local', dest: spec };
  const m = csv(spec);
  const type = m.get('type') ?? 'local';
  const dest = m.get('dest') ?? '';
  if (type === 'image' || type === 'docker') return { type: 'image' };
  if (type !== 'local' && type !== 'tar') throw invalid(`output type ${type} is not supported (local, tar, image)`);
  if (!dest) throw invalid(`output ${spec}: dest is required`);
  return { type, dest };
}

function isTarHead(head: Buffer): boolean {
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return true;
  return (head[0] === 0x1f && head[1] === 0x8b) || (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function build(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'tag', short: 't', type: 'list' },
    { name: 'file', short: 'f', type: 'string' },
    { name: 'build-arg', type: 'list' },
    { name: 'label', type: 'list' },
    { name: 'target', type: 'string' },
    { name: 'no-cache', type: 'bool' },
    { name: 'pull', type: 'bool' },
    { name: 'quiet', short: 'q', type: 'bool' },
    { name: 'iidfile', type: 'string' },
    { name: 'platform', type: 'string' },
    { name: 'network', type: 'string' },
    { name: 'secret', type: 'list' },
    { name: 'ssh', type: 'list' },
    { name: 'output', short: 'o', type: 'list' },
    { name: 'progress', type: 'string' },
    { name: 'cache-from', type: 'list' },
    { name: 'rm', type: 'bool' },
    { name: 'force-rm', type: 'bool' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw invalid(`"berth build" requires exactly 1 argument.\n${USAGE.split('\n')[0]}`);
  const tags = (flags.get('tag') as string[] | undefined) ?? [];
  for (const t of tags) parseReference(t);
  const quiet = flags.get('quiet') === true;
  const progress = quiet ? 'quiet' : ((flags.get('progress') as string | undefined) ?? 'auto');
  if (!['auto', 'plain', 'tty', 'quiet'].includes(progress)) throw invalid(`invalid progress mode ${progress} (auto, plain, tty, quiet)`);
  const network = (flags.get('network') as string | undefined) ?? 'default';
  if (!['default', 'none', 'host', 'bridge'].includes(network)) throw invalid(`network mode "${network}" not supported by the builder (default, none, host)`);
  const file = flags.get('file') as string | undefined;
  const where = positionals[0];
  const remote = where !== '-' && isRemoteContext(where) && !fs.existsSync(where);
  const opts: BuildOptions = {
    context: remote ? { remote: where } : { dir: where },
    tags,
    buildArgs: keyValues(flags.get('build-arg') as string[] | undefined, 'build-arg'),
    labels: keyValues(flags.get('label') as string[] | undefined, 'label'),
    target: flags.get('target') as string | undefined,
    noCache: flags.get('no-cache') === true,
    pull: flags.get('pull') === true,
    network: network === 'default' ? undefined : network,
    platform: flags.get('platform') as string | undefined,
    cacheFrom: flags.get('cache-from') as string[] | undefined,
    secrets: ((flags.get('secret') as string[] | undefined) ?? []).map(parseSecret),
    // Always a list here: this client is the session, so only required=true mounts need an agent.
    ssh: ((flags.get('ssh') as string[] | undefined) ?? []).map((s) => parseSshSpec(s)),
    outputs: ((flags.get('output') as string[] | undefined) ?? []).map(parseOutput),
  };
  if (file === '-') {
    if (where === '-') throw invalid('invalid argument: can\'t use stdin for both build context and dockerfile');
    opts.dockerfileText = (await readAll(process.stdin)).toString('utf8');
  } else if (file !== undefined && remote) {
    opts.dockerfile = file; // a path inside the remote context, as docker takes it
  } else if (file !== undefined) {
    // -f names a file relative to the working directory; inside the context it is also the
    // base name for its .dockerignore (Dockerfile.prod.dockerignore).
    if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw invalid(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${path.resolve(file)}: no such file or directory`);
    opts.dockerfileText = fs.readFileSync(file, 'utf8');
    if (where !== '-') {
      const rel = path.relative(fs.realpathSync(where), fs.realpathSync(file));
      if (!rel.startsWith('..')) opts.dockerfile = rel;
    }
  }
  if (where === '-') {
    const data = await readAll(process.stdin);
    if (isTarHead(data)) opts.context = { tar: (async function* () { yield data; })() };
    else {
      // A Dockerfile alone on stdin: an empty context.
      opts.dockerfileText = data.toString('utf8');
      opts.context = { tar: (async function* () { yield Buffer.alloc(1024); })() };
    }
  } else if (!remote && !fs.statSync(where, { throwIfNoEntry: false })?.isDirectory()) {
    throw invalid(`unable to prepare context: path "${where}" not found`);
  }
  const tty = progress === 'tty' || (progress === 'auto' && process.stderr.isTTY === true);
  const r = progress === 'quiet' ? quietRenderer((s) => process.stderr.write(s)) : tty ? ttyRenderer((s) => process.stderr.write(s)) : plainRenderer((s) => process.stderr.write(s));
  opts.onEvent = (e) => r.event(e);
  const controller = new AbortController();
  opts.signal = controller.signal;
  // Ctrl-C cancels: the build removes its container and scratch files before the command ends.
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result;
  try {
    const { build: run } = await import('../../build/builder.ts');
    result = await run(ctx.engine(), opts);
  } catch (err) {
    if (controller.signal.aborted) {
      r.failed('build canceled');
      return 130;
    }
    r.failed((err as Error).message);
    return 1; // docker build's status for any failed build
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (opts.outputs?.length === 0 || tags.length) r.line(`writing image ${result.id} done`);
  for (const t of tags) r.line(`naming to ${parseReference(t).domain}/${parseReference(t).path}:${parseReference(t).tag ?? 'latest'} done`);
  r.finish();
  const iid = flags.get('iidfile') as string | undefined;
  if (iid) fs.writeFileSync(iid, result.id);
  if (quiet) ctx.out(`${result.id}\n`);
  return 0;
}

export async function history(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'no-trunc', type: 'bool' },
    { name: 'quiet', short: 'q', type: 'bool' },
    { name: 'human', short: 'H', type: 'string' },
    { name: 'format', type: 'string' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth history [OPTIONS] IMAGE\n\nShow the history of an image\n\nOptions:\n      --format string   Format output using a custom template: \'table\', \'table TEMPLATE\', \'json\', \'TEMPLATE\'\n  -H, --human           Print sizes and dates in human readable format (default true)\n      --no-trunc        Don\'t truncate output\n  -q, --quiet           Only show image IDs\n');
    return 0;
  }
  if (positionals.length !== 1) throw invalid('"berth history" requires exactly 1 argument.');
  const images = ctx.engine().images;
  const rec = images.resolve(positionals[0]);
  const names = images.list().find((s) => s.record.id === rec.id)?.names ?? [];
  const rows = imageHistory(rec, names.map((n) => familiarReference(parseReference(n))));
  const noTrunc = flags.get('no-trunc') === true;
  const human = flags.get('human') !== 'false';
  // docker's history formatter: its table (dates in RFC 3339 with -H=false), json, templates.
  const { HISTORY_LIST, HISTORY_TABLE_NOT_HUMAN, historyContext } = await import('../contexts.ts');
  const { formatList } = await import('../template.ts');
  const spec = human ? HISTORY_LIST : { ...HISTORY_LIST, table: HISTORY_TABLE_NOT_HUMAN };
  const contexts = rows.map((r) => historyContext(r, { trunc: !noTrunc, human }));
  ctx.out(formatList(flags.get('format') as string | undefined, contexts, spec, { quiet: flags.get('quiet') === true }));
  return 0;
}

/** `berth builder prune [-f] [-a]`: the build cache's records and RUN cache mounts. */
export async function builder(ctx: Context, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'prune') {
    ctx.out('Usage:  berth builder prune [-f] [-a]\n\nRemove build cache (step records and RUN cache mounts)\n');
    return sub === undefined || sub === '--help' ? 0 : 125;
  }
  const { flags } = parseArgs(rest, [
    { name: 'force', short: 'f', type: 'bool' },
    { name: 'all', short: 'a', type: 'bool' },
  ]);
  if (!flags.get('force')) throw invalid('berth builder prune removes the whole build cache: add -f to confirm');
  const { BuildCache } = await import('../../build/cache.ts');
  const engine = ctx.engine();
  const { records, reclaimed } = new BuildCache(engine.root.dir, engine.images).prune();
  ctx.out(`Deleted build cache records: ${records}\nTotal reclaimed space: ${humanSize(reclaimed)}\n`);
  return 0;
}
