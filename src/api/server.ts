// The daemon: the Docker Engine API over a unix socket (and loopback TCP if asked), driving the
// same engine the CLI drives in-process, over the same state root. Containers keep running under
// their monitors whatever happens to the daemon; a new daemon finds them in the state root.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { invalid } from '../core/errors.ts';
import type { Engine } from '../engine/engine.ts';
import { containerAdminRoutes } from './container-admin.ts';
import { ContainerApi } from './containers.ts';
import { errorReply, hostPaths, upgradeBodies, headers, Router, send, sendRaw, splitVersion, MIN_API_VERSION, API_VERSION, type Call, type Reply } from './http.ts';
import { buildRoutes } from './build.ts';
import { imageRoutes } from './images.ts';
import { SHIM_PATH } from '../runtime/shim.ts';
import { LAYER_MOUNTS } from '../snapshot/layers.ts';
import { REPO } from '../util/paths.ts';
import { listenBacklog, secureSocket, tcpServer, tcpWarning, type TlsFiles } from './listen.ts';
import { pluginRoutes, swarmRoutes } from './swarm.ts';
import { systemRoutes } from './system.ts';

// BERTH_TRACE=1: each request's method, path, status and time to stderr.
const TRACE = process.env.BERTH_TRACE === '1';

export function buildRouter(engine: Engine): Router {
  const r = new Router();
  systemRoutes(r, engine);
  new ContainerApi(engine).routes(r);
  containerAdminRoutes(r, engine);
  imageRoutes(r, engine);
  buildRoutes(r, engine);
  swarmRoutes(r);
  pluginRoutes(r);
  return r;
}

/** Where the containers' cgroups are, per hierarchy: a message names a container's as <cgroup>/ID. */
function cgroupScopes(engine: Engine): Array<[string, string]> {
  try {
    return engine.cgroups.paths('x').dirs.map((d) => [path.dirname(d), '<cgroup>']);
  } catch {
    return []; // no cgroups here: the starts will say so
  }
}

export class ApiServer {
  private readonly router: Router;
  private readonly servers: http.Server[] = [];
  private readonly sockets: string[] = [];
  /** Hijacked connections: closeAllConnections() no longer knows them, so close() ends them. */
  private readonly upgraded = new Set<Duplex>();

  constructor(engine: Engine) {
    this.router = buildRouter(engine);
    hostPaths([[engine.root.dir, '<state root>'], [REPO, '<berth>'], [LAYER_MOUNTS, '<layer mounts>'], [SHIM_PATH, '<shim>'], ...cgroupScopes(engine)]);
  }

  /** Listens on a unix socket or a TCP address (with TLS when given); returns a warning to show, if any. */
  async listen(address: string, tls?: TlsFiles): Promise<string | undefined> {
    const url = parseAddress(address);
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    const server = url.unix ? http.createServer({ keepAlive: true }, handler) : tcpServer(tls, handler);
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgraded.add(socket);
      socket.once('close', () => this.upgraded.delete(socket));
      void this.handle(req, undefined, { socket, head });
    });
    server.headersTimeout = 0; // streams (events, logs -f, wait) stay open as long as clients want
    server.requestTimeout = 0;
    const backlog = listenBacklog();
    if (url.unix) {
      fs.mkdirSync(url.unix.slice(0, url.unix.lastIndexOf('/')) || '/', { recursive: true, mode: 0o755 });
      // A socket left by a daemon that was killed: refuse if one still answers, else replace it.
      if (fs.existsSync(url.unix)) {
        if (await answers(url.unix)) throw invalid(`another daemon is listening on ${url.unix}`);
        fs.rmSync(url.unix, { force: true });
      }
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen({ path: url.unix, backlog }, resolve));
      secureSocket(url.unix);
      this.sockets.push(url.unix);
    } else {
      // Client certificates make another address safe to offer; without them, loopback only.
      if (!tls?.verify && !isLoopback(url.host!)) throw invalid(`refusing to listen on ${url.host} without --tlsverify: the API gives root on this machine`);
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen({ port: url.port, host: url.host, backlog }, resolve));
    }
    this.servers.push(server);
    return url.unix ? undefined : tcpWarning(address, tls);
  }

  async close(): Promise<void> {
    for (const s of this.upgraded) s.destroy();
    for (const s of this.servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    for (const p of this.sockets) fs.rmSync(p, { force: true });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse | undefined, upgrade?: { socket: Duplex; head: Buffer }): Promise<void> {
    if (TRACE) {
      const t0 = performance.now();
      const done = () => process.stderr.write(`trace ${(performance.now() - t0).toFixed(1).padStart(7)} ms  ${req.method} ${req.url} ${res?.statusCode ?? 'hijacked'}\n`);
      if (res) res.once('finish', done);
      else upgrade?.socket.once('close', done);
    }
    const answer = (reply: Reply) => (res ? send(res, reply) : sendRaw(upgrade!.socket, reply));
    upgrade?.socket.on('error', () => {});
    try {
      if (upgrade) upgrade = await splitUpgradeBody(req, upgrade);
      const url = new URL(req.url ?? '/', 'http://berth');
      const { version, path } = splitVersion(url.pathname);
      if (version < Number(MIN_API_VERSION)) {
        return answer({ status: 400, body: { message: `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version` } });
      }
      if (version > Number(API_VERSION) + 0.5) {
        // docker accepts newer clients only up to its own version; clients negotiate down from /_ping.
        return answer({ status: 400, body: { message: `client version ${version} is too new. Maximum supported API version is ${API_VERSION}` } });
      }
      const method = req.method ?? 'GET';
      const m = this.router.match(method, path.replace(/\/+$/, '') || '/');
      if (m === undefined) return answer({ status: 404, body: { message: `page not found` } });
      if (m === 'method') return answer({ status: 405, body: { message: `method ${method} not allowed on ${path}` } });
      const call: Call = { req, params: m.params, query: url.searchParams, version, upgrade, res };
      const reply = await m.handler(call);
      if (reply) {
        if (method === 'HEAD' && res) {
          res.writeHead(reply.status, { ...headers(), 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '0', ...reply.headers });
          res.end();
        } else answer(reply);
      }
    } catch (err) {
      if (res?.headersSent) {
        res.end();
        return;
      }
      if (upgrade && upgrade.socket.destroyed) return;
      answer(errorReply(err));
    }
  }
}

/** The body of an upgrade request (exec start's JSON) out of the raw bytes; the rest is input. */
async function splitUpgradeBody(req: http.IncomingMessage, up: { socket: Duplex; head: Buffer }): Promise<{ socket: Duplex; head: Buffer }> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (!(length > 0)) return up;
  if (length > 1 << 20) throw invalid('request body too large');
  let buf = up.head;
  while (buf.length < length) {
    const chunk = await new Promise<Buffer | null>((resolve) => {
      up.socket.once('data', resolve);
      up.socket.once('end', () => resolve(null));
    });
    if (!chunk) break;
    buf = Buffer.concat([buf, chunk]);
  }
  up.socket.removeAllListeners('data');
  up.socket.removeAllListeners('end');
  upgradeBodies.set(req, buf.subarray(0, length));
  return { socket: up.socket, head: buf.subarray(length) };
}

function parseAddress(address: string): { unix?: string; host?: string; port?: number } {
  if (address.startsWith('unix://')) return { unix: address.slice(7) };
  if (address.startsWith('/')) return { unix: address };
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address);
  if (!m) throw invalid(`invalid listen address "${address}": use unix:///path or tcp://127.0.0.1:PORT`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Whether something answers on a unix socket (a live daemon), or it is a stale file. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request({ socketPath: path, path: '/_ping', method: 'HEAD', timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}
