// `berth compose`: the global flags (-f, -p, --env-file, --profile, --project-directory), the
// project loaded once, and the verbs that change things (up, down, start/stop/...). The verbs
// that show or enter containers are in compose-views.ts. Events from src/compose are rendered here.
import * as path from 'node:path';
import { invalid } from '../../core/errors.ts';
import type { LoadOptions } from '../../compose/load.ts';
import type { ComposeEvent } from '../../compose/observe.ts';
import type { Project } from '../../compose/types.ts';
import { parseArgs, type FlagSpec } from '../args.ts';
import { COMPOSE_FLAGS } from '../flags.ts';
import type { Context } from '../context.ts';
import { clientEnv } from '../../util/client-env.ts';
import { mark } from '../../util/trace.ts';

const USAGE = `Usage:  berth compose [OPTIONS] COMMAND

Define and run multi-container applications (the Compose Specification)

Options:
  -f, --file list              Compose configuration files
  -p, --project-name string    Project name
      --project-directory string  Alternate working directory (default: the first file's)
      --env-file list          Alternate environment files (default: .env in the project directory)
      --profile list           Profiles to enable

Commands:
  up        Create and start containers (-d, --build, --wait, --watch, --scale S=N, --force-recreate, --no-deps, --remove-orphans)
  down      Stop and remove containers and networks (-v volumes, --rmi local|all, --remove-orphans)
  ps        List containers (-a, -q, --format json, --services)
  logs      View output from containers (-f, --tail N, -t, --no-color, --no-log-prefix)
  config    Parse, resolve and render the compose file in canonical format (--services, --volumes, --images)
  exec      Execute a command in a running container (-T, -d, -e, -u, -w, --index)
  run       Run a one-off command on a service (--rm, -d, -e, --no-deps, --entrypoint, -T, --service-ports)
  start, stop, restart, kill, pause, unpause, rm
  watch     Watch the develop.watch paths: sync files into containers, restart or rebuild (--no-up, --quiet)
  top, port, images, ls, cp, build, pull, push, events, wait, version
`;


import type { ComposeCtx } from './compose-context.ts';

type Verb = (c: ComposeCtx, argv: string[]) => Promise<number>;

const VERBS: Record<string, () => Promise<Verb>> = {
  up: async () => up,
  down: async () => down,
  config: async () => config,
  start: async () => lifecycleVerb('start'),
  stop: async () => lifecycleVerb('stop'),
  restart: async () => lifecycleVerb('restart'),
  kill: async () => lifecycleVerb('kill'),
  pause: async () => lifecycleVerb('pause'),
  unpause: async () => lifecycleVerb('unpause'),
  rm: async () => lifecycleVerb('rm'),
  create: async () => (c, argv) => up(c, [...argv, '--no-start']),
  ps: async () => (await import('./compose-views.ts')).ps,
  logs: async () => (await import('./compose-views.ts')).logs,
  exec: async () => (await import('./compose-views.ts')).exec,
  run: async () => (await import('./compose-views.ts')).run,
  top: async () => (await import('./compose-views.ts')).top,
  port: async () => (await import('./compose-views.ts')).port,
  images: async () => (await import('./compose-views.ts')).images,
  ls: async () => (await import('./compose-views.ts')).ls,
  cp: async () => (await import('./compose-views.ts')).cp,
  pull: async () => (await import('./compose-views.ts')).pull,
  push: async () => (await import('./compose-views.ts')).push,
  events: async () => (await import('./compose-views.ts')).events,
  wait: async () => (await import('./compose-views.ts')).wait,
  build: async () => (await import('./compose-build.ts')).buildVerb,
  watch: async () => (await import('./compose-watch.ts')).watch,
  version: async () => async (c) => {
    const { COMPOSE_VERSION } = await import('../../compose/labels.ts');
    c.out(`berth compose version v${COMPOSE_VERSION} (docker compose v2 compatible)\n`);
    return 0;
  },
};

/** compose's progress lines: ` ✔ Container shop-web-1  Started` (on a terminal, only finished steps). */
function renderer(ctx: Context): (e: ComposeEvent) => void {
  const tty = process.stderr.isTTY === true;
  return (e) => {
    if (tty && !e.done && !e.error) return;
    const mark = e.error ? '✘ ' : e.done ? '✔ ' : '';
    ctx.err(` ${mark}${e.kind} ${e.name}  ${e.status}\n`);
  };
}

export async function compose(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, COMPOSE_FLAGS, { stopAtPositional: true });
  const [verb, ...rest] = positionals;
  if (flags.get('help') || !verb) {
    ctx.out(USAGE);
    return 0;
  }
  if (rest[0] === '--help') {
    ctx.out(USAGE);
    return 0;
  }
  const get = VERBS[verb];
  if (!get) throw invalid(`unknown compose command "${verb}"\nSee 'berth compose --help'`);
  const list = (k: string) => (flags.get(k) as string[] | undefined) ?? [];
  const loadOpts: LoadOptions = {
    files: list('file'),
    projectName: flags.get('project-name') as string | undefined,
    projectDirectory: flags.get('project-directory') as string | undefined,
    envFiles: list('env-file'),
    profiles: list('profile').flatMap((p) => p.split(',')),
    // Through a daemon, the client's environment (util/client-env.ts).
    env: clientEnv(),
  };
  const { loadProject } = await import('../../compose/load.ts');
  let project: Project | undefined;
  const warned = new Set<string>();
  const c: ComposeCtx = {
    ...ctx,
    load: (targets) => {
      if (project) return project;
      // Loaded on use: `compose ls` and `version` need no file.
      try {
        // The validator's cache is the state root's; a root we cannot open only costs a compile.
        let cacheDir: string | undefined;
        try {
          cacheDir = path.join(ctx.engine().root.dir, 'cache');
        } catch {}
        project = loadProject({ ...loadOpts, targets, cacheDir });
      } catch (err) {
        // `-p NAME` without a file still names a project: down, ps, logs... act on what exists.
        if (!loadOpts.projectName || loadOpts.files?.length || !/no configuration file provided/.test((err as Error).message)) throw err;
        project = { name: loadOpts.projectName, workingDir: process.cwd(), configFiles: [], services: {}, disabled: {}, networks: {}, volumes: {}, secrets: {}, configs: {}, environment: {}, warnings: [] };
      }
      mark('compose project loaded');
      for (const w of project.warnings) c.warn(w);
      return project;
    },
    emit: renderer(ctx),
    warn: (m) => {
      if (warned.has(m)) return;
      warned.add(m);
      ctx.err(`WARN[0000] ${m}\n`);
    },
  };
  return (await get())(c, rest);
}

const scaleFlag = (list: string[]) => Object.fromEntries(list.map((s) => {
  const m = /^([a-zA-Z0-9._-]+)=(\d+)$/.exec(s);
  if (!m) throw invalid(`invalid --scale "${s}": expected SERVICE=NUM`);
  return [m[1], Number(m[2])];
}));

const UP_FLAGS: FlagSpec[] = [
  { name: 'detach', short: 'd', type: 'bool' }, { name: 'build', type: 'bool' },
  { name: 'wait', type: 'bool' }, { name: 'wait-timeout', type: 'string' }, { name: 'scale', type: 'list' },
  { name: 'force-recreate', type: 'bool' }, { name: 'no-recreate', type: 'bool' }, { name: 'no-deps', type: 'bool' },
  { name: 'remove-orphans', type: 'bool' }, { name: 'no-start', type: 'bool' }, { name: 'pull', type: 'string' },
  { name: 'quiet-pull', type: 'bool' }, { name: 'timeout', short: 't', type: 'string' }, { name: 'no-color', type: 'bool' },
  { name: 'no-build', type: 'bool' },
  { name: 'no-log-prefix', type: 'bool' }, { name: 'abort-on-container-exit', type: 'bool' }, { name: 'exit-code-from', type: 'string' },
  { name: 'renew-anon-volumes', short: 'V', type: 'bool' }, { name: 'yes', short: 'y', type: 'bool' },
  { name: 'watch', short: 'w', type: 'bool' },
];

async function up(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, UP_FLAGS);
  const p = c.load(positionals);
  const engine = c.engine();
  const { up: doUp } = await import('../../compose/up.ts');
  const began = Date.now();
  const pull = flags.get('pull') as string | undefined;
  if (pull !== undefined && !['always', 'missing', 'never'].includes(pull)) throw invalid(`invalid --pull "${pull}": always, missing or never`);
  await doUp(engine, p, {
    services: positionals,
    noDeps: flags.get('no-deps') === true,
    forceRecreate: flags.get('force-recreate') === true,
    noRecreate: flags.get('no-recreate') === true,
    renewAnonVolumes: flags.get('renew-anon-volumes') === true,
    timeout: flags.get('timeout') !== undefined ? Number(flags.get('timeout')) : undefined,
    scale: scaleFlag((flags.get('scale') as string[] | undefined) ?? []),
    removeOrphans: flags.get('remove-orphans') === true,
    wait: flags.get('wait') === true,
    waitTimeout: flags.get('wait-timeout') !== undefined ? Number(flags.get('wait-timeout')) : 0,
    build: flags.get('build') === true,
    noStart: flags.get('no-start') === true,
    pull: pull as 'always' | undefined,
    // --no-build: an image that is missing is an error, never built.
    noBuild: flags.get('no-build') === true,
    builder: (await import('./compose-build.ts')).builder(c, p),
  }, c.emit, c.warn);
  // --watch: the develop.watch rules act while up runs (with -d, until interrupted).
  const watching = flags.get('watch') ? await (await import('./compose-watch.ts')).startWatching(c, p, positionals, {}) : undefined;
  if (watching && (flags.get('detach') || flags.get('wait'))) {
    await new Promise<void>((resolve) => (process.once('SIGINT', () => resolve()), process.once('SIGTERM', () => resolve())));
    await watching.stop();
    return 0;
  }
  if (flags.get('detach') || flags.get('wait') || flags.get('no-start')) return 0;
  // Attached: follow the services' output until they all end, or Ctrl-C stops them.
  const views = await import('./compose-views.ts');
  const exitFrom = flags.get('exit-code-from') as string | undefined;
  if (exitFrom !== undefined && !p.services[exitFrom]) throw invalid(`no such service: ${exitFrom}`);
  try {
    return await views.attachUntilStopped(c, p, positionals, {
      color: flags.get('no-color') !== true, prefix: flags.get('no-log-prefix') !== true,
      abort: flags.get('abort-on-container-exit') === true || exitFrom !== undefined, exitCodeFrom: exitFrom, since: began,
    });
  } finally {
    await watching?.stop();
  }
}

async function down(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, [
    { name: 'volumes', short: 'v', type: 'bool' }, { name: 'rmi', type: 'string' },
    { name: 'remove-orphans', type: 'bool' }, { name: 'timeout', short: 't', type: 'string' },
  ]);
  const rmi = flags.get('rmi') as string | undefined;
  if (rmi !== undefined && rmi !== 'local' && rmi !== 'all') throw invalid(`invalid --rmi "${rmi}": local or all`);
  const p = c.load();
  const { down: doDown } = await import('../../compose/lifecycle.ts');
  await doDown(c.engine(), p, {
    // Without a file every container of the project is its own, not an orphan.
    volumes: flags.get('volumes') === true, rmi: rmi as 'local' | undefined, removeOrphans: flags.get('remove-orphans') === true || !p.configFiles.length,
    timeout: flags.get('timeout') !== undefined ? Number(flags.get('timeout')) : undefined,
  }, c.emit, c.warn);
  return 0;
}

function lifecycleVerb(verb: 'start' | 'stop' | 'restart' | 'kill' | 'pause' | 'unpause' | 'rm'): Verb {
  return async (c, argv) => {
    // Each verb its own flags: rm's -s is --stop, kill's -s is --signal.
    const specs: FlagSpec[] = verb === 'rm'
      ? [{ name: 'force', short: 'f', type: 'bool' }, { name: 'stop', short: 's', type: 'bool' }, { name: 'volumes', short: 'v', type: 'bool' }]
      : verb === 'kill' ? [{ name: 'signal', short: 's', type: 'string' }]
        : verb === 'stop' || verb === 'restart' ? [{ name: 'timeout', short: 't', type: 'string' }] : [];
    const { flags, positionals } = parseArgs(argv, specs);
    const p = c.load(positionals);
    for (const n of positionals) if (!p.services[n] && !p.disabled[n]) throw invalid(`no such service: ${n}`);
    const { act } = await import('../../compose/lifecycle.ts');
    await act(c.engine(), p, verb, {
      services: positionals,
      timeout: flags.get('timeout') !== undefined ? Number(flags.get('timeout')) : undefined,
      signal: flags.get('signal') as string | undefined,
      // rm -s stops first; -f only skips the question compose would ask.
      stop: flags.get('stop') === true,
      volumes: flags.get('volumes') === true,
    }, c.emit);
    return 0;
  };
}

/** The canonical model, as `docker compose config` prints it (keys sorted, YAML). */
async function config(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, [
    { name: 'services', type: 'bool' }, { name: 'volumes', type: 'bool' }, { name: 'networks', type: 'bool' },
    { name: 'images', type: 'bool' }, { name: 'profiles', type: 'bool' }, { name: 'quiet', short: 'q', type: 'bool' },
    { name: 'format', type: 'string' },
  ]);
  const p = c.load();
  const { serviceImage } = await import('../../compose/build.ts');
  if (flags.get('quiet')) return 0;
  const lines = (xs: string[]) => c.out(xs.map((x) => x + '\n').join(''));
  if (flags.get('services')) return lines(Object.keys(p.services)), 0;
  if (flags.get('volumes')) return lines(Object.keys(p.volumes)), 0;
  if (flags.get('networks')) return lines(Object.keys(p.networks)), 0;
  if (flags.get('images')) return lines(Object.keys(p.services).map((n) => serviceImage(p, n))), 0;
  if (flags.get('profiles')) return lines([...new Set(Object.values({ ...p.services, ...p.disabled }).flatMap((s) => s.profiles ?? []))].sort()), 0;
  const model: Record<string, unknown> = { name: p.name, services: p.services };
  for (const k of ['networks', 'volumes', 'secrets', 'configs'] as const) if (Object.keys(p[k]).length) model[k] = p[k];
  const sorted = sortKeys(model);
  const format = (flags.get('format') as string | undefined) ?? 'yaml';
  if (format !== 'yaml' && format !== 'json') throw invalid(`invalid --format "${format}": yaml or json`);
  if (format === 'json') c.out(JSON.stringify(sorted, null, 2) + '\n');
  else c.out((await import('yaml')).stringify(sorted, { lineWidth: 0 }));
  return 0;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}
