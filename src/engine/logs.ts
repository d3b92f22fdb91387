// Reading a container's log: json-file (one JSON object per line) or the CRI's format
// (`TIME STREAM F|P CONTENT` per line), as the monitor writes them.
import * as fs from 'node:fs';
import { invalid } from '../core/errors.ts';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  time: string; // RFC3339Nano
  log: string;
}

export interface LogOptions {
  tail?: number; // last N entries; undefined = all
  since?: number; // ms since the epoch
  until?: number;
  follow?: () => boolean; // while true, wait for more after reaching the end
}

/** docker's --since/--until: RFC3339 time, unix seconds, or a duration back from now ("10m"). */
export function parseTime(input: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(input)) return Number(input) * 1000;
  const dur = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(input);
  if (dur && input) return now - ((Number(dur[1] ?? 0) * 60 + Number(dur[2] ?? 0)) * 60 + Number(dur[3] ?? 0)) * 1000;
  const t = Date.parse(input);
  if (Number.isNaN(t)) throw invalid(`invalid time format: "${input}"`);
  return t;
}

const CRI_LINE = /^(\d{4}-\d\d-\d\dT[^ ]+) (stdout|stderr) ([FP]) (.*)$/s;

/**
 * One line of a CRI log as docker's entry: a full line (F) gets its newline back, a piece of one
 * (P) none, so that the pieces read back together. Undefined for a line that is not one.
 */
export function parseCriLine(line: string): LogEntry | undefined {
  const m = CRI_LINE.exec(line);
  return m ? { time: m[1], stream: m[2] as LogEntry['stream'], log: m[3] === 'F' ? m[4] + '\n' : m[4] } : undefined;
}

function parseLines(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    if (line[0] !== '{') {
      const e = parseCriLine(line);
      if (e) out.push(e);
      continue;
    }
    try {
      out.push(JSON.parse(line) as LogEntry);
    } catch {
      // A torn last line (a crash mid-write) is skipped rather than failing the whole read.
    }
  }
  return out;
}

function wanted(e: LogEntry, o: LogOptions): boolean {
  const t = Date.parse(e.time);
  return (o.since === undefined || t >= o.since) && (o.until === undefined || t <= o.until);
}

/** The rotated files, oldest first (PATH.N ... PATH.1), before the live one. */
function rotated(path: string): string[] {
  const out: string[] = [];
  for (let i = 1; fs.existsSync(`${path}.${i}`); i++) out.unshift(`${path}.${i}`);
  return out;
}

export async function* readLog(path: string, o: LogOptions): AsyncGenerator<LogEntry> {
  const old = rotated(path).flatMap((p) => parseLines(fs.readFileSync(p, 'utf8')));
  let offset = 0;
  let pending = '';
  let ino: number | undefined;
  const readMore = (): LogEntry[] => {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch {
      return [];
    }
    try {
      const st = fs.fstatSync(fd);
      // A new file at the path (the kubelet rotated a CRI log, or json-file rotated): read it from its start.
      if (ino !== undefined && st.ino !== ino) {
        offset = 0;
        pending = '';
      }
      ino = st.ino;
      const size = st.size;
      if (size <= offset) return [];
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      offset = size;
      const text = pending + buf.toString('utf8');
      const cut = text.lastIndexOf('\n') + 1;
      pending = text.slice(cut);
      return parseLines(text.slice(0, cut));
    } finally {
      fs.closeSync(fd);
    }
  };
  let first = [...old, ...readMore()].filter((e) => wanted(e, o));
  if (o.tail !== undefined) first = o.tail === 0 ? [] : first.slice(-o.tail);
  yield* first;
  if (!o.follow) return;
  for (;;) {
    const alive = o.follow();
    for (const e of readMore()) if (wanted(e, o)) yield e;
    if (!alive) return; // one last read after the container stopped, then done
    await new Promise((r) => setTimeout(r, 50));
  }
}
