// A SPDY/3.1 client for tests, written apart from the server's code (its own frame reading and
// writing) so that a shared mistake cannot pass: it upgrades an HTTP request, opens streams the
// way client-go's remotecommand and portforward do, and collects what each stream receives.
// Only the zlib dictionary (the spec's constant, pinned by a unit test) is shared.
import * as http from 'node:http';
import type { Socket } from 'node:net';
import * as zlib from 'node:zlib';
import { DICTIONARY } from '../../src/cri/streaming/spdy-frames.ts';

export class TestStream {
  readonly id: number;
  readonly chunks: Buffer[] = [];
  /** SYN_REPLY seen; FIN seen; RST seen. */
  replied = false;
  finished = false;
  reset = false;
  private readonly client: SpdyTestClient;
  private waiters: Array<() => void> = [];

  constructor(client: SpdyTestClient, id: number) {
    this.client = client;
    this.id = id;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString();
  }

  write(data: Buffer | string): Promise<void> {
    return this.client.data(this.id, Buffer.from(data), false);
  }

  end(): Promise<void> {
    return this.client.data(this.id, Buffer.alloc(0), true);
  }

  /** Resolves when check() holds (checked on every frame for this stream). */
  until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stream ${this.id}: timed out; got ${JSON.stringify(this.text())}`)), timeoutMs);
      const w = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve();
      };
      this.waiters.push(w);
    });
  }

  ended(timeoutMs?: number): Promise<void> {
    return this.until(() => this.finished || this.reset || this.client.closed, timeoutMs);
  }

  poke(): void {
    for (const w of [...this.waiters]) w();
  }
}

export class SpdyTestClient {
  readonly socket: Socket;
  readonly protocol: string;
  readonly streams = new Map<number, TestStream>();
  readonly windowUpdates: number[] = [];
  closed = false;
  goaway = false;
  private nextId = 1;
  private pending = Buffer.alloc(0);
  private readonly deflater = zlib.createDeflate({ dictionary: DICTIONARY });
  private readonly inflater = zlib.createInflate({ dictionary: DICTIONARY });
  private queue: Promise<unknown> = Promise.resolve();
  private inQueue: Promise<unknown> = Promise.resolve();

  private constructor(socket: Socket, protocol: string, head: Buffer) {
    this.socket = socket;
    this.protocol = protocol;
    socket.on('data', (d: Buffer) => this.onData(d));
    // The close is seen after every frame that came before it: frames wait in inQueue (a
    // SYN_REPLY's header block is inflated asynchronously), and a close that overtook them would
    // end a stream whose last data (an exec's status) was received but not yet handled.
    socket.on('close', () => {
      this.inQueue = this.inQueue.then(() => {
        this.closed = true;
        for (const s of this.streams.values()) s.poke();
      });
    });
    socket.on('error', () => {});
    if (head.length) this.onData(head);
  }

  /** Upgrades a POST to url, offering protocols (X-Stream-Protocol-Version). */
  static connect(url: string, protocols: string[]): Promise<SpdyTestClient> {
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols } });
      req.on('upgrade', (res, socket, head) => {
        if (res.headers.upgrade?.toLowerCase() !== 'spdy/3.1') return reject(new Error(`upgraded to ${res.headers.upgrade}`));
        resolve(new SpdyTestClient(socket, String(res.headers['x-stream-protocol-version'] ?? ''), head));
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d) => (body += d)).on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode })));
      });
      req.on('error', reject);
      req.end();
    });
  }

  private zrun(z: zlib.Deflate | zlib.Inflate, input: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      const out: Buffer[] = [];
      const onData = (d: Buffer) => out.push(d);
      z.on('data', onData);
      z.write(input);
      z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        z.off('data', onData);
        resolve(Buffer.concat(out));
      });
    });
  }

  private send(build: () => Promise<Buffer> | Buffer): Promise<void> {
    const p = this.queue.then(async () => {
      const bytes = await build();
      await new Promise<void>((resolve) => (this.socket.write(bytes) ? resolve() : this.socket.once('drain', resolve)));
    });
    this.queue = p.catch(() => {});
    return p;
  }

  private static control(type: number, flags: number, body: Buffer): Buffer {
    const h = Buffer.alloc(8);
    h[0] = 0x80;
    h[1] = 3;
    h.writeUInt16BE(type, 2);
    h[4] = flags;
    h.writeUIntBE(body.length, 5, 3);
    return Buffer.concat([h, body]);
  }

  /** Opens a stream with these headers (as client-go: streamtype, port, requestid). */
  open(headers: Record<string, string>, fin = false): TestStream {
    const id = this.nextId;
    this.nextId += 2;
    const s = new TestStream(this, id);
    this.streams.set(id, s);
    this.send(async () => {
      const names = Object.entries(headers);
      const parts: Buffer[] = [];
      const n = Buffer.alloc(4);
      n.writeUInt32BE(names.length);
      parts.push(n);
      for (const [k, v] of names) {
        for (const str of [k.toLowerCase(), v]) {
          const len = Buffer.alloc(4);
          len.writeUInt32BE(Buffer.byteLength(str));
          parts.push(len, Buffer.from(str));
        }
      }
      const block = await this.zrun(this.deflater, Buffer.concat(parts));
      const fixed = Buffer.alloc(10);
      fixed.writeUInt32BE(id, 0);
      return SpdyTestClient.control(1, fin ? 1 : 0, Buffer.concat([fixed, block]));
    });
    return s;
  }

  data(id: number, body: Buffer, fin: boolean): Promise<void> {
    return this.send(() => {
      const h = Buffer.alloc(8);
      h.writeUInt32BE(id, 0);
      h[4] = fin ? 1 : 0;
      h.writeUIntBE(body.length, 5, 3);
      return Buffer.concat([h, body]);
    });
  }

  ping(id: number): Promise<void> {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(id);
    return this.send(() => SpdyTestClient.control(6, 0, b));
  }

  /** Tells the server we do flow control: its initial window per stream becomes `size`. */
  initialWindow(size: number): Promise<void> {
    const b = Buffer.alloc(12);
    b.writeUInt32BE(1, 0);
    b.writeUInt32BE(7, 4); // SETTINGS_INITIAL_WINDOW_SIZE
    b.writeUInt32BE(size, 8);
    return this.send(() => SpdyTestClient.control(4, 0, b));
  }

  windowUpdate(id: number, delta: number): Promise<void> {
    const b = Buffer.alloc(8);
    b.writeUInt32BE(id, 0);
    b.writeUInt32BE(delta, 4);
    return this.send(() => SpdyTestClient.control(9, 0, b));
  }

  readonly pings: number[] = [];

  close(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.pending = Buffer.concat([this.pending, d]);
    while (this.pending.length >= 8) {
      const len = this.pending.readUIntBE(5, 3);
      if (this.pending.length < 8 + len) break;
      const frame = this.pending.subarray(0, 8 + len);
      this.pending = this.pending.subarray(8 + len);
      this.inQueue = this.inQueue.then(() => this.onFrame(frame));
    }
  }

  private async onFrame(f: Buffer): Promise<void> {
    const flags = f[4];
    const body = f.subarray(8);
    if (!(f[0] & 0x80)) {
      const s = this.streams.get(f.readUInt32BE(0) & 0x7fffffff);
      if (!s) return;
      if (body.length) s.chunks.push(Buffer.from(body));
      if (flags & 1) s.finished = true;
      s.poke();
      return;
    }
    const type = f.readUInt16BE(2);
    const sid = body.length >= 4 ? body.readUInt32BE(0) & 0x7fffffff : 0;
    const s = this.streams.get(sid);
    if (type === 2) {
      await this.zrun(this.inflater, body.subarray(4)); // keeps our inflater in step
      if (s) {
        s.replied = true;
        if (flags & 1) s.finished = true;
        s.poke();
      }
    } else if (type === 3 && s) {
      s.reset = true;
      s.poke();
    } else if (type === 6) {
      this.pings.push(sid);
    } else if (type === 7) {
      this.goaway = true;
    } else if (type === 9) {
      this.windowUpdates.push(sid);
    }
  }
}
