// A real registry for tests: the CNCF distribution registry (Debian's docker-registry) on
// 127.0.0.1, optionally behind htpasswd basic auth or token auth (a token server of our own
// that signs JWTs with a key the registry trusts), images pushed into it with skopeo, and a small
// proxy in front that counts requests and can break or redirect blob downloads on purpose.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const hasRegistryTools = ['/usr/bin/docker-registry', '/usr/bin/skopeo', '/usr/bin/htpasswd', '/usr/bin/openssl'].every((p) => fs.existsSync(p));

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** Issues registry tokens (docker's token auth spec) to known users, and pull tokens to anyone for `anonymous` repositories. */
class TokenServer {
  readonly server: http.Server;
  readonly requests: Array<{ authorization?: string; query: string }> = [];
  port = 0;
  private readonly key: KeyObject;
  private readonly certDer: string;
  private readonly users: Record<string, string>;
  private readonly anonymous: string[];
  constructor(key: KeyObject, certDer: string, users: Record<string, string>, anonymous: string[]) {
    this.key = key;
    this.certDer = certDer;
    this.users = users;
    this.anonymous = anonymous;
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  /** OAuth2 refresh tokens (docker's identity tokens) this server accepts, and whose they are. */
  readonly refreshTokens: Record<string, string> = {};

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method === 'POST') {
      // The OAuth2 refresh-token grant: a form body with refresh_token, service and scope.
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => this.grant(req, res, new URLSearchParams(body)));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ authorization: req.headers.authorization, query: url.search });
    let account = '';
    if (req.headers.authorization) {
      const m = /^Basic (.+)$/.exec(req.headers.authorization);
      const [user, ...rest] = m ? Buffer.from(m[1], 'base64').toString().split(':') : [];
      if (!user || this.users[user] === undefined || this.users[user] !== rest.join(':')) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      account = user;
    }
    this.issue(res, account, url.searchParams.getAll('scope'));
  }

  private grant(req: http.IncomingMessage, res: http.ServerResponse, form: URLSearchParams): void {
    this.requests.push({ authorization: req.headers.authorization, query: `POST ${form}` });
    const account = form.get('grant_type') === 'refresh_token' ? this.refreshTokens[form.get('refresh_token') ?? ''] : undefined;
    if (!account) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ details: 'invalid refresh token' }));
      return;
    }
    this.issue(res, account, (form.get('scope') ?? '').split(' ').filter(Boolean), true);
  }

  /** A signed token for `account` (anonymous when empty) with the access `scopes` allow it. */
  private issue(res: http.ServerResponse, account: string, scopes: string[], oauth = false): void {
    const access = scopes.flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      if (type !== 'repository' || !name) return [];
      if (account) return [{ type, name, actions: actions.split(',') }];
      return this.anonymous.includes(name) ? [{ type, name, actions: ['pull'] }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [this.certDer] };
    const claims = { iss: 'berth-test-issuer', sub: account, aud: 'berth-test-registry', exp: now + 600, nbf: now - 60, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${signing}.${b64url(sign('sha256', Buffer.from(signing), this.key))}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    // Docker Hub sends both; a client must take either.
    res.end(JSON.stringify(account && !oauth ? { token, expires_in: 600 } : { access_token: token, expires_in: 600 }));
  }
}

export interface RegistryOptions {
  auth?: 'basic' | 'token';
  users?: Record<string, string>;
  anonymous?: string[]; // token auth: repositories anyone may pull
}

export class TestRegistry {
  readonly dir: string;
  readonly storage: string;
  readonly port: number;
  readonly host: string;
  readonly users: Record<string, string>;
  readonly tokens?: TokenServer;
  private child?: ChildProcess;
  log = '';

  private constructor(dir: string, port: number, users: Record<string, string>, tokens?: TokenServer) {
    this.dir = dir;
    this.storage = path.join(dir, 'storage');
    this.port = port;
    this.host = `127.0.0.1:${port}`;
    this.users = users;
    this.tokens = tokens;
  }

  static async start(opts: RegistryOptions = {}): Promise<TestRegistry> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-registry-'));
    const users = opts.users ?? {};
    let auth = '';
    let tokens: TokenServer | undefined;
    try {
      if (opts.auth === 'basic') {
        const lines = Object.entries(users).map(([u, p]) => execFileSync('htpasswd', ['-niB', u], { input: p + '\n' }).toString().trim());
        fs.writeFileSync(path.join(dir, 'htpasswd'), lines.join('\n') + '\n');
        auth = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${dir}/htpasswd\n`;
      } else if (opts.auth === 'token') {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        fs.writeFileSync(path.join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
        // Node cannot make certificates; the registry only trusts keys that come in one.
        execFileSync('openssl', ['req', '-x509', '-new', '-key', `${dir}/key.pem`, '-subj', '/CN=berth-test-token', '-days', '2', '-out', `${dir}/cert.pem`], { stdio: 'pipe' });
        const der = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8').replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
        tokens = new TokenServer(privateKey, der, users, opts.anonymous ?? []);
        tokens.port = await listen(tokens.server);
        auth = `auth:\n  token:\n    realm: http://127.0.0.1:${tokens.port}/token\n    service: berth-test-registry\n    issuer: berth-test-issuer\n    rootcertbundle: ${dir}/cert.pem\n`;
      }
      const port = await freePort();
      const reg = new TestRegistry(dir, port, users, tokens);
      fs.writeFileSync(
        path.join(dir, 'config.yml'),
        `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${reg.storage}\n  delete:\n    enabled: true\n` +
          `http:\n  addr: 127.0.0.1:${port}\n  secret: ${randomBytes(16).toString('hex')}\n${auth}`,
      );
      await reg.spawn();
      return reg;
    } catch (err) {
      if (tokens) await close(tokens.server);
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private async spawn(): Promise<void> {
    // The registry is our shell's child; the shell holds a pipe from this process and kills the
    // registry (by its pid) when the pipe closes: on stop(), or when this process dies however.
    const script = '/usr/bin/docker-registry serve "$1" </dev/null & pid=$!\nexec 3<&0\n( read _ <&3; kill $pid 2>/dev/null ) >/dev/null 2>&1 &\nwait $pid';
    const child = spawn('/bin/sh', ['-c', script, 'sh', path.join(this.dir, 'config.yml')], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (d) => (this.log += d));
    child.stderr!.on('data', (d) => (this.log += d));
    const end = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`registry exited: ${this.log}`);
      const up = await new Promise<boolean>((resolve) => {
        const req = http.get(`http://${this.host}/v2/`, (res) => {
          res.resume();
          resolve(true);
        });
        req.on('error', () => resolve(false));
      });
      if (up) return;
      if (Date.now() > end) throw new Error(`registry did not start: ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** skopeo copy from an OCI layout (`--all` for indexes), with credentials when the registry wants them. */
  async push(layoutDir: string, layoutRef: string, dest: string, opts: { all?: boolean } = {}): Promise<void> {
    const [user] = Object.keys(this.users);
    const args = ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false'];
    if (opts.all) args.push('--all');
    if (user) args.push('--dest-creds', `${user}:${this.users[user]}`);
    args.push(`oci:${layoutDir}:${layoutRef}`, `docker://${this.host}/${dest}`);
    // Not execFileSync: with token auth, skopeo asks this very process's token server.
    const child = spawn('/usr/bin/skopeo', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: this.dir } });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    if (code !== 0) throw new Error(`skopeo ${args.join(' ')} failed (${code}): ${out}`);
  }

  /** The digest a tag points at, as the registry stored it (skopeo may rewrite what it pushes). */
  tagDigest(repo: string, tag: string): string {
    return fs.readFileSync(path.join(this.storage, 'docker/registry/v2/repositories', repo, '_manifests/tags', tag, 'current/link'), 'utf8').trim();
  }

  blobPath(digest: string): string {
    const hex = digest.slice(7);
    return path.join(this.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child) {
      const exited = child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once('exit', r)) : undefined;
      child.stdin!.end(); // the watchdog kills the registry; the shell exits once it has
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (this.tokens) await close(this.tokens.server);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Seen {
  method: string;
  url: string;
  status: number;
  range?: string;
  authorization?: string;
}

/**
 * A transparent HTTP proxy in front of a registry that records every request, and on demand
 * cuts a blob download short, ignores Range (answers 200), or redirects blobs to `cdn`.
 */
export class Proxy {
  readonly server: http.Server;
  readonly seen: Seen[] = [];
  port = 0;
  private readonly target: number;
  /** The next `times` blob GETs stop after `after` bytes (the connection is destroyed). */
  cut?: { after: number; times: number };
  /** Each blob GET sends at most `after` bytes, then nothing more while the connection stays open; `sent` counts what went out. */
  stall?: { after: number; sent: number };
  /** Blob requests reach the registry without Range: it answers 200 with the whole blob. */
  ignoreRange = false;
  /** Blob GETs answer 307 to this base URL (+ /blob/<digest>). */
  redirectTo?: string;
  /** The next `times` blob upload PUTs of at least `minBytes` answer 503 without reaching the registry. */
  failUploads?: { times: number; minBytes: number };

  constructor(target: number) {
    this.target = target;
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  static async start(target: number): Promise<Proxy> {
    const p = new Proxy(target);
    p.port = await listen(p.server);
    return p;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  blobGets(): Seen[] {
    return this.seen.filter((s) => s.method === 'GET' && /\/blobs\/sha256:/.test(s.url) && s.status !== 401);
  }

  reset(): void {
    this.seen.length = 0;
    this.cut = undefined;
    this.ignoreRange = false;
    this.redirectTo = undefined;
    this.stall = undefined;
    this.failUploads = undefined;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '/';
    const isBlob = /\/blobs\/sha256:[a-f0-9]{64}$/.test(url);
    const record: Seen = { method: req.method ?? 'GET', url, status: 0, range: req.headers.range, authorization: req.headers.authorization };
    this.seen.push(record);
    if (isBlob && this.redirectTo && req.method === 'GET') {
      record.status = 307;
      res.writeHead(307, { location: `${this.redirectTo}/blob/${url.slice(url.lastIndexOf('/') + 1)}` });
      res.end();
      return;
    }
    const fail = this.failUploads;
    if (req.method === 'PUT' && /\/blobs\/uploads\//.test(url) && fail && fail.times > 0 && Number(req.headers['content-length']) >= fail.minBytes) {
      fail.times--;
      record.status = 503;
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected failure' }] }));
      });
      return;
    }
    const headers = { ...req.headers };
    if (isBlob && this.ignoreRange) delete headers.range;
    const up = http.request({ host: '127.0.0.1', port: this.target, method: req.method, path: url, headers }, (ur) => {
      record.status = ur.statusCode ?? 0;
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      const stall = isBlob && req.method === 'GET' && ur.statusCode !== 401 ? this.stall : undefined;
      if (stall) {
        let sent = 0;
        ur.on('data', (chunk: Buffer) => {
          const part = chunk.subarray(0, Math.max(0, stall.after - sent));
          if (!part.length) return;
          sent += part.length;
          stall.sent += part.length;
          res.write(part);
        });
        ur.on('end', () => {
          if (sent < stall.after) res.end(); // shorter than the stall point: passed whole
        });
        return;
      }
      const cut = isBlob && req.method === 'GET' && ur.statusCode !== 401 && this.cut && this.cut.times > 0 ? this.cut : undefined;
      if (!cut) {
        ur.pipe(res);
        return;
      }
      let sent = 0;
      ur.on('data', (chunk: Buffer) => {
        if (sent >= cut.after) return;
        const part = chunk.subarray(0, cut.after - sent);
        sent += part.length;
        res.write(part);
        if (sent >= cut.after) {
          cut.times--;
          ur.destroy();
          res.socket?.destroy();
        }
      });
      ur.on('end', () => res.end()); // shorter than the cut: passed whole
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }

  async stop(): Promise<void> {
    await close(this.server);
  }
}

/** A stand-in for the object storage a registry redirects blobs to: serves them from the registry's files, records who asked how. */
export class Cdn {
  readonly server: http.Server;
  readonly seen: Array<{ url: string; authorization?: string }> = [];
  port = 0;
  constructor(registry: TestRegistry) {
    this.server = http.createServer((req, res) => {
      this.seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      const digest = /^\/blob\/(sha256:[a-f0-9]{64})$/.exec(req.url ?? '')?.[1];
      let data: Buffer;
      try {
        data = fs.readFileSync(registry.blobPath(digest ?? ''));
      } catch {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-length': data.length, 'content-type': 'application/octet-stream' });
      res.end(data);
    });
  }

  static async start(registry: TestRegistry): Promise<Cdn> {
    const c = new Cdn(registry);
    c.port = await listen(c.server);
    return c;
  }

  async stop(): Promise<void> {
    await close(this.server);
  }
}

export const digestOf = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
