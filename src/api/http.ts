// The HTTP side of the Docker Engine API: routing (versioned and unversioned paths), docker's
// response headers, error bodies, and the two ways a stream is handed over (the 101 hijack and
// the plain 200 raw stream). Error codes become HTTP statuses here and nowhere else.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { BerthError, fromSystemError, invalid, type ErrorCode } from '../core/errors.ts';
import { VERSION } from '../core/version.ts';
import { peerHasRead } from '../runtime/shim.ts';

export const API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';

const STATUS: Record<ErrorCode, number> = {
  NotFound: 404,
  AlreadyExists: 409,
  InvalidArgument: 400,
  Conflict: 409,
  FailedPrecondition: 412,
  Unavailable: 503,
  Unimplemented: 501,
  PermissionDenied: 403,
  // The container's command cannot run: docker answers start with 400, and the CLI reads the
  // message ("executable file not found", "permission denied") to pick 127 or 126.
  CannotInvoke: 400,
  CommandNotFound: 400,
  NoSpace: 500, // as dockerd answers a full disk
  Internal: 500,
};

export function statusFor(err: unknown): number {
  return err instanceof BerthError ? STATUS[err.code] : 500;
}

export function headers(): Record<string, string> {
  return { 'Api-Version': API_VERSION, 'Docker-Experimental': 'false', Ostype: 'linux', Server: `Berth/${VERSION} (linux)` };
}

/** One request as the handlers see it: path parameters, query, the request, and how to answer. */
export interface Call {
  req: IncomingMessage;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The API version the client asked for (from /vNN/ or the default). */
  version: number;
  /** Present for requests that asked for an upgrade (attach, exec start): the raw connection. */
  upgrade?: { socket: Duplex; head: Buffer };
  res?: ServerResponse;
}

export type Handler = (call: Call) => Promise<Reply | void>;

/** What a handler returns when it answers with a body of its own making; streams answer themselves. */
export interface Reply {
  status: number;
  body?: unknown; // JSON, unless a Buffer or string
  headers?: Record<string, string>;
}

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  /** `/containers/{id}/json`; `{name*}` matches across slashes (image names hold them). */
  on(method: string, template: string, handler: Handler): this {
    const names: string[] = [];
    const source = template.replace(/\{(\w+)(\*?)\}/g, (_m, name: string, greedy: string) => {
      names.push(name);
      return greedy ? '(.+)' : '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | 'method' | undefined {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
      return { handler: r.handler, params };
    }
    return pathMatched ? 'method' : undefined;
  }
}

/** `/v1.41/containers/json` -> version 1.41 and `/containers/json`. */
export function splitVersion(pathname: string): { version: number; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(pathname);
  if (!m) return { version: Number(API_VERSION), path: pathname };
  return { version: Number(m[1]), path: m[2] };
}

export function send(res: ServerResponse, reply: Reply): void {
  const h = { ...headers(), ...reply.headers };
  if (reply.body === undefined) {
    res.writeHead(reply.status, h);
    res.end();
    return;
  }
  const isRaw = Buffer.isBuffer(reply.body) || typeof reply.body === 'string';
  const data = isRaw ? Buffer.from(reply.body as string | Buffer) : Buffer.from(JSON.stringify(reply.body) + '\n');
  res.writeHead(reply.status, { 'Content-Type': isRaw ? 'text/plain; charset=utf-8' : 'application/json', 'Content-Length': String(data.length), ...h });
  res.end(data);
}

export function errorReply(err: unknown): Reply {
  err = fromSystemError(err);
  const message = err instanceof BerthError ? err.message : `internal error: ${(err as Error)?.message ?? err}`;
  return { status: statusFor(err), body: { message: hidePaths(message) } };
}

let hidden: Array<[string, string]> = [];

/**
 * The host's own paths (the state root, where berth is installed) stay out of what clients read:
 * they tell an API client about the host, and messages name the objects instead.
 */
export function hostPaths(pairs: Array<[path: string, shownAs: string]>): void {
  hidden = pairs.filter(([p]) => p.length > 1).sort((a, b) => b[0].length - a[0].length);
}

/** A message with the host paths set by hostPaths() replaced by what they stand for. */
export function hidePaths(message: string): string {
  for (const [p, shown] of hidden) message = message.split(p).join(shown);
  return message;
}

/** An ordinary HTTP response on a raw connection (errors before a hijack must be plain HTTP). */
export function sendRaw(socket: Duplex, reply: Reply): void {
  const body = reply.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(reply.body) + '\n');
  const h = { ...headers(), 'Content-Type': 'application/json', 'Content-Length': String(body.length), Connection: 'close', ...reply.headers };
  const head = `HTTP/1.1 ${reply.status} ${STATUS_TEXT[reply.status] ?? 'Error'}\r\n` + Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
  socket.end(Buffer.concat([Buffer.from(head), body]));
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found',
  409: 'Conflict', 412: 'Precondition Failed', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
};

/**
 * Bodies of upgrade requests: node hands those over with the body still in the raw bytes, so
 * the server takes it out (Content-Length) before the rest becomes the stream's input.
 */
export const upgradeBodies = new WeakMap<IncomingMessage, Buffer>();

/** Reads a request body up to a limit. */
export async function readBody(req: IncomingMessage, limit = 4 << 20): Promise<Buffer> {
  const early = upgradeBodies.get(req);
  if (early) return early;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw invalid(`request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * A JSON body: an empty body is `{}` (clients send none for many POSTs); a body that is not
 * JSON, is not an object, or comes with a non-JSON content type is a 400 (moby's checks).
 */
export async function readJson<T = Record<string, unknown>>(req: IncomingMessage): Promise<T> {
  const body = await readBody(req);
  if (!body.length) return {} as T;
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type && type !== 'application/json') throw invalid(`unsupported Content-Type header (${type}): must be 'application/json'`);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw invalid(`invalid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('invalid JSON: expected an object');
  return value as T;
}

/** docker's boolean query values: 1/true/True; absent, empty or 0/false is false. */
export function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v !== null && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** The `filters` query parameter: a JSON map of key -> [values] or key -> {value: true}. */
/** A resize's h and w, refused as dockerd's strconv.Atoi refuses them. */
export function terminalSize(q: URLSearchParams): [h: number, w: number] {
  return [q.get('h') ?? '', q.get('w') ?? ''].map((v) => {
    if (!/^[+-]?\d+$/.test(v)) throw invalid(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  }) as [number, number];
}

export function filters(q: URLSearchParams): Map<string, string[]> {
  const raw = q.get('filters');
  const out = new Map<string, string[]>();
  if (!raw) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid(`invalid filters: ${raw}`);
  }
  if (!parsed || typeof parsed !== 'object') throw invalid(`invalid filters: ${raw}`);
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    // A value inside a list is a string (numbers and booleans are taken as text); an object or a
    // list there is a 400, as moby's decoder refuses it (String() of {"toString": null} would throw).
    const value = (x: unknown) => {
      if (x !== null && typeof x === 'object') throw invalid(`invalid filters: the values of "${k}" must be strings`);
      return String(x);
    };
    const values = Array.isArray(v) ? v.map(value) : v && typeof v === 'object' ? Object.keys(v).filter((x) => (v as Record<string, unknown>)[x]) : [];
    out.set(k, values);
  }
  return out;
}

/** docker's multiplexed stream frame: [stream, 0, 0, 0, big-endian length] + payload. */
export { frame } from '../util/frames.ts';
import { frame } from '../util/frames.ts';

/** Where a stream's bytes go once it is handed over, and how the client's input arrives. */
export interface Conduit {
  /** false: the client is behind; wait for onDrain before writing more. */
  write(data: Buffer): boolean;
  onDrain(fn: () => void): void;
  /** Stops (and resumes) reading the client's input, when what it feeds is behind. */
  pauseInput(): void;
  resumeInput(): void;
  end(): void;
  /** The client's input (stdin); `null` once the client half-closed. */
  onInput(fn: (data: Buffer | null) => void): void;
  onClose(fn: () => void): void;
}

/**
 * How long the first bytes of an upgraded stream wait for the client to have read the 101 on a
 * connection where we cannot see that (TCP); on a unix socket, until the client has read it
 * (at most PEER_READ_MS).
 */
const UPGRADE_HOLD_MS = 30;
const PEER_READ_MS = 1000;

/**
 * Hands a connection over for a stream. With an upgrade request: `101 UPGRADED` and the raw
 * socket (the client's FIN is end of input, not a hang-up). Without (dockerode, testcontainers):
 * `200 OK` with a raw-stream content type, the request body as input, closed at the end.
 */
export function hijack(call: Call, multiplexed: boolean): Conduit {
  const type = multiplexed && call.version >= 1.42 ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
  if (call.upgrade) {
    const { socket, head } = call.upgrade;
    const pendingHead = head.length ? head : undefined;
    const idle = multiplexed ? probeWhenIdle(socket) : undefined;
    // Some clients (python's docker SDK) read the 101 through a buffered reader, then take the
    // raw socket under it: bytes that arrived with the headers are lost to them. The output is
    // held until the client has read the headers: on a unix socket the kernel tells (its
    // send queue is empty; a fixed 30 ms wait lost the first output of several execs in a hundred on a loaded
    // machine), on TCP a short wait has to do.
    let held: Array<Buffer | null> | undefined = [];
    const release = () => {
      const q = held ?? [];
      held = undefined;
      for (const d of q) {
        if (d === null) socket.end();
        else if (!socket.destroyed && socket.writable) socket.write(d);
      }
    };
    const later = () => setTimeout(release, UPGRADE_HOLD_MS);
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`, () => {
      if (socket instanceof Socket && socket.remoteAddress === undefined && !socket.destroyed) void peerHasRead(socket, PEER_READ_MS).then((asked) => (asked ? release() : later()));
      else later();
    });
    return {
      write: (d) => {
        idle?.wrote();
        if (held) return (held.push(d), true);
        return !socket.destroyed && socket.writable ? socket.write(d) : true;
      },
      onDrain: (fn) => socket.on('drain', fn),
      pauseInput: () => socket.pause(),
      resumeInput: () => socket.resume(),
      end: () => void (held ? held.push(null) : socket.end()),
      onInput: (fn) => {
        if (pendingHead) fn(pendingHead);
        socket.on('data', (d: Buffer) => fn(d));
        socket.on('end', () => fn(null));
      },
      // Gone before anyone asked (the client left during the request): at once.
      onClose: (fn) => (socket.destroyed ? setImmediate(fn) : socket.on('close', fn)),
    };
  }
  const res = call.res!;
  res.writeHead(200, { ...headers(), 'Content-Type': type });
  res.flushHeaders();
  return {
    write: (d) => (!res.destroyed && res.writable ? res.write(d) : true),
    onDrain: (fn) => res.on('drain', fn),
    pauseInput: () => call.req.pause(),
    resumeInput: () => call.req.resume(),
    end: () => res.end(),
    onInput: (fn) => {
      call.req.on('data', (d: Buffer) => fn(d));
      call.req.on('end', () => fn(null));
    },
    onClose: (fn) => (res.destroyed ? setImmediate(fn) : res.on('close', fn)),
  };
}

/**
 * A client that half-closed its side (the docker CLI does at once when it sends no input) and
 * then went away entirely is only seen on our next write. While such a stream is idle (a quiet
 * container), an empty frame every second is that write, so the connection and its fd are let
 * go instead of being held until the container prints something.
 */
function probeWhenIdle(socket: Duplex): { wrote(): void } {
  let lastWrite = Date.now();
  socket.once('end', () => {
    const timer = setInterval(() => {
      if (socket.destroyed || !socket.writable) return clearInterval(timer);
      if (Date.now() - lastWrite >= PROBE_MS) socket.write(frame(1, Buffer.alloc(0)));
    }, PROBE_MS);
    timer.unref();
    socket.once('close', () => clearInterval(timer));
  });
  return { wrote: () => void (lastWrite = Date.now()) };
}

const PROBE_MS = 1000;

/** Starts a chunked streaming response (logs, events, pull progress, wait). */
export function streamStart(call: Call, status: number, type: string): ServerResponse {
  const res = call.res!;
  res.writeHead(status, { ...headers(), 'Content-Type': type });
  res.flushHeaders(); // at once: `docker run` waits for these before it starts the container
  return res;
}
