// docker events: the engine's journal (every berth process on the root writes it), replayed from
// --since and followed until --until or until interrupted, filtered, one line per event.
import { invalid } from '../../core/errors.ts';
import { eventMatches, type EngineEvent } from '../../engine/events.ts';
import { parseTime } from '../../engine/logs.ts';
import { parseArgs } from '../args.ts';
import type { Context } from '../context.ts';
import { compile, goStruct, run, TemplateError, type Template } from '../template.ts';

const USAGE = `Usage:  berth events [OPTIONS]

Get real time events from the engine

Options:
  -f, --filter filter   Filter output based on conditions provided (type, event, container, image, label)
      --format string   Format output using a Go template, or json
      --since string    Show all events created since timestamp
      --until string    Stream events until this timestamp
`;

const KEYS = ['type', 'event', 'container', 'image', 'label'];

/** docker's plain line: time, type, action, id, then the attributes sorted by name. */
export function eventLine(e: EngineEvent): string {
  const ms = Math.floor(e.timeNano / 1e6);
  const when = `${new Date(ms).toISOString().slice(0, 19)}.${String((ms % 1000) * 1e6).padStart(9, '0')}Z`;
  const attrs = Object.keys(e.Actor.Attributes).sort().map((k) => `${k}=${e.Actor.Attributes[k]}`).join(', ');
  return `${when} ${e.Type} ${e.Action} ${e.Actor.ID}${attrs ? ` (${attrs})` : ''}`;
}

/** The API's message shape (docker's events.Message, fields in its order), which templates address. */
function eventMessage(e: EngineEvent): object {
  return goStruct('*events.Message', {
    status: e.Action, id: e.Actor.ID, from: e.Actor.Attributes.image, Type: e.Type, Action: e.Action,
    Actor: goStruct('events.Actor', { ID: e.Actor.ID, Attributes: e.Actor.Attributes }), scope: e.scope, time: e.time, timeNano: e.timeNano,
  });
}

/** docker checks the format up front, on an empty message, and exits 64 when it fails. */
function eventTemplate(format: string): Template {
  try {
    const t = compile(format === 'json' ? '{{json .}}' : format);
    run(t, eventMessage({ Type: '' as EngineEvent['Type'], Action: '', Actor: { ID: '', Attributes: {} }, scope: 'local', time: 0, timeNano: 0 }));
    return t;
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(`Error parsing format: ${err.message}`, err.phase, 64);
    throw err;
  }
}

export async function events(ctx: Context, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, [
    { name: 'filter', short: 'f', type: 'list' },
    { name: 'format', type: 'string' },
    { name: 'since', type: 'string' },
    { name: 'until', type: 'string' },
    { name: 'help', type: 'bool' },
  ]);
  if (flags.get('help')) {
    ctx.out(USAGE);
    return 0;
  }
  const filters = new Map<string, string[]>();
  for (const f of (flags.get('filter') as string[] | undefined) ?? []) {
    const eq = f.indexOf('=');
    const key = f.slice(0, eq).toLowerCase();
    if (eq <= 0 || !KEYS.includes(key)) throw invalid(`invalid filter '${eq <= 0 ? f : key}'`);
    filters.set(key, [...(filters.get(key) ?? []), f.slice(eq + 1)]);
  }
  const since = flags.get('since') as string | undefined;
  const until = flags.get('until') as string | undefined;
  const sinceMs = since ? parseTime(since) : undefined;
  const untilMs = until ? parseTime(until) : undefined;
  const format = flags.get('format') as string | undefined;
  const tmpl = format ? eventTemplate(format) : undefined;
  const engine = ctx.engine();
  const show = (e: EngineEvent) => {
    if (!eventMatches(e, filters) || (untilMs !== undefined && e.timeNano / 1e6 > untilMs)) return;
    ctx.out((tmpl ? run(tmpl, eventMessage(e)) : eventLine(e)) + '\n');
  };
  return new Promise((resolve) => {
    const unsubscribe = engine.events.subscribe(show, sinceMs);
    // A container that exits under its monitor with nobody looking becomes a `die` event when
    // someone looks: while we follow, look every second (as the daemon's /events does).
    const look = setInterval(() => engine.containers.list(false), 1000);
    const stop = () => {
      unsubscribe();
      clearInterval(look);
      resolve(0);
    };
    if (untilMs !== undefined) setTimeout(stop, Math.max(0, untilMs - Date.now() + 100));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
