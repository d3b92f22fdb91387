// `berth pull`, `berth login`, `berth logout`, and the pull `run` does for a missing image.
// The engine reports a pull as events; this file turns them into docker's lines (a log on a
// pipe or file, a redrawn per-layer display on a terminal).
import { isCode, invalid } from '../../core/errors.ts';
import type { Engine } from '../../engine/engine.ts';
import type { PullEvent, PullResult } from '../../engine/pull.ts';
import { familiarReference, formatReference, parseReference } from '../../image/reference.ts';
import { parseArgs } from '../args.ts';
import type { Context } from '../context.ts';
import { layerProgress, type LayerProgress } from '../progress.ts';

const STATUS: Record<string, string> = {
  waiting: 'Pulling fs layer',
  exists: 'Already exists',
  downloading: 'Downloading',
  retrying: 'Retrying',
  verifying: 'Download complete',
  complete: 'Pull complete',
};

function render(p: LayerProgress, e: PullEvent): void {
  if (e.type === 'resolved') p.line(`${e.ref.digest ?? e.ref.tag}: Pulling from ${e.ref.path}`);
  else if (e.type === 'layer') {
    const moving = e.status === 'downloading' || e.status === 'retrying';
    const key = e.status === 'retrying' ? `${e.status} ${e.error}` : e.status === 'downloading' ? 'waiting' : e.status;
    p.layer(e.id, `${STATUS[e.status]}${e.status === 'retrying' && e.error ? ` (${e.error})` : ''}`, key, moving && e.total ? { current: e.current ?? 0, total: e.total } : undefined);
  }
}

/** Pulls with docker's output on `write`; `canonical` adds the final line `docker pull` prints. */
export async function pullImage(engine: Engine, name: string, opts: { platform?: string; quiet?: boolean; write: (s: string) => void; tty: boolean; canonical: boolean }): Promise<PullResult> {
  const r = opts.quiet ? undefined : layerProgress(opts.write, opts.tty);
  let res: PullResult;
  try {
    res = await engine.pull(name, { platform: opts.platform, onEvent: (e) => r && render(r, e) });
  } finally {
    r?.finish();
  }
  const shown = familiarReference(res.ref);
  if (!opts.quiet) {
    opts.write(`Digest: ${res.digest}\n`);
    opts.write(res.upToDate ? `Status: Image is up to date for ${shown}\n` : `Status: Downloaded newer image for ${shown}\n`);
  }
  if (opts.canonical) opts.write(`${formatReference(res.ref)}\n`);
  return res;
}

export async function pull(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'platform', type: 'string' },
    { name: 'quiet', short: 'q', type: 'bool' },
    { name: 'all-tags', short: 'a', type: 'bool' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth pull [OPTIONS] NAME[:TAG|@DIGEST]\n\nDownload an image from a registry\n\nOptions:\n      --platform string   Set platform if server is multi-platform capable (os/arch[/variant])\n  -q, --quiet             Suppress verbose output\n');
    return 0;
  }
  if (positionals.length !== 1) throw invalid('"berth pull" requires exactly 1 argument.\nUsage:  berth pull [OPTIONS] NAME[:TAG|@DIGEST]');
  if (flags.get('all-tags')) throw invalid('flag --all-tags is not supported');
  parseReference(positionals[0]); // a bad name fails before any work
  await pullImage(ctx.engine(), positionals[0], {
    platform: flags.get('platform') as string | undefined,
    quiet: flags.get('quiet') === true,
    write: ctx.out,
    tty: process.stdout.isTTY === true,
    canonical: true,
  });
  return 0;
}

/** `run`'s default (docker's --pull missing): pull when the image is not here, progress on stderr. */
export async function pullMissing(ctx: Context, name: string, platform?: string): Promise<void> {
  try {
    ctx.engine().images.resolve(name);
    return;
  } catch (err) {
    if (!isCode(err, 'NotFound')) throw err;
  }
  const ref = parseReference(name);
  ctx.err(`Unable to find image '${familiarReference(ref)}' locally\n`);
  await pullImage(ctx.engine(), name, { platform, write: ctx.err, tty: process.stderr.isTTY === true, canonical: false });
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8').replace(/[\r\n]+$/, '');
}

/** A line from the terminal; `secret` keeps it from being echoed. */
async function prompt(ctx: Context, question: string, secret: boolean): Promise<string> {
  const { createInterface } = await import('node:readline');
  const { Writable } = await import('node:stream');
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stdout.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    ctx.out(question);
    muted = secret;
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    if (secret) ctx.out('\n');
  }
}

export async function login(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'username', short: 'u', type: 'string' },
    { name: 'password', short: 'p', type: 'string' },
    { name: 'password-stdin', type: 'bool' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth login [OPTIONS] [SERVER]\n\nLog in to a registry (the credentials are kept in <root>/auth.json).\nIf no server is specified, docker.io is used.\n\nOptions:\n  -p, --password string   Password\n      --password-stdin    Take the password from stdin\n  -u, --username string   Username\n');
    return 0;
  }
  if (positionals.length > 1) throw invalid('"berth login" requires at most 1 argument.\nUsage:  berth login [OPTIONS] [SERVER]');
  const registry = positionals[0] ?? 'docker.io';
  let username = flags.get('username') as string | undefined;
  let password = flags.get('password') as string | undefined;
  if (password !== undefined) ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  if (flags.get('password-stdin')) {
    if (password !== undefined) throw invalid('--password and --password-stdin are mutually exclusive');
    if (!username) throw invalid('Must provide --username with --password-stdin');
    password = await readStdin();
  }
  if (username === undefined || password === undefined) {
    if (!process.stdin.isTTY) throw invalid('Cannot perform an interactive login from a non TTY device');
    username ??= (await prompt(ctx, 'Username: ', false)).trim();
    password ??= await prompt(ctx, 'Password: ', true);
  }
  const engine = ctx.engine();
  await engine.login(registry, { username, password });
  ctx.err(`WARNING! Your password will be stored unencrypted in ${engine.root.dir}/auth.json.\n`);
  ctx.out('Login Succeeded\n');
  return 0;
}

export async function logout(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'help', type: 'bool' }]);
  if (flags.get('help')) {
    ctx.out('Usage:  berth logout [SERVER]\n\nLog out from a registry.\nIf no server is specified, docker.io is used.\n');
    return 0;
  }
  if (positionals.length > 1) throw invalid('"berth logout" requires at most 1 argument.\nUsage:  berth logout [SERVER]');
  const { host, removed } = await ctx.engine().logout(positionals[0] ?? 'docker.io');
  ctx.out(removed ? `Removing login credentials for ${host}\n` : `Not logged in to ${host}\n`);
  return 0;
}
