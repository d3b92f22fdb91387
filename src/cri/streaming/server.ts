// The CRI's streaming server: Exec, Attach and PortForward answer a URL here holding a one-time
// token; the client (the kubelet's proxy, crictl, critest) then upgrades a request on it to SPDY/3.1
// or to a WebSocket and gets the command's or the port's streams.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { serveAttach, type AttachRequest } from './attach.ts';
import { SPDY_PROTOCOLS, WS_PROTOCOLS, collectSpdy, negotiate, versionOf, wsChannels, type Wanted } from './channels.ts';
import { serveExec, type ExecRequest } from './exec.ts';
import { PORTFORWARD_SPDY_PROTOCOLS, PORTFORWARD_WS_PROTOCOLS, parsePort, spdyPortForward, wsPortForward, type PortForwardRequest } from './portforward.ts';
import type { StreamRuntime } from './runtime.ts';
import { SpdyConnection, type SpdyStream } from './spdy.ts';
import { TokenCache } from './tokens.ts';
import { WsConnection, handshake, isWebSocket, offeredProtocols } from './websocket.ts';

export type StreamKind = 'exec' | 'attach' | 'portforward';
type Pending =
  | { kind: 'exec'; req: ExecRequest }
  | { kind: 'attach'; req: AttachRequest }
  | { kind: 'portforward'; req: PortForwardRequest };

/** host:port, [v6]:port or :port. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) return { host: address || '127.0.0.1', port: 0 };
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
}

export class StreamingServer {
  private readonly rt: StreamRuntime;
  private readonly address: string;
  private readonly http = createServer((req, res) => this.plain(req, res));
  private readonly tokens = new TokenCache<Pending>();
  private readonly sockets = new Set<Socket>();
  private base = '';

  constructor(rt: StreamRuntime, address: string) {
    this.rt = rt;
    this.address = address;
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
    this.http.on('clientError', (_err, socket: Socket) => socket.destroy());
  }

  /** Listens on the configured address; a port 0 gets a free one, which the URLs then carry. */
  async start(): Promise<void> {
    const { host, port } = parseAddress(this.address);
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host || '127.0.0.1', () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const a = this.http.address() as AddressInfo;
    const h = a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.address;
    this.base = `http://${h.includes(':') ? `[${h}]` : h}:${a.port}`;
  }

  /** The URL a client connects to for this request (valid once, for a minute). */
  url(kind: StreamKind, req: object): string {
    if (!this.base) throw new Error('the streaming server is not started');
    return `${this.base}/${kind}/${this.tokens.insert({ kind, req } as Pending)}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  /** A request without an upgrade cannot stream: its token is left for the real one. */
  private plain(req: IncomingMessage, res: ServerResponse): void {
    const route = this.route(req);
    const known = route && this.tokens.has(route.token);
    res.writeHead(known ? 400 : 404, { 'Content-Type': 'text/plain' });
    res.end(known ? 'an upgrade to SPDY/3.1 or WebSocket is required\n' : 'token not found\n');
  }

  private route(req: IncomingMessage): { kind: StreamKind; token: string; query: URLSearchParams } | undefined {
    const u = new URL(req.url ?? '/', 'http://x');
    const m = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)\/?$/.exec(u.pathname);
    return m ? { kind: m[1] as StreamKind, token: m[2], query: u.searchParams } : undefined;
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => {});
    const route = this.route(req);
    const pending = route && this.tokens.consume(route.token);
    if (!route || !pending || pending.kind !== route.kind) return refuse(socket, 404, 'token not found');
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (isWebSocket(req)) this.websocket(pending, req, socket, head, route.query);
    else if (/^spdy\/3\.1$/i.test(String(req.headers.upgrade ?? ''))) this.spdy(pending, req, socket, head);
    else refuse(socket, 400, `unsupported upgrade "${req.headers.upgrade}": SPDY/3.1 or websocket`);
  }

  private spdy(p: Pending, req: IncomingMessage, socket: Socket, head: Buffer): void {
    const offered = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const ours = p.kind === 'portforward' ? PORTFORWARD_SPDY_PROTOCOLS : SPDY_PROTOCOLS;
    // A client that does not negotiate gets the first version of the protocol (the kubelet's rule).
    const protocol = offered.length ? negotiate(offered, ours) : ours[ours.length - 1];
    if (!protocol) return refuse(socket, 403, `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ${JSON.stringify(ours)}`);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
    let onStream: (s: SpdyStream) => void = (s) => s.destroy();
    const conn = new SpdyConnection(socket, head, (s) => onStream(s));
    if (p.kind === 'portforward') {
      onStream = spdyPortForward(this.rt, p.req);
      return;
    }
    const c = collectSpdy(conn, versionOf(protocol), wanted(p.req));
    onStream = c.onStream;
    c.ready.then((ch) => (p.kind === 'exec' ? serveExec(this.rt, p.req, ch) : serveAttach(this.rt, p.req, ch))).catch(() => conn.close());
  }

  private websocket(p: Pending, req: IncomingMessage, socket: Socket, head: Buffer, query: URLSearchParams): void {
    const offered = offeredProtocols(req);
    const ours = p.kind === 'portforward' ? PORTFORWARD_WS_PROTOCOLS : WS_PROTOCOLS;
    const protocol = offered.length ? negotiate(offered, ours) : 'channel.k8s.io';
    if (!protocol) return refuse(socket, 400, `unable to negotiate a subprotocol: client supports ${JSON.stringify(offered)}, server supports ${JSON.stringify(ours)}`);
    let ports: number[] = [];
    if (p.kind === 'portforward') {
      const asked = query.getAll('port').flatMap((v) => v.split(','));
      ports = asked.length ? asked.map((v) => parsePort(v.trim()) ?? NaN) : p.req.port.map(Number);
      if (!ports.length || ports.some((n) => !(n >= 1 && n <= 65535))) return refuse(socket, 400, 'port-forward needs ports (query "port") between 1 and 65535');
    }
    const answer = handshake(req, offered.length ? protocol : null);
    if (!answer) return refuse(socket, 400, 'invalid WebSocket handshake');
    socket.write(answer);
    const ws = new WsConnection(socket, head);
    if (p.kind === 'portforward') return wsPortForward(this.rt, p.req, ports, ws, protocol);
    const ch = wsChannels(ws, protocol, wanted(p.req));
    (p.kind === 'exec' ? serveExec(this.rt, p.req, ch) : serveAttach(this.rt, p.req, ch)).catch(() => ws.close(1011));
  }
}

function wanted(req: ExecRequest | AttachRequest): Wanted {
  return { stdin: req.stdin === true, stdout: req.stdout === true, stderr: req.stderr === true, tty: req.tty === true };
}

function refuse(socket: Socket, status: number, message: string): void {
  const reason = ({ 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' } as Record<number, string>)[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message) + 1}\r\nConnection: close\r\n\r\n${message}\n`);
}
