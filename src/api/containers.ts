// /containers/*: the daemon's side of create, attach, start, wait, logs (exec: exec.ts).
// Containers the daemon starts have their stdio carried here (pipes from the monitor), so
// clients attached before start see every byte; the monitor still logs and outlives us.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { isUp } from '../core/container.ts';
import { BerthError, conflict, fromSystemError, invalid, isCode } from '../core/errors.ts';
import type { RunConfig } from '../core/types.ts';
import type { Container, ContainerStreams } from '../engine/containers.ts';
import { ExecApi } from './exec.ts';
import type { Engine } from '../engine/engine.ts';
import { matches } from '../engine/filters.ts';
import { pruneFilter } from '../engine/prune-filters.ts';
import { parseTime, readLog } from '../engine/logs.ts';
import { containerSummary } from '../engine/summary.ts';
import { filters, flag, frame, headers, hidePaths, hijack, readJson, streamStart, terminalSize, type Call, type Conduit, type Router } from './http.ts';
import { DEFAULT_DETACH_KEYS, DetachScanner, parseDetachKeys } from './detach.ts';
import { createOptions } from './translate.ts';
import { canonicalCreateBody } from './json-keys.ts';

/** A client attached to a container's stdio through the daemon. */
interface Attachment {
  conduit: Conduit;
  /** Its detach keys (docker's detachKeys): the sequence ends this attachment. */
  detach?: DetachScanner;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

interface Live {
  streams: ContainerStreams;
  attachments: Set<Attachment>;
}

const running = (c: Container) => isUp(c.state.Status);

export class ContainerApi {
  private readonly engine: Engine;
  /** Attached before start: they get the stream from its first byte. */
  private readonly pending = new Map<string, Set<Attachment>>();
  private readonly live = new Map<string, Live>();
  private readonly execs: ExecApi;
  /** Exit codes of containers that may be gone by the time a waiter asks (--rm). */
  private readonly exits = new Map<string, number>();
  /** Starts that failed, counted per container: a `next-exit` waiter answers the one after it began. */
  /** kept: an --rm container that could not be removed after its failed start (a full disk). */
  private readonly failedStarts = new Map<string, { n: number; code: number; message: string; kept?: boolean }>();
  private readonly waiters = new Set<() => void>();
  /** Exits the daemon saw of the containers it started (a restart policy's first run included). */
  private readonly exitCount = new Map<string, number>();
  private poller?: NodeJS.Timeout;

  constructor(engine: Engine) {
    this.engine = engine;
    this.execs = new ExecApi(engine);
  }

  private get containers() {
    return this.engine.containers;
  }

  routes(r: Router): void {
    r.on('POST', '/containers/create', (c) => this.create(c))
      .on('GET', '/containers/json', (c) => this.list(c))
      .on('POST', '/containers/prune', (c) => this.prune(c))
      .on('GET', '/containers/{id}/json', (c) => this.inspect(c))
      .on('POST', '/containers/{id}/start', (c) => this.start(c))
      .on('POST', '/containers/{id}/stop', (c) => this.stop(c))
      .on('POST', '/containers/{id}/restart', (c) => this.restart(c))
      .on('POST', '/containers/{id}/kill', async (c) => {
        try {
          await this.containers.killAndWait(c.params.id, c.query.get('signal') || 'KILL');
        } catch (err) {
          // docker's words, which clients match: "Cannot kill container: NAME: Container ID is not
          // running" (any failure: "...: No such container: NAME"), with the failure's status.
          if (err instanceof BerthError) throw new BerthError(err.code, `Cannot kill container: ${c.params.id}: ${err.message}`, { cause: err });
          throw err;
        }
        return { status: 204 };
      })
      .on('POST', '/containers/{id}/pause', async (c) => (await this.containers.pause(c.params.id), { status: 204 }))
      .on('POST', '/containers/{id}/unpause', async (c) => (await this.containers.unpause(c.params.id), { status: 204 }))
      .on('POST', '/containers/{id}/rename', async (c) => {
        const name = c.query.get('name');
        if (!name) throw invalid('rename needs a name');
        this.containers.rename(c.params.id, name);
        return { status: 204 };
      })
      .on('DELETE', '/containers/{id}', async (c) => {
        await this.containers.remove(c.params.id, flag(c.query, 'force'), flag(c.query, 'v'));
        this.wake();
        return { status: 204 };
      })
      .on('POST', '/containers/{id}/wait', (c) => this.wait(c))
      .on('POST', '/containers/{id}/attach', (c) => this.attach(c))
      .on('POST', '/containers/{id}/resize', (c) => this.resize(c))
      .on('GET', '/containers/{id}/logs', (c) => this.logs(c))
      .on('GET', '/containers/{id}/top', async (c) => ({ status: 200, body: this.containers.top(c.params.id) }))
      .on('GET', '/containers/{id}/stats', (c) => this.stats(c))
      .on('GET', '/containers/{id}/changes', async (c) => ({ status: 200, body: await this.containers.diff(c.params.id) }))
      .on('GET', '/containers/{id}/export', (c) => this.export(c))
      .on('GET', '/containers/{id}/archive', (c) => this.archiveGet(c))
      .on('PUT', '/containers/{id}/archive', (c) => this.archivePut(c))
      .on('POST', '/commit', (c) => this.commit(c));
    this.execs.routes(r);
  }

  private async create(call: Call) {
    const body = await readJson(call.req);
    const opts = createOptions(canonicalCreateBody(body), call.query.get('name'));
    this.containers.sweepCreates();
    const record = await this.containers.create(opts);
    return { status: 201, body: { Id: record.Id, Warnings: [] } };
  }

  private async list(call: Call) {
    const f = filters(call.query);
    const all = flag(call.query, 'all') || f.has('status') || f.has('exited');
    const everything = this.containers.list(true);
    const imageOf = (ref: string) => this.engine.images.idOf(ref);
    let list = everything.filter((c) => (all || running(c)) && matches(c, f, imageOf, everything));
    const limit = Number(call.query.get('limit') ?? -1);
    if (limit > 0) list = list.slice(0, limit);
    const sizes = flag(call.query, 'size') ? await this.engine.containerSizes(list) : undefined;
    return {
      status: 200,
      body: list.map((c) => {
        const s = sizes?.get(c.record.Id);
        return { ...containerSummary(c, this.containers.health(c.record)?.Status, this.containers.networkView(c)), ...(s && { SizeRw: s.rw, SizeRootFs: s.rootFs }) };
      }),
    };
  }

  /** Inspect; with `size`, SizeRw and SizeRootFs as dockerd adds them. */
  private async inspect(call: Call) {
    let body = await this.containers.inspect(call.params.id) as { Id: string; State?: { Error?: string } };
    // The last start's error, kept in the state as the engine said it: an error like the others.
    if (body.State?.Error) body = { ...body, State: { ...body.State, Error: hidePaths(body.State.Error) } };
    if (!flag(call.query, 'size')) return { status: 200, body };
    const s = (await this.engine.containerSizes([this.containers.get(body.Id)])).get(body.Id)!;
    return { status: 200, body: { ...body, SizeRw: s.rw, SizeRootFs: s.rootFs } };
  }

  private async prune(call: Call) {
    const accept = pruneFilter(filters(call.query), ['until', 'label', 'label!']);
    // What goes is measured first: SpaceReclaimed is their writable layers' bytes, as dockerd counts.
    const stopped = this.containers.list(true).filter((c) => !running(c));
    const sizes = await this.engine.containerSizes(stopped);
    const deleted = await this.containers.prune([], (c) => accept({ labels: c.record.Config.Labels ?? {}, created: c.record.Created }));
    this.wake();
    const reclaimed = (deleted ?? []).reduce((a, id) => a + (sizes.get(id)?.rw ?? 0), 0);
    this.engine.events.emit('container', 'prune', '', { reclaimed: String(reclaimed) });
    return { status: 200, body: { ContainersDeleted: deleted, SpaceReclaimed: reclaimed } };
  }

  private async start(call: Call) {
    const c = this.containers.get(call.params.id);
    if (running(c)) return { status: 304 };
    const attachments = this.pending.get(c.record.Id) ?? new Set<Attachment>();
    this.pending.delete(c.record.Id);
    // OpenStdin: the container's stdin is a pipe from here, open until it exits (or a client
    // attached to it closes it, with StdinOnce), attached or not: `docker run -di IMAGE cat` waits.
    const stdin = c.record.Config.OpenStdin === true;
    const size = c.record.HostConfig.ConsoleSize;
    let streams: ContainerStreams | undefined;
    try {
      streams = await this.containers.startStreams(c.record, { stdin, size: size && { rows: size[0], cols: size[1] } });
    } catch (err) {
      for (const a of attachments) a.conduit.end();
      await this.startFailed(c, err);
      throw err;
    }
    if (!streams) return { status: 304 };
    this.carry(c, streams, attachments);
    return { status: 204 };
  }

  /**
   * A start that failed ends the run a waiter waits for (`next-exit` answers with the error), and
   * an --rm container goes, as with dockerd (whose `docker run --rm` waits for `removed`).
   */
  private async startFailed(c: Container, err: unknown): Promise<void> {
    const prev = this.failedStarts.get(c.record.Id)?.n ?? 0;
    const code = isCode(err, 'CommandNotFound') ? 127 : isCode(err, 'CannotInvoke') ? 126 : 128;
    const failed = { n: prev + 1, code, message: (fromSystemError(err) as Error)?.message ?? String(err), kept: false };
    this.failedStarts.set(c.record.Id, failed);
    if (!prev) this.forgetFailure(c.record.Id, false);
    if (c.record.HostConfig.AutoRemove) {
      const removed = await this.containers.remove(c.record.Id, true, true).then(() => true, () => false);
      // Its monitor's teardown may have taken it first: dockerd reports the end all the same.
      // One still there (a full disk refused its removal too) is kept: a waiter hears the failure.
      if (!removed && !this.observe(c.record.Id)) this.containers.event('destroy', c.record);
      else if (!removed) failed.kept = true;
    }
    this.wake();
  }

  /**
   * A failed start's record goes once its container has been gone a full minute (a late waiter
   * still reads its code), not before: kept for good, each `run --rm` of a bad command added one.
   */
  private forgetFailure(id: string, goneBefore: boolean): void {
    let gone = false;
    try {
      gone = !this.observe(id);
    } catch {} // unreadable now: looked at again later
    if (gone && goneBefore) this.failedStarts.delete(id);
    else setTimeout(() => this.forgetFailure(id, gone), 60_000).unref();
  }

  /** Copies a started container's output to its attached clients and their input to it. */
  private carry(c: Container, streams: ContainerStreams, attachments: Set<Attachment>): void {
    const id = c.record.Id;
    const tty = c.record.Config.Tty === true;
    const live: Live = { streams, attachments };
    this.live.set(id, live);
    let open = 2;
    const out = (stream: 1 | 2) => (data: Buffer) => {
      for (const a of live.attachments) if (stream === 1 ? a.stdout : a.stderr) a.conduit.write(tty ? data : frame(stream, data));
    };
    const done = () => {
      if (--open > 0) return;
      for (const a of live.attachments) a.conduit.end();
      live.attachments.clear();
    };
    streams.stdout.on('data', out(1)).on('end', done).on('error', done);
    streams.stderr.on('data', out(2)).on('end', done).on('error', done);
    for (const a of attachments) this.feed(live, a, c);
    streams.exited.then((exit) => {
      this.exits.set(id, exit.exit);
      this.exitCount.set(id, (this.exitCount.get(id) ?? 0) + 1);
    }, () => {}).finally(() => this.wake());
    streams.gone.finally(() => {
      this.live.delete(id);
      if (c.record.HostConfig.AutoRemove && !this.observe(id)) this.containers.event('destroy', c.record);
      this.wake();
      // Waiters for `removed` had their answer; keep the code a little for late ones.
      setTimeout(() => (this.exits.delete(id), this.exitCount.delete(id)), 60_000).unref();
    });
  }

  /** A client's input goes to the container's stdin; its end closes stdin (StdinOnce). */
  private feed(live: Live, a: Attachment, c: Container): void {
    const stdin = live.streams.stdin;
    a.conduit.onInput((data) => {
      if (!a.stdin || !stdin || stdin.destroyed) return;
      if (data === null) {
        if (c.record.Config.StdinOnce !== false) stdin.end();
        return;
      }
      const scan = a.detach?.feed(data) ?? { pass: data, detach: false };
      if (scan.pass.length) stdin.write(scan.pass);
      if (scan.detach) {
        live.attachments.delete(a);
        a.conduit.end();
      }
    });
    stdin?.on('error', () => {});
    a.conduit.onClose(() => live.attachments.delete(a));
  }

  private async attach(call: Call) {
    const c = this.containers.get(call.params.id);
    const q = call.query;
    const logs = flag(q, 'logs');
    const stream = flag(q, 'stream') || !logs;
    // Detach keys are read from a terminal's input only (docker's rule: other input is data).
    const keys = parseDetachKeys(q.get('detachKeys') || DEFAULT_DETACH_KEYS); // a bad one is a 400, before the hijack
    const a: Attachment = {
      conduit: hijack(call, c.record.Config.Tty !== true), stdin: flag(q, 'stdin'), stdout: flag(q, 'stdout'), stderr: flag(q, 'stderr'),
      ...(c.record.Config.Tty ? { detach: new DetachScanner(keys) } : {}),
    };
    this.containers.event('attach', c.record);
    if (logs) {
      for await (const e of readLog(this.containers.logPath(c.record.Id), {})) {
        const data = Buffer.from(e.log);
        if (e.stream === 'stderr' ? a.stderr : a.stdout) a.conduit.write(c.record.Config.Tty ? data : frame(e.stream === 'stderr' ? 2 : 1, data));
      }
    }
    if (!stream) {
      a.conduit.end();
      return;
    }
    const live = this.live.get(c.record.Id);
    if (live) {
      live.attachments.add(a);
      this.feed(live, a, c);
    } else if (running(c)) {
      // Started by someone else (the CLI, an earlier daemon): follow it through its monitor,
      // until the container ends or the client leaves (then that connection goes too).
      const left = new AbortController();
      a.conduit.onClose(() => left.abort());
      a.conduit.onInput(() => {}); // no stdin this way; read on, to see the client's end
      this.containers.attach(c.record.Id, (s, data) => {
        if (s === 'stderr' ? a.stderr : a.stdout) a.conduit.write(c.record.Config.Tty ? data : frame(s === 'stderr' ? 2 : 1, data));
      }, left.signal).catch(() => undefined).finally(() => a.conduit.end());
    } else {
      let set = this.pending.get(c.record.Id);
      if (!set) this.pending.set(c.record.Id, (set = new Set()));
      set.add(a);
      // The last client gone from a container that never starts (removed instead): its entry goes too.
      a.conduit.onClose(() => set.delete(a) && !set.size && this.pending.get(c.record.Id) === set && this.pending.delete(c.record.Id));
    }
  }

  private async resize(call: Call) {
    const [h, w] = terminalSize(call.query);
    const c = this.containers.get(call.params.id);
    if (!running(c) || !c.state.Monitor) throw conflict(`Container ${c.record.Id} is not running`);
    if (!c.record.Config.Tty) return { status: 200 };
    this.containers.resize(c.state.Monitor.pid, this.containers.winsizeFile(c.record.Id), h, w);
    return { status: 200 };
  }

  private async stop(call: Call) {
    const c = this.containers.get(call.params.id);
    if (!running(c)) return { status: 304 };
    const t = call.query.get('t') ?? call.query.get('timeout');
    await this.containers.stop(c.record.Id, t === null || t === '' ? undefined : Number(t));
    this.wake();
    return { status: 204 };
  }

  private async restart(call: Call) {
    const c = this.containers.get(call.params.id);
    const t = call.query.get('t') ?? call.query.get('timeout');
    if (running(c)) await this.containers.stop(c.record.Id, t === null || t === '' ? undefined : Number(t));
    await this.waitGone(c.record.Id);
    const streams = await this.containers.startStreams(this.containers.get(c.record.Id).record, { stdin: c.record.Config.OpenStdin === true });
    if (streams) this.carry(c, streams, new Set());
    this.containers.event('restart', c.record);
    return { status: 204 };
  }

  /** Until a container's previous monitor (if the daemon carried it) has finished its teardown. */
  private async waitGone(id: string): Promise<void> {
    const live = this.live.get(id);
    if (live) await live.streams.gone;
  }

  // ---- wait: a poll for state changes others cause, woken at once by those we see ----

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private until(check: () => boolean, closed: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const test = () => {
        if (closed() || check()) {
          this.waiters.delete(test);
          if (!this.waiters.size && this.poller) {
            clearInterval(this.poller);
            this.poller = undefined;
          }
          resolve();
        }
      };
      this.waiters.add(test);
      this.poller ??= setInterval(() => this.wake(), 100);
      test();
    });
  }

  private observe(id: string): Container | undefined {
    try {
      return this.containers.get(id);
    } catch (err) {
      if (isCode(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  private async wait(call: Call) {
    const condition = call.query.get('condition') || 'not-running';
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw invalid(`invalid condition: "${condition}"`);
    const first = this.containers.get(call.params.id);
    const id = first.record.Id;
    const startedAt = first.state.StartedAt;
    const wasRunning = running(first);
    const failuresBefore = this.failedStarts.get(id)?.n ?? 0;
    const exitsBefore = this.exitCount.get(id) ?? 0;
    // A restart policy's container stays up between its runs (restarting): as with dockerd, a
    // run's end answers `not-running` and `next-exit` all the same.
    const ended = (c: Container) => c.state.Status === 'restarting' || (this.exitCount.get(id) ?? 0) > exitsBefore;
    const failure = () => {
      const f = this.failedStarts.get(id);
      return f && f.n > failuresBefore ? f : undefined;
    };
    const res = streamStart(call, 200, 'application/json');
    let closed = false;
    res.on('close', () => (closed = true));
    let last: Container | undefined = first;
    await this.until(() => {
      const c = this.observe(id);
      if (c) last = c;
      // A waiter for `removed` of an --rm container that stays (its removal failed too) would wait for good.
      if (condition === 'removed') return !c || failure()?.kept === true;
      if (!c) return true;
      if (condition === 'not-running') return !running(c) || ended(c);
      if (failure()) return true; // the start it waited for failed: that run is over
      // next-exit: the run going on at the call (or the next one to start) has ended.
      return (!running(c) && (wasRunning || c.state.StartedAt !== startedAt) && !this.live.has(id)) || ended(c);
    }, () => closed);
    if (closed) return;
    const failed = failure();
    const code = failed?.code ?? this.exits.get(id) ?? last?.state.ExitCode ?? 0;
    const message = failed?.message ?? last?.state.Error;
    // `removed` reports the removal's error (dockerd: none when it went), not the run's: the
    // CLI's `run --rm` would print a failed start twice.
    const error = message && condition !== 'removed' ? { Message: hidePaths(message) } : null;
    res.end(JSON.stringify({ Error: error, StatusCode: code }) + '\n');
  }

  private async logs(call: Call) {
    const q = call.query;
    const stdout = flag(q, 'stdout');
    const stderr = flag(q, 'stderr');
    // dockerd checks the streams before it looks the container up.
    if (!stdout && !stderr) throw invalid('Bad parameters: you must choose at least one stream');
    const c = this.containers.get(call.params.id);
    if (c.record.HostConfig.LogConfig?.Type === 'none') throw new BerthError('Unimplemented', 'configured logging driver does not support reading');
    const tail = q.get('tail');
    const since = q.get('since');
    const until = q.get('until');
    const tty = c.record.Config.Tty === true;
    const res = streamStart(call, 200, tty || call.version < 1.42 ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    let closed = false;
    res.on('close', () => (closed = true));
    const follow = flag(q, 'follow')
      ? () => {
          const now = this.observe(c.record.Id);
          return !closed && now !== undefined && running(now);
        }
      : undefined;
    for await (const e of readLog(this.containers.logPath(c.record.Id), {
      tail: tail === null || tail === '' || tail === 'all' || Number(tail) < 0 ? undefined : Number(tail),
      since: since && since !== '0' ? parseTime(since) : undefined,
      until: until && until !== '0' ? parseTime(until) : undefined,
      follow,
    })) {
      if (closed) break;
      if (e.stream === 'stderr' ? !stderr : !stdout) continue;
      const data = Buffer.from(flag(q, 'timestamps') ? `${e.time} ${e.log}` : e.log);
      res.write(tty ? data : frame(e.stream === 'stderr' ? 2 : 1, data));
    }
    res.end();
  }

  private async stats(call: Call) {
    const c = this.containers.get(call.params.id);
    const stream = call.query.get('stream') === null ? true : flag(call.query, 'stream');
    const oneShot = flag(call.query, 'one-shot');
    const res = streamStart(call, 200, 'application/json');
    let closed = false;
    res.on('close', () => (closed = true));
    let pre = this.sample(c.record.Id);
    if (!oneShot) await sleep(stream ? 0 : 1000); // docker fills precpu_stats from a second read
    for (;;) {
      if (closed) return;
      const now = this.sample(c.record.Id);
      res.write(JSON.stringify(statsJson(c, now, pre)) + '\n');
      if (!stream || oneShot) return void res.end();
      pre = now;
      await sleep(1000);
    }
  }

  private sample(id: string) {
    let s;
    try {
      s = this.containers.stats(id);
    } catch {
      s = { id, name: '', running: false, memoryUsage: 0, memoryLimit: 0, cpuNanos: 0, pids: 0 };
    }
    return { ...s, read: new Date().toISOString(), system: systemCpuNanos() };
  }

  private async export(call: Call) {
    // The first chunk before the headers: a missing container is a 404, not an empty 200.
    const chunks = this.containers.export(call.params.id)[Symbol.asyncIterator]();
    let next = await chunks.next();
    const res = streamStart(call, 200, 'application/x-tar');
    for (; !next.done; next = await chunks.next()) {
      if (!res.write(next.value)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  }

  /** HEAD (stat only) and GET (a tar) of a path, with docker's X-Docker-Container-Path-Stat header. */
  private async archiveGet(call: Call) {
    const p = call.query.get('path');
    if (!p) throw invalid('path is required');
    const statHeader = (st: object) => Buffer.from(JSON.stringify(st)).toString('base64');
    if (call.req.method === 'HEAD') {
      const { isDir: _, ...st } = await this.containers.pathStat(call.params.id, p);
      return { status: 200, headers: { 'X-Docker-Container-Path-Stat': statHeader(st) } };
    }
    const { stat, tar } = await this.containers.archiveOut(call.params.id, p);
    const { isDir: _, ...st } = stat;
    const res = call.res!;
    res.writeHead(200, { ...headers(), 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': statHeader(st) });
    for await (const chunk of tar) {
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  }

  private async archivePut(call: Call) {
    const p = call.query.get('path');
    if (!p) throw invalid('path is required');
    await this.containers.archiveIn(call.params.id, p, call.req as AsyncIterable<Buffer>);
    return { status: 200 };
  }

  private async commit(call: Call) {
    const q = call.query;
    const name = q.get('container');
    if (!name) throw invalid('commit needs a container');
    const body = await readJson(call.req);
    const repo = q.get('repo');
    const ref = repo ? `${repo}${q.get('tag') ? ':' + q.get('tag') : ''}` : undefined;
    // One Dockerfile instruction per line: SDKs send several in one value.
    const changes = q.getAll('changes').flatMap((c) => c.split('\n')).filter((c) => c.trim());
    const img = await this.containers.commit(name, {
      name: ref,
      changes: body as RunConfig,
      instructions: changes,
      comment: q.get('comment') ?? undefined,
      author: q.get('author') ?? undefined,
      pause: q.get('pause') === null ? true : flag(q, 'pause'),
    });
    return { status: 201, body: { Id: img.id } };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Host CPU time in ns (docker's system_cpu_usage), from /proc/stat. */
function systemCpuNanos(): number {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const ticks = line.split(/\s+/).slice(1, 8).reduce((a, b) => a + Number(b || 0), 0);
    return ticks * 1e7; // USER_HZ = 100
  } catch {
    return 0;
  }
}

type Sample = ReturnType<ContainerApi['sample']>;

/** docker's stats object: the CLI computes CPU % from cpu_stats against precpu_stats. */
function statsJson(c: Container, now: Sample, pre: Sample): object {
  const cpus = (s: Sample) => ({ cpu_usage: { total_usage: s.cpuNanos, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: s.system, online_cpus: os.availableParallelism(), throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } });
  return {
    read: now.read, preread: pre.read, name: `/${c.record.Name}`, id: c.record.Id,
    pids_stats: { current: now.pids },
    // dockerd's shape: the throttle counters on cgroup v1, io.stat on v2; the rest it leaves null.
    blkio_stats: {
      io_service_bytes_recursive: now.blkio?.serviceBytes.length ? now.blkio.serviceBytes : null,
      io_serviced_recursive: now.blkio?.serviced.length ? now.blkio.serviced : null,
      io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
    },
    ...(now.pressure && Object.keys(now.pressure).length ? { pressure: now.pressure } : {}),
    num_procs: 0, storage_stats: {},
    cpu_stats: cpus(now), precpu_stats: cpus(pre),
    memory_stats: { usage: now.memoryUsage, limit: now.memoryLimit, stats: {} },
    networks: {},
  };
}

