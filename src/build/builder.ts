// The build: the Dockerfile's stages the target needs, each started at once (independent stages
// run in parallel, a stage waits only where it reads another), their steps looked up in the
// cache and run on a miss, and the target's state recorded as an image with its tags. Events
// tell the caller what happens; nothing is printed here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, invalid, isCode, notFound } from '../core/errors.ts';
import type { Descriptor, ImageRecord } from '../core/types.ts';
import type { Engine } from '../engine/engine.ts';
import { formatPlatform, hostPlatform, parsePlatform } from '../image/manifest.ts';
import { MEDIA } from '../image/store.ts';
import { parseReference } from '../image/reference.ts';
import { BuildCache, chainKey } from './cache.ts';
import { FileHashes, openContext, scratchDir, type BuildContext } from './context.ts';
import { planCopy } from './copy.ts';
import { parseDockerfile, parseTriggers, expandWord, expandWords, heredocFile } from './dockerfile/parse.ts';
import type { BuildEvent, BuildOptions, BuildResult, StepInfo, Timings } from './events.ts';
import { neededStages, stageRef, targetStage } from './graph.ts';
import { LayeredFs } from './layered.ts';
import { exportOutputs } from './output.ts';
import { mountSpecs, runArgs, runCreatedBy, runStep, ScratchImages } from './run.ts';
import { advance, applyConfig, CACHE_KEYS_FIELD, DEFAULT_SHELL, envMap, historyKeys, stateId, type Expand, type StageState } from './state.ts';
import type { Dockerfile, Instruction, Stage } from './types.ts';
import { copyMatched, hashSources, matchSource } from './context.ts';
import { CacheFrom } from './cache-from.ts';
import { openAgents, type RunAgents } from './ssh.ts';
import { cacheMountName, cacheMountsDir, lockCacheMounts } from './cache-lock.ts';

/** Build args every build accepts without an ARG (docker's predefined proxies). */
const PREDEFINED = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

function expander(vars: Map<string, string>, escape: string): Expand {
  const env: Record<string, string> = Object.assign(Object.create(null), Object.fromEntries(vars));
  return { word: (raw) => expandWord(raw, env, { escape }), words: (raw) => expandWords(raw, env, { escape }), heredoc: (h) => heredocFile(h, env) };
}

/** BUILDPLATFORM, TARGETPLATFORM and their parts (the target is the host's unless --platform). */
export function platformArgs(target?: string): Map<string, string> {
  const host = hostPlatform();
  const want = target ? parsePlatform(target) : host;
  const out = new Map<string, string>();
  for (const [prefix, p] of [['BUILD', host], ['TARGET', want]] as const) {
    out.set(`${prefix}PLATFORM`, formatPlatform(p));
    out.set(`${prefix}OS`, p.os);
    out.set(`${prefix}ARCH`, p.architecture);
    out.set(`${prefix}VARIANT`, p.variant ?? '');
  }
  return out;
}

/** One build's run: its context, options, stage results and timings. */
class Run {
  readonly engine: Engine;
  readonly opts: BuildOptions;
  readonly ctx: BuildContext;
  readonly df: Dockerfile;
  readonly cache: BuildCache;
  readonly hashes: FileHashes;
  readonly scratchImages: ScratchImages;
  readonly cacheFrom: CacheFrom;
  /** Cleanups still running (RUN containers being removed); the build waits for them. */
  readonly deferred: Promise<void>[] = [];
  readonly abort = new AbortController();
  readonly timings: Timings = { context: 0, cacheLookup: 0, run: 0, commit: 0, total: 0 };
  readonly stages = new Map<number, Promise<StageState>>();
  readonly globalArgs = new Map<string, string>();
  readonly usedArgs = new Set<string>();
  readonly stepNumbers = new Map<Instruction | Stage, number>();
  total = 0;
  private readonly locks = new Map<string, Promise<void>>();
  /** RUN steps using each cache mount now (sharing=private takes a fresh directory when in use). */
  private readonly cacheUsers = new Map<string, number>();

  constructor(engine: Engine, opts: BuildOptions, ctx: BuildContext, df: Dockerfile) {
    this.engine = engine;
    this.opts = opts;
    this.ctx = ctx;
    this.df = df;
    this.cache = new BuildCache(engine.root.dir, engine.images);
    this.hashes = new FileHashes(engine.root.dir);
    this.scratchImages = new ScratchImages(engine.images);
    this.cacheFrom = new CacheFrom(engine.images, opts.cacheFrom ?? [], (ref) => this.image(ref), (message) => this.emit({ type: 'warning', message }));
    // BuildKit's automatic platform args: usable in FROM, and in a stage that declares them.
    for (const [k, v] of platformArgs(opts.platform)) this.globalArgs.set(k, v);
    for (const a of df.globalArgs) for (const { name, value } of a.args) {
      const given = opts.buildArgs?.[name];
      if (given !== undefined) this.usedArgs.add(name);
      const v = given ?? (value !== undefined ? this.expandGlobal(value) : undefined);
      if (v !== undefined) this.globalArgs.set(name, v);
    }
  }

  /** Words of FROM lines (and stage references): only the ARGs before the first FROM apply. */
  expandGlobal(raw: string): string {
    return expander(this.globalArgs, this.df.escape).word(raw);
  }

  emit(e: BuildEvent): void {
    this.opts.onEvent?.(e);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** The stage's result; started on first ask, shared by every stage that reads it. */
  stage(s: Stage): Promise<StageState> {
    let p = this.stages.get(s.index);
    if (!p) {
      p = this.buildStage(s);
      p.catch(() => this.abort.abort()); // one failing stage stops the others
      this.stages.set(s.index, p);
    }
    return p;
  }

  info(node: Instruction | Stage, stage: Stage, text: string): StepInfo {
    return { index: this.stepNumbers.get(node) ?? 0, total: this.total, stage: stage.from.name ?? `stage-${stage.index}`, text };
  }

  /** Runs one step: cached result, else `exec`; the result is cached and reported. */
  async step(info: StepInfo, key: string, exec: () => Promise<StageState>, before?: StageState): Promise<StageState> {
    this.signal.throwIfAborted();
    const t0 = performance.now();
    this.emit({ type: 'step', step: info });
    if (!this.opts.noCache) {
      const hit = this.cache.get(key) ?? (before && (await this.cacheFrom.hit(key, before)));
      this.timings.cacheLookup += performance.now() - t0;
      if (hit) {
        this.emit({ type: 'cached', step: info, stateId: stateId(hit) });
        this.emit({ type: 'done', step: info, ms: performance.now() - t0, stateId: stateId(hit), layer: false });
        return hit;
      }
    }
    const next = await exec();
    this.cache.put(next);
    this.emit({ type: 'done', step: info, ms: performance.now() - t0, stateId: stateId(next), layer: next.layers.length > 0 });
    return next;
  }

  async base(stage: Stage): Promise<StageState> {
    const name = this.expandGlobal(stage.from.image);
    if (!name) throw invalid(`${stage.from.source.file}:${stage.from.source.line}: base name (${stage.from.image}) should not be blank`);
    const dep = stageRef(this.df, name, stage.index);
    if (dep) return this.stage(dep);
    const want = stage.from.platform ? this.expandGlobal(stage.from.platform) : this.opts.platform;
    const host = hostPlatform();
    if (name === 'scratch') {
      const p = want ? parsePlatform(want) : host;
      return { config: { architecture: p.architecture, os: p.os, rootfs: { type: 'layers', diff_ids: [] }, config: {}, history: [] }, layers: [], layerSizes: [], key: 'scratch' };
    }
    const rec = await this.image(name, want);
    return this.fromImage(rec);
  }

  fromImage(rec: ImageRecord): StageState {
    const layers: Descriptor[] = this.engine.images.layerDescriptors(rec);
    const sizes = rec.layers.map((d, i) => rec.layerSizes?.[i] ?? this.engine.images.layerSize(d));
    const config = structuredClone(rec.config);
    const keys = config[CACHE_KEYS_FIELD];
    delete config[CACHE_KEYS_FIELD]; // the image built from this one writes its own list
    return { config, layers, layerSizes: sizes, key: rec.id, keys: keys?.length === (config.history ?? []).length ? keys : undefined };
  }

  /** A base image: the local one, or pulled (always with --pull); only the host's platform is built here. */
  async image(name: string, platform?: string): Promise<ImageRecord> {
    const images = this.engine.images;
    const host = hostPlatform();
    const want = platform ? parsePlatform(platform) : undefined;
    let rec: ImageRecord | undefined;
    if (!this.opts.pull) {
      try {
        rec = images.resolve(name);
      } catch (err) {
        if (!isCode(err, 'NotFound')) throw err;
      }
    }
    if (!rec) rec = (await this.engine.pull(name, { platform })).image;
    if (want && (want.os !== rec.config.os || want.architecture !== rec.config.architecture)) {
      throw invalid(`image ${name} is ${rec.config.os}/${rec.config.architecture}, not ${formatPlatform(want)}; this builder runs the host's platform (${formatPlatform(host)}) only`);
    }
    return rec;
  }

  async buildStage(stage: Stage): Promise<StageState> {
    const fromInfo = this.info(stage, stage, stage.from.source.text);
    const t0 = performance.now();
    let state: StageState;
    try {
      state = await this.base(stage);
    } catch (err) {
      throw this.signal.aborted ? err : atStep(err, fromInfo);
    }
    // Reported once the base is there: a stage waiting for another shows up after it.
    this.emit({ type: 'step', step: fromInfo });
    // A base image's ONBUILD triggers run first, in this build; the new image does not inherit them.
    const triggers = state.config.config?.OnBuild ?? [];
    if (state.config.config?.OnBuild) state = { ...state, config: { ...state.config, config: { ...state.config.config, OnBuild: null } } };
    this.emit({ type: 'done', step: fromInfo, ms: performance.now() - t0, stateId: stateId(state), layer: false });
    const args = new Map<string, string>();
    const scope = () => {
      const vars = new Map(args);
      for (const [k, v] of envMap(state.config.config?.Env)) vars.set(k, v);
      return vars;
    };
    const onbuild = triggers.length ? parseTriggers(triggers, stage.from.source.file) : [];
    for (const ins of [...onbuild, ...stage.instructions]) {
      // A trigger has no line of its own here: it is shown under its FROM, as an ONBUILD.
      const info = onbuild.includes(ins) ? { ...fromInfo, text: `ONBUILD ${ins.source.text}` } : this.info(ins, stage, ins.source.text);
      const x = expander(scope(), this.df.escape);
      try {
        state = await this.instruction(stage, ins, info, state, x, args);
      } catch (err) {
        throw this.signal.aborted ? err : atStep(err, info);
      }
    }
    return state;
  }

  async instruction(stage: Stage, ins: Instruction, info: StepInfo, state: StageState, x: Expand, args: Map<string, string>): Promise<StageState> {
    switch (ins.kind) {
      case 'ARG': {
        const values: string[] = [];
        for (const a of ins.args) {
          const given = this.opts.buildArgs?.[a.name];
          if (given !== undefined) this.usedArgs.add(a.name);
          const v = given ?? (a.value !== undefined ? x.word(a.value) : this.globalArgs.get(a.name));
          if (v !== undefined) args.set(a.name, v);
          values.push(v === undefined ? a.name : `${a.name}=${v}`);
        }
        const key = chainKey(state.key, { t: ins.source.text, values });
        return this.step(info, key, async () => advance(state, { key, createdBy: `ARG ${values.join(' ')}` }));
      }
      case 'RUN':
        return this.run(stage, ins, info, state, x, args);
      case 'COPY':
      case 'ADD':
        return this.copy(stage, ins, info, state, x);
      default: {
        const { cfg, createdBy } = applyConfig(state.config.config ?? {}, ins, x);
        const key = chainKey(state.key, { t: ins.source.text, cfg });
        return this.step(info, key, async () => advance(state, { key, runConfig: cfg, createdBy }));
      }
    }
  }

  /** What `--from` names: a stage (its state) or an image (its record). */
  async fromSource(stage: Stage, raw: string, x: Expand): Promise<{ state: StageState; key: string }> {
    const ref = x.word(raw);
    const dep = stageRef(this.df, ref, stage.index);
    if (dep) {
      const s = await this.stage(dep);
      return { state: s, key: s.key };
    }
    const rec = await this.image(ref);
    return { state: this.fromImage(rec), key: rec.id };
  }

  layersView(s: StageState): LayeredFs {
    return new LayeredFs(this.engine.images.layers.mount(s.config.rootfs.diff_ids).reverse());
  }

  async copy(stage: Stage, ins: Extract<Instruction, { kind: 'COPY' | 'ADD' }>, info: StepInfo, state: StageState, x: Expand): Promise<StageState> {
    const from = ins.from ? await this.fromSource(stage, ins.from, x) : undefined;
    const src = from
      ? { view: this.layersView(from.state), keepOwners: true, where: `stage ${ins.from}` }
      : { view: this.ctx.view, ignore: this.ctx.ignore, keepOwners: false, where: 'build context', hashes: this.ctx.streamed ? undefined : this.hashes };
    const scratches: string[] = [];
    const scratch = () => {
      const d = scratchDir(this.engine.root.dir, 'copy');
      scratches.push(d);
      return d;
    };
    const plan = () => planCopy({ ins, x, state, src, images: this.engine.images, scratch, signal: this.signal });
    const apply = async (key: string, p: Awaited<ReturnType<typeof plan>>) => {
      const t1 = performance.now();
      const layer = await p.apply(info.stage);
      this.timings.commit += performance.now() - t1;
      return advance(state, { key, createdBy: p.createdBy, layer: { descriptor: { mediaType: MEDIA.ociLayerTar, digest: layer.diffId, size: layer.size }, size: layer.size } });
    };
    try {
      if (from) {
        // A stage's (or image's) files are fixed by its key: nothing to read unless the step runs.
        const key = chainKey(state.key, { t: ins.source.text, from: from.key, workdir: state.config.config?.WorkingDir });
        return await this.step(info, key, async () => apply(key, await plan()), state);
      }
      const t0 = performance.now();
      const p = await plan();
      this.timings.cacheLookup += performance.now() - t0;
      const key = chainKey(state.key, { t: ins.source.text, hash: p.hash, workdir: state.config.config?.WorkingDir });
      return await this.step(info, key, () => apply(key, p), state);
    } finally {
      for (const d of scratches) fs.rmSync(d, { recursive: true, force: true });
    }
  }

  /** One holder at a time of a `sharing=locked` cache mount: in this process, then in the root. */
  private async locked<T>(ids: string[], fn: () => Promise<T>): Promise<T> {
    if (!ids.length) return fn();
    const prev = Promise.all(ids.map((id) => this.locks.get(id)));
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    for (const id of ids) this.locks.set(id, mine);
    await prev;
    try {
      // Then the root-wide lock, which other processes' builds take too.
      const unlock = await lockCacheMounts(this.engine.root.dir, ids, this.signal);
      try {
        return await fn();
      } finally {
        unlock();
      }
    } finally {
      release();
    }
  }

  async run(stage: Stage, ins: Extract<Instruction, { kind: 'RUN' }>, info: StepInfo, state: StageState, x: Expand, args: Map<string, string>): Promise<StageState> {
    const cfg = state.config.config ?? {};
    if (ins.security === 'insecure') throw invalid('RUN --security=insecure is not allowed: build containers get the same confinement as run');
    const argv = runArgs(ins, cfg.Shell ?? DEFAULT_SHELL);
    const env = envMap(cfg.Env);
    const buildArgs = [...args].filter(([k]) => !env.has(k));
    // Files a bind mount brings in are part of what the step depends on.
    const binds = new Map<string, { view: LayeredFs; key?: string }>();
    const bindHashes: string[] = [];
    for (const m of ins.mounts) {
      if (m.type !== 'bind') continue;
      const from = m.from ? await this.fromSource(stage, m.from, x) : undefined;
      const view = from ? this.layersView(from.state) : this.ctx.view;
      const source = m.source !== undefined ? x.word(m.source) : '/';
      binds.set(`${m.from ?? ''}\0${source}`, { view, key: from?.key });
      bindHashes.push(from ? `${from.key}:${source}` : hashSources(matchSource(view, source, { ignore: this.ctx.ignore, where: 'build context' }), false, this.ctx.streamed ? undefined : this.hashes));
    }
    const network = ins.network && ins.network !== 'default' ? ins.network : (this.opts.network || 'bridge');
    const key = chainKey(state.key, { t: ins.source.text, argv, buildArgs, mounts: ins.mounts, bindHashes, network });
    const createdBy = runCreatedBy(argv, buildArgs);
    return this.step(info, key, async () => {
      const scratches: string[] = [];
      const held: string[] = [];
      const scratch = () => {
        const d = scratchDir(this.engine.root.dir, 'run');
        scratches.push(d);
        return d;
      };
      let agents: RunAgents | undefined;
      try {
        agents = await openAgents(ins.mounts, x, this.opts.ssh, scratch, cfg.WorkingDir || '/');
        const ssh = agents;
        const lockIds: string[] = [];
        const mounts = mountSpecs(ins, x, {
          bind: (m, xx) => {
            const source = m.source !== undefined ? xx.word(m.source) : '/';
            const b = binds.get(`${m.from ?? ''}\0${source}`)!;
            const dir = scratch();
            const copy = path.join(dir, 'src');
            copyMatched(matchSource(b.view, source, { ignore: b.key ? undefined : this.ctx.ignore, where: 'build context' }), copy);
            return { source: copy, readonly: m.readonly !== false };
          },
          secret: (id) => this.opts.secrets?.find((s) => s.id === id),
          cacheDir: (id, sharing) => {
            if (sharing === 'locked') lockIds.push(id);
            if (sharing === 'private' && (this.cacheUsers.get(id) ?? 0) > 0) return scratch();
            this.cacheUsers.set(id, (this.cacheUsers.get(id) ?? 0) + 1);
            held.push(id);
            const d = path.join(cacheMountsDir(this.engine.root.dir), cacheMountName(id));
            fs.mkdirSync(d, { recursive: true });
            return d;
          },
          scratch,
          ssh: (m) => ssh.socket(m),
        }, cfg.WorkingDir || '/');
        const t0 = performance.now();
        const out = await this.locked(lockIds, () => runStep({
          engine: this.engine, state, args: argv, buildEnv: [...buildArgs.map(([k, v]) => `${k}=${v}`), ...(ssh.env && !env.has('SSH_AUTH_SOCK') ? [`SSH_AUTH_SOCK=${ssh.env}`] : [])], mounts, network, signal: this.signal,
          scratchImages: this.scratchImages, defer: (w) => this.deferred.push(w),
          onContainer: (id) => this.emit({ type: 'container', step: info, id }),
          onOutput: (stream, data) => this.emit({ type: 'log', step: info, stream, data }),
        }));
        this.timings.run += performance.now() - t0;
        return advance(state, { key, createdBy, layer: out.layer && { descriptor: { mediaType: MEDIA.ociLayerTar, digest: out.layer.diffId, size: out.layer.size }, size: out.layer.size } });
      } finally {
        await agents?.close();
        for (const id of held) this.cacheUsers.set(id, this.cacheUsers.get(id)! - 1);
        for (const d of scratches) fs.rmSync(d, { recursive: true, force: true });
      }
    }, state);
  }
}

/** A step's failure names the step: "[base 4/9] RUN make: process ... exit code: 2". */
function atStep(err: unknown, info: StepInfo): BerthError {
  const text = info.text.split('\n')[0];
  const message = `[${info.stage} ${info.index}/${info.total}] ${text}: ${(err as Error).message}`;
  return new BerthError(err instanceof BerthError ? err.code : 'Internal', message, { cause: err });
}

/** Builds an image (and/or exports files) from a Dockerfile and a context. */
export async function build(engine: Engine, opts: BuildOptions): Promise<BuildResult> {
  const t0 = performance.now();
  for (const t of opts.tags ?? []) parseReference(t); // a bad tag fails before any work
  const onAbort = () => run?.abort.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let run: Run | undefined;
  engine.images.sweepInterrupted(); // scratch a killed build left behind
  const ctx = await openContext(opts.context, engine.root.dir, opts.dockerfile, opts.signal);
  try {
    const name = opts.dockerfile || 'Dockerfile';
    let text = opts.dockerfileText ?? ctx.dockerfileText;
    if (text === undefined) {
      const p = path.join(ctx.dir, ...ctx.view.resolve(name));
      if (!fs.statSync(p, { throwIfNoEntry: false })?.isFile()) throw notFound(`Cannot locate specified Dockerfile: ${name}`);
      text = fs.readFileSync(p, 'utf8');
    }
    const df = parseDockerfile(text, path.basename(name));
    run = new Run(engine, opts, ctx, df);
    run.timings.context = performance.now() - t0;
    if (opts.signal?.aborted) run.abort.abort();
    const target = targetStage(df, opts.target);
    const needed = neededStages(df, target, (raw) => run!.expandGlobal(raw));
    let n = 0;
    for (const s of needed) {
      run.stepNumbers.set(s, ++n);
      for (const ins of s.instructions) run.stepNumbers.set(ins, ++n);
    }
    run.total = n;
    const r = run;
    const results = needed.map((s) => r.stage(s));
    results.forEach((p) => p.catch(() => undefined));
    let final: StageState;
    try {
      final = await r.stage(target);
      await Promise.all(results);
    } catch (err) {
      await Promise.allSettled(results); // every stage has cleaned up before the build reports
      if (r.signal.aborted && opts.signal?.aborted) throw new BerthError('Unavailable', 'build canceled', { cause: err });
      throw err;
    }
    const unused = Object.keys(opts.buildArgs ?? {}).filter((k) => !r.usedArgs.has(k) && !PREDEFINED.has(k));
    if (unused.length) r.emit({ type: 'warning', message: `One or more build-args [${unused.join(' ')}] were not consumed` });
    const tc = performance.now();
    const labels = opts.labels && Object.keys(opts.labels).length ? opts.labels : undefined;
    const config = {
      ...(labels ? { ...final.config, config: { ...final.config.config, Labels: { ...(final.config.config?.Labels ?? {}), ...labels } } } : final.config),
      [CACHE_KEYS_FIELD]: historyKeys(final),
    };
    const outputs = opts.outputs ?? [];
    const wantImage = !outputs.length || outputs.some((o) => o.type === 'image') || (opts.tags ?? []).length > 0;
    let id = stateId({ ...final, config });
    // Scratch records are gone before the image is recorded: one with the same config is the image.
    await Promise.allSettled(r.deferred);
    if (wantImage) {
      const { record } = engine.images.registerBuilt({ config, layers: final.layers, layerSizes: final.layerSizes });
      id = record.id;
      for (const t of opts.tags ?? []) engine.images.tag(record.id, t);
    }
    await exportOutputs(engine, final, outputs.filter((o) => o.type !== 'image'));
    r.timings.commit += performance.now() - tc;
    r.timings.total = performance.now() - t0;
    r.emit({ type: 'result', id, tags: opts.tags ?? [], timings: r.timings });
    return { id, tags: opts.tags ?? [], timings: r.timings };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    run?.hashes.save();
    if (run) await Promise.allSettled(run.deferred);
    ctx.close();
  }
}
