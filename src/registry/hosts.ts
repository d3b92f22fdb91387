// Which hosts serve a registry, in containerd's `certs.d/<host>/hosts.toml` layout: mirrors tried in
// order, then the server (the registry itself), each with its scheme, path, TLS settings, headers
// and what it may be used for. `parseHosts` is pure (text in, hosts out); `registryHosts` finds
// and reads the files. The directory is BERTH_REGISTRY_CONFIG, else /etc/berth/certs.d.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../core/errors.ts';
import { parseToml, TomlError, type TomlTable, type TomlValue } from '../util/toml.ts';
import { registryBase, type Endpoint } from './client.ts';

export const DEFAULT_REGISTRY_CONFIG = '/etc/berth/certs.d';

export type Capability = 'pull' | 'resolve' | 'push';
const CAPABILITIES: readonly Capability[] = ['pull', 'resolve', 'push'];

/**
 * One host: `url` is scheme, authority and path as configured ("http://127.0.0.1:5000",
 * "https://m.example/cache"); `apiRoot` is `<path>/v2`, or the path itself with override_path.
 */
export interface RegistryHost extends Endpoint {
  capabilities: Capability[];
  /** false for the server (the registry itself), which comes last. */
  mirror: boolean;
}

const TOP_KEYS = ['server', 'capabilities', 'ca', 'client', 'skip_verify', 'override_path', 'header', 'host', 'dial_timeout'];
const HOST_KEYS = ['capabilities', 'ca', 'client', 'skip_verify', 'override_path', 'header', 'dial_timeout'];

/**
 * The hosts for `registry` from the text of its hosts.toml: the [host."..."] entries in file
 * order, then the server (`server = ...`, else `fallback`). Relative file paths are relative to
 * `dir` (the file's directory). Throws InvalidArgument naming `file` and the line or key.
 */
export function parseHosts(text: string, opts: { file: string; dir: string; fallback: string }): RegistryHost[] {
  const fail = (msg: string): never => {
    throw invalid(`${opts.file}: ${msg}`);
  };
  let doc: TomlTable;
  try {
    doc = parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) fail(err.message);
    throw err;
  }
  const hosts: RegistryHost[] = [];
  checkKeys(doc, TOP_KEYS, 'at the top', fail);
  const hostTable = doc.host;
  if (hostTable !== undefined) {
    if (!isTable(hostTable)) fail('"host" must be a table of [host."URL"] entries');
    for (const [name, entry] of Object.entries(hostTable as TomlTable)) {
      if (!isTable(entry)) fail(`host."${name}" must be a table`);
      checkKeys(entry as TomlTable, HOST_KEYS, `in [host."${name}"]`, fail);
      hosts.push(hostEntry(name, entry as TomlTable, true, opts.dir, `host."${name}".`, fail));
    }
  }
  const server = doc.server === undefined ? opts.fallback : doc.server;
  if (typeof server !== 'string' || !server) fail('"server" must be a non-empty string');
  hosts.push(hostEntry(server as string, doc, false, opts.dir, '', fail));
  return hosts;
}

function hostEntry(name: string, t: TomlTable, mirror: boolean, dir: string, where: string, fail: (m: string) => never): RegistryHost {
  const url = hostUrl(name, fail);
  const overridePath = optBool(t.override_path, `${where}override_path`, fail) ?? false;
  const base = url.pathname.replace(/\/+$/, '');
  const apiRoot = overridePath ? base : `${base.replace(/\/v2$/, '')}/v2`;
  let capabilities: Capability[] = [...CAPABILITIES];
  if (t.capabilities !== undefined) {
    const caps = stringList(t.capabilities, `${where}capabilities`, fail);
    for (const c of caps) if (!CAPABILITIES.includes(c as Capability)) fail(`${where}capabilities: unknown capability ${JSON.stringify(c)} (pull, resolve or push)`);
    capabilities = caps as Capability[];
  }
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.join(dir, p));
  const ca = t.ca === undefined ? [] : (typeof t.ca === 'string' ? [t.ca] : stringList(t.ca, `${where}ca`, fail)).map(abs);
  const client: Endpoint['tls']['client'] = [];
  if (t.client !== undefined) {
    // containerd takes "cert", ["cert", "key"] or [["cert", "key"], ...].
    const items: TomlValue[] = typeof t.client === 'string' ? [t.client] : Array.isArray(t.client) && t.client.every((c) => typeof c === 'string') ? [t.client] : (t.client as TomlValue[]);
    if (!Array.isArray(items)) fail(`${where}client must be a path or a list of [cert, key] pairs`);
    for (const item of items) {
      const pair = typeof item === 'string' ? [item] : item;
      if (!Array.isArray(pair) || pair.length < 1 || pair.length > 2 || !pair.every((p) => typeof p === 'string' && p)) fail(`${where}client must be a path or a list of [cert, key] pairs`);
      const [cert, key] = pair as string[];
      client.push({ cert: abs(cert), ...(key ? { key: abs(key) } : {}) });
    }
  }
  const skipVerify = optBool(t.skip_verify, `${where}skip_verify`, fail) ?? false;
  const headers: Record<string, string> = {};
  if (t.header !== undefined) {
    if (!isTable(t.header)) fail(`${where}header must be a table of names and values`);
    for (const [k, v] of Object.entries(t.header as TomlTable)) {
      // containerd allows several values for one header; HTTP joins them with commas.
      const vals = typeof v === 'string' ? [v] : stringList(v, `${where}header.${k}`, fail);
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) fail(`${where}header: invalid header name ${JSON.stringify(k)}`);
      if (vals.some((x) => /[\r\n\0]/.test(x))) fail(`${where}header.${k}: a value may not hold a line break`);
      headers[k.toLowerCase()] = vals.join(', ');
    }
  }
  if (t.dial_timeout !== undefined && typeof t.dial_timeout !== 'string') fail(`${where}dial_timeout must be a string such as "3s"`);
  return { url, apiRoot, capabilities, tls: { ca, client, skipVerify }, headers, mirror };
}

function hostUrl(name: string, fail: (m: string) => never): URL {
  // containerd takes a host without a scheme as https.
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(name) ? name : `https://${name}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(`invalid host URL ${JSON.stringify(name)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`host ${JSON.stringify(name)}: the scheme must be http or https`);
  if (url.username || url.password || url.search || url.hash) fail(`host ${JSON.stringify(name)}: only scheme, host, port and path are allowed`);
  return url;
}

const isTable = (v: TomlValue | undefined): v is TomlTable => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkKeys(t: TomlTable, allowed: string[], where: string, fail: (m: string) => never): void {
  for (const k of Object.keys(t)) if (!allowed.includes(k)) fail(`unknown key ${JSON.stringify(k)} ${where} (known: ${allowed.join(', ')})`);
}

function optBool(v: TomlValue | undefined, what: string, fail: (m: string) => never): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  return fail(`${what} must be true or false`);
}

function stringList(v: TomlValue, what: string, fail: (m: string) => never): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) fail(`${what} must be a list of strings`);
  return v as string[];
}

/**
 * The directories containerd looks in for a host, in order: `host_port_` (for a host with a
 * port, a name any file system takes), `host:port` or `host`, then `_default`.
 */
export function hostDirs(root: string, registry: string): string[] {
  const dirs: string[] = [];
  const i = registry.lastIndexOf(':');
  if (i > 0 && !registry.endsWith(']')) dirs.push(path.join(root, `${registry.slice(0, i)}_${registry.slice(i + 1)}_`));
  dirs.push(path.join(root, registry), path.join(root, '_default'));
  return dirs;
}

/**
 * The hosts to try for a registry, from its directory under the configuration root; undefined
 * when there is no directory for it (then the registry is spoken to as it always is). A
 * directory without hosts.toml holds docker's certs.d files: `*.crt` CAs, `*.cert`/`*.key` pairs.
 */
export function registryHosts(registry: string, env: NodeJS.ProcessEnv = process.env): RegistryHost[] | undefined {
  const root = env.BERTH_REGISTRY_CONFIG || DEFAULT_REGISTRY_CONFIG;
  for (const dir of hostDirs(root, registry)) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
      throw invalid(`cannot read the registry configuration ${dir}: ${(err as Error).message}`, err);
    }
    // Without `server`, the registry's usual address (docker.io's, plain HTTP for this machine's).
    const fallback = registryBase(registry, env).href;
    const file = path.join(dir, 'hosts.toml');
    if (names.includes('hosts.toml')) return parseHosts(fs.readFileSync(file, 'utf8'), { file, dir, fallback });
    const ca = names.filter((n) => n.endsWith('.crt')).sort().map((n) => path.join(dir, n));
    const client = names.filter((n) => n.endsWith('.cert')).sort().map((n) => ({ cert: path.join(dir, n), key: path.join(dir, n.replace(/\.cert$/, '.key')) }));
    const [server] = parseHosts('', { file, dir, fallback });
    return [{ ...server, tls: { ...server.tls, ca, client } }];
  }
  return undefined;
}
