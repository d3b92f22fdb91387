// One file's service definitions into the canonical forms (types.ts), before files are merged:
// short syntax becomes long syntax, lists of KEY=VALUE become maps, relative paths become
// absolute (against the directory the file's paths are relative to). Partial services (an
// override file's) stay partial: defaults are added after the merge. Pure but for env_file reads.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isRemoteContext } from '../build/remote.ts';
import { invalid } from '../core/errors.ts';
import { parseDotenv } from './dotenv.ts';
import type { Lookup } from './interpolate.ts';
import type { Dependency, FileReference, PortConfig, Service, ServiceVolume } from './types.ts';

type Json = Record<string, unknown>;

/** Splits a command line as a POSIX shell would (quotes and backslashes), without expansion. */
export function shellSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let have = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw invalid(`unterminated quote in "${s}"`);
      cur += s.slice(i + 1, end);
      have = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && '"\\$`\n'.includes(s[j + 1] ?? '')) j++;
        cur += s[j];
      }
      if (j >= s.length) throw invalid(`unterminated quote in "${s}"`);
      have = true;
      i = j;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      have = true;
    } else if (/\s/.test(c)) {
      if (have) out.push(cur);
      cur = '';
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) out.push(cur);
  return out;
}

const scalar = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** `[K=V, K]` or `{K: V}` into a map; `K` alone maps to null (compose resolves it later). */
export function toMap(v: unknown, sep = '='): Record<string, string | null> {
  if (v === undefined || v === null) return {};
  if (Array.isArray(v)) {
    const out: Record<string, string | null> = {};
    for (const item of v as string[]) {
      const i = item.indexOf(sep);
      if (i < 0) out[item] = null;
      else out[item.slice(0, i)] = item.slice(i + 1);
    }
    return out;
  }
  return Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, scalar(x)]));
}

export function toBool(v: unknown, where: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|yes|y|on|1)$/i.test(v)) return true;
  if (typeof v === 'string' && /^(false|no|n|off|0|)$/i.test(v)) return false;
  throw invalid(`${where} must be a boolean`);
}

export function toInt(v: unknown, where: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw invalid(`${where} must be an integer`);
  return n;
}

function range(s: string, where: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw invalid(`${where}: invalid port "${s}"`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (b < a || b > 65535) throw invalid(`${where}: invalid port range "${s}"`);
  return [a, b];
}

/** Short port syntax: [[HOST_IP:]HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTO]. */
export function parsePort(spec: string | number, where: string): PortConfig[] {
  if (typeof spec === 'number') return [{ mode: 'ingress', target: spec, protocol: 'tcp' }];
  let rest = spec.trim();
  let protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    protocol = rest.slice(slash + 1);
    rest = rest.slice(0, slash);
  }
  if (!['tcp', 'udp', 'sctp'].includes(protocol)) throw invalid(`${where}: invalid protocol "${protocol}"`);
  let hostIp: string | undefined;
  // An IPv6 host address comes in brackets: [::1]:8080:80.
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  if (v6) [hostIp, rest] = [v6[1], v6[2]];
  const parts = rest.split(':');
  if (!v6 && parts.length === 3) hostIp = parts.shift();
  if (parts.length > 2) throw invalid(`${where}: invalid port "${spec}"`);
  const [target, published] = parts.length === 2 ? [parts[1], parts[0]] : [parts[0], undefined];
  const [t0, t1] = range(target, where);
  const base = { mode: 'ingress', ...(hostIp ? { host_ip: hostIp } : {}), protocol };
  if (t0 === t1) return [{ ...base, target: t0, ...(published ? { published } : {}) }];
  // A container range maps one-to-one onto a host range of the same length (or random ports).
  const hostRange = published ? range(published, where) : undefined;
  if (hostRange && hostRange[1] - hostRange[0] !== t1 - t0) throw invalid(`${where}: port ranges don't match in length: "${spec}"`);
  const out: PortConfig[] = [];
  for (let p = t0; p <= t1; p++) out.push({ ...base, target: p, ...(hostRange ? { published: String(hostRange[0] + p - t0) } : {}) });
  return out;
}

function resolvePath(p: string, baseDir: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(os.homedir(), p.slice(1));
  return path.resolve(baseDir, p);
}

const isPathLike = (s: string) => s.startsWith('.') || s.startsWith('/') || s.startsWith('~') || /^[a-zA-Z]:[\\/]/.test(s);

/** Short volume syntax: [SOURCE:]TARGET[:MODE]. */
export function parseServiceVolume(spec: string, baseDir: string, where: string): ServiceVolume {
  const parts = spec.split(':');
  if (parts.length === 1) return { type: 'volume', target: parts[0], volume: {} };
  if (parts.length > 3) throw invalid(`${where}: invalid volume specification "${spec}"`);
  const [src, target, modeText = ''] = parts;
  if (!target) throw invalid(`${where}: invalid volume specification "${spec}"`);
  const modes = modeText ? modeText.split(',') : [];
  const bind = isPathLike(src);
  const v: ServiceVolume = { type: bind ? 'bind' : 'volume', source: bind ? resolvePath(src, baseDir) : src, target };
  for (const m of modes) {
    if (m === 'ro') v.read_only = true;
    else if (m === 'rw') continue;
    else if (m === 'z' || m === 'Z') (v.bind ??= {}).selinux = m;
    else if (m === 'nocopy') (v.volume ??= {}).nocopy = true;
    else if (['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'].includes(m)) (v.bind ??= {}).propagation = m;
    else throw invalid(`${where}: invalid mode "${m}" in "${spec}"`);
  }
  if (bind) v.bind = { ...v.bind, create_host_path: true };
  else v.volume ??= {};
  return v;
}

function longVolume(m: Json, baseDir: string, where: string): ServiceVolume {
  const v = { ...m } as unknown as ServiceVolume;
  if (v.read_only !== undefined) v.read_only = toBool(v.read_only, `${where}.read_only`);
  if (v.type === 'bind' && v.source) v.source = resolvePath(v.source, baseDir);
  if (v.type === 'bind' && !v.source) throw invalid(`${where}: a bind mount needs a source`);
  if (v.bind?.create_host_path !== undefined) v.bind.create_host_path = toBool(v.bind.create_host_path, `${where}.bind.create_host_path`);
  return v;
}

function fileRefs(v: unknown): FileReference[] {
  return (v as Array<string | Json>).map((x) => (typeof x === 'string' ? { source: x } : ({ ...x } as unknown as FileReference)));
}

const BOOLS = ['init', 'tty', 'stdin_open', 'privileged', 'read_only', 'oom_kill_disable', 'attach'];
const LIST_OR_STRING = ['dns', 'dns_search', 'tmpfs'];
const MAPS = ['labels', 'sysctls', 'annotations'];

/**
 * One service from one file into canonical forms. `baseDir` is where its relative paths start;
 * `lookup` resolves bare environment names and env_file substitutions.
 */
export function normalizeService(name: string, raw: Json, baseDir: string, lookup: Lookup, file: string): Service {
  const where = (k: string) => `${file}: services.${name}.${k}`;
  const s: Service = { ...raw };
  for (const k of ['command', 'entrypoint']) if (typeof s[k] === 'string') s[k] = shellSplit(s[k] as string);
  for (const k of BOOLS) if (s[k] !== undefined) s[k] = toBool(s[k], where(k));
  for (const k of LIST_OR_STRING) if (typeof s[k] === 'string') s[k] = [s[k]];
  for (const k of MAPS) if (s[k] !== undefined) s[k] = Object.fromEntries(Object.entries(toMap(s[k])).map(([a, b]) => [a, b ?? '']));
  if (s.scale !== undefined) s.scale = toInt(s.scale, where('scale'));
  if (s.deploy?.replicas !== undefined) s.deploy = { ...s.deploy, replicas: toInt(s.deploy.replicas, where('deploy.replicas')) };

  if (raw.environment !== undefined || raw.env_file !== undefined) {
    let env: Record<string, string | null> = {};
    const files = raw.env_file === undefined ? [] : typeof raw.env_file === 'string' ? [raw.env_file] : (raw.env_file as Array<string | Json>);
    for (const f of files) {
      const entry = typeof f === 'string' ? { path: f, required: true } : { path: String(f.path), required: f.required === undefined ? true : toBool(f.required, where('env_file')) };
      const p = path.resolve(baseDir, entry.path);
      let text: string;
      try {
        text = fs.readFileSync(p, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !entry.required) continue;
        throw invalid(`${where('env_file')}: env file ${p} not found`);
      }
      env = { ...env, ...parseDotenv(text, p, lookup) };
    }
    // A variable named without a value takes the environment's (or stays unset: null).
    for (const [k, v] of Object.entries(toMap(raw.environment))) env[k] = v ?? lookup(k) ?? null;
    s.environment = env;
    delete s.env_file;
  }
  if (raw.ports !== undefined) {
    s.ports = (raw.ports as Array<string | number | Json>).flatMap((p, i) => {
      if (typeof p !== 'object') return parsePort(p, where(`ports[${i}]`));
      const q = { mode: 'ingress', protocol: 'tcp', ...p } as Json;
      q.target = toInt(q.target, where(`ports[${i}].target`));
      if (q.published !== undefined) q.published = String(q.published);
      return [q as unknown as PortConfig];
    });
  }
  if (raw.expose !== undefined) s.expose = (raw.expose as unknown[]).map(String);
  if (raw.volumes !== undefined) {
    s.volumes = (raw.volumes as Array<string | Json>).map((v, i) => (typeof v === 'string' ? parseServiceVolume(v, baseDir, where(`volumes[${i}]`)) : longVolume(v, baseDir, where(`volumes[${i}]`))));
  }
  if (Array.isArray(raw.networks)) s.networks = Object.fromEntries((raw.networks as string[]).map((n) => [n, null]));
  if (raw.depends_on !== undefined) {
    const deps: Record<string, Dependency> = {};
    if (Array.isArray(raw.depends_on)) for (const d of raw.depends_on as string[]) deps[d] = { condition: 'service_started', required: true };
    else for (const [d, x] of Object.entries(raw.depends_on as Record<string, Json>)) {
      deps[d] = { condition: x.condition as Dependency['condition'], required: x.required === undefined ? true : x.required === true, ...(x.restart !== undefined ? { restart: toBool(x.restart, where(`depends_on.${d}.restart`)) } : {}) };
    }
    s.depends_on = deps;
  }
  if (raw.healthcheck !== undefined) {
    const h = { ...(raw.healthcheck as Json) };
    if (typeof h.test === 'string') h.test = ['CMD-SHELL', h.test];
    if (h.retries !== undefined) h.retries = toInt(h.retries, where('healthcheck.retries'));
    if (h.disable !== undefined) h.disable = toBool(h.disable, where('healthcheck.disable'));
    s.healthcheck = h;
  }
  if (raw.extra_hosts !== undefined && !Array.isArray(raw.extra_hosts)) {
    s.extra_hosts = Object.entries(raw.extra_hosts as Record<string, string | string[]>).flatMap(([h, ips]) => ([] as string[]).concat(ips).map((ip) => `${h}:${ip}`));
  } else if (Array.isArray(raw.extra_hosts)) s.extra_hosts = (raw.extra_hosts as string[]).map((e) => e.replace(/^([^=:]+)=/, '$1:'));
  if (raw.secrets !== undefined) s.secrets = fileRefs(raw.secrets);
  if (raw.configs !== undefined) s.configs = fileRefs(raw.configs);
  if (raw.build !== undefined) {
    const b: Json = typeof raw.build === 'string' ? { context: raw.build } : { ...(raw.build as Json) };
    // A Git or HTTP URL is a remote context (as `berth build` takes one): left as written.
    const ctx = String(b.context ?? '.');
    b.context = isRemoteContext(ctx) && !fs.existsSync(path.resolve(baseDir, ctx)) ? ctx : resolvePath(ctx, baseDir);
    if (b.ssh !== undefined) {
      // default, id=socket-or-keys (list or map); relative key paths from the file's directory.
      const specs = Array.isArray(b.ssh) ? (b.ssh as string[]).map(String) : Object.entries(b.ssh as Json).map(([k, v]) => (v ? `${k}=${v}` : k));
      b.ssh = specs.map((spec) => {
        const eq = spec.indexOf('=');
        return eq < 0 ? spec : `${spec.slice(0, eq)}=${spec.slice(eq + 1).split(',').map((f) => resolvePath(f, baseDir)).join(',')}`;
      });
    }
    // An argument named without a value takes the environment's (left out when unset, as compose).
    if (b.args !== undefined) b.args = Object.fromEntries(Object.entries(toMap(b.args)).map(([k, v]) => [k, v ?? lookup(k) ?? null]));
    if (b.labels !== undefined) b.labels = Object.fromEntries(Object.entries(toMap(b.labels)).map(([k, v]) => [k, v ?? '']));
    s.build = b as Service['build'];
  }
  if (raw.devices !== undefined) {
    s.devices = (raw.devices as Array<string | Json>).map((d) => {
      if (typeof d !== 'string') return { permissions: 'rwm', target: d.source, ...d };
      const [source, target = source, permissions = 'rwm'] = d.split(':');
      return { source, target, permissions };
    });
  }
  if (raw.ulimits !== undefined) {
    s.ulimits = Object.fromEntries(Object.entries(raw.ulimits as Record<string, unknown>).map(([k, v]) => {
      if (typeof v === 'object' && v) return [k, { soft: toInt((v as Json).soft, where(`ulimits.${k}.soft`)), hard: toInt((v as Json).hard, where(`ulimits.${k}.hard`)) }];
      const n = toInt(v, where(`ulimits.${k}`));
      return [k, { soft: n, hard: n }];
    }));
  }
  if (typeof raw.extends === 'string') s.extends = { service: raw.extends };
  return s;
}
