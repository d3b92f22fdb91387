// `berth compose` verbs that show a project or enter its containers: ps, logs, exec, run, top,
// port, images, ls, cp, pull, events, wait, and the attached `up` that follows the logs.
import { randomBytes } from 'node:crypto';
import { invalid, notFound } from '../../core/errors.ts';
import type { ProjectContainer } from '../../compose/observe.ts';
import type { FileReference, Project } from '../../compose/types.ts';
import { readLog, parseTime } from '../../engine/logs.ts';
import { labels as labelFlags, parseArgs } from '../args.ts';
import { COMPOSE_EXEC_FLAGS, COMPOSE_RUN_FLAGS } from '../flags.ts';
import { humanSize, table } from '../format.ts';
import { clientEnv } from '../../util/client-env.ts';
import { terminalSize, withTerminal } from '../terminal.ts';
import type { ComposeCtx } from './compose-context.ts';

const observe = async (c: ComposeCtx, p: Project, opts: { oneoff?: boolean; services?: string[] } = {}) => (await import('../../compose/observe.ts')).projectContainers(c.engine(), p.name, opts);

function checkServices(p: Project, names: string[]): void {
  // A project named by -p alone has no file: its containers' labels say which services exist.
  if (!p.configFiles.length) return;
  for (const n of names) if (!p.services[n] && !p.disabled[n]) throw invalid(`no such service: ${n}`);
}

export async function ps(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'all', short: 'a', type: 'bool' }, { name: 'quiet', short: 'q', type: 'bool' }, { name: 'services', type: 'bool' },
    { name: 'format', type: 'string' }, { name: 'status', type: 'list' }, { name: 'filter', type: 'list' }, { name: 'no-trunc', type: 'bool' },
  ]);
  // --filter status=X is compose's other spelling of --status X; it knows no other filter.
  for (const f of (flags.get('filter') as string[] | undefined) ?? []) {
    const m = /^status=(.+)$/.exec(f);
    if (!m) throw invalid(`invalid filter "${f}": only status=STATE`);
    flags.set('status', [...((flags.get('status') as string[] | undefined) ?? []), m[1]]);
  }
  const p = c.load();
  checkServices(p, positionals);
  const engine = c.engine();
  const statuses = (flags.get('status') as string[] | undefined) ?? [];
  let list = await observe(c, p, { services: positionals, oneoff: true });
  if (!flags.get('all')) list = list.filter((x) => ['running', 'paused', 'restarting'].includes(x.state.Status) || statuses.length);
  if (statuses.length) list = list.filter((x) => statuses.includes(x.state.Status));
  if (flags.get('quiet')) return c.out(list.map((x) => x.id + '\n').join('')), 0;
  if (flags.get('services')) return c.out([...new Set(list.map((x) => x.service))].map((s) => s + '\n').join('')), 0;
  const [{ containerRow }, { composeContainerContext }] = await Promise.all([import('./containers.ts'), import('../contexts.ts')]);
  const trunc = flags.get('no-trunc') !== true;
  const rows = list.map((x) => {
    const c = { record: x.record, state: x.state };
    const ports = engine.containers.networkView(c)?.Ports ?? [];
    return composeContainerContext(containerRow(engine, c, !trunc), trunc, {
      Name: x.name, Project: p.name, Service: x.service, Health: engine.containers.health(x.record)?.Status ?? '', ExitCode: x.state.ExitCode,
      Publishers: ports.map((m) => ({ URL: m.hostIP || '0.0.0.0', TargetPort: m.containerPort, PublishedPort: m.hostPort, Protocol: m.protocol })),
    }) as Record<string, string>;
  });
  const format = flags.get('format') as string | undefined;
  if (format === 'json') c.out(rows.map((r) => JSON.stringify(r) + '\n').join(''));
  else if (format && format !== 'table') {
    const { renderTemplate } = await import('../template.ts');
    c.out(rows.map((r) => renderTemplate(format, r) + '\n').join(''));
  } else c.out(table(['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'], rows.map((r) => [r.Name, r.Image, r.Command, r.Service, r.RunningFor, r.Status, r.Ports])));
  return 0;
}

// compose's palette: one colour per service, in order of appearance.
const COLOURS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

interface LogView {
  follow: boolean;
  tail?: number;
  since?: number;
  until?: number;
  timestamps: boolean;
  color: boolean;
  prefix: boolean;
  /** up's attached mode: say when each container's output ends, with its exit code. */
  exits?: boolean;
  onExit?: (x: ProjectContainer, code: number) => void;
}

/** Lines of several containers, each prefixed with its name (coloured per service on a terminal). */
async function streamLogs(c: ComposeCtx, list: ProjectContainer[], v: LogView): Promise<void> {
  const engine = c.engine();
  const width = Math.max(0, ...list.map((x) => x.name.length));
  const services = [...new Set(list.map((x) => x.service))];
  const colour = v.color && process.stdout.isTTY === true;
  const paint = (x: ProjectContainer, text: string) => (colour ? `\x1b[${COLOURS[services.indexOf(x.service) % COLOURS.length]}m${text}\x1b[0m` : text);
  const prefixOf = (x: ProjectContainer) => (v.prefix ? paint(x, `${x.name.padEnd(width)}  | `) : '');
  const running = (id: string) => () => {
    try {
      return ['running', 'paused', 'restarting'].includes(engine.containers.get(id).state.Status);
    } catch {
      return false;
    }
  };
  const one = async (x: ProjectContainer, sink: (line: string, time: string, err: boolean) => void) => {
    for await (const e of readLog(engine.containers.logPath(x.id), { tail: v.tail, since: v.since, until: v.until, follow: v.follow ? running(x.id) : undefined })) {
      const text = e.log.endsWith('\n') ? e.log : e.log + '\n';
      sink(`${prefixOf(x)}${v.timestamps ? e.time + ' ' : ''}${text}`, e.time, e.stream === 'stderr');
    }
  };
  if (v.follow) {
    await Promise.all(list.map(async (x) => {
      await one(x, (line, _t, err) => (err ? c.err(line) : c.out(line)));
      if (!v.exits) return;
      try {
        const st = engine.containers.get(x.id).state;
        if (st.Status === 'exited') c.out(`${paint(x, x.name)} exited with code ${st.ExitCode}\n`);
        if (st.Status === 'exited') v.onExit?.(x, st.ExitCode);
      } catch {}
    }));
    return;
  }
  // Not following: every container's lines, in time order.
  const all: Array<{ line: string; time: string; err: boolean }> = [];
  await Promise.all(list.map((x) => one(x, (line, time, err) => all.push({ line, time, err }))));
  all.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  for (const l of all) l.err ? c.err(l.line) : c.out(l.line);
}

export async function logs(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'follow', short: 'f', type: 'bool' }, { name: 'tail', short: 'n', type: 'string' }, { name: 'timestamps', short: 't', type: 'bool' },
    { name: 'no-color', type: 'bool' }, { name: 'no-log-prefix', type: 'bool' }, { name: 'since', type: 'string' }, { name: 'until', type: 'string' },
  ]);
  const p = c.load();
  checkServices(p, positionals);
  const tail = flags.get('tail') as string | undefined;
  if (tail !== undefined && tail !== 'all' && !/^\d+$/.test(tail)) throw invalid(`invalid value for "tail": "${tail}"`);
  const since = flags.get('since') as string | undefined;
  const until = flags.get('until') as string | undefined;
  await streamLogs(c, await observe(c, p, { services: positionals }), {
    follow: flags.get('follow') === true, tail: tail === undefined || tail === 'all' ? undefined : Number(tail),
    since: since === undefined ? undefined : parseTime(since), until: until === undefined ? undefined : parseTime(until),
    timestamps: flags.get('timestamps') === true, color: flags.get('no-color') !== true, prefix: flags.get('no-log-prefix') !== true,
  });
  return 0;
}

/** `up` without -d: the services' output until they all end; Ctrl-C stops them (compose's behaviour). */
export async function attachUntilStopped(c: ComposeCtx, p: Project, services: string[], o: { color: boolean; prefix: boolean; abort?: boolean; exitCodeFrom?: string; since?: number }): Promise<number> {
  const list = await observe(c, p, { services });
  let stopping = false;
  let interrupted = false;
  let code: number | undefined;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    c.err(interrupted ? 'Gracefully stopping... (press Ctrl+C again to force)\n' : 'Aborting on container exit...\n');
    const { act } = await import('../../compose/lifecycle.ts');
    await act(c.engine(), p, 'stop', { services }, c.emit);
  };
  const onSignal = () => {
    if (stopping) process.exit(130);
    interrupted = true;
    void stopAll();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // --abort-on-container-exit: the first container to end stops the others; its code (or
    // that of --exit-code-from's service) is up's.
    await streamLogs(c, list, { follow: true, since: o.since, timestamps: false, color: o.color, prefix: o.prefix, exits: true, onExit: o.abort ? (x, exit) => {
      if (o.exitCodeFrom ? x.service === o.exitCodeFrom : code === undefined) code = exit;
      void stopAll();
    } : undefined });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return interrupted ? 130 : code ?? 0;
}

async function containerOf(c: ComposeCtx, p: Project, service: string, index: number): Promise<ProjectContainer> {
  checkServices(p, [service]);
  const x = (await observe(c, p, { services: [service] })).find((y) => y.number === index);
  if (!x) throw notFound(`service "${service}" is not running`);
  return x;
}

export async function exec(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, COMPOSE_EXEC_FLAGS, { stopAtPositional: true });
  const [service, ...args] = positionals;
  if (!service || !args.length) throw invalid('"compose exec" requires at least 2 arguments: SERVICE COMMAND [ARGS...]');
  const p = c.load();
  const x = await containerOf(c, p, service, Number(flags.get('index') ?? 1));
  const detach = flags.get('detach') === true;
  const tty = !detach && (flags.get('tty') === true || (process.stdin.isTTY === true && flags.get('no-TTY') !== true));
  const exit = await withTerminal(tty, !detach, () => c.engine().containers.exec(x.id, {
    args,
    env: (flags.get('env') as string[] | undefined) ?? [],
    user: flags.get('user') as string | undefined,
    cwd: flags.get('workdir') as string | undefined,
    attach: detach ? undefined : { stdin: true },
    tty: tty ? terminalSize() : undefined,
    privileged: flags.get('privileged') === true,
  }));
  return exit?.exit ?? 0;
}

export async function run(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, COMPOSE_RUN_FLAGS, { stopAtPositional: true });
  const [service, ...cmd] = positionals;
  if (!service) throw invalid('"compose run" requires at least 1 argument: SERVICE [COMMAND] [ARGS...]');
  const p = c.load([service]);
  if (!p.services[service]) throw invalid(`no such service: ${service}`);
  const s = p.services[service];
  const engine = c.engine();
  const [{ up, ensureImage }, { createOptions, extraEndpoints }, labels, res, norm] = await Promise.all([
    import('../../compose/up.ts'), import('../../compose/options.ts'), import('../../compose/labels.ts'), import('../../compose/resources.ts'), import('../../compose/normalize.ts'),
  ]);
  const deps = Object.keys(s.depends_on ?? {}).filter((d) => p.services[d]);
  if (!flags.get('no-deps') && deps.length) await up(engine, p, { services: deps }, c.emit, c.warn);
  const used = res.usedResources(p, [service]);
  await res.ensureNetworks(engine, p, used.networks, c.emit);
  res.ensureVolumes(engine, p, used.volumes, c.emit);
  const imageId = await ensureImage(engine, p, service, { build: flags.get('build') === true, builder: (await import('./compose-build.ts')).builder(c, p) }, c.emit);
  const name = (flags.get('name') as string | undefined) ?? `${p.name}-${service}-run-${randomBytes(6).toString('hex')}`;
  const env = Object.fromEntries(((flags.get('env') as string[] | undefined) ?? []).map((e) => {
    const i = e.indexOf('=');
    return i < 0 ? [e, clientEnv()[e] ?? null] : [e.slice(0, i), e.slice(i + 1)];
  }));
  const entry = flags.get('entrypoint') as string | undefined;
  // One-off containers publish the service's ports only when asked (--service-ports, -p).
  const extraPorts = ((flags.get('publish') as string[] | undefined) ?? []).flatMap((x, i) => norm.parsePort(x, `--publish[${i}]`));
  const svc = {
    ...s,
    environment: { ...(s.environment ?? {}), ...env },
    ports: flags.get('service-ports') ? [...(s.ports ?? []), ...extraPorts] : extraPorts,
    ...(cmd.length ? { command: cmd } : {}),
    ...(entry !== undefined ? { entrypoint: entry === '' ? [] : norm.shellSplit(entry) } : {}),
    ...(flags.get('user') !== undefined ? { user: flags.get('user') } : {}),
    ...(flags.get('workdir') !== undefined ? { working_dir: flags.get('workdir') } : {}),
    container_name: undefined,
    restart: 'no',
  };
  const vols = ((flags.get('volume') as string[] | undefined) ?? []).map((v, i) => norm.parseServiceVolume(v, p.workingDir, `--volume[${i}]`));
  if (vols.length) svc.volumes = [...(s.volumes ?? []).filter((v) => !vols.some((w) => w.target === v.target)), ...vols];
  const detach = flags.get('detach') === true;
  const tty = !detach && (flags.get('tty') === true || (process.stdin.isTTY === true && flags.get('no-TTY') !== true));
  const naming = {
    containerOf: (other: string) => {
      throw invalid(`compose run with network_mode service:${other} is not supported yet`);
    },
    fileOf: (kind: 'secret' | 'config', obj: string, ref: FileReference) => res.fileObject(engine, p, kind, obj, ref),
  };
  const l = { ...labels.containerLabels(p, service, svc, 1, true, imageId), [labels.LABEL.slug]: name, ...labelFlags(flags.get('label') as string[] | undefined) };
  const opts = createOptions(p, service, svc, name, l, naming);
  opts.tty = tty;
  opts.openStdin = !detach;
  opts.run = !detach;
  opts.host!.AutoRemove = flags.get('rm') === true;
  const containers = engine.containers;
  const record = await containers.create(opts);
  const extra = extraEndpoints(p, service, svc);
  if (Object.keys(extra).length) containers.setEndpoints(record, { ...(record.Endpoints ?? {}), ...extra });
  try {
    if (detach) {
      await containers.start(record);
      c.out(record.Name + '\n');
      return 0;
    }
    const exit = await withTerminal(tty, true, () => containers.start(record, { attach: { stdin: true }, size: tty ? terminalSize() : undefined }));
    return exit?.exit ?? 0;
  } catch (err) {
    if (record.HostConfig.AutoRemove) await containers.remove(record.Id, true).catch(() => undefined);
    throw err;
  }
}

export async function top(c: ComposeCtx, argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, []);
  const p = c.load();
  checkServices(p, positionals);
  for (const x of await observe(c, p, { services: positionals })) {
    if (x.state.Status !== 'running') continue;
    const t = c.engine().containers.top(x.id);
    c.out(`${x.name}\n${table(t.Titles, t.Processes)}\n`);
  }
  return 0;
}

export async function port(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'protocol', type: 'string' }, { name: 'index', type: 'string' }]);
  if (positionals.length !== 2) throw invalid('"compose port" requires 2 arguments: SERVICE PRIVATE_PORT');
  const p = c.load();
  const x = await containerOf(c, p, positionals[0], Number(flags.get('index') ?? 1));
  const proto = (flags.get('protocol') as string | undefined) ?? 'tcp';
  const m = c.engine().containers.ports(x.id).find((y) => y.containerPort === Number(positionals[1]) && y.protocol === proto);
  if (!m) throw notFound(`no port ${positionals[1]}/${proto} for container ${x.name}`);
  c.out(`${m.hostIP || '0.0.0.0'}:${m.hostPort}\n`);
  return 0;
}

export async function images(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'quiet', short: 'q', type: 'bool' }, { name: 'format', type: 'string' }]);
  const p = c.load();
  checkServices(p, positionals);
  const engine = c.engine();
  const rows = (await observe(c, p, { services: positionals })).map((x) => {
    const img = engine.images.get(x.record.Image);
    const ref = x.record.ImageName;
    const colon = ref.lastIndexOf(':');
    const [repo, tag] = colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
    return { ContainerName: x.name, Repository: repo, Tag: tag, ID: x.record.Image.replace(/^sha256:/, '').slice(0, 12), Size: img ? humanSize((img as { size?: number }).size ?? 0) : '' };
  });
  if (flags.get('quiet')) c.out([...new Set(rows.map((r) => r.ID))].map((r) => r + '\n').join(''));
  else if (flags.get('format') === 'json') c.out(JSON.stringify(rows) + '\n');
  else c.out(table(['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], rows.map((r) => [r.ContainerName, r.Repository, r.Tag, r.ID, r.Size])));
  return 0;
}

export async function ls(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, [{ name: 'all', short: 'a', type: 'bool' }, { name: 'quiet', short: 'q', type: 'bool' }, { name: 'format', type: 'string' }]);
  const { projects } = await import('../../compose/observe.ts');
  const rows: Array<{ Name: string; Status: string; ConfigFiles: string }> = [];
  for (const [name, e] of [...projects(c.engine())].sort(([a], [b]) => a.localeCompare(b))) {
    const counts = new Map<string, number>();
    for (const s of e.states) counts.set(s, (counts.get(s) ?? 0) + 1);
    if (!flags.get('all') && !counts.has('running')) continue;
    rows.push({ Name: name, Status: [...counts].map(([s, n]) => `${s}(${n})`).join(', '), ConfigFiles: e.files });
  }
  if (flags.get('quiet')) c.out(rows.map((r) => r.Name + '\n').join(''));
  else if (flags.get('format') === 'json') c.out(JSON.stringify(rows) + '\n');
  else c.out(table(['NAME', 'STATUS', 'CONFIG FILES'], rows.map((r) => [r.Name, r.Status, r.ConfigFiles])));
  return 0;
}

export async function cp(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'index', type: 'string' }]);
  if (positionals.length !== 2) throw invalid('"compose cp" requires 2 arguments: SERVICE:SRC_PATH DEST_PATH or SRC_PATH SERVICE:DEST_PATH');
  const [a, b] = positionals;
  const split = (s: string) => {
    const i = s.indexOf(':');
    return i > 0 && !s.startsWith('/') && !s.startsWith('.') ? { service: s.slice(0, i), path: s.slice(i + 1) } : undefined;
  };
  const src = split(a);
  const dst = split(b);
  if (!!src === !!dst) throw invalid('compose cp: exactly one of the paths must be SERVICE:PATH');
  const p = c.load();
  const x = await containerOf(c, p, (src ?? dst)!.service, Number(flags.get('index') ?? 1));
  if (src) await c.engine().containers.copy(x.id, { out: src.path, to: b });
  else await c.engine().containers.copy(x.id, { in: a, to: dst!.path });
  return 0;
}

export async function pull(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'quiet', short: 'q', type: 'bool' }, { name: 'ignore-pull-failures', type: 'bool' }, { name: 'ignore-buildable', type: 'bool' }]);
  const p = c.load(positionals);
  checkServices(p, positionals);
  let failed = false;
  for (const [name, s] of Object.entries(p.services)) {
    if (positionals.length && !positionals.includes(name)) continue;
    if (!s.image || (s.build && flags.get('ignore-buildable'))) continue;
    c.emit({ kind: 'Image', name: s.image, status: 'Pulling' });
    try {
      await c.engine().pull(s.image, { platform: s.platform as string | undefined });
      c.emit({ kind: 'Image', name: s.image, status: 'Pulled', done: true });
    } catch (err) {
      // A service that can be built is not failed by its image missing from the registry (compose's rule).
      c.emit({ kind: 'Image', name: s.image, status: (err as Error).message, error: !s.build });
      if (!flags.get('ignore-pull-failures') && !s.build) failed = true;
    }
  }
  return failed ? 1 : 0;
}

export async function push(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'ignore-push-failures', type: 'bool' }, { name: 'quiet', short: 'q', type: 'bool' }]);
  const p = c.load(positionals);
  checkServices(p, positionals);
  let failed = false;
  // compose pushes the images a service names (built ones are tagged with that name).
  for (const [name, s] of Object.entries(p.services)) {
    if ((positionals.length && !positionals.includes(name)) || !s.image) continue;
    c.emit({ kind: 'Image', name: s.image, status: 'Pushing' });
    try {
      await c.engine().push(s.image);
      c.emit({ kind: 'Image', name: s.image, status: 'Pushed', done: true });
    } catch (err) {
      c.emit({ kind: 'Image', name: s.image, status: (err as Error).message, error: true });
      if (!flags.get('ignore-push-failures')) failed = true;
    }
  }
  return failed ? 1 : 0;
}

export async function events(c: ComposeCtx, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, [{ name: 'json', type: 'bool' }]);
  const p = c.load();
  const { LABEL } = await import('../../compose/labels.ts');
  // The root's journal, followed, keeping this project's container events, until interrupted.
  await new Promise<void>((resolve) => {
    const stop = c.engine().events.subscribe((e) => {
      const attrs = e.Actor.Attributes;
      if (attrs[LABEL.project] !== p.name) return;
      const when = new Date(e.timeNano / 1e6).toISOString();
      if (flags.get('json')) c.out(JSON.stringify({ time: when, type: e.Type, action: e.Action, id: e.Actor.ID, service: attrs[LABEL.service], attributes: attrs }) + '\n');
      else c.out(`${when} ${e.Type} ${e.Action} ${e.Actor.ID} (name=${attrs.name ?? ''}, service=${attrs[LABEL.service] ?? ''})\n`);
    });
    const end = () => (stop(), resolve());
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
  });
  return 0;
}

export async function wait(c: ComposeCtx, argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, []);
  const p = c.load();
  checkServices(p, positionals);
  const list = await observe(c, p, { services: positionals });
  const codes = await Promise.all(list.map((x) => c.engine().containers.wait(x.id)));
  return codes[0] ?? 0;
}
