// The daemon's memory for the load benchmark: its resident size and open fds sampled for the
// peak, and a settled reading after a full garbage collection, asked of the daemon's own V8
// through the inspector (started late by SIGUSR1 on a port the kernel picks, so the daemon runs
// as usual until then). Without that collection an "after" reading only shows how far V8 had
// got: a heap that would shrink looks like one that grew.
import * as fs from 'node:fs';

/** The daemon's environment for this: the inspector's port, should SIGUSR1 start it (0: any free one). */
export const INSPECT_ENV = { NODE_OPTIONS: '--inspect-port=0' };

export interface Reading {
  rss: number; // MB
  heap: number; // MB of the JS heap in use
  fds: number;
}

/** Resident memory (MB) and open fds of a process, sampled every 100 ms for the peak. */
export class Watch {
  peakRss = 0;
  peakFds = 0;
  private timer?: NodeJS.Timeout;
  readonly pid: number;
  constructor(pid: number) {
    this.pid = pid;
  }
  rss(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  }
  fds(): number {
    return fs.readdirSync(`/proc/${this.pid}/fd`).length;
  }
  /** Starts a new peak. */
  start(): void {
    this.stop();
    this.peakRss = this.rss();
    this.peakFds = this.fds();
    this.timer = setInterval(() => {
      try {
        this.peakRss = Math.max(this.peakRss, this.rss());
        this.peakFds = Math.max(this.peakFds, this.fds());
      } catch {} // gone: the run reports it
    }, 100);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** A session on the daemon's inspector: full collections and heap sizes. */
export class Inspector {
  private next = 1;
  private readonly waiting = new Map<number, (r: { result?: Record<string, unknown>; error?: { message: string } }) => void>();
  private readonly ws: WebSocket;
  private chunks?: string[];
  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as { id?: number; method?: string; params?: { chunk: string }; result?: Record<string, unknown>; error?: { message: string } };
      if (m.method === 'HeapProfiler.addHeapSnapshotChunk') this.chunks?.push(m.params!.chunk);
      if (m.id !== undefined) this.waiting.get(m.id)?.(m), this.waiting.delete(m.id);
    };
  }

  /** Starts the inspector of `pid` (which has INSPECT_ENV) and connects; `log` is its stderr so far. */
  static async open(pid: number, log: () => string): Promise<Inspector> {
    process.kill(pid, 'SIGUSR1');
    const end = Date.now() + 10_000;
    let url: string | undefined;
    while (!(url = /Debugger listening on (ws:\/\/\S+)/.exec(log())?.[1])) {
      if (Date.now() > end) throw new Error(`the daemon's inspector did not start: ${log().slice(-500)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`cannot connect to the daemon's inspector at ${url}`));
    });
    return new Inspector(ws);
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result ?? {})));
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** After two full collections (the second frees what the first's finalizers let go). */
  async settled(watch: Watch): Promise<Reading> {
    await this.call('HeapProfiler.collectGarbage');
    await new Promise((r) => setTimeout(r, 200));
    await this.call('HeapProfiler.collectGarbage');
    const usage = await this.call('Runtime.getHeapUsage');
    return { rss: watch.rss(), heap: Number(usage.usedSize) / 2 ** 20, fds: watch.fds() };
  }

  /** A heap snapshot (for Chrome's memory tool) written to `file`, to find what a growing heap holds. */
  async snapshot(file: string): Promise<void> {
    this.chunks = [];
    await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    fs.writeFileSync(file, this.chunks.join(''));
    this.chunks = undefined;
  }

  close(): void {
    this.ws.close();
  }
}
