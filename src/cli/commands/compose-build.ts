// `berth compose build`, and the builder `up`, `run` and `watch` use: a service's build section
// (compose/build.ts turns it into the builder's options) built in this process by the engine's
// builder (build/builder.ts), its steps rendered as `berth build` renders them.
import * as fs from 'node:fs';
import { BerthError, invalid } from '../../core/errors.ts';
import type { Project, Service } from '../../compose/types.ts';
import { clientEnv } from '../../util/client-env.ts';
import { parseArgs } from '../args.ts';
import { plainRenderer, quietRenderer, ttyRenderer } from '../build-progress.ts';
import type { ComposeCtx } from './compose-context.ts';

export interface BuilderOptions {
  noCache?: boolean;
  pull?: boolean;
  quiet?: boolean;
  args?: Record<string, string>;
}

/** Builds one service's image (tagged with its image name and build.tags). */
export function builder(c: ComposeCtx, p: Project, opts: BuilderOptions = {}) {
  return async (name: string, _s?: Service): Promise<void> => {
    const [{ buildPlan }, { fileObject }, { build }] = await Promise.all([
      import('../../compose/build.ts'), import('../../compose/resources.ts'), import('../../build/builder.ts'),
    ]);
    const engine = c.engine();
    const plan = buildPlan(p, name, opts, (secret) => fileObject(engine, p, 'secret', secret));
    for (const w of plan.warnings) c.warn(w);
    if (plan.dockerfileOutside) {
      if (!fs.statSync(plan.dockerfileOutside, { throwIfNoEntry: false })?.isFile()) throw invalid(`service "${name}": Dockerfile ${plan.dockerfileOutside} not found`);
      plan.opts.dockerfileText = fs.readFileSync(plan.dockerfileOutside, 'utf8');
    }
    if ('dir' in plan.opts.context && !fs.statSync(plan.opts.context.dir, { throwIfNoEntry: false })?.isDirectory()) {
      throw invalid(`service "${name}": build context ${plan.opts.context.dir} is not a directory`);
    }
    const { parseSshSpec } = await import('../../build/ssh.ts');
    plan.opts.ssh = plan.ssh.map((spec) => parseSshSpec(spec, clientEnv()));
    c.emit({ kind: 'Service', name, status: 'Building' });
    const write = (s: string) => c.err(s);
    const r = opts.quiet ? quietRenderer(write) : process.stderr.isTTY ? ttyRenderer(write) : plainRenderer(write);
    let id: string;
    try {
      id = (await build(engine, { ...plan.opts, onEvent: (e) => r.event(e) })).id;
    } catch (err) {
      r.failed((err as Error).message);
      c.emit({ kind: 'Service', name, status: 'Error', error: true });
      throw new BerthError('FailedPrecondition', `service "${name}" failed to build: ${(err as Error).message}`, { cause: err });
    }
    r.finish();
    if (!opts.quiet) for (const t of plan.opts.tags ?? []) r.line(`naming to ${t} (${id.slice(7, 19)}) done`);
    c.emit({ kind: 'Service', name, status: 'Built', done: true });
  };
}

/** Build args from the command line: K=V, or K alone for the environment's value (left out when unset). */
function argFlags(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq === 0) throw invalid(`invalid --build-arg "${kv}"`);
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
    else if (clientEnv()[kv] !== undefined) out[kv] = clientEnv()[kv]!;
  }
  return out;
}

export async function buildVerb(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'no-cache', type: 'bool' }, { name: 'pull', type: 'bool' }, { name: 'quiet', short: 'q', type: 'bool' },
    { name: 'build-arg', type: 'list' }, { name: 'with-dependencies', type: 'bool' }, { name: 'progress', type: 'string' },
  ]);
  const p = c.load(positionals);
  for (const n of positionals) if (!p.services[n]) throw invalid(`no such service: ${n}`);
  let names = positionals.length ? positionals : Object.keys(p.services);
  if (flags.get('with-dependencies')) {
    const { selectServices } = await import('../../compose/up.ts');
    names = selectServices(p, names);
  }
  const make = builder(c, p, {
    noCache: flags.get('no-cache') === true, pull: flags.get('pull') === true, quiet: flags.get('quiet') === true,
    args: argFlags((flags.get('build-arg') as string[] | undefined) ?? []),
  });
  for (const name of names) if (p.services[name].build) await make(name);
  return 0;
}
