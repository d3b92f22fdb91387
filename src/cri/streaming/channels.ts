// A remote command's channels (stdin, stdout, stderr, error, resize), whichever the transport:
// SPDY streams the client opens with a `streamtype` header, or one WebSocket whose messages
// start with a channel byte (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize; v5's 255 closes one).
import { PassThrough, Writable, type Readable } from 'node:stream';
import { invalid } from '../../core/errors.ts';
import type { SpdyConnection, SpdyStream } from './spdy.ts';
import type { WsConnection } from './websocket.ts';

export interface Channels {
  /** The channel.k8s.io protocol version (1 for channel.k8s.io, up to 5). */
  version: number;
  stdin: Readable | null;
  stdout: Writable | null;
  stderr: Writable | null;
  resize: Readable | null;
  error: Writable;
  /** Ends the connection (after what is written is out). */
  close(): void;
  /** The connection is gone, either side's doing. */
  done: Promise<void>;
}

export interface Wanted {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The protocols this server speaks, best first. */
export const SPDY_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
export const WS_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io', 'v4.base64.channel.k8s.io', 'base64.channel.k8s.io'];

export function versionOf(protocol: string): number {
  const m = /^v(\d)\./.exec(protocol);
  return m ? Number(m[1]) : 1;
}

/** The first protocol the client offers that we speak (the client's order, as the kubelet's handshake). */
export function negotiate(offered: string[], ours: string[]): string | undefined {
  return offered.find((p) => ours.includes(p));
}

/** Waits for the streams a request needs; a client that does not open them in time is cut off. */
export function collectSpdy(conn: SpdyConnection, version: number, want: Wanted, timeoutMs = 30_000): { onStream: (s: SpdyStream) => void; ready: Promise<Channels> } {
  const got = new Map<string, SpdyStream>();
  const needed = ['error', ...(want.stdin ? ['stdin'] : []), ...(want.stdout ? ['stdout'] : []), ...(want.stderr && !want.tty ? ['stderr'] : []), ...(want.tty && version >= 3 ? ['resize'] : [])];
  let settle!: (c: Channels) => void;
  let fail!: (e: Error) => void;
  const ready = new Promise<Channels>((resolve, reject) => ((settle = resolve), (fail = reject)));
  ready.catch(() => {});
  const timer = setTimeout(() => {
    fail(invalid(`timed out waiting for the client's streams (have ${[...got.keys()].join(', ') || 'none'}, want ${needed.join(', ')})`));
    conn.close();
  }, timeoutMs);
  timer.unref();
  conn.done.then(() => {
    clearTimeout(timer);
    fail(new Error('the client went away'));
  });
  const onStream = (s: SpdyStream) => {
    const type = s.header('streamtype') ?? '';
    if (!needed.includes(type) || got.has(type)) {
      s.destroy(); // a stream we did not ask for is reset
      return;
    }
    got.set(type, s);
    // Streams we only write to are still read, to see their end (and never stall the connection).
    if (type !== 'stdin' && type !== 'resize') s.resume();
    if (got.size < needed.length) return;
    clearTimeout(timer);
    settle({
      version, stdin: got.get('stdin') ?? null, stdout: got.get('stdout') ?? null, stderr: got.get('stderr') ?? null, resize: got.get('resize') ?? null,
      error: got.get('error')!, close: () => conn.close(), done: conn.done,
    });
  };
  return { onStream, ready };
}

/** The channels of one WebSocket speaking `protocol` (one of WS_PROTOCOLS). */
export function wsChannels(ws: WsConnection, protocol: string, want: Wanted): Channels {
  const base64 = protocol.includes('base64');
  const version = versionOf(protocol);
  const stdin = want.stdin ? new PassThrough() : null;
  const resize = want.tty ? new PassThrough() : null;
  ws.onMessage = (msg, binary) => {
    let ch: number;
    let body: Buffer;
    if (base64 && !binary) {
      ch = msg[0] - 48;
      body = Buffer.from(msg.subarray(1).toString(), 'base64');
    } else {
      ch = msg[0];
      body = msg.subarray(1);
    }
    if (!msg.length) return;
    if (ch === 0 && stdin && !stdin.writableEnded) stdin.write(body);
    else if (ch === 4 && resize && !resize.writableEnded) resize.write(body);
    else if (ch === 255 && version >= 5 && body[0] === 0) stdin?.end();
  };
  ws.done.then(() => {
    stdin?.end();
    resize?.end();
  });
  const out = (ch: number) => new Writable({
    write(chunk: Buffer, _enc, cb) {
      ws.send(base64 ? String.fromCharCode(48 + ch) + chunk.toString('base64') : Buffer.concat([Buffer.from([ch]), chunk]), !base64);
      ws.drained().then(() => cb());
    },
  });
  return {
    version, stdin, resize, stdout: want.stdout ? out(1) : null, stderr: want.stderr && !want.tty ? out(2) : null, error: out(3),
    close: () => ws.close(), done: ws.done,
  };
}
