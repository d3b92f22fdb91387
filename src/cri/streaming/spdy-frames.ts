// SPDY/3.1 framing (draft-mbelshe-httpbis-spdy, version 3 with 3.1's connection window), pure:
// frames to and from bytes, and header blocks before compression. The connection (spdy.ts)
// adds zlib, streams and flow control.

export const VERSION = 3;
export const TYPE = { SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9 } as const;
export const FLAG_FIN = 0x01;
/** RST_STREAM status codes used here. */
export const RST = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, CANCEL: 5, INTERNAL_ERROR: 6, STREAM_IN_USE: 8, STREAM_ALREADY_CLOSED: 9 } as const;
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;
export const DEFAULT_WINDOW = 65536;
/** Frame lengths are 24 bits; we never send data frames over this (the spec's advice for latency). */
export const MAX_DATA_CHUNK = 16384;

export type Frame =
  | { control: true; type: number; flags: number; payload: Buffer }
  | { control: false; streamId: number; flags: number; data: Buffer };

/** Whole frames from the front of buf, and what is left (a partial frame). */
export function splitFrames(buf: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let at = 0;
  while (buf.length - at >= 8) {
    const len = buf.readUInt32BE(at + 4) & 0xffffff;
    if (buf.length - at < 8 + len) break;
    const flags = buf[at + 4];
    const body = buf.subarray(at + 8, at + 8 + len);
    if (buf[at] & 0x80) frames.push({ control: true, type: buf.readUInt16BE(at + 2), flags, payload: body, ...versionCheck(buf.readUInt16BE(at) & 0x7fff) });
    else frames.push({ control: false, streamId: buf.readUInt32BE(at) & 0x7fffffff, flags, data: body });
    at += 8 + len;
  }
  return { frames, rest: buf.subarray(at) };
}

function versionCheck(v: number): object {
  if (v !== VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${v}`);
  return {};
}

export class SpdyProtocolError extends Error {}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8000 | VERSION, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4);
  return Buffer.concat([h, payload]);
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h.writeUInt32BE(((flags & 0xff) << 24 | data.length) >>> 0, 4);
  return Buffer.concat([h, data]);
}

const u32 = (...ns: number[]) => {
  const b = Buffer.alloc(4 * ns.length);
  ns.forEach((n, i) => b.writeUInt32BE(n >>> 0, 4 * i));
  return b;
};

/** SYN_REPLY's, HEADERS' and RST_STREAM's payload starts with the stream id. */
export const streamIdOf = (payload: Buffer) => payload.readUInt32BE(0) & 0x7fffffff;

export const synReply = (streamId: number, block: Buffer, fin = false) => controlFrame(TYPE.SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([u32(streamId), block]));
export const rstStream = (streamId: number, status: number) => controlFrame(TYPE.RST_STREAM, 0, u32(streamId, status));
export const ping = (id: number) => controlFrame(TYPE.PING, 0, u32(id));
export const goAway = (lastStreamId: number, status = 0) => controlFrame(TYPE.GOAWAY, 0, u32(lastStreamId, status));
export const windowUpdate = (streamId: number, delta: number) => controlFrame(TYPE.WINDOW_UPDATE, 0, u32(streamId, delta & 0x7fffffff));

/** A SYN_STREAM's fixed part: its stream id, and where its header block starts. */
export function synStream(payload: Buffer): { streamId: number; associated: number; block: Buffer } {
  if (payload.length < 10) throw new SpdyProtocolError('short SYN_STREAM');
  return { streamId: payload.readUInt32BE(0) & 0x7fffffff, associated: payload.readUInt32BE(4) & 0x7fffffff, block: payload.subarray(10) };
}

/** SETTINGS entries as id -> value. */
export function settings(payload: Buffer): Map<number, number> {
  const out = new Map<number, number>();
  const n = payload.length >= 4 ? payload.readUInt32BE(0) : 0;
  for (let i = 0; i < n && 4 + 8 * i + 8 <= payload.length; i++) out.set(payload.readUInt32BE(4 + 8 * i) & 0xffffff, payload.readUInt32BE(8 + 8 * i));
  return out;
}

/** A header block before compression: count, then length-prefixed names and values (several values joined by NUL). */
export function encodeHeaders(headers: Record<string, string | string[]>): Buffer {
  const parts: Buffer[] = [u32(Object.keys(headers).length)];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name.toLowerCase());
    const v = Buffer.from(Array.isArray(value) ? value.join('\0') : value);
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaders(block: Buffer): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const need = (at: number, n: number) => {
    if (at + n > block.length) throw new SpdyProtocolError('truncated header block');
  };
  need(0, 4);
  const count = block.readUInt32BE(0);
  let at = 4;
  for (let i = 0; i < count; i++) {
    need(at, 4);
    const nl = block.readUInt32BE(at);
    need(at + 4, nl + 4);
    const name = block.subarray(at + 4, at + 4 + nl).toString('latin1').toLowerCase();
    at += 4 + nl;
    const vl = block.readUInt32BE(at);
    need(at + 4, vl);
    out[name] = [...(out[name] ?? []), ...block.subarray(at + 4, at + 4 + vl).toString('latin1').split('\0')];
    at += 4 + vl;
  }
  return out;
}

// The zlib dictionary both ends start their header compression with (the draft's section
// 2.6.10.1): these words, each after its 4-byte big-endian length, then TAIL as it is.
const WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
  'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
  'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
  'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
  'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
];
const TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
  '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,' +
  'publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';
export const DICTIONARY = Buffer.concat([...WORDS.flatMap((w) => [u32(w.length), Buffer.from(w)]), Buffer.from(TAIL)]);
