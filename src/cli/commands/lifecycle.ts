// Container lifecycle verbs: create, start, stop, restart, kill, wait, logs, inspect, rename.
import { invalid } from '../../core/errors.ts';
import { parseTime, readLog } from '../../engine/logs.ts';
import { parseArgs } from '../args.ts';
import type { Context } from '../context.ts';
import { formatInspect, formatList } from '../template.ts';
import { terminalSize, withTerminal } from '../terminal.ts';
import { CREATE_FLAGS, EXEC_FLAGS, START_FLAGS } from '../flags.ts';
import { createOptions } from './run.ts';

function need(args: string[], n: number, usage: string): void {
  if (args.length < n) throw invalid(`"berth ${usage.split(' ')[0]}" requires at least ${n} argument${n > 1 ? 's' : ''}.\nUsage:  berth ${usage}`);
}

/** Runs fn for each container named, docker-style: report each failure, status 1 if any. */
async function each(ctx: Context, names: string[], fn: (name: string) => Promise<string | void> | string | void): Promise<number> {
  let failed = false;
  for (const n of names) {
    try {
      const out = await fn(n);
      ctx.out(`${out ?? n}\n`);
    } catch (err) {
      failed = true;
      ctx.err(`Error response from daemon: ${(err as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

export async function create(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, CREATE_FLAGS, { stopAtPositional: true });
  if (flags.get('detach')) throw invalid('unknown shorthand flag: \'d\' in -d');
  const containers = ctx.engine().containers;
  containers.sweepCreates();
  containers.sweepOrphans();
  const record = await containers.create(createOptions(flags, positionals, 'create'));
  ctx.out(record.Id + '\n');
  return 0;
}

export async function start(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, START_FLAGS);
  need(positionals, 1, 'start [OPTIONS] CONTAINER [CONTAINER...]');
  const containers = ctx.engine().containers;
  if (flags.get('attach')) {
    if (positionals.length > 1) throw invalid('you cannot start and attach multiple containers at once');
    const c = containers.get(positionals[0]);
    const stdin = flags.get('interactive') === true;
    const exit = await withTerminal(c.record.Config.Tty === true, stdin, () => containers.start(c.record, { attach: { stdin }, size: c.record.Config.Tty ? terminalSize() : undefined }));
    return exit?.exit ?? 0;
  }
  return each(ctx, positionals, async (n) => {
    await containers.start(containers.get(n).record);
  });
}

function timeoutFlag(flags: Map<string, unknown>): number | undefined {
  const t = flags.get('time') as string | undefined;
  if (t === undefined) return undefined;
  if (!/^-?\d+$/.test(t)) throw invalid(`invalid argument "${t}" for "-t, --time" flag`);
  return Number(t) < 0 ? Infinity : Number(t);
}

export async function stop(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'time', short: 't', type: 'string' }, { name: 'signal', short: 's', type: 'string' }]);
  need(positionals, 1, 'stop [OPTIONS] CONTAINER [CONTAINER...]');
  const containers = ctx.engine().containers;
  const t = timeoutFlag(flags);
  return each(ctx, positionals, async (n) => {
    await containers.stop(n, t);
  });
}

export async function restart(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'time', short: 't', type: 'string' }]);
  need(positionals, 1, 'restart [OPTIONS] CONTAINER [CONTAINER...]');
  const containers = ctx.engine().containers;
  const t = timeoutFlag(flags);
  return each(ctx, positionals, async (n) => {
    await containers.stop(n, t);
    await containers.start(containers.get(n).record);
  });
}

export async function kill(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'signal', short: 's', type: 'string' }]);
  need(positionals, 1, 'kill [OPTIONS] CONTAINER [CONTAINER...]');
  const containers = ctx.engine().containers;
  return each(ctx, positionals, (n) => {
    containers.kill(n, (flags.get('signal') as string | undefined) ?? 'KILL');
  });
}

export async function wait(ctx: Context, argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, []);
  need(positionals, 1, 'wait CONTAINER [CONTAINER...]');
  const containers = ctx.engine().containers;
  return each(ctx, positionals, async (n) => String(await containers.wait(n)));
}

export async function pause(ctx: Context, argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, []);
  need(positionals, 1, 'pause CONTAINER [CONTAINER...]');
  const containers = ctx.engine().containers;
  return each(ctx, positionals, async (n) => {
    await containers.pause(n);
  });
}

export async function unpause(ctx: Context, argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, []);
  need(positionals, 1, 'unpause CONTAINER [CONTAINER...]');
  const containers = ctx.engine().containers;
  return each(ctx, positionals, async (n) => {
    await containers.unpause(n);
  });
}

export async function rename(ctx: Context, argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, []);
  if (positionals.length !== 2) throw invalid('"berth rename" requires exactly 2 arguments.\nUsage:  berth rename CONTAINER NEW_NAME');
  ctx.engine().containers.rename(positionals[0], positionals[1]);
  return 0;
}

export async function inspect(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'format', short: 'f', type: 'string' }, { name: 'type', type: 'string' }]);
  need(positionals, 1, 'inspect [OPTIONS] NAME|ID [NAME|ID...]');
  const engine = ctx.engine();
  const out: object[] = [];
  let failed = false;
  for (const n of positionals) {
    try {
      if (flags.get('type') === 'image') throw new Error('image');
      out.push(await engine.containers.inspect(n));
    } catch (err) {
      // docker inspect falls back to images when no container has that name.
      try {
        if (flags.get('type') === 'container') throw err;
        const { inspectImage } = await import('./images.ts');
        const rec = engine.images.resolve(n);
        out.push(inspectImage(rec, engine.images.list().find((s) => s.record.id === rec.id)?.names ?? []));
      } catch {
        failed = true;
        ctx.err(`Error: No such object: ${n}\n`);
      }
    }
  }
  const shown = formatInspect(flags.get('format') as string | undefined, out);
  ctx.out(shown.out);
  for (const e of shown.errors) ctx.err(`${e}\n`);
  return failed || shown.errors.length ? 1 : 0;
}

export async function logs(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'follow', short: 'f', type: 'bool' },
    { name: 'tail', short: 'n', type: 'string' },
    { name: 'since', type: 'string' },
    { name: 'until', type: 'string' },
    { name: 'timestamps', short: 't', type: 'bool' },
    { name: 'details', type: 'bool' },
  ]);
  if (positionals.length !== 1) throw invalid('"berth logs" requires exactly 1 argument.\nUsage:  berth logs [OPTIONS] CONTAINER');
  const containers = ctx.engine().containers;
  const c = containers.get(positionals[0]);
  const tailFlag = flags.get('tail') as string | undefined;
  if (tailFlag !== undefined && tailFlag !== 'all' && !/^\d+$/.test(tailFlag)) throw invalid(`invalid value for "tail": "${tailFlag}"`);
  const since = flags.get('since') as string | undefined;
  const until = flags.get('until') as string | undefined;
  const timestamps = flags.get('timestamps') === true;
  const follow = flags.get('follow') === true;
  const running = () => {
    const s = containers.get(c.record.Id).state.Status;
    return s === 'running' || s === 'paused';
  };
  for await (const e of readLog(containers.logPath(c.record.Id), {
    tail: tailFlag === undefined || tailFlag === 'all' ? undefined : Number(tailFlag),
    since: since === undefined ? undefined : parseTime(since),
    until: until === undefined ? undefined : parseTime(until),
    follow: follow ? running : undefined,
  })) {
    const line = timestamps ? `${e.time} ${e.log}` : e.log;
    if (e.stream === 'stderr') ctx.err(line);
    else ctx.out(line);
  }
  return 0;
}

export async function exec(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, EXEC_FLAGS, { stopAtPositional: true });
  need(positionals, 2, 'exec [OPTIONS] CONTAINER COMMAND [ARG...]');
  const [name, ...args] = positionals;
  const detach = flags.get('detach') === true;
  const stdin = !detach && flags.get('interactive') === true;
  const tty = flags.get('tty') === true;
  const exit = await withTerminal(tty, stdin, () => ctx.engine().containers.exec(name, {
    args,
    env: (flags.get('env') as string[] | undefined) ?? [],
    user: flags.get('user') as string | undefined,
    cwd: flags.get('workdir') as string | undefined,
    attach: detach ? undefined : { stdin },
    tty: tty ? terminalSize() : undefined,
    privileged: flags.get('privileged') === true,
  }));
  return exit?.exit ?? 0;
}

export async function top(ctx: Context, argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, [], { stopAtPositional: true });
  need(positionals, 1, 'top CONTAINER [ps OPTIONS]');
  const t = ctx.engine().containers.top(positionals[0]);
  const { table } = await import('../format.ts');
  // docker top's own tabwriter: columns at least 20 wide.
  ctx.out(table(t.Titles, t.Processes, { minWidth: 20, padding: 3 }));
  return 0;
}

export async function stats(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'no-stream', type: 'bool' }, { name: 'all', short: 'a', type: 'bool' },
    { name: 'format', type: 'string' }, { name: 'no-trunc', type: 'bool' },
  ]);
  const containers = ctx.engine().containers;
  const { binarySize, humanSize } = await import('../format.ts');
  const names = () => (positionals.length ? positionals : containers.list(flags.get('all') === true).map((c) => c.record.Id));
  const sample = async () => {
    const before = names().map((n) => containers.stats(n));
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 500));
    const secs = (performance.now() - t0) / 1000;
    return before.map((b) => {
      const a = containers.stats(b.id);
      const cpu = a.running ? ((a.cpuNanos - b.cpuNanos) / 1e9 / secs) * 100 : 0;
      return {
        ID: flags.get('no-trunc') ? a.id : a.id.slice(0, 12), Container: a.id.slice(0, 12), Name: a.name,
        CPUPerc: `${cpu.toFixed(2)}%`,
        MemUsage: `${binarySize(a.memoryUsage)} / ${binarySize(a.memoryLimit)}`,
        MemPerc: `${a.memoryLimit ? ((a.memoryUsage / a.memoryLimit) * 100).toFixed(2) : '0.00'}%`,
        NetIO: '0B / 0B', BlockIO: blockIo(a.blkio?.serviceBytes ?? []), PIDs: String(a.pids),
      };
    });
  };
  // docker sums reads and writes over every device (v1 "Read"/"Write", v2 "read"/"write").
  const blockIo = (entries: Array<{ op: string; value: number }>) => {
    const sum = (op: string) => entries.filter((e) => e.op.toLowerCase() === op).reduce((n, e) => n + e.value, 0);
    return `${humanSize(sum('read'))} / ${humanSize(sum('write'))}`;
  };
  const { STATS_LIST, statsContext } = await import('../contexts.ts');
  const render = (rows: Awaited<ReturnType<typeof sample>>) => formatList(flags.get('format') as string | undefined, rows.map(statsContext), STATS_LIST);
  if (flags.get('no-stream')) {
    ctx.out(render(await sample()));
    return 0;
  }
  for (;;) {
    const text = render(await sample());
    ctx.out(process.stdout.isTTY ? `\x1b[2J\x1b[H${text}` : text);
  }
}

export async function attach(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [{ name: 'no-stdin', type: 'bool' }, { name: 'sig-proxy', type: 'bool' }, { name: 'detach-keys', type: 'string' }]);
  if (positionals.length !== 1) throw invalid('"berth attach" requires exactly 1 argument.\nUsage:  berth attach [OPTIONS] CONTAINER');
  const containers = ctx.engine().containers;
  // docker's sig-proxy: signals we get go to the container (on by default).
  const proxy = flags.get('sig-proxy') !== false;
  const forward = (sig: NodeJS.Signals) => {
    try {
      containers.kill(positionals[0], sig);
    } catch {}
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  if (proxy) for (const s of signals) process.on(s, forward);
  try {
    return await containers.attach(positionals[0], (stream, data) => (stream === 'stderr' ? process.stderr : process.stdout).write(data));
  } finally {
    if (proxy) for (const s of signals) process.off(s, forward);
  }
}
