// WebSocket (RFC 6455), server side, for the channel.k8s.io protocols: the handshake on an
// upgraded HTTP request, and whole messages in and out (fragments joined, pings answered).
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;
/** No message of these protocols needs more; a client sending more is cut off. */
const MAX_MESSAGE = 16 << 20;

/** The protocols a client offers (Sec-WebSocket-Protocol, comma separated, maybe repeated). */
export function offeredProtocols(req: IncomingMessage): string[] {
  const h = req.headers['sec-websocket-protocol'];
  return (Array.isArray(h) ? h.join(',') : h ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

export function isWebSocket(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/** The 101 answer for a WebSocket upgrade choosing `protocol` (null: the client offered none); null if the request is not a valid one. */
export function handshake(req: IncomingMessage, protocol: string | null): string | null {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || req.headers['sec-websocket-version'] !== '13') return null;
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : ''}\r\n`;
}

export class WsConnection {
  private readonly socket: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentOp = 0;
  private closing = false;
  readonly done: Promise<void>;
  onMessage: (data: Buffer, binary: boolean) => void = () => {};

  constructor(socket: Socket, head: Buffer) {
    this.socket = socket;
    this.done = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('end', () => socket.destroy()); // a client gone without a close frame
    socket.on('data', (d: Buffer) => this.input(d));
    if (head.length) this.input(head);
  }

  send(data: Buffer | string, binary = true): boolean {
    if (this.closing || this.socket.destroyed) return false;
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    return this.socket.write(Buffer.concat([header(binary ? OP.BINARY : OP.TEXT, body.length), body]));
  }

  /** Waits for the socket to take what is queued. */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('drain', resolve);
      this.socket.once('close', resolve);
    });
  }

  /** A close frame (normal closure), then the socket once the client answers (or soon anyway). */
  close(code = 1000): void {
    if (this.closing) return;
    this.closing = true;
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code);
    this.socket.write(Buffer.concat([header(OP.CLOSE, 2), body]));
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  private input(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const f = parseFrame(this.buf);
      if (f === 'bad') return this.fail(1002);
      if (f === 'big') return this.fail(1009);
      if (!f) return;
      this.buf = this.buf.subarray(f.size);
      this.frame(f.fin, f.op, f.payload);
    }
  }

  private frame(fin: boolean, op: number, payload: Buffer): void {
    if (op === OP.PING) {
      if (!this.closing) this.socket.write(Buffer.concat([header(OP.PONG, payload.length), payload]));
      return;
    }
    if (op === OP.PONG) return;
    if (op === OP.CLOSE) {
      this.close(payload.length >= 2 ? payload.readUInt16BE(0) : 1000);
      return;
    }
    if (op !== OP.CONT) {
      this.fragments = [];
      this.fragmentOp = op;
    }
    this.fragments.push(payload);
    if (!fin) return;
    const msg = Buffer.concat(this.fragments);
    this.fragments = [];
    this.onMessage(msg, this.fragmentOp === OP.BINARY);
  }

  private fail(code: number): void {
    this.close(code);
    this.socket.destroy();
  }
}

function header(op: number, len: number): Buffer {
  if (len < 126) return Buffer.from([0x80 | op, len]);
  if (len < 65536) {
    const h = Buffer.from([0x80 | op, 126, 0, 0]);
    h.writeUInt16BE(len, 2);
    return h;
  }
  const h = Buffer.alloc(10);
  h[0] = 0x80 | op;
  h[1] = 127;
  h.writeBigUInt64BE(BigInt(len), 2);
  return h;
}

/** One frame from the front of buf: null if incomplete. Client frames must be masked. */
export function parseFrame(buf: Buffer): { fin: boolean; op: number; payload: Buffer; size: number } | null | 'bad' | 'big' {
  if (buf.length < 2) return null;
  const fin = (buf[0] & 0x80) !== 0;
  const op = buf[0] & 0x0f;
  if (!(buf[1] & 0x80) || buf[0] & 0x70) return 'bad';
  let len = buf[1] & 0x7f;
  let at = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    at = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    const big = buf.readBigUInt64BE(2);
    if (big > BigInt(MAX_MESSAGE)) return 'big';
    len = Number(big);
    at = 10;
  }
  if (len > MAX_MESSAGE) return 'big';
  if (buf.length < at + 4 + len) return null;
  const mask = buf.subarray(at, at + 4);
  const payload = Buffer.from(buf.subarray(at + 4, at + 4 + len));
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
  return { fin, op, payload, size: at + 4 + len };
}
