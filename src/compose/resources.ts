// A project's networks, volumes, secrets and configs: made (with compose's labels) when missing,
// checked when external, removed by down. Names are the project-scoped ones finalize gave them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid, isCode, notFound } from '../core/errors.ts';
import type { Engine } from '../engine/engine.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { COMPOSE_VERSION, LABEL } from './labels.ts';
import type { EventSink } from './observe.ts';
import type { FileReference, Project } from './types.ts';

/** The networks and volumes the given services use (keys of the project's maps). */
export function usedResources(p: Project, services: string[]): { networks: string[]; volumes: string[] } {
  const networks = new Set<string>();
  const volumes = new Set<string>();
  for (const name of services) {
    const s = p.services[name];
    for (const n of Object.keys(s.networks ?? {})) networks.add(n);
    for (const v of s.volumes ?? []) if (v.type === 'volume' && v.source) volumes.add(v.source);
  }
  return { networks: [...networks], volumes: [...volumes] };
}

/** An external network that is not there, or a driver berth has not: the error up stops with. */
function networkProblem(key: string, def: Project['networks'][string], exists: boolean): void {
  if (def.external && !exists) throw notFound(`network ${def.name} declared as external, but could not be found`);
  if (!def.external && !exists && def.driver && def.driver !== 'bridge') throw invalid(`network ${key}: driver "${def.driver}" is not supported (only bridge)`);
}

function volumeProblem(key: string, def: Project['volumes'][string], exists: boolean): void {
  if (def.external && !exists) throw notFound(`external volume "${def.name}" not found`);
  if (!def.external && !exists && def.driver && def.driver !== 'local') throw invalid(`volume ${key}: driver "${def.driver}" is not supported (only local)`);
}

function volumeExists(engine: Engine, name: string): boolean {
  try {
    engine.containers.volumes.get(name);
    return true;
  } catch (err) {
    if (!isCode(err, 'NotFound')) throw err;
    return false;
  }
}

/** What ensureNetworks and ensureVolumes would refuse, checked before anything is made. */
export async function checkResources(engine: Engine, p: Project, used: { networks: string[]; volumes: string[] }): Promise<void> {
  if (used.networks.length) {
    const names = new Set((await (await engine.networks()).list()).map((n) => n.Name));
    for (const key of used.networks) networkProblem(key, p.networks[key], names.has(p.networks[key].name));
  }
  for (const key of used.volumes) volumeProblem(key, p.volumes[key], volumeExists(engine, p.volumes[key].name));
}

export async function ensureNetworks(engine: Engine, p: Project, keys: string[], emit: EventSink): Promise<void> {
  if (!keys.length) return;
  const admin = await engine.networks();
  const existing = new Map((await admin.list()).map((n) => [n.Name, n]));
  for (const key of keys) {
    const def = p.networks[key];
    const have = existing.get(def.name);
    networkProblem(key, def, !!have);
    if (def.external) continue;
    if (have) {
      const owner = have.Labels?.[LABEL.project];
      if (owner && owner !== p.name) emit({ kind: 'Network', name: def.name, status: `exists but was created for project "${owner}"`, done: true });
      continue;
    }
    // The first IPv4 pool, and the IPv6 ones (used with enable_ipv6), told apart by the subnet.
    const ipam = def.ipam?.config?.find((c) => !c.subnet?.includes(':'));
    const ipam6 = (def.ipam?.config ?? []).filter((c) => c.subnet?.includes(':')).map((c) => ({
      Subnet: c.subnet, ...(c.gateway ? { Gateway: c.gateway } : {}), ...(c.ip_range ? { IPRange: c.ip_range } : {}), ...(c.aux_addresses ? { AuxiliaryAddresses: c.aux_addresses } : {}),
    }));
    emit({ kind: 'Network', name: def.name, status: 'Creating' });
    await admin.create({
      name: def.name, subnet: ipam?.subnet, gateway: ipam?.gateway, ipRange: ipam?.ip_range, auxAddresses: ipam?.aux_addresses, internal: def.internal === true,
      enableIPv6: def.enable_ipv6 === true, ipam6,
      labels: { ...(def.labels ?? {}), [LABEL.project]: p.name, [LABEL.network]: key, [LABEL.version]: COMPOSE_VERSION },
    });
    emit({ kind: 'Network', name: def.name, status: 'Created', done: true });
  }
}

export function ensureVolumes(engine: Engine, p: Project, keys: string[], emit: EventSink): void {
  const volumes = engine.containers.volumes;
  for (const key of keys) {
    const def = p.volumes[key];
    const exists = volumeExists(engine, def.name);
    volumeProblem(key, def, exists);
    if (def.external || exists) continue;
    emit({ kind: 'Volume', name: def.name, status: 'Creating' });
    volumes.create(def.name, { labels: { ...(def.labels ?? {}), [LABEL.project]: p.name, [LABEL.volume]: key, [LABEL.version]: COMPOSE_VERSION } });
    emit({ kind: 'Volume', name: def.name, status: 'Created', done: true });
  }
}

/** Where the contents of `environment:` and `content:` secrets and configs are kept for binding. */
export function filesDir(engine: Engine, project: string): string {
  return path.join(engine.root.dir, 'compose', project);
}

/** A reference's mode: a number as given (YAML's 0440 is octal already), a string as octal. */
function fileMode(mode: number | string | undefined): number | undefined {
  if (mode === undefined) return undefined;
  const n = typeof mode === 'number' ? mode : parseInt(mode, 8);
  if (!Number.isInteger(n) || n < 0 || n > 0o7777) throw invalid(`invalid file mode ${mode}`);
  return n;
}

/**
 * A secret's or config's file on the host: its `file`, or one written from its content. A
 * reference with uid, gid or mode gets its own copy with that owner and mode (compose v2 honours
 * them for content and environment sources only; a host file is bound as it is).
 */
export function fileObject(engine: Engine, p: Project, kind: 'secret' | 'config', name: string, ref?: FileReference): string {
  const def = (kind === 'secret' ? p.secrets : p.configs)[name];
  if (def.external) throw invalid(`${kind} "${name}": external ${kind}s are swarm objects, not supported`);
  if (def.file) {
    const f = path.resolve(p.workingDir, def.file);
    if (!fs.existsSync(f)) throw notFound(`${kind} "${name}": file ${f} not found`);
    return f;
  }
  let content: string | undefined = def.content;
  if (def.environment !== undefined) {
    content = p.environment[def.environment];
    if (content === undefined) throw invalid(`${kind} "${name}": environment variable ${def.environment} is not set`);
  }
  if (content === undefined) throw invalid(`${kind} "${name}": needs file, environment or content`);
  const mode = fileMode(ref?.mode) ?? 0o444;
  const uid = ref?.uid !== undefined ? Number(ref.uid) : 0;
  const gid = ref?.gid !== undefined ? Number(ref.gid) : 0;
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid < 0 || gid < 0) throw invalid(`${kind} "${name}": uid and gid must be numbers`);
  const own = ref?.mode !== undefined || uid !== 0 || gid !== 0;
  const f = path.join(filesDir(engine, p.name), `${kind}s`, own ? `${name}.${uid}.${gid}.${mode.toString(8)}` : name);
  fs.mkdirSync(path.dirname(f), { recursive: true, mode: 0o700 });
  writeFileAtomic(f, content, { mode });
  if (own) fs.chownSync(f, uid, gid);
  return f;
}

/** uid, gid and mode on references to host files: compose ignores them, and says so. */
export function fileRefWarnings(p: Project, service: string): string[] {
  const s = p.services[service];
  const out: string[] = [];
  for (const [kind, refs] of [['secret', s.secrets], ['config', s.configs]] as const) {
    for (const r of refs ?? []) {
      const def = (kind === 'secret' ? p.secrets : p.configs)[r.source];
      if (def?.file && (r.uid !== undefined || r.gid !== undefined || r.mode !== undefined)) out.push(`service "${service}": ${kind} ${r.source} is a host file: its uid, gid and mode are ignored`);
    }
  }
  return out;
}

/** down: the project's own networks (and with -v its volumes), whoever listed them. */
export async function removeResources(engine: Engine, project: string, opts: { volumes: boolean }, emit: EventSink): Promise<string[]> {
  const failed: string[] = [];
  const admin = await engine.networks();
  for (const n of await admin.list()) {
    if (n.Labels?.[LABEL.project] !== project) continue;
    emit({ kind: 'Network', name: n.Name, status: 'Removing' });
    try {
      await admin.remove(n.Name);
      emit({ kind: 'Network', name: n.Name, status: 'Removed', done: true });
    } catch (err) {
      failed.push(`network ${n.Name}: ${(err as Error).message}`);
      emit({ kind: 'Network', name: n.Name, status: (err as Error).message, error: true });
    }
  }
  if (opts.volumes) {
    const volumes = engine.containers.volumes;
    for (const v of volumes.list()) {
      if (v.Labels?.[LABEL.project] !== project) continue;
      emit({ kind: 'Volume', name: v.Name, status: 'Removing' });
      try {
        volumes.remove(v.Name, () => undefined);
        emit({ kind: 'Volume', name: v.Name, status: 'Removed', done: true });
      } catch (err) {
        failed.push(`volume ${v.Name}: ${(err as Error).message}`);
      }
    }
  }
  fs.rmSync(filesDir(engine, project), { recursive: true, force: true });
  return failed;
}
