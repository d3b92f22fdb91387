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

/**
 * The live log file, read through one descriptor held from the first read to the end: what the
 * monitor wrote stays readable when the file goes meanwhile (an --rm container removed, or any
 * container removed by a client that has its exit, as docker-py's `containers.run(remove=True)`
 * does before it reads the follow stream it opened), and a rotation is noticed by the path
 * naming another file, after the old one is read to its end.
 */
class LiveLog {
  private fd: number | undefined;
  private offset = 0;
  private pending = Buffer.alloc(0); // a line not yet complete (bytes: it may end inside a character)
  private readonly path: string;
  constructor(path: string) {
    this.path = path;
  }

  read(): LogEntry[] {
    if (this.fd === undefined) {
      try {
        this.fd = fs.openSync(this.path, 'r');
      } catch {
        return []; // not written yet (or gone before we came)
      }
    }
    const out = this.drain(this.fd);
    const now = fs.statSync(this.path, { throwIfNoEntry: false });
    const mine = fs.fstatSync(this.fd);
    if (now && (now.ino !== mine.ino || now.dev !== mine.dev)) {
      // Rotated: the old file (now PATH.1) is read to its end (what the monitor wrote to it
      // before it moved on), then the new one from its start.
      out.push(...this.drain(this.fd));
      this.close();
      this.offset = 0;
      this.pending = Buffer.alloc(0);
      out.push(...this.read());
    }
    return out;
  }

  private drain(fd: number): LogEntry[] {
    const size = fs.fstatSync(fd).size;
    // Truncated in place (rotation with max-file 1 starts the same file over).
    if (size < this.offset) (this.offset = 0), (this.pending = Buffer.alloc(0));
    if (size === this.offset) return [];
    const buf = Buffer.alloc(size - this.offset);
    const got = fs.readSync(fd, buf, 0, buf.length, this.offset);
    this.offset += got;
    const bytes = Buffer.concat([this.pending, buf.subarray(0, got)]);
    const cut = bytes.lastIndexOf(0x0a) + 1;
    this.pending = bytes.subarray(cut);
    return parseLines(bytes.subarray(0, cut).toString('utf8'));
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

export async function* readLog(path: string, o: LogOptions): AsyncGenerator<LogEntry> {
  const old = rotated(path).flatMap((p) => parseLines(fs.readFileSync(p, 'utf8')));
  const live = new LiveLog(path);
  try {
    let first = [...old, ...live.read()].filter((e) => wanted(e, o));
    if (o.tail !== undefined) first = o.tail === 0 ? [] : first.slice(-o.tail);
    yield* first;
    if (!o.follow) return;
    for (;;) {
      const alive = o.follow();
      for (const e of live.read()) if (wanted(e, o)) yield e;
      if (!alive) return; // one last read after the container stopped, then done
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    live.close();
  }
}
