// gRPC clients in Go before kubelet 1.27 (crictl and critest v1.26 among them) dial a unix socket
// with the socket's path as the HTTP/2 `:authority` ("/run/berth/cri.sock"). Node's HTTP/2 (nghttp2)
// rejects such a request with RST_STREAM(PROTOCOL_ERROR) before any handler runs, and has no
// option to relax it. So each connection passes through this filter first: it reads the client's
// frames, decodes every header block (following the client's HPACK table), writes it again as
// plain literals with an invalid authority replaced by "localhost", and passes every other frame
// through as it came. The server's replies are untouched.
import { Duplex } from 'node:stream';
import type * as net from 'node:net';
import { encodeLiterals, HpackDecoder, type HeaderField } from './hpack.ts';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const HEADERS = 0x1;
const CONTINUATION = 0x9;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;
/** The largest frame Node's server accepts unless it says otherwise (SETTINGS_MAX_FRAME_SIZE). */
const MAX_FRAME = 16384;

/** RFC 3986's authority characters (what nghttp2 accepts). */
const VALID_AUTHORITY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]*$/;

/** A request's fields with an authority nghttp2 would refuse replaced by "localhost". */
export function fixAuthority(fields: HeaderField[]): HeaderField[] {
  return fields.map((f) => (f[0] === ':authority' && !VALID_AUTHORITY.test(f[1]) ? [':authority', 'localhost'] : f));
}

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

/** The client-to-server byte stream, rewritten: call `push` with what arrives, get what to forward. */
export class RequestRewriter {
  private buf: Buffer = Buffer.alloc(0);
  private prefaceSeen = false;
  /** After a frame that cannot be read: everything passes as it is, for the server to refuse. */
  private passthrough = false;
  private readonly hpack = new HpackDecoder();
  private pending?: { stream: number; flags: number; parts: Buffer[] };

  push(chunk: Buffer): Buffer {
    if (this.passthrough) return chunk;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    if (!this.prefaceSeen) {
      if (this.buf.length < PREFACE.length) return Buffer.alloc(0);
      // Not HTTP/2 with prior knowledge: pass it along and let the server refuse it.
      this.prefaceSeen = true;
      out.push(this.buf.subarray(0, PREFACE.length));
      this.buf = this.buf.subarray(PREFACE.length);
    }
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) break;
      const type = this.buf[3];
      const flags = this.buf[4];
      const stream = this.buf.readUInt32BE(5) & 0x7fffffff;
      const whole = this.buf.subarray(0, 9 + len);
      const payload = whole.subarray(9);
      this.buf = this.buf.subarray(9 + len);
      if (type === HEADERS) {
        let start = 0;
        let end = payload.length;
        if (flags & PADDED) end -= payload[start++];
        if (flags & PRIORITY) start += 5;
        if (start > end) {
          this.passthrough = true;
          out.push(whole, this.buf);
          this.buf = Buffer.alloc(0);
          break;
        }
        this.pending = { stream, flags, parts: [payload.subarray(start, end)] };
      } else if (type === CONTINUATION && this.pending?.stream === stream) {
        this.pending.parts.push(payload);
      } else {
        out.push(whole);
        continue;
      }
      if (flags & END_HEADERS) out.push(this.rewrite());
    }
    return Buffer.concat(out);
  }

  private rewrite(): Buffer {
    const { stream, flags, parts } = this.pending!;
    this.pending = undefined;
    const block = encodeLiterals(fixAuthority(this.hpack.decode(Buffer.concat(parts))));
    const frames: Buffer[] = [];
    for (let i = 0; i === 0 || i < block.length; i += MAX_FRAME) {
      const last = i + MAX_FRAME >= block.length;
      const f = (i === 0 ? flags & END_STREAM : 0) | (last ? END_HEADERS : 0);
      frames.push(frame(i === 0 ? HEADERS : CONTINUATION, f, stream, block.subarray(i, i + MAX_FRAME)));
    }
    return Buffer.concat(frames);
  }
}

/** A connection as the HTTP/2 server should see it: requests rewritten, replies as they are. */
export function rewritingConnection(socket: net.Socket): Duplex {
  const rewriter = new RequestRewriter();
  const d = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end();
      cb();
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    let out: Buffer;
    try {
      out = rewriter.push(chunk);
    } catch (err) {
      d.destroy(err as Error); // a header block that does not decode: the connection is unusable
      return;
    }
    if (out.length && !d.push(out)) socket.pause();
  });
  socket.on('end', () => d.push(null));
  socket.on('error', (err) => d.destroy(err));
  socket.on('close', () => d.destroy());
  return d;
}
