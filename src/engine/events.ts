// Structured events from the engine, in docker's shape. Every process working on a state root
// (each CLI command, the daemon) appends them to one journal, `<root>/events.log`, one JSON line
// per event written with a single O_APPEND write, so concurrent writers never interleave; the
// daemon's /events follows the journal, so it sees what the CLI did too, and `since` replays.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface EngineEvent {
  Type: 'container' | 'image' | 'volume' | 'network';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

/** The journal is rotated at this size (one older file is kept, for `since`). */
const MAX_JOURNAL = 8 << 20;

export class Events {
  readonly file: string;
  private fd = -1;

  constructor(rootDir: string) {
    this.file = path.join(rootDir, 'events.log');
  }

  private readonly warned = new Set<string>();
  private readonly warningListeners: Array<(message: string) => void> = [];

  /**
   * Something the user should know that fails nothing (lxcfs missing: containers start without
   * resource views). Not journaled: whoever runs the engine (the CLI, the daemon) renders it,
   * each text once per process.
   */
  warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    for (const l of this.warningListeners) l(message);
  }

  onWarning(listener: (message: string) => void): void {
    this.warningListeners.push(listener);
  }

  emit(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    const now = Date.now();
    const e: EngineEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', time: Math.floor(now / 1000), timeNano: now * 1e6 };
    try {
      if (this.fd < 0) this.fd = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600);
      fs.writeSync(this.fd, JSON.stringify(e) + '\n');
      if (fs.fstatSync(this.fd).size > MAX_JOURNAL) this.rotate();
    } catch {
      // Events are for watchers; an operation never fails because one could not be written.
    }
  }

  private rotate(): void {
    try {
      fs.renameSync(this.file, `${this.file}.1`);
    } catch {}
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  /**
   * Follows the journal: events from `sinceMs` on (replayed from the journal), else only new
   * ones. Returns the function that stops following.
   */
  subscribe(fn: (e: EngineEvent) => void, sinceMs?: number): () => void {
    let stopped = false;
    let ino = -1;
    let offset = 0;
    let pending = '';
    const deliver = (text: string) => {
      const all = pending + text;
      const cut = all.lastIndexOf('\n') + 1;
      pending = all.slice(cut);
      for (const line of all.slice(0, cut).split('\n')) {
        if (!line) continue;
        try {
          const e = JSON.parse(line) as EngineEvent;
          if (sinceMs === undefined || e.timeNano / 1e6 >= sinceMs) fn(e);
        } catch {}
      }
    };
    const readFrom = (file: string, from: number): number => {
      let fd: number;
      try {
        fd = fs.openSync(file, 'r');
      } catch {
        return from;
      }
      try {
        const size = fs.fstatSync(fd).size;
        if (size <= from) return size < from ? 0 : from;
        const buf = Buffer.alloc(size - from);
        fs.readSync(fd, buf, 0, buf.length, from);
        deliver(buf.toString('utf8'));
        return size;
      } finally {
        fs.closeSync(fd);
      }
    };
    const poll = () => {
      if (stopped) return;
      const st = fs.statSync(this.file, { throwIfNoEntry: false });
      if (!st) return;
      if (st.ino !== ino) {
        // Rotated (or first look): finish the old file, then start the new one from its top.
        if (ino !== -1) readFrom(`${this.file}.1`, offset);
        ino = st.ino;
        offset = 0;
        pending = '';
      }
      offset = readFrom(this.file, offset);
    };
    if (sinceMs !== undefined) {
      readFrom(`${this.file}.1`, 0);
      pending = '';
    }
    const st = fs.statSync(this.file, { throwIfNoEntry: false });
    if (st) {
      ino = st.ino;
      offset = sinceMs !== undefined ? readFrom(this.file, 0) : st.size;
    }
    const timer = setInterval(poll, 50);
    let watcher: fs.FSWatcher | undefined;
    try {
      watcher = fs.watch(path.dirname(this.file), (_ev, name) => name === path.basename(this.file) && poll());
      watcher.on('error', () => {});
    } catch {}
    return () => {
      stopped = true;
      clearInterval(timer);
      watcher?.close();
    };
  }
}

/** docker's event filters (type, event, container, image, label): values of a key ORed, keys ANDed. */
export function eventMatches(e: EngineEvent, f: Map<string, string[]>): boolean {
  for (const [k, values] of f) {
    if (!values.length) continue;
    const ok = values.some((v) => {
      switch (k) {
        case 'type': return e.Type === v;
        case 'event': return e.Action === v || e.Action.startsWith(v + ':');
        case 'container': return e.Type === 'container' && (e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v);
        case 'image': {
          // dockerd's rule: the actor or its image name (an image event's `name`, a container
          // event's `image`), each also without its tag.
          const name = e.Actor.Attributes[e.Type === 'image' ? 'name' : 'image'] ?? '';
          const untagged = (s: string) => (s.startsWith('sha256:') ? s : s.replace(/:[^:/@]+$/, ''));
          return [e.Actor.ID, name, untagged(e.Actor.ID), untagged(name)].includes(v);
        }
        case 'label': {
          const eq = v.indexOf('=');
          return eq < 0 ? v in e.Actor.Attributes : e.Actor.Attributes[v.slice(0, eq)] === v.slice(eq + 1);
        }
        default: return true;
      }
    });
    if (!ok) return false;
  }
  return true;
}
