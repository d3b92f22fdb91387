// `berth compose watch [--no-up] [--quiet] [--prune=false] [SERVICE...]`: brings the services up
// (building what needs it), then watches their develop.watch paths (fs.watch, recursive) and,
// once changes stop for a moment, acts on each batch: sync copies changed files into the
// service's running containers through the engine's copy (deleted ones are removed with rm in the
// container), sync+restart then restarts them, sync+exec runs a command, rebuild builds the image
// and recreates the service (and, unless --prune=false, removes the image it replaced). Runs
// until interrupted; the services keep running.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ServiceChanges, WatchExec, WatchRule } from '../../compose/watch.ts';
import type { Project } from '../../compose/types.ts';
import type { Engine } from '../../engine/engine.ts';
import { notFound } from '../../core/errors.ts';
import { parseArgs } from '../args.ts';
import { builder } from './compose-build.ts';
import type { ComposeCtx } from './compose-context.ts';

/** How long the files must stay unchanged before a batch is acted on (ms). */
const QUIET_MS = 500;

export async function watch(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'no-up', type: 'bool' }, { name: 'quiet', type: 'bool' }, { name: 'prune', type: 'bool' }]);
  const p = c.load(positionals);
  const w = await startWatching(c, p, positionals, { quiet: flags.get('quiet') === true, up: flags.get('no-up') !== true, prune: flags.get('prune') !== false });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await w.stop();
  return 0;
}

/**
 * Checks the services' rules, brings them up when asked (building what needs it), and watches
 * until stop() (which lets a batch in progress finish). `up --watch` uses it beside its logs.
 */
export async function startWatching(c: ComposeCtx, p: Project, names: string[], opts: { quiet?: boolean; up?: boolean; prune?: boolean }): Promise<{ stop(): Promise<void> }> {
  const [{ watchRules, planChanges }, upMod] = await Promise.all([import('../../compose/watch.ts'), import('../../compose/up.ts')]);
  const rules = watchRules(p, names, (dir) => {
    try {
      return fs.readFileSync(path.join(dir, '.dockerignore'), 'utf8');
    } catch {
      return undefined;
    }
  });
  const engine = c.engine();
  const services = [...new Set(rules.map((r) => r.service))];
  const build = builder(c, p, { quiet: opts.quiet });
  // Checked before anything is started.
  for (const r of rules) if (!fs.existsSync(r.path)) throw notFound(`service "${r.service}": develop.watch path ${r.path} does not exist`);
  if (opts.up) await upMod.up(engine, p, { services, builder: build }, c.emit, c.warn);

  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const flush = () => {
    const batch = [...pending];
    pending.clear();
    // One batch at a time: changes made meanwhile wait for the next.
    running = running.then(() => apply(c, engine, p, rules, planChanges(rules, batch), build, opts.prune !== false)).catch((err) => c.err(`watch: ${(err as Error).message}\n`));
  };
  const changed = (abs: string) => {
    pending.add(abs);
    clearTimeout(timer);
    timer = setTimeout(flush, QUIET_MS);
  };
  const watchers = rules.map((r) => watchPath(r, changed));
  for (const r of rules) if (r.initialSync && r.action.startsWith('sync')) pending.add(r.path);
  if (pending.size) flush();
  c.err('Watch enabled\n');
  return {
    async stop() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
      await running;
    },
  };
}

/** Watches a rule's path: a directory recursively, a file through its directory (editors replace files). */
function watchPath(rule: WatchRule, changed: (abs: string) => void): fs.FSWatcher {
  const st = fs.statSync(rule.path);
  if (st.isDirectory()) {
    return fs.watch(rule.path, { recursive: true }, (_e, name) => changed(name ? path.join(rule.path, name.toString()) : rule.path));
  }
  const dir = path.dirname(rule.path);
  return fs.watch(dir, (_e, name) => {
    if (name && path.join(dir, name.toString()) === rule.path) changed(rule.path);
  });
}

const imageId = (engine: Engine, ref: string) => {
  try {
    return engine.images.resolve(ref).id;
  } catch {
    return undefined;
  }
};

/** --prune: the image a rebuild replaced goes, once nothing names or uses it (compose's default). */
function pruneImage(engine: Engine, id: string): void {
  if (engine.images.list().find((x) => x.record.id === id)?.names.length) return;
  try {
    engine.images.remove(id, { inUse: engine.containers.imageUsers() });
  } catch {} // used by a container still: it stays
}

async function apply(c: ComposeCtx, engine: Engine, p: Project, rules: WatchRule[], plan: Map<string, ServiceChanges>, build: (name: string) => Promise<void>, prune: boolean): Promise<void> {
  const [{ projectContainers }, { act }, { up }, { applies }, { serviceImage }] = await Promise.all([
    import('../../compose/observe.ts'), import('../../compose/lifecycle.ts'), import('../../compose/up.ts'), import('../../compose/watch.ts'), import('../../compose/build.ts'),
  ]);
  for (const [service, ch] of plan) {
    if (ch.rebuild) {
      c.err(`Rebuilding service(s) ["${service}"] after changes were detected...\n`);
      const before = imageId(engine, serviceImage(p, service));
      try {
        await up(engine, p, { services: [service], noDeps: true, build: true, builder: build }, c.emit, c.warn);
        if (prune && before && before !== imageId(engine, serviceImage(p, service))) pruneImage(engine, before);
        c.err(`service(s) ["${service}"] successfully built\n`);
      } catch (err) {
        c.err(`Build failed: ${(err as Error).message}\n`);
      }
      continue;
    }
    const containers = projectContainers(engine, p.name, { services: [service] }).filter((x) => x.state.Status === 'running');
    if (ch.syncs.size) {
      c.err(`Syncing service "${service}" after ${ch.count} changes were detected\n`);
      const keep = (abs: string) => rules.some((r) => r.service === service && r.action.startsWith('sync') && applies(r, abs));
      for (const x of containers) await sync(engine, x.id, ch.syncs, keep, (m) => c.err(`watch: ${x.name}: ${m}\n`));
    }
    if (ch.restart) await act(engine, p, 'restart', { services: [service] }, c.emit);
    for (const e of ch.execs) for (const x of containers) await run(engine, x.id, e, c);
  }
}

/**
 * Copies present paths into the container, removes deleted ones. A directory (new, or changed
 * as a whole) goes file by file, so that what the rules leave out in it stays out.
 */
async function sync(engine: Engine, id: string, syncs: Map<string, string>, keep: (abs: string) => boolean, report: (m: string) => void): Promise<void> {
  const gone: string[] = [];
  const copies: Array<[string, string]> = [];
  for (const [host, dest] of syncs) {
    const st = fs.lstatSync(host, { throwIfNoEntry: false });
    if (!st) gone.push(dest);
    else if (!st.isDirectory()) copies.push([host, dest]);
    else {
      copies.push([host, dest]);
      for (const rel of fs.readdirSync(host, { recursive: true }) as string[]) {
        const abs = path.join(host, rel);
        if (keep(abs)) copies.push([abs, path.posix.join(dest, rel.split(path.sep).join('/'))]);
      }
    }
  }
  for (const [host, dest] of copies) {
    try {
      await copyInto(engine, id, host, dest);
    } catch (err) {
      report(`cannot copy ${host} to ${dest}: ${(err as Error).message}`);
    }
  }
  if (gone.length) {
    const r = await execCapture(engine, id, { args: ['rm', '-rf', '--', ...gone] });
    if (r.exit !== 0) report(`cannot remove ${gone.join(' ')}: ${r.stderr.trim() || `rm exited ${r.exit}`}`);
  }
}

const isDir = (engine: Engine, id: string, p: string) => engine.containers.pathStat(id, p).then((s) => s.isDir, () => false);

/**
 * One file, or one directory (made if missing, its contents left to their own copies). The
 * engine's copy needs the destination's parent: directories missing in the container are made by
 * copying a scratch tree of them (only what is missing, so that nothing existing changes).
 */
async function copyInto(engine: Engine, id: string, host: string, dest: string): Promise<void> {
  const dir = fs.lstatSync(host).isDirectory();
  if (dir && (await isDir(engine, id, dest))) return;
  let parent = path.posix.dirname(dest);
  const missing: string[] = [];
  while (parent !== '/' && !(await isDir(engine, id, parent))) {
    missing.unshift(path.posix.basename(parent));
    parent = path.posix.dirname(parent);
  }
  if (!missing.length && !dir) return engine.containers.copy(id, { in: host, to: dest });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-watch-'));
  try {
    const deepest = path.join(scratch, ...missing);
    const item = path.join(deepest, path.posix.basename(dest));
    fs.mkdirSync(deepest, { recursive: true });
    if (dir) fs.mkdirSync(item, { mode: fs.statSync(host).mode & 0o7777 });
    else fs.cpSync(host, item, { preserveTimestamps: true, verbatimSymlinks: true });
    await engine.containers.copy(id, { in: path.join(scratch, missing[0] ?? path.posix.basename(dest)), to: missing.length ? parent : dest });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

async function execCapture(engine: Engine, id: string, x: { args: string[]; user?: string; cwd?: string; env?: string[] }): Promise<{ exit: number; stdout: string; stderr: string }> {
  const s = await engine.containers.execStreams(id, { ...x, stdin: false, execId: randomBytes(32).toString('hex') });
  let stdout = '';
  let stderr = '';
  s.stdout.on('data', (d: Buffer) => (stdout += d));
  s.stderr.on('data', (d: Buffer) => (stderr += d));
  const exit = await s.exited;
  return { exit: exit.exit, stdout, stderr };
}

/** sync+exec's command, its output shown. */
async function run(engine: Engine, id: string, e: WatchExec, c: ComposeCtx): Promise<void> {
  const r = await execCapture(engine, id, { args: e.command, user: e.user, cwd: e.working_dir, env: Object.entries(e.environment ?? {}).map(([k, v]) => `${k}=${v}`) });
  c.out(r.stdout);
  c.err(r.stderr);
  if (r.exit !== 0) c.err(`watch: ${e.command.join(' ')} exited ${r.exit}\n`);
}
