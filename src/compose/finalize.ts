// The merged model made a project: profiles applied, the default network added, top-level
// resources given their engine names, and references checked (undefined networks, volumes,
// secrets, services; depends_on cycles), so that a bad project fails before anything is made.
import { invalid } from '../core/errors.ts';
import { toBool } from './normalize.ts';
import type { FileObjectConfig, NetworkConfig, Project, Service, VolumeConfig } from './types.ts';

type Json = Record<string, unknown>;

export interface FinalizeOptions {
  name: string;
  workingDir: string;
  configFiles: string[];
  profiles: string[];
  targets: string[];
  environment: Record<string, string>;
  warnings: string[];
}

const bad = (msg: string) => invalid(`${msg}: invalid compose project`);

function external(v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v === 'object' && v) return true; // the legacy `external: {name: x}`
  return toBool(v, 'external');
}

function resources<T extends { name: string; external?: boolean }>(raw: unknown, project: string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, v] of Object.entries((raw as Record<string, Json | null>) ?? {})) {
    const def = { ...(v ?? {}) } as Json;
    const ext = external(def.external);
    const legacyName = typeof def.external === 'object' && def.external ? (def.external as Json).name : undefined;
    if (ext) def.external = true;
    else delete def.external;
    if (def.labels !== undefined && Array.isArray(def.labels)) def.labels = Object.fromEntries((def.labels as string[]).map((l) => [l.split('=')[0], l.split('=').slice(1).join('=')]));
    def.name = (def.name as string | undefined) ?? (legacyName as string | undefined) ?? (ext ? key : `${project}_${key}`);
    out[key] = def as unknown as T;
  }
  return out;
}

/** Services in start order (dependencies first); a cycle is an error naming it. */
export function startOrder(services: Record<string, Service>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, chain: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw bad(`dependency cycle detected: ${[...chain.slice(chain.indexOf(name)), name].join(' -> ')}`);
    state.set(name, 'visiting');
    for (const dep of Object.keys(services[name]?.depends_on ?? {})) if (services[dep]) visit(dep, [...chain, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of Object.keys(services).sort()) visit(name, []);
  return order;
}

export function finalize(model: Json, o: FinalizeOptions): Project {
  const all = (model.services as Record<string, Service>) ?? {};
  const active = (s: Service, name: string) => !s.profiles?.length || o.targets.includes(name) || o.profiles.includes('*') || s.profiles.some((p) => o.profiles.includes(p));
  const services: Record<string, Service> = {};
  const disabled: Record<string, Service> = {};
  for (const [name, s] of Object.entries(all)) (active(s, name) ? services : disabled)[name] = s;

  const networks = resources<NetworkConfig>(model.networks, o.name);
  const volumes = resources<VolumeConfig>(model.volumes, o.name);
  const secrets = resources<FileObjectConfig>(model.secrets, o.name);
  const configs = resources<FileObjectConfig>(model.configs, o.name);

  for (const [name, s] of Object.entries(services)) {
    if (!s.image && !s.build) throw bad(`service "${name}" has neither an image nor a build context specified`);
    if (!s.network_mode && !s.networks) s.networks = { default: null };
    if (s.network_mode && s.networks && Object.keys(s.networks).length) throw bad(`service "${name}" declares mutually exclusive \`network_mode\` and \`networks\``);
    for (const net of Object.keys(s.networks ?? {})) {
      if (net === 'default') networks.default ??= { name: `${o.name}_default` };
      else if (!networks[net]) throw bad(`service "${name}" refers to undefined network ${net}`);
    }
    const mode = s.network_mode ?? '';
    if (mode.startsWith('service:') && !all[mode.slice(8)]) throw bad(`service "${name}" refers to undefined service ${mode.slice(8)} in network_mode`);
    // Joining another service's namespace (network, pid, ipc) or taking its volumes needs that
    // service's container first.
    const refs = [mode, String(s.pid ?? ''), String(s.ipc ?? '')].filter((m) => m.startsWith('service:')).map((m) => m.slice(8));
    for (const v of (s.volumes_from as string[] | undefined) ?? []) if (!v.startsWith('container:')) refs.push(v.split(':')[0]);
    for (const ref of refs) {
      if (!all[ref]) throw bad(`service "${name}" refers to undefined service ${ref}`);
      s.depends_on = { [ref]: { condition: 'service_started', required: true }, ...s.depends_on };
    }
    for (const v of s.volumes ?? []) {
      if (v.type === 'volume' && v.source && !volumes[v.source]) throw bad(`service "${name}" refers to undefined volume ${v.source}`);
    }
    for (const [kind, defs] of [['secret', secrets], ['config', configs]] as const) {
      for (const r of (kind === 'secret' ? s.secrets : s.configs) ?? []) if (!defs[r.source]) throw bad(`service "${name}" refers to undefined ${kind} ${r.source}`);
    }
    for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
      if (services[dep]) continue;
      if (disabled[dep] && !d.required) {
        delete s.depends_on![dep];
        continue;
      }
      if (disabled[dep]) throw bad(`service "${name}" depends on service "${dep}", which is disabled by its profiles (enable one of them: --profile ${disabled[dep].profiles?.[0]})`);
      throw bad(`service "${name}" depends on undefined service "${dep}"`);
    }
    const replicas = s.scale ?? s.deploy?.replicas ?? 1;
    if (s.container_name && replicas > 1) throw bad(`services.${name}: container_name "${s.container_name}" is used by ${replicas} replicas: a container name must be unique`);
  }
  startOrder(services);
  return {
    name: o.name, workingDir: o.workingDir, configFiles: o.configFiles,
    services, disabled, networks, volumes, secrets, configs,
    environment: o.environment, warnings: o.warnings,
  };
}
