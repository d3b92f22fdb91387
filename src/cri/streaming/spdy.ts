// A SPDY/3.1 connection, server side, over an upgraded HTTP socket: the client opens streams
// (SYN_STREAM), each answered at once with a SYN_REPLY as the kubelet's server does, and handed
// out as a Duplex. Header blocks are compressed with one zlib stream per direction for the
// connection's life, primed with SPDY's dictionary.
//
// Flow control: we give back window (WINDOW_UPDATE) for what we consume, so a client that keeps
// to its window never stalls. We keep to the client's window only once it shows it does flow
// control (it sent a WINDOW_UPDATE or an initial window in SETTINGS): client-go's spdystream
// never sends either, and a server that waited for one would stop after 64 KiB of output.
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import * as zlib from 'node:zlib';
import {
  DEFAULT_WINDOW, DICTIONARY, FLAG_FIN, MAX_DATA_CHUNK, RST, SETTINGS_INITIAL_WINDOW_SIZE, SpdyProtocolError, TYPE,
  dataFrame, decodeHeaders, encodeHeaders, goAway, ping, rstStream, settings, splitFrames, streamIdOf, synReply, synStream, windowUpdate,
  type Frame,
} from './spdy-frames.ts';

/** One zlib stream in one direction: blocks in, blocks out, in order, each sync-flushed. */
class HeaderZlib {
  private readonly z: zlib.Deflate | zlib.Inflate;
  private out: Buffer[] = [];
  private chain: Promise<unknown> = Promise.resolve();

  constructor(kind: 'deflate' | 'inflate') {
    this.z = kind === 'deflate' ? zlib.createDeflate({ dictionary: DICTIONARY }) : zlib.createInflate({ dictionary: DICTIONARY });
    this.z.on('data', (d: Buffer) => this.out.push(d));
    this.z.on('error', () => {}); // reported through run()
  }

  run(block: Buffer): Promise<Buffer> {
    const p = this.chain.then(() => new Promise<Buffer>((resolve, reject) => {
      const fail = (err: Error) => reject(new SpdyProtocolError(`header block: ${err.message}`));
      this.z.once('error', fail);
      this.z.write(block);
      this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        this.z.off('error', fail);
        const r = Buffer.concat(this.out);
        this.out = [];
        resolve(r);
      });
    }));
    this.chain = p.catch(() => {});
    return p;
  }

  close(): void {
    this.z.destroy();
  }
}

export class SpdyStream extends Duplex {
  readonly id: number;
  readonly headers: Record<string, string[]>;
  private readonly conn: SpdyConnection;
  /** How much we may still send (the client's window for this stream). */
  sendWindow: number;
  private waiting: (() => void) | null = null;
  /** The client sent its FIN: no more data comes. */
  remoteEnded = false;

  constructor(conn: SpdyConnection, id: number, headers: Record<string, string[]>, window: number) {
    super({ allowHalfOpen: true });
    this.conn = conn;
    this.id = id;
    this.headers = headers;
    this.sendWindow = window;
  }

  /** The client's side ended (FIN); data after it is ignored. */
  remoteEnd(): void {
    if (this.remoteEnded) return;
    this.remoteEnded = true;
    this.push(null);
  }

  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  override _read(): void {
    this.conn.resumeInput();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.send(chunk).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.conn.write(dataFrame(this.id, FLAG_FIN, Buffer.alloc(0))).then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.waiting?.();
    this.conn.forget(this, err !== null || !this.writableFinished);
    cb(err);
  }

  /** Our window grew (WINDOW_UPDATE, SETTINGS): a waiting write goes on. */
  wake(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  private async send(chunk: Buffer): Promise<void> {
    if (!this.conn.flowControl) {
      // No windows to keep to: the chunk's frames go out in one write.
      const frames: Buffer[] = [];
      for (let at = 0; at < chunk.length; at += MAX_DATA_CHUNK) frames.push(dataFrame(this.id, 0, chunk.subarray(at, at + MAX_DATA_CHUNK)));
      return this.conn.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
    }
    let at = 0;
    while (at < chunk.length) {
      if (this.destroyed) throw new Error('stream closed');
      let n = Math.min(MAX_DATA_CHUNK, chunk.length - at);
      if (this.conn.flowControl) {
        n = Math.min(n, this.sendWindow, this.conn.sendWindow);
        if (n <= 0) {
          await new Promise<void>((resolve) => (this.waiting = resolve));
          continue;
        }
        this.sendWindow -= n;
        this.conn.sendWindow -= n;
      }
      await this.conn.write(dataFrame(this.id, 0, chunk.subarray(at, at + n)));
      at += n;
    }
  }
}

export class SpdyConnection {
  private readonly socket: Socket;
  private readonly streams = new Map<number, SpdyStream>();
  private readonly inflate = new HeaderZlib('inflate');
  private readonly deflate = new HeaderZlib('deflate');
  private buf: Buffer = Buffer.alloc(0);
  /** Frames are handled one after another (header blocks must be inflated in order). */
  private inbound: Promise<void> = Promise.resolve();
  /** Frames go out in the order they were made (a SYN_REPLY before its stream's data). */
  private outbound: Promise<void> = Promise.resolve();
  private lastStreamId = 0;
  private closed = false;
  flowControl = false;
  sendWindow = DEFAULT_WINDOW;
  private initialWindow = DEFAULT_WINDOW;
  private readonly onStream: (s: SpdyStream) => void;
  /** Resolves when the connection is gone (closed by either side). */
  readonly done: Promise<void>;

  constructor(socket: Socket, head: Buffer, onStream: (s: SpdyStream) => void) {
    this.socket = socket;
    this.onStream = onStream;
    this.done = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.input(d));
    socket.on('error', () => {});
    // The HTTP server's sockets allow half-open connections; a SPDY client that ends its side has
    // left (it could not even reset a stream), so ours goes too.
    socket.on('end', () => socket.destroy());
    socket.on('close', () => this.teardown());
    if (head.length) this.input(head);
  }

  private input(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let frames: Frame[];
    try {
      ({ frames, rest: this.buf } = splitFrames(this.buf));
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    for (const f of frames) this.inbound = this.inbound.then(() => this.handle(f)).catch((err: Error) => this.fail(err));
  }

  /** A consumer fell behind: stop reading until it asks for more (Readable's _read). */
  pauseInput(): void {
    this.socket.pause();
  }

  resumeInput(): void {
    if (!this.closed) this.socket.resume();
  }

  private async handle(f: Frame): Promise<void> {
    if (this.closed) return;
    if (!f.control) return this.data(f.streamId, f.flags, f.data);
    switch (f.type) {
      case TYPE.SYN_STREAM: {
        const s = synStream(f.payload);
        const headers = decodeHeaders(await this.inflate.run(s.block));
        // Client streams are odd and increasing; anything else is refused.
        if (s.streamId % 2 !== 1 || s.streamId <= this.lastStreamId) {
          await this.write(rstStream(s.streamId, s.streamId <= this.lastStreamId && this.streams.has(s.streamId) ? RST.STREAM_IN_USE : RST.PROTOCOL_ERROR));
          return;
        }
        this.lastStreamId = s.streamId;
        const stream = new SpdyStream(this, s.streamId, headers, this.initialWindow);
        this.streams.set(s.streamId, stream);
        await this.write(synReply(s.streamId, await this.deflate.run(encodeHeaders({}))));
        if (f.flags & FLAG_FIN) stream.remoteEnd();
        this.onStream(stream);
        return;
      }
      case TYPE.HEADERS: {
        // Nothing here uses headers after a stream opens; the block still feeds the zlib stream.
        await this.inflate.run(f.payload.subarray(4));
        if (f.flags & FLAG_FIN) this.streams.get(streamIdOf(f.payload))?.remoteEnd();
        return;
      }
      case TYPE.RST_STREAM:
        this.streams.get(streamIdOf(f.payload))?.destroy();
        return;
      case TYPE.SETTINGS: {
        const w = settings(f.payload).get(SETTINGS_INITIAL_WINDOW_SIZE);
        if (w !== undefined) {
          this.flowControl = true;
          for (const s of this.streams.values()) {
            s.sendWindow += w - this.initialWindow;
            s.wake();
          }
          this.initialWindow = w;
        }
        return;
      }
      case TYPE.PING:
        // Pings the client starts carry odd ids; echo them. Ours (even) we never send.
        if (f.payload.length >= 4 && f.payload.readUInt32BE(0) % 2 === 1) await this.write(ping(f.payload.readUInt32BE(0)));
        return;
      case TYPE.GOAWAY:
        this.close();
        return;
      case TYPE.WINDOW_UPDATE: {
        const id = streamIdOf(f.payload);
        const delta = f.payload.readUInt32BE(4) & 0x7fffffff;
        this.flowControl = true;
        if (id === 0) {
          this.sendWindow += delta;
          for (const s of this.streams.values()) s.wake();
        } else {
          const s = this.streams.get(id);
          if (s) {
            s.sendWindow += delta;
            s.wake();
          }
        }
        return;
      }
      default:
        return; // unknown control frames are ignored (the spec's rule)
    }
  }

  private async data(id: number, flags: number, data: Buffer): Promise<void> {
    const s = this.streams.get(id);
    if (!s) {
      await this.write(rstStream(id, RST.INVALID_STREAM));
      return;
    }
    if (data.length) {
      if (!s.remoteEnded && !s.push(data)) this.pauseInput();
      // Give the window back as we take the data: both the stream's and the connection's.
      await this.write(Buffer.concat([windowUpdate(id, data.length), windowUpdate(0, data.length)]));
    }
    if (flags & FLAG_FIN) s.remoteEnd();
  }

  /** Queues bytes on the socket, in order; resolves once the socket has taken them (drain). */
  write(bytes: Buffer): Promise<void> {
    const p = this.outbound.then(() => new Promise<void>((resolve, reject) => {
      if (this.closed || this.socket.destroyed) return reject(new Error('connection closed'));
      if (this.socket.write(bytes)) resolve();
      else this.socket.once('drain', resolve);
    }));
    this.outbound = p.catch(() => {});
    return p;
  }

  /** A stream finished or was destroyed; a broken one is reset so the client's end stops too. */
  forget(s: SpdyStream, reset: boolean): void {
    if (this.streams.get(s.id) !== s) return;
    this.streams.delete(s.id);
    if (reset && !this.closed) this.write(rstStream(s.id, RST.CANCEL)).catch(() => {});
  }

  /** Ends the connection: GOAWAY, then the socket once what is queued is out. */
  close(): void {
    if (this.closed) return;
    this.write(goAway(this.lastStreamId)).catch(() => {}).finally(() => {
      this.closed = true;
      this.socket.end();
      // A client that never closes its side does not keep the socket.
      setTimeout(() => this.socket.destroy(), 5000).unref();
    });
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.write(goAway(this.lastStreamId, 1)).catch(() => {}).finally(() => this.socket.destroy(err));
  }

  private teardown(): void {
    this.closed = true;
    for (const s of [...this.streams.values()]) s.destroy();
    this.streams.clear();
    this.inflate.close();
    this.deflate.close();
  }
}
