// down, and the verbs that act on a project's existing containers (stop, start, restart, kill,
// pause, unpause, rm): in dependency order (reverse order for those that stop things).
import { BerthError } from '../core/errors.ts';
import type { Engine } from '../engine/engine.ts';
import { serviceImage } from './build.ts';
import { startOrder } from './finalize.ts';
import { projectContainers, type EventSink, type ProjectContainer } from './observe.ts';
import { stopTimeout } from './options.ts';
import { removeResources } from './resources.ts';
import type { Project } from './types.ts';
import { orphans, removeContainer } from './up.ts';

const isUp = (c: ProjectContainer) => ['running', 'paused', 'restarting'].includes(c.state.Status);

/** Services in start order, those unknown to the file (orphans) last. */
function ordered(p: Project, cs: ProjectContainer[]): ProjectContainer[] {
  const order = startOrder({ ...p.disabled, ...p.services });
  const rank = (c: ProjectContainer) => {
    const i = order.indexOf(c.service);
    return i < 0 ? order.length : i;
  };
  return [...cs].sort((a, b) => rank(a) - rank(b) || a.number - b.number);
}

/**
 * Acts on containers in reverse dependency order: a service's containers once every service
 * depending on it is done; independent services at the same time (as compose stops them).
 */
async function inReverse(p: Project, cs: ProjectContainer[], act: (c: ProjectContainer) => Promise<void>): Promise<void> {
  const all = { ...p.disabled, ...p.services };
  const services = [...new Set(cs.map((c) => c.service))];
  const done = new Map<string, Promise<void>>();
  const finish = (name: string): Promise<void> => {
    let pr = done.get(name);
    if (pr) return pr;
    const dependents = services.filter((d) => d !== name && all[d]?.depends_on?.[name]);
    pr = Promise.all(dependents.map(finish)).then(() => Promise.all(cs.filter((c) => c.service === name).map(act))).then(() => undefined);
    done.set(name, pr);
    return pr;
  };
  await Promise.all(services.map(finish));
}

export interface DownOptions {
  volumes?: boolean;
  removeOrphans?: boolean;
  rmi?: 'local' | 'all';
  timeout?: number;
}

/** Everything of the project: containers (one-off ones too), networks, with -v volumes, with --rmi images. */
export async function down(engine: Engine, p: Project, opts: DownOptions, emit: EventSink, warn: (m: string) => void): Promise<void> {
  const all = projectContainers(engine, p.name, { oneoff: true });
  const lost = orphans(p, all.filter((c) => !c.oneoff));
  const mine = opts.removeOrphans ? all : all.filter((c) => !lost.includes(c));
  if (lost.length && !opts.removeOrphans) warn(`Found orphan containers ([${lost.map((c) => c.name).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
  const images = new Set(mine.map((c) => c.record.ImageName));
  await inReverse(p, mine, (c) => removeContainer(engine, c, opts.timeout ?? stopTimeout(p.services[c.service] ?? p.disabled[c.service]), emit, true));
  // Networks still used by orphans that stay cannot go: compose says so and goes on.
  const failed = await removeResources(engine, p.name, { volumes: opts.volumes === true }, emit);
  for (const f of failed) warn(`could not remove ${f}`);
  if (opts.rmi) {
    // local: the images compose named itself (services without `image:`); all: every service's.
    const refs = new Set<string>();
    for (const [name, s] of Object.entries({ ...p.services, ...p.disabled })) if (opts.rmi === 'all' || !s.image) refs.add(serviceImage(p, name));
    if (opts.rmi === 'all') for (const r of images) refs.add(r);
    const inUse = engine.containers.imageUsers();
    for (const ref of refs) {
      try {
        engine.images.resolve(ref);
      } catch {
        continue;
      }
      emit({ kind: 'Image', name: ref, status: 'Removing' });
      try {
        engine.images.remove(ref, { inUse });
        emit({ kind: 'Image', name: ref, status: 'Removed', done: true });
      } catch (err) {
        warn(`could not remove image ${ref}: ${(err as Error).message}`);
      }
    }
  }
}

export type Verb = 'stop' | 'start' | 'restart' | 'kill' | 'pause' | 'unpause' | 'rm';

export interface VerbOptions {
  services?: string[];
  timeout?: number;
  signal?: string;
  /** rm: also running containers (-s stops them first), and anonymous volumes (-v). */
  stop?: boolean;
  volumes?: boolean;
}

/** The verbs on existing containers; returns the names acted on. */
export async function act(engine: Engine, p: Project, verb: Verb, opts: VerbOptions, emit: EventSink): Promise<string[]> {
  const cs = projectContainers(engine, p.name, { services: opts.services });
  const touched: string[] = [];
  const timeout = (c: ProjectContainer) => opts.timeout ?? stopTimeout(p.services[c.service]);
  const step = async (c: ProjectContainer, doing: string, did: string, fn: () => Promise<unknown> | unknown) => {
    emit({ kind: 'Container', name: c.name, status: doing });
    await fn();
    emit({ kind: 'Container', name: c.name, status: did, done: true });
    touched.push(c.name);
  };
  const k = engine.containers;
  switch (verb) {
    case 'stop':
      await inReverse(p, cs.filter(isUp), (c) => step(c, 'Stopping', 'Stopped', () => k.stop(c.id, timeout(c))));
      break;
    case 'kill':
      await inReverse(p, cs.filter(isUp), (c) => step(c, 'Killing', 'Killed', () => k.kill(c.id, opts.signal ?? 'KILL')));
      break;
    case 'pause':
      await inReverse(p, cs.filter((c) => c.state.Status === 'running'), (c) => step(c, 'Pausing', 'Paused', () => k.pause(c.id)));
      break;
    case 'unpause':
      for (const c of ordered(p, cs.filter((c) => c.state.Status === 'paused'))) await step(c, 'Unpausing', 'Unpaused', () => k.unpause(c.id));
      break;
    case 'start':
      if (!cs.length) throw new BerthError('NotFound', 'service has no container to start: run up first');
      for (const c of ordered(p, cs.filter((c) => !isUp(c)))) await step(c, 'Starting', 'Started', () => k.start(k.get(c.id).record));
      break;
    case 'restart':
      await inReverse(p, cs.filter(isUp), (c) => step(c, 'Stopping', 'Stopped', () => k.stop(c.id, timeout(c))));
      for (const c of ordered(p, cs)) await step(c, 'Starting', 'Started', () => k.start(k.get(c.id).record));
      break;
    case 'rm': {
      const running = cs.filter(isUp);
      if (running.length && !opts.stop) {
        // compose rm leaves running containers alone unless told to stop them.
        for (const c of running) emit({ kind: 'Container', name: c.name, status: 'Running (not removed: use -s)', done: true });
      }
      const gone = opts.stop ? cs : cs.filter((c) => !isUp(c));
      await inReverse(p, gone, (c) => step(c, 'Removing', 'Removed', async () => {
        if (isUp(c)) await k.stop(c.id, timeout(c));
        await k.remove(c.id, true, opts.volumes === true);
      }));
      break;
    }
  }
  return touched;
}
