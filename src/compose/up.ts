// compose up: check everything that can be checked (options, images, ports) before anything is
// made, then networks and volumes, then each service once its dependencies meet their condition
// (independent services in parallel). A service's containers are kept when their configuration
// hash matches, recreated when it changed, added or removed to reach the scale. A failure leaves
// what already started running and names what failed.
import { BerthError, invalid, isCode } from '../core/errors.ts';
import type { Engine } from '../engine/engine.ts';
import { checkPortFree } from '../network/sandbox.ts';
import type { Proto } from '../network/ports.ts';
import { imageAction, serviceImage } from './build.ts';
import { startOrder } from './finalize.ts';
import { configHash, containerLabels, containerName, LABEL } from './labels.ts';
import { projectContainers, type EventSink, type ProjectContainer } from './observe.ts';
import { createOptions, extraEndpoints, resourceWarnings, stopTimeout, warnings } from './options.ts';
import { checkResources, ensureNetworks, ensureVolumes, fileObject, fileRefWarnings, usedResources } from './resources.ts';
import type { FileReference, Project, Service } from './types.ts';
import { mark } from '../util/trace.ts';

export interface UpOptions {
  services?: string[];
  noDeps?: boolean;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  /** -V: recreated containers get new anonymous volumes instead of their predecessors'. */
  renewAnonVolumes?: boolean;
  /** Seconds to wait for a container to stop when it is replaced or removed (else stop_grace_period). */
  timeout?: number;
  scale?: Record<string, number>;
  removeOrphans?: boolean;
  wait?: boolean;
  /** Seconds --wait waits at most (0: no limit). */
  waitTimeout?: number;
  build?: boolean;
  noBuild?: boolean;
  noStart?: boolean;
  pull?: 'always' | 'missing' | 'never';
  /** Builds an image for a service (berth build), when the builder exists. */
  builder?: (service: string, s: Service) => Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The services to act on: those named (or all), plus what they depend on unless noDeps. */
export function selectServices(p: Project, names: string[] | undefined, noDeps = false): string[] {
  for (const n of names ?? []) if (!p.services[n]) throw invalid(`no such service: ${n}`);
  const picked = new Set(names?.length ? names : Object.keys(p.services));
  if (!noDeps) {
    const add = (n: string) => {
      for (const d of Object.keys(p.services[n]?.depends_on ?? {})) if (p.services[d] && !picked.has(d)) (picked.add(d), add(d));
    };
    for (const n of [...picked]) add(n);
  }
  return startOrder(p.services).filter((n) => picked.has(n));
}

export function replicas(p: Project, name: string, scale?: Record<string, number>): number {
  const s = p.services[name];
  return scale?.[name] ?? s.scale ?? s.deploy?.replicas ?? 1;
}

/** The image a service runs: present, pulled, or built (compose/build.ts decides which); its id. */
export async function ensureImage(engine: Engine, p: Project, name: string, opts: UpOptions, emit: EventSink): Promise<string> {
  const s = p.services[name];
  const ref = serviceImage(p, name);
  const resolve = () => engine.images.resolve(ref).id;
  let present = true;
  try {
    resolve();
  } catch (err) {
    if (!isCode(err, 'NotFound')) throw err;
    present = false;
  }
  const action = imageAction(name, s, present, opts);
  const build = async () => {
    if (!opts.builder) throw new BerthError('FailedPrecondition', `service "${name}" needs an image built from ${s.build!.context}: no builder here`);
    await opts.builder(name, s);
  };
  if (action === 'build') await build();
  if (action === 'pull') {
    emit({ kind: 'Image', name: ref, status: 'Pulling' });
    try {
      await engine.pull(ref, { platform: s.platform as string | undefined });
    } catch (err) {
      // A service that can be built is built when its image cannot be pulled (compose's fallback).
      if (!s.build || opts.noBuild) throw err;
      emit({ kind: 'Image', name: ref, status: `Pull failed: ${(err as Error).message}`, done: true });
      await build();
      return resolve();
    }
    emit({ kind: 'Image', name: ref, status: 'Pulled', done: true });
  }
  return resolve();
}

/** What up will do to one service's containers. */
interface ServicePlan {
  name: string;
  keep: ProjectContainer[]; // up to date: started if stopped
  recreate: ProjectContainer[];
  create: number[]; // container numbers to make
  remove: ProjectContainer[]; // beyond the scale
}

/**
 * `imageId`: the image the service runs now; `netOwner`: the container whose network namespace
 * it joins now (network_mode: service:x). A container made from another is out of date.
 */
export function planService(p: Project, name: string, existing: ProjectContainer[], opts: UpOptions, imageId?: string, netOwner?: string): ServicePlan {
  const s = p.services[name];
  const want = replicas(p, name, opts.scale);
  const hash = configHash(s);
  const mine = existing.filter((c) => c.service === name).sort((a, b) => a.number - b.number);
  const plan: ServicePlan = { name, keep: [], recreate: [], create: [], remove: [] };
  const kept = mine.slice(0, want);
  plan.remove = mine.slice(want);
  for (const c of kept) {
    // A container made from another image than the service's now (rebuilt, pulled) is out of date too.
    const otherImage = imageId !== undefined && (c.record.Config.Labels?.[LABEL.image] ?? c.record.Image) !== imageId;
    const otherNet = netOwner !== undefined && c.record.HostConfig.NetworkMode !== `container:${netOwner}`;
    const stale = opts.forceRecreate || (!opts.noRecreate && (c.hash !== hash || otherImage || otherNet));
    (stale ? plan.recreate : plan.keep).push(c);
  }
  const used = new Set(kept.map((c) => c.number));
  for (let n = 1; plan.keep.length + plan.recreate.length + plan.create.length < want; n++) if (!used.has(n)) plan.create.push(n);
  return plan;
}

/** Checks made before anything is created: every option, image and published port. */
async function preflight(engine: Engine, p: Project, names: string[], existing: ProjectContainer[], opts: UpOptions, emit: EventSink, warn: (m: string) => void): Promise<Map<string, string>> {
  const images = new Map<string, string>();
  const naming = { containerOf: (svc: string) => svc, fileOf: () => '/' };
  for (const name of names) {
    const s = p.services[name];
    if (s.container_name && replicas(p, name, opts.scale) > 1) throw invalid(`service "${name}": container_name "${s.container_name}" cannot be given to ${replicas(p, name, opts.scale)} containers: names must be unique (remove container_name to scale the service)`);
    for (const w of warnings(name, s)) warn(w);
    createOptions(p, name, s, containerName(p, name, s, 1), {}, naming);
    for (const [kind, refs] of [['secret', s.secrets], ['config', s.configs]] as const) for (const r of refs ?? []) fileObject(engine, p, kind, r.source, r);
    for (const w of fileRefWarnings(p, name)) warn(w);
  }
  const used = usedResources(p, names);
  for (const w of resourceWarnings(p, used.networks, used.volumes)) warn(w);
  await checkResources(engine, p, used);
  // Published ports of containers that are not running now must be free.
  const taken = new Map<string, string>();
  for (const name of names) {
    const up = existing.some((c) => c.service === name && ['running', 'paused', 'restarting'].includes(c.state.Status));
    if (up) continue;
    for (const port of p.services[name].ports ?? []) {
      if (!port.published) continue;
      const key = `${port.protocol}/${port.published}`;
      if (taken.has(key)) throw invalid(`services "${taken.get(key)}" and "${name}" both publish ${port.published}/${port.protocol}`);
      taken.set(key, name);
      try {
        await checkPortFree({ protocol: port.protocol as Proto, hostPort: Number(port.published), hostIP: port.host_ip ?? '' });
      } catch (err) {
        throw new BerthError((err as BerthError).code ?? 'Conflict', `service "${name}": ${(err as Error).message}`);
      }
    }
  }
  for (const name of names) images.set(name, await ensureImage(engine, p, name, opts, emit));
  return images;
}

/** Waits for one dependency's condition; throws (naming it) when it cannot be met. */
async function waitFor(engine: Engine, p: Project, dep: string, condition: string, emit: EventSink): Promise<void> {
  if (condition === 'service_started') return;
  const containers = projectContainers(engine, p.name, { services: [dep] });
  for (const c of containers) {
    emit({ kind: 'Container', name: c.name, status: 'Waiting' });
    for (;;) {
      const cur = engine.containers.get(c.id);
      const status = cur.state.Status;
      if (condition === 'service_completed_successfully') {
        if (status === 'exited' || status === 'dead') {
          if (cur.state.ExitCode !== 0) throw new BerthError('FailedPrecondition', `service "${dep}" didn't complete successfully: exit ${cur.state.ExitCode}`);
          break;
        }
      } else {
        const h = engine.containers.health(cur.record);
        if (!h) throw new BerthError('FailedPrecondition', `container ${c.name} has no healthcheck configured (needed by condition service_healthy)`);
        if (h.Status === 'healthy') break;
        if (h.Status === 'unhealthy') throw new BerthError('FailedPrecondition', `dependency failed to start: container ${c.name} is unhealthy`);
        if (status === 'exited' || status === 'dead') throw new BerthError('FailedPrecondition', `dependency failed to start: container ${c.name} exited (${cur.state.ExitCode})`);
      }
      await sleep(100);
    }
    emit({ kind: 'Container', name: c.name, status: condition === 'service_healthy' ? 'Healthy' : 'Exited', done: true });
  }
}

/** Creates container number `n` of a service (stopped); returns its id. */
async function createContainer(engine: Engine, p: Project, name: string, n: number, imageId: string, emit: EventSink, anonymous: Record<string, string> = {}): Promise<string> {
  const s = p.services[name];
  const cname = containerName(p, name, s, n);
  const naming = {
    containerOf: (svc: string) => {
      const c = projectContainers(engine, p.name, { services: [svc] })[0];
      if (!c) throw invalid(`service "${name}" uses the network of service "${svc}", which has no container`);
      return c.id;
    },
    fileOf: (kind: 'secret' | 'config', obj: string, ref: FileReference) => fileObject(engine, p, kind, obj, ref),
  };
  const opts = createOptions(p, name, s, cname, containerLabels(p, name, s, n, false, imageId), naming);
  // A replacement keeps its predecessor's anonymous volumes (their data), as compose does.
  for (const m of opts.host?.Mounts ?? []) if (m.Anonymous && anonymous[m.Target]) m.Source = anonymous[m.Target];
  emit({ kind: 'Container', name: cname, status: 'Creating' });
  const record = await engine.containers.create(opts);
  const extra = extraEndpoints(p, name, s);
  if (Object.keys(extra).length) engine.containers.setEndpoints(record, { ...(record.Endpoints ?? {}), ...extra });
  emit({ kind: 'Container', name: cname, status: 'Created', done: true });
  return record.Id;
}

async function startContainer(engine: Engine, id: string, name: string, emit: EventSink): Promise<void> {
  const c = engine.containers.get(id);
  if (['running', 'paused', 'restarting'].includes(c.state.Status)) {
    emit({ kind: 'Container', name, status: 'Running', done: true });
    return;
  }
  emit({ kind: 'Container', name, status: 'Starting' });
  try {
    await engine.containers.start(c.record);
  } catch (err) {
    emit({ kind: 'Container', name, status: `Error: ${(err as Error).message}`, error: true });
    throw err;
  }
  mark(`compose started ${name}`);
  emit({ kind: 'Container', name, status: 'Started', done: true });
}

/** `timeout` undefined: the container's own stop timeout (its stop_grace_period), else 10 s. */
export async function removeContainer(engine: Engine, c: ProjectContainer, timeout: number | undefined, emit: EventSink, volumes = false): Promise<void> {
  emit({ kind: 'Container', name: c.name, status: 'Stopping' });
  await engine.containers.stop(c.id, timeout);
  mark(`compose stopped ${c.name}`);
  emit({ kind: 'Container', name: c.name, status: 'Stopped', done: true });
  emit({ kind: 'Container', name: c.name, status: 'Removing' });
  await engine.containers.remove(c.id, true, volumes);
  mark(`compose removed ${c.name}`);
  emit({ kind: 'Container', name: c.name, status: 'Removed', done: true });
}

/** Brings one service to its plan: returns once its containers run (or are created, noStart). */
async function converge(engine: Engine, p: Project, plan: ServicePlan, imageId: string, opts: UpOptions, emit: EventSink, restart = false): Promise<void> {
  const s = p.services[plan.name];
  const timeout = opts.timeout ?? stopTimeout(s);
  // depends_on with restart: true: a recreated dependency restarts the containers kept here.
  if (restart && !opts.noStart) {
    for (const c of plan.keep) {
      if (!['running', 'paused', 'restarting'].includes(engine.containers.get(c.id).state.Status)) continue;
      emit({ kind: 'Container', name: c.name, status: 'Restarting' });
      await engine.containers.stop(c.id, timeout);
    }
  }
  for (const c of plan.remove.reverse()) await removeContainer(engine, c, timeout, emit, true);
  const ids: Array<[string, string]> = [];
  for (const c of plan.keep) ids.push([c.id, c.name]);
  for (const c of plan.recreate) {
    emit({ kind: 'Container', name: c.name, status: 'Recreate' });
    const anonymous = Object.fromEntries(c.record.HostConfig.Mounts.filter((m) => m.Type === 'volume' && m.Anonymous).map((m) => [m.Target, m.Source]));
    await removeContainer(engine, c, timeout, () => undefined, opts.renewAnonVolumes === true);
    ids.push([await createContainer(engine, p, plan.name, c.number, imageId, () => undefined, opts.renewAnonVolumes ? {} : anonymous), c.name]);
    emit({ kind: 'Container', name: c.name, status: 'Recreated', done: true });
  }
  for (const n of plan.create) ids.push([await createContainer(engine, p, plan.name, n, imageId, emit), containerName(p, plan.name, s, n)]);
  if (opts.noStart) return;
  await Promise.all(ids.map(([id, name]) => startContainer(engine, id, name, emit)));
}

/** Containers of the project whose service is no longer in its files. */
export function orphans(p: Project, existing: ProjectContainer[]): ProjectContainer[] {
  return existing.filter((c) => !p.services[c.service] && !p.disabled[c.service]);
}

export async function up(engine: Engine, p: Project, opts: UpOptions, emit: EventSink, warn: (m: string) => void): Promise<void> {
  engine.containers.sweepCreates();
  engine.containers.sweepOrphans();
  const names = selectServices(p, opts.services, opts.noDeps);
  const existing = projectContainers(engine, p.name);
  const images = await preflight(engine, p, names, existing, opts, emit, warn);
  mark('compose preflight done');

  const lost = orphans(p, existing);
  if (lost.length && opts.removeOrphans) for (const c of lost) await removeContainer(engine, c, opts.timeout, emit);
  else if (lost.length) warn(`Found orphan containers ([${lost.map((c) => c.name).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);

  const res = usedResources(p, names);
  await ensureNetworks(engine, p, res.networks, emit);
  ensureVolumes(engine, p, res.volumes, emit);
  mark('compose networks and volumes ready');

  // Each service starts once its dependencies are ready; independent ones run at the same time.
  const done = new Map<string, Promise<void>>();
  const recreated = new Set<string>();
  const failures: string[] = [];
  const run = (name: string): Promise<void> => {
    let pr = done.get(name);
    if (pr) return pr;
    pr = (async () => {
      const s = p.services[name];
      if (!opts.noDeps) {
        for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
          if (!names.includes(dep)) continue;
          try {
            await run(dep);
            if (!opts.noStart) await waitFor(engine, p, dep, d.condition, emit);
          } catch (err) {
            if (!d.required) {
              warn(`service "${name}": optional dependency "${dep}" failed: ${(err as Error).message}`);
              continue;
            }
            throw err;
          }
        }
      }
      const owner = s.network_mode?.startsWith('service:') ? projectContainers(engine, p.name, { services: [s.network_mode.slice(8)] })[0]?.id : undefined;
      const plan = planService(p, name, existing, opts, images.get(name), owner);
      if (plan.recreate.length) recreated.add(name);
      const restart = Object.entries(s.depends_on ?? {}).some(([d, x]) => x.restart && recreated.has(d));
      await converge(engine, p, plan, images.get(name)!, opts, emit, restart);
    })();
    pr.catch((err) => {
      if (!failures.some((f) => f.includes((err as Error).message))) failures.push(`service "${name}": ${(err as Error).message}`);
    });
    done.set(name, pr);
    return pr;
  };
  await Promise.allSettled(names.map(run));
  if (failures.length) throw new BerthError('FailedPrecondition', failures.length === 1 ? failures[0] : failures.join('; '));
  if (opts.wait) await waitRunning(engine, p, names, opts.waitTimeout ?? 0, emit);
}

/** --wait: every container running, and healthy when it has a healthcheck. */
export async function waitRunning(engine: Engine, p: Project, names: string[], timeoutSec: number, emit: EventSink): Promise<void> {
  const deadline = timeoutSec > 0 ? Date.now() + timeoutSec * 1000 : Infinity;
  for (const c of projectContainers(engine, p.name, { services: names })) {
    emit({ kind: 'Container', name: c.name, status: 'Waiting' });
    for (;;) {
      const cur = engine.containers.get(c.id);
      const h = engine.containers.health(cur.record);
      if (cur.state.Status === 'running' && (!h || h.Status === 'healthy')) break;
      if (h?.Status === 'unhealthy') throw new BerthError('FailedPrecondition', `container ${c.name} is unhealthy`);
      if (cur.state.Status === 'exited' || cur.state.Status === 'dead') {
        // A one-shot that succeeded is fine for --wait, as with compose's "Exited" state.
        if (cur.state.ExitCode === 0) break;
        throw new BerthError('FailedPrecondition', `container ${c.name} exited (${cur.state.ExitCode})`);
      }
      if (Date.now() > deadline) throw new BerthError('Unavailable', `application not healthy after ${timeoutSec}s (${c.name} is not yet)`);
      await sleep(100);
    }
    emit({ kind: 'Container', name: c.name, status: 'Healthy', done: true });
  }
}
