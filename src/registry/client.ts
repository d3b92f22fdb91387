// A client for one registry (the OCI distribution API): endpoint and scheme, the anonymous ->
// challenge -> credentials/token flow, manifests and blob responses.
//
// HTTP is node:http/node:https rather than fetch or the npm undici. fetch refuses "bad ports"
// (a registry on :6000 or :10080 would be unreachable), asks for gzip transfer encoding and
// hides redirect targets behind its own policy; undici's interceptors would resume a blob
// transparently, while a pull must see every resume to check Content-Range and to know what it
// already wrote. What remains (redirects, retries, auth) is registry-specific and short, so it is
// written here on the plain modules, with no dependency.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { rootCertificates as tlsRoots } from 'node:tls';
import type { Readable } from 'node:stream';
import { BerthError, invalid, notFound } from '../core/errors.ts';
import { sha256 } from '../content/store.ts';
import { DEFAULT_DOMAIN } from '../image/reference.ts';
import { isDigest, MANIFEST_ACCEPT, MAX_MANIFEST_BYTES } from '../image/manifest.ts';
import { parseChallenges, type Challenge } from './challenge.ts';
import type { Credentials } from './credentials.ts';

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 8 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 8 }),
};

const IDLE_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 10;
const REPO_PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/** A host is spoken to in plain HTTP only when it is this machine or the user said so. */
export function isInsecureRegistry(registry: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.split(':')[0];
  if (host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  const listed = (env.BERTH_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  return listed.includes(registry.toLowerCase());
}

/** Base URL of a registry named as references name it: docker.io is served by registry-1.docker.io. */
export function registryBase(registry: string, env: NodeJS.ProcessEnv = process.env): URL {
  const host = registry === DEFAULT_DOMAIN ? 'registry-1.docker.io' : registry;
  return new URL(`${isInsecureRegistry(registry, env) ? 'http' : 'https'}://${host}`);
}

/** Go's wording for dial errors, which users of docker recognise; the host is always named. */
function networkError(err: unknown, method: string, url: URL): BerthError {
  const e = err as NodeJS.ErrnoException;
  const where = `${method[0]}${method.slice(1).toLowerCase()} "${url.href}"`;
  let why: string;
  switch (e.code) {
    case 'ECONNREFUSED': why = `dial tcp ${url.host}: connect: connection refused`; break;
    case 'ENOTFOUND': case 'EAI_AGAIN': why = `dial tcp: lookup ${url.hostname}: no such host`; break;
    case 'ETIMEDOUT': why = `dial tcp ${url.host}: i/o timeout`; break;
    case 'EHOSTUNREACH': case 'ENETUNREACH': why = `dial tcp ${url.host}: connect: no route to host`; break;
    case 'ECONNRESET': why = `read tcp ${url.host}: connection reset by peer`; break;
    case 'EPROTO': case 'ERR_SSL_WRONG_VERSION_NUMBER':
      why = `http: server gave HTTP response to HTTPS client (add ${url.host} to BERTH_INSECURE_REGISTRIES to use plain HTTP)`;
      break;
    default: why = e.message || String(err);
  }
  return new BerthError('Unavailable', `${where}: ${why}`, { cause: err });
}

/** A request body: bytes, or a stream made afresh for each attempt (a 401 retry sends it again). */
export type Body = Buffer | (() => Readable);

export function send(url: URL, opts: { method?: string; headers?: Record<string, string>; signal?: AbortSignal; body?: Body; agent?: https.Agent } = {}): Promise<http.IncomingMessage> {
  const method = opts.method ?? 'GET';
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') return Promise.reject(invalid(`unsupported URL scheme in ${url.href}`));
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      url,
      { method, headers: opts.headers, agent: secure ? (opts.agent ?? agents.https) : agents.http, signal: opts.signal, timeout: IDLE_TIMEOUT_MS },
      resolve,
    );
    // The timeout is the socket's idle time, so it also ends a body that stalls mid-transfer.
    req.on('timeout', () => req.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => reject(networkError(err, method, url)));
    const body = opts.body;
    if (typeof body === 'function') {
      const src = body();
      src.on('error', (err) => req.destroy(err));
      src.pipe(req);
    } else req.end(body);
  });
}

/** A response body, read whole but never beyond `limit` bytes. */
export async function readBody(res: http.IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (declared > limit) {
    res.destroy();
    throw invalid(`${what} is too large: ${declared} bytes (the limit is ${limit})`);
  }
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of res) {
    n += (chunk as Buffer).length;
    if (n > limit) {
      res.destroy();
      throw invalid(`${what} is too large: more than ${limit} bytes`);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** The registry's error document (`{"errors":[{"code","message"}]}`) as docker prints it. */
export async function errorText(res: http.IncomingMessage): Promise<string> {
  let body: Buffer = Buffer.alloc(0);
  try {
    body = await readBody(res, 64 << 10, 'error response');
  } catch {}
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: string; message?: string }>; details?: string };
    if (Array.isArray(doc.errors) && doc.errors.length)
      return doc.errors.map((e) => `${String(e.code ?? 'unknown').toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`).join('; ');
    if (typeof doc.details === 'string') return doc.details;
  } catch {}
  return `${res.statusCode} ${res.statusMessage ?? http.STATUS_CODES[res.statusCode ?? 0] ?? ''}`.trim();
}

function basicHeader(c: Credentials): string {
  return 'Basic ' + Buffer.from(`${c.username}:${c.password}`).toString('base64');
}

export interface Manifest {
  bytes: Buffer;
  mediaType: string; // the response's Content-Type
  digest: string; // sha256 of the bytes received: the manifest's identity, whatever the registry says
}

/**
 * Where and how to reach a registry when configuration says so (a hosts.toml entry): its URL,
 * the path its API lives under, TLS settings and headers for every request to it.
 */
export interface Endpoint {
  url: URL;
  /** "/v2" by default; "/prefix/v2" for a host with a path; the path itself with override_path. */
  apiRoot: string;
  tls: { ca: string[]; client: Array<{ cert: string; key?: string }>; skipVerify: boolean };
  headers: Record<string, string>;
}

export interface RegistryClientOptions {
  credentials?: Credentials;
  env?: NodeJS.ProcessEnv;
  userAgent?: string;
  /** Instead of the registry's own address (registryBase). */
  endpoint?: Endpoint;
}

// Agents for hosts with their own TLS settings, shared by every client for the same settings.
const tlsAgents = new Map<string, https.Agent>();

/** An HTTPS agent trusting the endpoint's CAs (besides the system's) and presenting its client certificate. */
function tlsAgent(tls: Endpoint['tls']): https.Agent | undefined {
  if (!tls.ca.length && !tls.client.length && !tls.skipVerify) return undefined;
  const read = (file: string, what: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw invalid(`cannot read the ${what} ${file}: ${(err as Error).message}`, err);
    }
  };
  const ca = tls.ca.map((f) => read(f, 'CA certificate'));
  const pairs = tls.client.map((c) => ({ cert: read(c.cert, 'client certificate'), key: read(c.key ?? c.cert, 'client key') }));
  const key = sha256(Buffer.concat([Buffer.from(tls.skipVerify ? '1' : '0'), ...ca, ...pairs.flatMap((p) => [p.cert, p.key])]));
  let agent = tlsAgents.get(key);
  if (!agent) {
    agent = new https.Agent({
      keepAlive: true,
      maxSockets: 8,
      rejectUnauthorized: !tls.skipVerify,
      ...(ca.length ? { ca: [...tlsRoots, ...ca.map((b) => b.toString('utf8'))] } : {}),
      ...(pairs.length ? { cert: pairs[0].cert, key: pairs[0].key } : {}),
    });
    tlsAgents.set(key, agent);
  }
  return agent;
}

export class RegistryClient {
  readonly registry: string;
  readonly base: URL;
  private readonly apiRoot: string;
  private readonly endpoint?: Endpoint;
  private agent?: https.Agent | null; // null: the shared one; made on first use, a bad CA file fails a request
  private readonly credentials?: Credentials;
  private readonly userAgent: string;
  // What the registry asked for on its first 401; later requests authenticate up front.
  private scheme?: 'basic' | 'bearer';
  private readonly tokens = new Map<string, string>(); // scope -> bearer token

  constructor(registry: string, opts: RegistryClientOptions = {}) {
    this.registry = registry;
    this.endpoint = opts.endpoint;
    this.base = opts.endpoint ? new URL(opts.endpoint.url.origin) : registryBase(registry, opts.env);
    this.apiRoot = opts.endpoint?.apiRoot ?? '/v2';
    this.credentials = opts.credentials;
    this.userAgent = opts.userAgent ?? 'berth';
  }

  /** Where an API path ("/v2/...") lives on this host; absolute URLs (upload locations) stay as they are. */
  url(apiPath: string): URL {
    return new URL(apiPath.startsWith('/v2/') ? this.apiRoot + apiPath.slice(3) : apiPath, this.base);
  }

  /** The endpoint's headers and TLS agent, for requests to its own origin only. */
  private extras(url: URL): { headers: Record<string, string>; agent?: https.Agent } {
    if (!this.endpoint || url.origin !== this.base.origin) return { headers: {} };
    if (this.agent === undefined) this.agent = tlsAgent(this.endpoint.tls) ?? null;
    return { headers: this.endpoint.headers, agent: this.agent ?? undefined };
  }

  /** Credentials and tokens are for the registry's own origin only: never for a redirect target or anyone else. */
  private authorization(url: URL, scope: string): string | undefined {
    if (url.origin !== this.base.origin) return undefined;
    if (this.credentials?.registryToken) return `Bearer ${this.credentials.registryToken}`;
    if (this.scheme === 'basic' && this.credentials) return basicHeader(this.credentials);
    const token = this.scheme === 'bearer' ? this.tokens.get(scope) : undefined;
    return token ? `Bearer ${token}` : undefined;
  }

  /**
   * One request to the registry (its own origin): anonymous or with what an earlier challenge
   * asked for; on 401, answers the challenge once and retries. Any other status is the caller's.
   */
  async request(path: string, opts: { scope?: string; headers?: Record<string, string>; method?: string; signal?: AbortSignal; body?: Body } = {}): Promise<http.IncomingMessage> {
    const url = this.url(path);
    const scope = opts.scope ?? '';
    const go = () => {
      const extras = this.extras(url);
      const headers: Record<string, string> = { 'user-agent': this.userAgent, ...extras.headers, ...opts.headers };
      const auth = this.authorization(url, scope);
      if (auth) headers.authorization = auth;
      return send(url, { method: opts.method, headers, signal: opts.signal, body: opts.body, agent: extras.agent });
    };
    const res = await go();
    if (res.statusCode !== 401 || this.credentials?.registryToken) return res;
    const challenge = this.pick(parseChallenges(String(res.headers['www-authenticate'] ?? '')));
    if (!challenge) return res;
    res.resume();
    await this.answer(challenge, scope, opts.signal);
    return go();
  }

  /** The challenge we can answer: bearer always (anonymous tokens exist), basic only with credentials. */
  private pick(challenges: Challenge[]): Challenge | undefined {
    return challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ?? challenges.find((c) => c.scheme === 'basic' && this.credentials);
  }

  private async answer(ch: Challenge, scope: string, signal?: AbortSignal): Promise<void> {
    if (ch.scheme === 'basic') {
      this.scheme = 'basic';
      return;
    }
    let realm: URL;
    try {
      realm = new URL(ch.params.realm);
    } catch {
      throw invalid(`registry ${this.registry} sent an invalid token realm ${JSON.stringify(ch.params.realm)}`);
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw invalid(`registry ${this.registry} sent an unsupported token realm ${realm.href}`);
    const q = realm.searchParams;
    if (ch.params.service) q.set('service', ch.params.service);
    // A scope may be several, space-separated (a push that mounts from another repository).
    const wanted = scope || ch.params.scope;
    for (const one of (wanted ?? '').split(' ').filter(Boolean)) q.append('scope', one);
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    let res: http.IncomingMessage;
    if (this.credentials?.identityToken) {
      // An identity token is an OAuth2 refresh token: POSTed to the realm for an access token (as docker).
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.credentials.identityToken, client_id: 'berth' });
      if (ch.params.service) form.set('service', ch.params.service);
      const scopes = q.getAll('scope');
      if (scopes.length) form.set('scope', scopes.join(' '));
      const body = Buffer.from(form.toString());
      realm.search = '';
      res = await send(realm, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) }, body, signal });
    } else {
      // As docker does, the registry's credentials go to the realm it named (and only there).
      if (this.credentials) {
        q.set('account', this.credentials.username);
        headers.authorization = basicHeader(this.credentials);
      }
      res = await send(realm, { headers, signal });
    }
    const shown = `${realm.origin}${realm.pathname}`;
    if (res.statusCode !== 200) {
      const why = await errorText(res);
      const code = res.statusCode === 401 || res.statusCode === 403 ? 'PermissionDenied' : 'Unavailable';
      throw new BerthError(code, `Get "${shown}": ${res.statusCode === 401 && !/unauthorized/i.test(why) ? `unauthorized: ${why}` : why}`);
    }
    let doc: { token?: unknown; access_token?: unknown };
    try {
      doc = JSON.parse((await readBody(res, 1 << 20, 'token response')).toString('utf8'));
    } catch (err) {
      if (err instanceof BerthError) throw err;
      throw invalid(`token server ${shown} sent an invalid response`, err);
    }
    const token = typeof doc.token === 'string' && doc.token ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : '';
    if (!token) throw invalid(`token server ${shown} sent no token`);
    this.scheme = 'bearer';
    this.tokens.set(scope, token);
  }

  /** Checks that the registry accepts our credentials (or none): GET /v2/ through the challenge flow. */
  async login(signal?: AbortSignal): Promise<void> {
    const res = await this.request('/v2/', { signal });
    if (res.statusCode === 200) {
      res.resume();
      return;
    }
    const why = await errorText(res);
    if (res.statusCode === 401) throw new BerthError('PermissionDenied', `login attempt to ${this.url('/v2/').href} failed with status: 401 Unauthorized (${why})`);
    throw new BerthError('Unavailable', `login attempt to ${this.url('/v2/').href} failed with status: ${why}`);
  }

  private static check(repo: string, reference: string): void {
    if (!REPO_PATH.test(repo)) throw invalid(`invalid repository name "${repo}"`);
    if (!isDigest(reference) && !TAG.test(reference)) throw invalid(`invalid tag or digest "${reference}"`);
  }

  /** Fails with docker's wording for statuses a manifest or blob request can end with. */
  private async fail(res: http.IncomingMessage, repo: string, what: string, action: 'pull' | 'push' = 'pull'): Promise<never> {
    const why = await errorText(res);
    const status = res.statusCode ?? 0;
    if (status === 404) throw notFound(`${what} not found: ${why}`);
    if (status === 401 || status === 403) {
      if (this.credentials) throw new BerthError('PermissionDenied', `${what}: ${why}`);
      const name = this.registry === DEFAULT_DOMAIN ? repo.replace(/^library\//, '') : `${this.registry}/${repo}`;
      const hint = action === 'pull' ? 'repository does not exist or may require' : 'it may require';
      throw new BerthError('PermissionDenied', `${action} access denied for ${name}, ${hint} 'berth login': ${why}`);
    }
    if (status === 429 || status >= 500) throw new BerthError('Unavailable', `${what}: ${why}`);
    throw invalid(`${what}: ${why}`);
  }

  /** A manifest or index by tag or digest, bounded in size; `what` names it in errors ("manifest for busybox:1"). */
  async manifest(repo: string, reference: string, what: string, signal?: AbortSignal): Promise<Manifest> {
    RegistryClient.check(repo, reference);
    const res = await this.request(`/v2/${repo}/manifests/${reference}`, {
      scope: `repository:${repo}:pull`,
      headers: { accept: MANIFEST_ACCEPT.join(', ') },
      signal,
    });
    if (res.statusCode !== 200) return this.fail(res, repo, what);
    const bytes = await readBody(res, MAX_MANIFEST_BYTES, what);
    return { bytes, mediaType: String(res.headers['content-type'] ?? ''), digest: sha256(bytes) };
  }

  /**
   * The response for a blob, from `offset` on, following redirects. A redirect target (a CDN,
   * object storage) gets no Authorization: the registry signed the URL for it.
   */
  async blob(repo: string, digest: string, opts: { offset?: number; signal?: AbortSignal } = {}): Promise<http.IncomingMessage> {
    RegistryClient.check(repo, digest);
    const headers: Record<string, string> = opts.offset ? { range: `bytes=${opts.offset}-` } : {};
    let res = await this.request(`/v2/${repo}/blobs/${digest}`, { scope: `repository:${repo}:pull`, headers, signal: opts.signal });
    let url = this.url(`/v2/${repo}/blobs/${digest}`);
    for (let hops = 0; res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location; hops++) {
      res.resume();
      if (hops === MAX_REDIRECTS) throw new BerthError('Unavailable', `blob ${digest}: stopped after ${MAX_REDIRECTS} redirects`);
      url = new URL(res.headers.location, url);
      const extras = this.extras(url);
      const h: Record<string, string> = { 'user-agent': this.userAgent, ...extras.headers, ...headers };
      const auth = this.authorization(url, `repository:${repo}:pull`);
      if (auth) h.authorization = auth;
      res = await send(url, { headers: h, signal: opts.signal, agent: extras.agent });
    }
    if (res.statusCode !== 200 && res.statusCode !== 206) return this.fail(res, repo, `blob ${digest}`);
    return res;
  }

  // ---- push ----

  /** Whether the repository already has a blob (HEAD; a redirect means it is stored elsewhere). */
  async hasBlob(repo: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    RegistryClient.check(repo, digest);
    const res = await this.request(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD', scope: pushScope(repo), signal });
    res.resume();
    const status = res.statusCode ?? 0;
    if (status === 200 || (status >= 300 && status < 400)) return true;
    if (status === 404) return false;
    return this.fail(res, repo, `blob ${digest}`, 'push');
  }

  /**
   * Uploads one blob: POST opens an upload session, one PUT with `?digest=` sends every byte and
   * closes it (the spec's monolithic upload); the registry verifies the digest before it keeps it.
   * With `from` (another repository of this registry that has the blob), the POST first asks to
   * mount it from there, which needs no bytes; a registry that will not mount opens a session.
   */
  async uploadBlob(repo: string, desc: { digest: string; size: number }, body: Body, opts: { from?: string; signal?: AbortSignal } = {}): Promise<'mounted' | 'uploaded'> {
    RegistryClient.check(repo, desc.digest);
    if (opts.from !== undefined && !REPO_PATH.test(opts.from)) throw invalid(`invalid repository name "${opts.from}"`);
    const scope = opts.from ? `${pushScope(repo)} repository:${opts.from}:pull` : pushScope(repo);
    const what = `blob upload ${desc.digest}`;
    const query = opts.from ? `?mount=${desc.digest}&from=${encodeURIComponent(opts.from)}` : '';
    const start = await this.request(`/v2/${repo}/blobs/uploads/${query}`, { method: 'POST', scope, headers: { 'content-length': '0' }, signal: opts.signal });
    if (opts.from && start.statusCode === 201) {
      start.resume();
      return 'mounted';
    }
    if (opts.from && (start.statusCode === 401 || start.statusCode === 403)) {
      // No pull access to the other repository: upload the bytes instead.
      start.resume();
      return this.uploadBlob(repo, desc, body, { signal: opts.signal });
    }
    if (start.statusCode !== 202) return this.fail(start, repo, what, 'push');
    start.resume();
    const location = start.headers.location;
    if (!location) throw new BerthError('Unavailable', `${what}: the registry sent no upload location`);
    const url = new URL(location, this.base); // the registry's own path: not mapped again
    url.searchParams.set('digest', desc.digest);
    const res = await this.request(url.href, {
      method: 'PUT',
      scope,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
      body,
      signal: opts.signal,
    });
    if (res.statusCode !== 201) return this.fail(res, repo, what, 'push');
    res.resume();
    return 'uploaded';
  }

  /** Puts a manifest under a tag; returns its digest (of the bytes sent, whatever the registry echoes). */
  async putManifest(repo: string, tag: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<string> {
    RegistryClient.check(repo, tag);
    const res = await this.request(`/v2/${repo}/manifests/${tag}`, {
      method: 'PUT',
      scope: pushScope(repo),
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      body: bytes,
      signal,
    });
    if (res.statusCode !== 201 && res.statusCode !== 200) return this.fail(res, repo, `manifest for ${tag}`, 'push');
    res.resume();
    return sha256(bytes);
  }
}

const pushScope = (repo: string) => `repository:${repo}:pull,push`;
