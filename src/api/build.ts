// POST /build: docker's classic builder API (the docker CLI with DOCKER_BUILDKIT=0, docker-py,
// dockerode, docker-compose 1.x). The context arrives as the body (a tar, maybe gzip); progress
// goes back as docker's JSON stream: "Step i/n : ..." lines, the RUN output, " ---> id", then
// {"aux":{"ID":...}} and "Successfully built/tagged". Also /build/prune and an answer for
// BuildKit's /session that tells the client to use the classic builder.
import { invalid } from '../core/errors.ts';
import type { BuildEvent } from '../build/events.ts';
import type { Engine } from '../engine/engine.ts';
import { familiarReference, parseReference } from '../image/reference.ts';
import { errorReply, flag, streamStart, type Call, type Router } from './http.ts';

function jsonParam<T>(q: URLSearchParams, name: string, fallback: T): T {
  const v = q.get(name);
  if (v === null || v === '') return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    throw invalid(`invalid ${name}: not JSON: ${v}`);
  }
}

/** buildargs maps names to values; docker sends null for "from the client's environment, unset". */
function stringMap(v: Record<string, string | null>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v ?? {})) if (typeof x === 'string') out[k] = x;
  return out;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export function buildRoutes(r: Router, engine: Engine): void {
  r.on('POST', '/build', async (call: Call) => {
    const q = call.query;
    // remote=: a Git URL or a URL to an archive or a Dockerfile, fetched here (the body is unused).
    const remote = q.get('remote') || undefined;
    if (remote && !(await import('../build/remote.ts')).isRemoteContext(remote)) throw invalid(`unable to prepare context: remote ${JSON.stringify(remote)} is neither a Git URL nor an http(s) URL`);
    if (q.get('version') === '2') throw invalid('BuildKit is not supported by this daemon: use the classic builder (DOCKER_BUILDKIT=0)');
    const networkmode = q.get('networkmode') || undefined;
    if (networkmode && !['default', 'none', 'host', 'bridge'].includes(networkmode)) throw invalid(`network mode "${networkmode}" not supported by the builder (default, none, host)`);
    const tags = q.getAll('t').filter(Boolean);
    for (const t of tags) parseReference(t);
    const quiet = flag(q, 'q');
    const controller = new AbortController();
    let finished = false;
    call.res!.on('close', () => {
      if (!finished) controller.abort(); // the client went away: stop, and leave nothing behind
    });
    let res: ReturnType<typeof streamStart> | undefined;
    const line = (o: object) => {
      res ??= streamStart(call, 200, 'application/json');
      res.write(JSON.stringify(o) + '\r\n');
    };
    const say = (text: string) => !quiet && line({ stream: text });
    const partial = new Map<number, string>();
    const containers = new Map<number, string>();
    const onEvent = (e: BuildEvent) => {
      switch (e.type) {
        case 'step':
          say(`Step ${e.step.index}/${e.step.total} : ${e.step.text}`);
          say('\n');
          break;
        case 'cached':
          say(' ---> Using cache\n');
          break;
        case 'container':
          say(` ---> Running in ${short(e.id)}\n`);
          containers.set(e.step.index, e.id);
          break;
        case 'log': {
          const text = (partial.get(e.step.index) ?? '') + e.data.toString('utf8');
          const cut = text.lastIndexOf('\n') + 1;
          if (cut) say(text.slice(0, cut));
          partial.set(e.step.index, text.slice(cut));
          break;
        }
        case 'done': {
          const rest = partial.get(e.step.index);
          if (rest) say(rest + '\n');
          partial.delete(e.step.index);
          const c = containers.get(e.step.index);
          if (c) say(`Removing intermediate container ${short(c)}\n`);
          say(` ---> ${short(e.stateId)}\n`);
          break;
        }
        case 'warning':
          say(`[Warning] ${e.message}\n`);
          break;
        case 'result':
          break;
      }
    };
    try {
      const { build } = await import('../build/builder.ts');
      const result = await build(engine, {
        context: remote ? { remote } : { tar: call.req as AsyncIterable<Buffer> },
        dockerfile: q.get('dockerfile') || undefined,
        tags,
        buildArgs: stringMap(jsonParam(q, 'buildargs', {})),
        labels: stringMap(jsonParam(q, 'labels', {})),
        target: q.get('target') || undefined,
        noCache: flag(q, 'nocache'),
        pull: flag(q, 'pull'),
        network: networkmode === 'default' ? undefined : networkmode,
        platform: q.get('platform') || undefined,
        cacheFrom: jsonParam<string[]>(q, 'cachefrom', []),
        signal: controller.signal,
        onEvent,
      });
      line({ aux: { ID: result.id } });
      if (quiet) line({ stream: `${result.id}\n` });
      say(`Successfully built ${short(result.id)}\n`);
      for (const t of tags) say(`Successfully tagged ${familiarReference(parseReference(t))}\n`);
    } catch (err) {
      if (!res && !controller.signal.aborted) throw err; // nothing sent yet: a plain HTTP error
      const run = failedRun(err);
      const message = run ? `The command '${run.command}' returned a non-zero code: ${run.code}` : (errorReply(err).body as { message: string }).message;
      if (!controller.signal.aborted) line({ errorDetail: { ...(run ? { code: run.code } : {}), message }, error: message });
    } finally {
      finished = true;
    }
    res?.end();
  });

  r.on('POST', '/build/prune', async () => {
    const { BuildCache } = await import('../build/cache.ts');
    const { reclaimed } = new BuildCache(engine.root.dir, engine.images).prune();
    return { status: 200, body: { CachesDeleted: null, SpaceReclaimed: reclaimed } };
  });

  r.on('POST', '/session', async () => {
    throw invalid('BuildKit sessions are not supported by this daemon: use the classic builder (DOCKER_BUILDKIT=0)');
  });
}

/**
 * A RUN step whose command failed, found through the error's causes: the classic builder (this
 * API) says so in its own words, "The command '...' returned a non-zero code: N" (docker-py
 * matches them), where the builder's message is BuildKit's.
 */
function failedRun(err: unknown): { command: string; code: number } | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const m = /^process "(.*)" did not complete successfully: exit code: (\d+)$/s.exec(e.message);
    if (m) return { command: m[1], code: Number(m[2]) };
  }
  return undefined;
}
