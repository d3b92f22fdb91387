// /images/*: list, inspect, pull (JSON progress lines), import, tag, remove, history.
import { digestHex } from '../content/store.ts';
import { BerthError, invalid } from '../core/errors.ts';
import type { Engine } from '../engine/engine.ts';
import type { PullEvent } from '../engine/pull.ts';
import type { PushEvent } from '../engine/push.ts';
import { imageHistory } from '../image/history.ts';
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
    const matches = (n: string) => refFilter.some((p) => globMatch(p, familiarReference(parseReference(n))) || globMatch(p, familiarRepository(parseReference(n))));
    // With a reference filter an image lists only its names that match (dockerd: `image ls bb`
    // shows bb's tags, not the other names of the same image).
    const listed = images().list().map((i) => (refFilter.length ? { ...i, names: i.names.filter(matches) } : i));
    const out = listed.filter(({ record, names }) => {
      if (dangling === 'true' && names.length) return false;
      if (dangling === 'false' && !names.length) return false;
      if (refFilter.length && !names.length) return false;
      const labels = record.config.config?.Labels ?? {};
      return labelFilter.every((l) => (l.includes('=') ? labels[l.slice(0, l.indexOf('='))] === l.slice(l.indexOf('=') + 1) : l in labels));
    });
    const users = new Map<string, number>();
    for (const c of engine.containers.list(true)) users.set(c.record.Image, (users.get(c.record.Image) ?? 0) + 1);
    return {
      status: 200,
      body: out.map(({ record, names }) => ({
        Id: record.id,
        ParentId: record.parent ?? '',
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

  // docker search: the index's v1 search API; the registry's credentials are not needed.
  r.on('GET', '/images/search', async (call) => {
    const { parseSearchFilters, searchImages } = await import('../registry/search.ts');
    const limit = call.query.get('limit');
    const body = await searchImages(call.query.get('term') ?? '', {
      limit: limit ? Number(limit) : undefined,
      filters: parseSearchFilters(Object.fromEntries(filters(call.query))),
    });
    return { status: 200, body };
  });

  r.on('GET', '/images/{name*}/json', async (call) => {
    const rec = images().resolve(call.params.name);
    const body = inspectImage(rec, images().list().find((s) => s.record.id === rec.id)?.names ?? []) as Record<string, unknown>;
    // Fields later API versions dropped, for the clients that still ask for those versions.
    // A committed image's are its container's (docker-py's test_commit reads them).
    const from = rec.config.container_config;
    if (call.version < 1.45) Object.assign(body, { Container: rec.config.container ?? '', ContainerConfig: from ? { ...(body.ContainerConfig as object), ...from } : { ...(body.Config as object), Cmd: null, Env: null, Labels: null } });
    if (call.version < 1.44) body.VirtualSize = body.Size;
    return { status: 200, body };
  });

  r.on('GET', '/images/{name*}/history', async (call) => {
    const rec = images().resolve(call.params.name);
    const names = images().list().find((s) => s.record.id === rec.id)?.names ?? [];
    return {
      status: 200,
      body: imageHistory(rec, names.map((n) => familiarReference(parseReference(n)))).map((h) => ({
        Id: h.id, Created: h.created, CreatedBy: h.createdBy, Tags: h.tags, Size: h.size, Comment: h.comment,
      })),
    };
  });

  r.on('POST', '/images/{name*}/tag', async (call) => {
    const source = images().resolve(call.params.name); // a missing image first, as dockerd
    const repo = call.query.get('repo');
    if (!repo) throw invalid('repository name must have at least one component');
    const tag = call.query.get('tag');
    images().tag(source.id, tag ? `${repo}:${tag}` : repo);
    return { status: 201 };
  });

  r.on('DELETE', '/images/{name*}', async (call) => {
    const lines = images().remove(call.params.name, { force: flag(call.query, 'force'), inUse: engine.containers.imageUsers() });
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
    await engine.login(typeof body.serveraddress === 'string' && body.serveraddress ? body.serveraddress : 'docker.io', { username, password }).catch((err) => {
      throw asDockerd(err);
    });
    return { status: 200, body: { Status: 'Login Succeeded', IdentityToken: '' } };
  });

  // docker push: progress lines like docker's, then an aux line with the tag, digest and size.
  r.on('POST', '/images/{name*}/push', async (call) => {
    const tag = call.query.get('tag');
    const name = tag ? `${call.params.name}:${tag}` : call.params.name;
    let res: ReturnType<typeof streamStart> | undefined;
    const line = (o: object) => (res ??= streamStart(call, 200, 'application/json')).write(JSON.stringify(o) + '\r\n');
    // dockerd names the repository before anything else, so that every later failure (no such
    // image, the registry's refusal) is an error line in a 200 stream, which clients read.
    const credentials = registryAuth(call.req.headers['x-registry-auth']);
    const ref = parseReference(name);
    line({ status: `The push refers to repository [${ref.domain}/${ref.path}]` }); // the full name, as dockerd
    try {
      const result = await engine.push(name, {
        credentials,
        onEvent: (e: PushEvent) => {
          if (e.type === 'layer') {
            const status = e.status === 'mounted' ? `Mounted from ${e.from ?? ''}` : (PUSH_STATUS[e.status] ?? e.status);
            line({ status, progressDetail: e.total ? { current: e.current ?? 0, total: e.total } : {}, id: digestHex(e.id).slice(0, 12) });
          }
        },
      });
      line({ status: `${result.ref.tag ?? 'latest'}: digest: ${result.digest} size: ${result.size}` });
      line({ progressDetail: {}, aux: { Tag: result.ref.tag ?? 'latest', Digest: result.digest, Size: result.size } });
    } catch (err) {
      if (!res) throw asDockerd(err);
      const message = (errorReply(err).body as { message: string }).message;
      line({ errorDetail: { message }, error: message });
    }
    res!.end();
  });

  // docker save: one image (/images/{name}/get) or several (/images/get?names=..), as a tar.
  const save = async (call: Call, names: string[]) => {
    if (!names.length) throw invalid('no images to save');
    for (const n of names) images().resolve(n); // a missing one is a 404 before any byte
    const res = streamStart(call, 200, 'application/x-tar');
    for await (const chunk of engine.save(names)) {
      if (!res.write(chunk)) await new Promise((done) => res.once('drain', done));
    }
    res.end();
  };
  r.on('GET', '/images/get', (call) => save(call, call.query.getAll('names')));
  r.on('GET', '/images/{name*}/get', (call) => save(call, [call.params.name]));

  // docker load: the body is the archive; what was loaded comes back as stream lines.
  r.on('POST', '/images/load', async (call) => {
    // dockerd answers a load with a 200 stream whatever happens: an archive it refuses is an
    // error line (which the docker CLI prints, and the SDKs return), not an HTTP error.
    let loaded: Awaited<ReturnType<Engine['load']>>;
    try {
      loaded = await engine.load(call.req as AsyncIterable<Buffer>);
    } catch (err) {
      const message = (errorReply(err).body as { message: string }).message;
      streamStart(call, 200, 'application/json').end(JSON.stringify({ errorDetail: { message }, error: message }) + '\r\n');
      return;
    }
    const res = streamStart(call, 200, 'application/json');
    for (const img of loaded) {
      const lines = img.names.length ? img.names.map((n) => `Loaded image: ${familiarReference(parseReference(n))}\n`) : [`Loaded image ID: ${img.id}\n`];
      for (const l of lines) res.write(JSON.stringify({ stream: l }) + '\r\n');
    }
    res.end();
  });

  // docker image prune: dangling images, or with dangling=false every unused one.
  r.on('POST', '/images/prune', async (call) => {
    const all = filters(call.query).get('dangling')?.[0] === 'false';
    const { lines, reclaimed } = engine.pruneImages(all);
    engine.events.emit('image', 'prune', '', { reclaimed: String(reclaimed) });
    const deleted = lines.filter((l) => /^(Untagged|Deleted): /.test(l)).map((l) => (l.startsWith('Untagged: ') ? { Untagged: l.slice(10) } : { Deleted: l.slice(9) }));
    return { status: 200, body: { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed } };
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
      if (!res) throw asDockerd(err);
      const message = (errorReply(err).body as { message: string }).message;
      line({ errorDetail: { message }, error: message });
    }
    res!.end();
  });
}

/**
 * A registry that cannot be reached (or answers with a server error) is Unavailable to the engine,
 * which retries it; dockerd answers such a pull or login with a 500, which clients expect.
 */
export function asDockerd(err: unknown): unknown {
  return err instanceof BerthError && err.code === 'Unavailable' ? new BerthError('Internal', err.message, { cause: err }) : err;
}

const PUSH_STATUS: Record<string, string> = {
  preparing: 'Preparing', waiting: 'Waiting', pushing: 'Pushing', retrying: 'Retrying', pushed: 'Pushed', exists: 'Layer already exists',
};

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
