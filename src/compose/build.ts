// A service's `build:` section into the builder's options: what `berth build` would be given for
// it (context, Dockerfile, args, target, labels, tags, secrets...), and which image up uses and
// when it builds one (--build, pull_policy, a missing image). Pure: the caller resolves secrets
// to files and runs the build.
import * as path from 'node:path';
import type { BuildOptions } from '../build/events.ts';
import { BerthError, invalid } from '../core/errors.ts';
import type { Project, Service } from './types.ts';

/** Build attributes the builder has no counterpart for: warned about, the build goes on without them. */
const IGNORED: Record<string, string> = {
  cache_to: 'cache export is not supported',
  additional_contexts: 'not supported',
  entitlements: 'not supported',
  extra_hosts: 'not supported by the builder',
  isolation: 'Windows only',
  privileged: 'not supported by the builder',
  shm_size: 'not supported by the builder',
  ulimits: 'not supported by the builder',
};

/** The image a service runs: its `image:`, else `<project>-<service>` (compose v2's name). */
export function serviceImage(p: Project, name: string): string {
  return p.services[name]?.image ?? p.disabled[name]?.image ?? `${p.name}-${name}`;
}

export interface BuildPlan {
  opts: Omit<BuildOptions, 'onEvent' | 'signal'>;
  /** A Dockerfile outside the context: the caller reads it into opts.dockerfileText. */
  dockerfileOutside?: string;
  /** build.ssh as `berth build --ssh` specs (the caller opens them, with the user's SSH_AUTH_SOCK). */
  ssh: string[];
  warnings: string[];
}

export interface BuildOverrides {
  noCache?: boolean;
  pull?: boolean;
  /** `compose build --build-arg K=V`: over the file's args. */
  args?: Record<string, string>;
}

/**
 * The builder's options for one service. `secretFile` gives the host file holding a top-level
 * secret's contents (the same files the containers' secrets come from).
 */
export function buildPlan(p: Project, name: string, over: BuildOverrides, secretFile: (secret: string) => string): BuildPlan {
  const s = p.services[name];
  const b = s.build;
  if (!b) throw invalid(`service "${name}" has no build section`);
  // normalize.ts left a remote context (a Git or HTTP URL) as written; a local one is absolute.
  const remote = !path.isAbsolute(b.context);
  const warnings: string[] = [];
  for (const [k, why] of Object.entries(IGNORED)) if (b[k] !== undefined && b[k] !== false) warnings.push(`service "${name}": build.${k} is ignored: ${why}`);
  const buildArgs: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.args ?? {})) if (v !== null) buildArgs[k] = v;
  Object.assign(buildArgs, over.args ?? {});
  const tags = [serviceImage(p, name), ...((b.tags as string[] | undefined) ?? [])];
  const opts: BuildPlan['opts'] = {
    context: remote ? { remote: b.context } : { dir: b.context },
    tags: [...new Set(tags)],
    buildArgs,
    labels: (b.labels as Record<string, string> | undefined) ?? {},
    target: b.target,
    noCache: over.noCache === true || b.no_cache === true,
    pull: over.pull === true || b.pull === true,
    cacheFrom: b.cache_from as string[] | undefined,
  };
  let dockerfileOutside: string | undefined;
  if (typeof b.dockerfile_inline === 'string') opts.dockerfileText = b.dockerfile_inline;
  else if (b.dockerfile && remote) opts.dockerfile = String(b.dockerfile); // a path inside the remote context
  else if (b.dockerfile) {
    // dockerfile is relative to the context (the spec's rule), unless absolute.
    const abs = path.resolve(b.context, String(b.dockerfile));
    const rel = path.relative(b.context, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) dockerfileOutside = abs;
    else opts.dockerfile = rel;
  }
  const network = b.network as string | undefined;
  if (network !== undefined && network !== 'default') {
    if (!['none', 'host', 'bridge'].includes(network)) throw invalid(`service "${name}": build.network "${network}" is not supported by the builder (default, none, host)`);
    opts.network = network;
  }
  const platforms = (b.platforms as string[] | undefined) ?? [];
  if (platforms.length > 1) throw invalid(`service "${name}": build.platforms lists ${platforms.length} platforms: berth builds for one (the host's)`);
  opts.platform = platforms[0] ?? (s.platform as string | undefined);
  opts.secrets = ((b.secrets as Array<string | { source: string; target?: string }> | undefined) ?? []).map((r) => {
    const ref = typeof r === 'string' ? { source: r } : r;
    if (!p.secrets[ref.source]) throw invalid(`service "${name}": build.secrets refers to undefined secret ${ref.source}`);
    return { id: ref.target ?? ref.source, src: secretFile(ref.source) };
  });
  return { opts, dockerfileOutside, ssh: (b.ssh as string[] | undefined) ?? [], warnings };
}

export type ImageAction = 'build' | 'pull' | 'use';

/**
 * What up does for a service's image, given whether it is present now (docker compose v2's
 * rules): `--build` or `pull_policy: build` build it every time; a missing image is built when
 * the service has a build section, else pulled; `pull_policy: always` pulls first; `never`
 * uses what is there. `--no-build` never builds.
 */
export function imageAction(name: string, s: Service, present: boolean, opts: { build?: boolean; noBuild?: boolean; pull?: string }): ImageAction {
  const policy = (s.pull_policy as string | undefined) ?? opts.pull ?? 'missing';
  if (s.build && !opts.noBuild && (opts.build || policy === 'build')) return 'build';
  if (policy === 'build' && !s.build) throw invalid(`service "${name}": pull_policy is build but the service has no build section`);
  // always pulls even a service that has a build section (its image: is what runs).
  if (policy === 'always') return 'pull';
  if (present) return 'use';
  if (policy === 'never') throw new BerthError('NotFound', `service "${name}": image ${s.image} not found, and pull_policy is never`);
  if (s.build) {
    if (opts.noBuild) throw new BerthError('FailedPrecondition', `service "${name}": image not found, and --no-build forbids building it`);
    return 'build';
  }
  return 'pull';
}
