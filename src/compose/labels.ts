// The labels docker compose v2 puts on what it creates, so that either tool finds and manages
// the other's apps, and the configuration hash that tells whether a container is out of date.
import { createHash } from 'node:crypto';
import type { Project, Service } from './types.ts';

export const LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  hash: 'com.docker.compose.config-hash',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  environmentFile: 'com.docker.compose.project.environment_file',
  version: 'com.docker.compose.version',
  image: 'com.docker.compose.image',
  dependsOn: 'com.docker.compose.depends_on',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
  slug: 'com.docker.compose.slug',
} as const;

/** The docker compose release whose labels and names these are. */
export const COMPOSE_VERSION = '2.29.7';

/** JSON with sorted keys: the same configuration always hashes the same. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/**
 * What a service's containers are made from, hashed. Scale and ordering-only attributes are
 * left out (changing them recreates nothing), as compose does.
 */
export function configHash(s: Service): string {
  const { scale: _s, profiles: _p, depends_on: _d, pull_policy: _pp, build: _b, deploy, ...rest } = s;
  const { replicas: _r, ...dep } = deploy ?? {};
  return createHash('sha256').update(stable({ ...rest, deploy: deploy ? dep : undefined })).digest('hex');
}

export function projectLabels(p: Project): Record<string, string> {
  return { [LABEL.project]: p.name, [LABEL.version]: COMPOSE_VERSION };
}

export function containerLabels(p: Project, service: string, s: Service, n: number, oneoff: boolean, imageId: string): Record<string, string> {
  return {
    ...projectLabels(p),
    [LABEL.service]: service,
    [LABEL.number]: String(n),
    [LABEL.oneoff]: oneoff ? 'True' : 'False',
    [LABEL.hash]: configHash(s),
    [LABEL.workingDir]: p.workingDir,
    [LABEL.configFiles]: p.configFiles.join(','),
    [LABEL.image]: imageId,
    [LABEL.dependsOn]: Object.entries(s.depends_on ?? {}).map(([d, x]) => `${d}:${x.condition}:${x.restart === true}`).join(','),
  };
}

/** `<project>-<service>-<n>` (compose v2's separator), or the service's container_name. */
export function containerName(p: Project, service: string, s: Service, n: number): string {
  return s.container_name ?? `${p.name}-${service}-${n}`;
}
