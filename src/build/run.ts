// RUN: a container like any `run` makes (the engine's create/start, same confinement), from the
// stage's state as a scratch image record, with the stage's env, user and workdir and the RUN's
// mounts; its filesystem changes become the step's layer. The container, its scratch record and
// its scratch files go however the step ends (success, failure, abort).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, invalid, isCode } from '../core/errors.ts';
import type { MountSpec } from '../core/container.ts';
import type { Engine } from '../engine/engine.ts';
import type { ImageStore } from '../image/store.ts';
import { readXattrs } from '../runtime/shim.ts';
import { layerTar, unshifter } from '../snapshot/diff.ts';
import { LayeredFs } from './layered.ts';
import { commandArgs, type Expand, type StageState } from './state.ts';
import type { Instruction, RunMount } from './types.ts';
import { heredocText } from './dockerfile/parse.ts';
import { mark } from '../util/trace.ts';
import type { Secret } from './events.ts';
import { sshTarget } from './ssh.ts';

type RunIns = Extract<Instruction, { kind: 'RUN' }>;

/** The argv a RUN runs: exec form as is; shell form (heredocs included) through the stage's shell. */
export function runArgs(ins: RunIns, shell: string[]): string[] {
  if (ins.command.form === 'exec' || !ins.heredocs.length) return commandArgs(ins.command, shell);
  const text = ins.command.text.trim();
  // `RUN <<EOF` alone runs the document as the script; otherwise the shell gets the command line
  // with the documents after it, and does the here-document itself (BuildKit's behaviour).
  const only = /^<<-?(["']?)(\w+)\1$/.exec(text);
  if (only && ins.heredocs.length === 1) return [...shell, heredocText(ins.heredocs[0])];
  return [...shell, [text, ...ins.heredocs.flatMap((d) => [d.content.replace(/\n$/, ''), d.name])].join('\n')];
}

/** docker history's text for a RUN: `RUN |2 A=1 B=2 /bin/sh -c make # buildkit`. */
export function runCreatedBy(args: string[], buildArgs: [string, string][]): string {
  const prefix = buildArgs.length ? `|${buildArgs.length} ${buildArgs.map(([k, v]) => `${k}=${v}`).join(' ')} ` : '';
  return `RUN ${prefix}${args.join(' ')} # buildkit`;
}

/** A mount's resolved host side, and what to undo afterwards. */
export interface MountSource {
  /** A context path or a stage's files, as a host directory to bind (a scratch copy for stages). */
  bind(m: RunMount, x: Expand): { source: string; readonly: boolean };
  secret(id: string): Secret | undefined;
  /** The cache mount's directory; `private` gets a fresh one while another step uses it. */
  cacheDir(id: string, sharing: RunMount['sharing']): string;
  scratch(): string;
  /** The socket forwarding to the mount's SSH agent (build/ssh.ts); none: the mount is left out. */
  ssh(m: RunMount): string | undefined;
}

export function mountSpecs(ins: RunIns, x: Expand, src: MountSource, workdir: string): MountSpec[] {
  const out: MountSpec[] = [];
  let sshIndex = 0;
  for (const m of ins.mounts) {
    const target = m.target !== undefined ? x.word(m.target) : undefined;
    const abs = (t: string) => (t.startsWith('/') ? t : path.posix.join(workdir || '/', t));
    switch (m.type) {
      case 'bind': {
        if (!target) throw invalid('RUN --mount=type=bind needs a target');
        const b = src.bind(m, x);
        out.push({ Type: 'bind', Source: b.source, Target: abs(target), ReadOnly: b.readonly });
        break;
      }
      case 'cache': {
        if (!target) throw invalid('RUN --mount=type=cache needs a target');
        const id = m.id !== undefined ? x.word(m.id) : abs(target);
        const dir = src.cacheDir(id, m.sharing);
        const fresh = fs.readdirSync(dir).length === 0;
        if (fresh) {
          fs.chmodSync(dir, m.mode ? parseInt(x.word(m.mode), 8) : 0o755);
          fs.chownSync(dir, Number(m.uid ? x.word(m.uid) : 0), Number(m.gid ? x.word(m.gid) : 0));
        }
        out.push({ Type: 'bind', Source: dir, Target: abs(target), ReadOnly: m.readonly === true });
        break;
      }
      case 'tmpfs': {
        if (!target) throw invalid('RUN --mount=type=tmpfs needs a target');
        out.push({ Type: 'tmpfs', Source: '', Target: abs(target), ReadOnly: false, TmpfsOptions: m.size ? `size=${x.word(m.size)}` : undefined });
        break;
      }
      case 'secret': {
        const id = m.id !== undefined ? x.word(m.id) : target ? path.posix.basename(target) : undefined;
        if (!id) throw invalid('RUN --mount=type=secret needs an id or a target');
        const s = src.secret(id);
        if (!s) {
          if (m.required) throw invalid(`secret ${id} not found`);
          continue;
        }
        let file = s.src;
        if (!file) {
          file = path.join(src.scratch(), 'secret');
          fs.writeFileSync(file, s.data ?? Buffer.alloc(0), { mode: 0o400 });
        }
        if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw invalid(`secret ${id}: ${file} is not a file`);
        // A copy in scratch space with the mount's mode and owner, not the user's own file.
        const copy = path.join(src.scratch(), 'secret-' + createHash('sha256').update(id).digest('hex').slice(0, 12));
        fs.copyFileSync(file, copy);
        fs.chmodSync(copy, m.mode ? parseInt(x.word(m.mode), 8) : 0o400);
        fs.chownSync(copy, Number(m.uid ? x.word(m.uid) : 0), Number(m.gid ? x.word(m.gid) : 0));
        out.push({ Type: 'bind', Source: copy, Target: target ? abs(target) : `/run/secrets/${id}`, ReadOnly: true });
        break;
      }
      case 'ssh': {
        const at = sshTarget(m, sshIndex++, x, workdir);
        const socket = src.ssh(m);
        if (socket) out.push({ Type: 'bind', Source: socket, Target: at, ReadOnly: true });
        break;
      }
    }
  }
  return out;
}

/**
 * The upper directory's paths that are only there because of the container's mounts: each mount
 * point (the user's, and the ones every container gets: /etc/hosts, /etc/resolv.conf, ...), and
 * directories holding nothing else that the image did not have or has the same (copied up only
 * to hold a mount point). Leaving them out keeps a RUN that changed nothing from making a layer.
 */
function mountStubs(upper: string, image: LayeredFs, targets: string[], ids: (id: number) => number): string[] {
  const stubs = new Set([...targets.map((t) => t.replace(/^\/+/, '')), 'etc/hostname', 'etc/hosts', 'etc/resolv.conf', 'proc', 'sys', 'dev']);
  const skip: string[] = [];
  // Whether everything at rel is a stub; records the topmost such paths in `skip`.
  const onlyStubs = (rel: string): boolean => {
    if (stubs.has(rel)) return true;
    const st = fs.lstatSync(path.join(upper, rel));
    if (!st.isDirectory()) return false;
    const names = fs.readdirSync(path.join(upper, rel));
    const all = names.map((n) => onlyStubs(`${rel}/${n}`));
    const inImage = image.lstat(rel)?.st;
    const same = !inImage || (inImage.isDirectory() && inImage.mode === st.mode && inImage.uid === ids(st.uid) && inImage.gid === ids(st.gid));
    return same && all.every(Boolean) && names.length > 0;
  };
  for (const n of fs.readdirSync(upper)) {
    const collect = (rel: string) => {
      if (onlyStubs(rel)) {
        skip.push(rel);
        return;
      }
      if (!fs.lstatSync(path.join(upper, rel)).isDirectory()) return;
      for (const c of fs.readdirSync(path.join(upper, rel))) collect(`${rel}/${c}`);
    };
    collect(n);
  }
  return skip;
}

/**
 * A stage state recorded as an image for as long as some RUN container is being made from it:
 * counted, so that two steps on the same state (parallel stages) never drop it under each other;
 * an image that existed before (a FROM's base) is never dropped.
 */
export class ScratchImages {
  private readonly images: ImageStore;
  private readonly held = new Map<string, { count: number; created: boolean }>();
  constructor(images: ImageStore) {
    this.images = images;
  }

  acquire(state: StageState): string {
    const { record, created } = this.images.registerBuilt({ config: state.config, layers: state.layers, layerSizes: state.layerSizes });
    const h = this.held.get(record.id);
    if (h) h.count++;
    else this.held.set(record.id, { count: 1, created });
    return record.id;
  }

  release(id: string): void {
    const h = this.held.get(id);
    if (!h || --h.count > 0) return;
    this.held.delete(id);
    if (h.created) this.images.forget(id);
  }
}

export interface RunOutcome {
  layer?: { diffId: string; size: number };
}

type RunParams = Parameters<typeof runOnce>[0];

export async function runStep(p: RunParams): Promise<RunOutcome> {
  try {
    return await runOnce(p);
  } catch (err) {
    // Another build's scratch record for the same state may be dropped between our lookup and our
    // start (records are counted per build): then the step is tried once more, with a fresh record.
    if (isCode(err, 'NotFound') && !p.signal?.aborted && /image .* is gone|No such image/.test((err as Error).message)) return runOnce(p);
    throw err;
  }
}

async function runOnce(p: {
  engine: Engine;
  state: StageState;
  args: string[];
  /** Build args in scope, set in the command's environment (not the image's). */
  buildEnv: string[];
  mounts: MountSpec[];
  network: string;
  signal?: AbortSignal;
  /** The scratch image records RUN containers are created from, shared by concurrent steps. */
  scratchImages: ScratchImages;
  /** Work to finish before the build ends (the container's removal). */
  defer(work: Promise<void>): void;
  onContainer(id: string): void;
  onOutput(stream: 'stdout' | 'stderr', data: Buffer): void;
}): Promise<RunOutcome> {
  const { engine, state } = p;
  const images = engine.images;
  const cs = engine.containers;
  const cfg = state.config.config ?? {};
  mark('run: step');
  const baseId = p.scratchImages.acquire(state);
  mark('run: scratch image recorded');
  let id: string | undefined;
  try {
    p.signal?.throwIfAborted();
    const record = await cs.create({
      image: baseId,
      cmd: p.args,
      entrypoint: [],
      env: p.buildEnv,
      user: cfg.User ?? '',
      workdir: cfg.WorkingDir || '/',
      // The image's health check is not the build's business.
      healthcheck: { Test: ['NONE'] },
      labels: {},
      host: { NetworkMode: p.network, Mounts: p.mounts, AutoRemove: false },
    });
    id = record.Id;
    mark('run: container created');
    p.onContainer(id);
    let ended = false;
    // The container may not count as running yet (its state is saved just after it starts):
    // the kill is tried again until it lands or the container has ended.
    const onAbort = () => {
      if (ended) return;
      try {
        cs.kill(id!, 'KILL');
      } catch {
        setTimeout(onAbort, 50).unref();
      }
    };
    p.signal?.addEventListener('abort', onAbort, { once: true });
    let exit;
    try {
      const streams = await cs.startStreams(record, { stdin: false });
      if (!streams) throw new BerthError('Internal', 'build container did not start');
      if (p.signal?.aborted) onAbort(); // aborted while it was starting
      streams.stdout.on('data', (d: Buffer) => p.onOutput('stdout', d));
      streams.stderr.on('data', (d: Buffer) => p.onOutput('stderr', d));
      exit = await streams.exited;
      await streams.gone;
    } finally {
      ended = true;
      p.signal?.removeEventListener('abort', onAbort);
    }
    p.signal?.throwIfAborted();
    if (exit.exit !== 0) {
      throw new BerthError('FailedPrecondition', `process "${p.args.join(' ')}" did not complete successfully: exit code: ${exit.exit}`);
    }
    // The container's own directory layout (containers/<id>/upper) is the engine's; diff reads it the same way.
    const upper = path.join(engine.root.dir, 'containers', id, 'upper');
    const image = new LayeredFs(images.layers.mount(state.config.rootfs.diff_ids).reverse());
    mark('run: exited');
    const ids = unshifter(record.HostConfig.IdMap); // a remapped container's files as it sees them
    const skip = mountStubs(upper, image, p.mounts.map((m) => m.Target), ids);
    const tar = layerTar(upper, await readXattrs(upper), skip, ids);
    // An empty change makes no layer (BuildKit marks such steps empty_layer).
    const first = await tar.next();
    const only = first.done || (first.value.length === 1024 && first.value.every((b) => b === 0));
    if (only) {
      await tar.return(undefined);
      return {};
    }
    const all = (async function* () {
      if (!first.done) yield first.value;
      yield* tar;
    })();
    const layer = await images.storeLayer(all);
    mark('run: layer stored');
    return { layer };
  } finally {
    // Removing the container (its network's release above all) is off the build's critical
    // path: the builder waits for every removal before it ends, however it ends.
    p.defer((async () => {
      if (id) await cs.remove(id, true).catch(() => undefined);
      p.scratchImages.release(baseId);
    })());
  }
}
