// /images/*: list, inspect, pull (JSON progress lines), import, tag, remove, history.
import { digestHex } from '../content/store.ts';
import { invalid } from '../core/errors.ts';
import type { Engine } from '../engine/engine.ts';
import type { PullEvent } from '../engine/pull.ts';
import { inspectImage } from '../image/inspect.ts';
import { familiarReference, familiarRepository, parseReference } from '../image/reference.ts';
import { parseChanges } from '../image/changes.ts';
import type { Credentials } from '../registry/credentials.ts';
import { errorReply, filters, flag, streamStart, type Call, type Router } from './http.ts';

const STATUS: Record<string, string> = {
  waiting: 'Waiting', exists: 'Already exists', downloading: 'Downloading', retrying: 'Retrying',
  verifying: 'Verifying Checksum', complete: 'Pull complete',
};

export function imageRoutes(r: Router, engine: Engine): void {
  const images = () => engine.images;

  r.on('GET', '/images/json', async (call) => {
    const f = filters(call.query);
    const refFilter = f.get('reference') ?? [];
    const dangling = f.get('dangling')?.[0];
    const labelFilter = f.get('label') ?? [];
    const out = images().list().filter(({ record, names }) => {
      if (dangling === 'true' && names.length) return false;
      if (dangling === 'false' && !names.length) return false;
      if (refFilter.length && !names.some((n) => refFilter.some((p) => globMatch(p, familiarReference(parseReference(n))) || globMatch(p, familiarRepository(parseReference(n)))))) return false;
      const labels = record.config.config?.Labels ?? {};
      return labelFilter.every((l) => (l.includes('=') ? labels[l.slice(0, l.indexOf('='))] === l.slice(l.indexOf('=') + 1) : l in labels));
    });
    const users = new Map<string, number>();
    for (const c of engine.containers.list(true)) users.set(c.record.Image, (users.get(c.record.Image) ?? 0) + 1);
    return {
      status: 200,
      body: out.map(({ record, names }) => ({
        Id: record.id,
        ParentId: '',
        RepoTags: names.map((n) => {
          const ref = parseReference(n);
          return `${familiarRepository(ref)}:${ref.tag}`;
        }),
        RepoDigests: (record.repoDigests ?? []).map((d) => familiarReference(parseReference(d))),
        Created: Math.floor(Date.parse(record.created) / 1000),
        Size: record.size,
        SharedSize: -1,
        VirtualSize: record.size,
        Labels: record.config.config?.Labels ?? {},
        Containers: users.get(record.id) ?? -1,
      })),
    };
  });

  r.on('GET', '/images/{name*}/json', async (call) => {
    const rec = images().resolve(call.params.name);
    return { status: 200, body: inspectImage(rec, images().list().find((s) => s.record.id === rec.id)?.names ?? []) };
  });

  r.on('GET', '/images/{name*}/history', async (call) => {
    const rec = images().resolve(call.params.name);
    const history = rec.config.history ?? [];
    return {
      status: 200,
      body: [...history].reverse().map((h, i) => ({
        Id: i === 0 ? rec.id : '<missing>', Created: Math.floor(Date.parse(h.created ?? rec.created) / 1000), CreatedBy: h.created_by ?? '',
        Tags: null, Size: 0, Comment: h.comment ?? '',
      })),
    };
  });

  r.on('POST', '/images/{name*}/tag', async (call) => {
    const repo = call.query.get('repo');
    if (!repo) throw invalid('repository name must have at least one component');
    const tag = call.query.get('tag');
    images().tag(images().resolve(call.params.name).id, tag ? `${repo}:${tag}` : repo);
    return { status: 201 };
  });

  r.on('DELETE', '/images/{name*}', async (call) => {
    const lines = images().remove(call.params.name, { force: flag(call.query, 'force'), inUse: (id) => engine.containers.imageUser(id) });
    return {
      status: 200,
      body: lines.map((l) => (l.startsWith('Untagged: ') ? { Untagged: l.slice(10) } : { Deleted: l.slice(9) })),
    };
  });

  // docker login: checks the credentials with the registry's challenge flow, then keeps them.
  r.on('POST', '/auth', async (call) => {
    const { readJson } = await import('./http.ts');
    const body = await readJson(call.req);
    const username = body.username, password = body.password;
    if (typeof username !== 'string' || typeof password !== 'string' || !username) throw invalid('username and password are required');
    await engine.login(typeof body.serveraddress === 'string' && body.serveraddress ? body.serveraddress : 'docker.io', { username, password });
    return { status: 200, body: { Status: 'Login Succeeded', IdentityToken: '' } };
  });

  // Pull (fromImage) or import (fromSrc=-): progress as JSON lines. Errors before the stream
  // starts are plain HTTP errors; after, an errorDetail line (what the docker CLI prints).
  r.on('POST', '/images/create', async (call) => {
    const q = call.query;
    const fromImage = q.get('fromImage');
    const fromSrc = q.get('fromSrc');
    if (fromSrc !== null) {
      if (fromSrc !== '-') throw invalid('importing from a URL is not supported: send the tarball as the body (fromSrc=-)');
      const repo = q.get('repo');
      const name = repo ? `${repo}${q.get('tag') ? ':' + q.get('tag') : ''}` : undefined;
      const rec = await images().importRootfs(call.req as AsyncIterable<Buffer>, { name, changes: parseChanges(q.getAll('changes')), message: q.get('message') ?? undefined });
      const res = streamStart(call, 200, 'application/json');
      res.end(JSON.stringify({ status: rec.id }) + '\n');
      return;
    }
    if (!fromImage) throw invalid('fromImage or fromSrc is required');
    const tag = q.get('tag');
    const name = tag ? (tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`) : fromImage;
    // Headers go out with the first progress line: an error before it (no such image, bad
    // credentials) is an ordinary HTTP error with its status, which `docker pull` reports.
    let res: ReturnType<typeof streamStart> | undefined;
    const line = (o: object) => (res ??= streamStart(call, 200, 'application/json')).write(JSON.stringify(o) + '\r\n');
    try {
      const result = await engine.pull(name, {
        platform: q.get('platform') || undefined,
        credentials: registryAuth(call.req.headers['x-registry-auth']),
        onEvent: (e: PullEvent) => {
          if (e.type === 'resolved') line({ status: `Pulling from ${familiarRepository(e.ref)}`, id: e.ref.tag ?? e.ref.digest });
          else if (e.type === 'layer') {
            const id = digestHex(e.id).slice(0, 12);
            const progress = e.total ? { progressDetail: { current: e.current ?? 0, total: e.total } } : { progressDetail: {} };
            line({ status: STATUS[e.status] ?? e.status, ...progress, id });
          }
        },
      });
      line({ status: `Digest: ${result.digest}` });
      line({ status: result.upToDate ? `Status: Image is up to date for ${familiarReference(result.ref)}` : `Status: Downloaded newer image for ${familiarReference(result.ref)}` });
    } catch (err) {
      if (!res) throw err;
      const message = (errorReply(err).body as { message: string }).message;
      line({ errorDetail: { message }, error: message });
    }
    res!.end();
  });
}

/**
 * X-Registry-Auth: base64url JSON {username, password} (an identity token is not supported);
 * credentials for this request only, never stored.
 */
export function registryAuth(header: string | string[] | undefined): Credentials | undefined {
  if (typeof header !== 'string' || !header) return undefined;
  let auth: { username?: unknown; password?: unknown };
  try {
    auth = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    throw invalid('invalid X-Registry-Auth header: not base64 JSON');
  }
  return typeof auth?.username === 'string' && auth.username && typeof auth.password === 'string' ? { username: auth.username, password: auth.password } : undefined;
}

/** docker's reference filter: shell-style `*` within a name. */
function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '$');
  return re.test(value) || re.test(value.replace(/:latest$/, ''));
}
