// docker's legacy links (`--link NAME[:ALIAS]`): the linked container's address under the alias
// in /etc/hosts, and its ports, name and environment as ALIAS_* variables. Pure: the linked
// containers come from a resolver.
import { invalid } from '../core/errors.ts';

/** What a link needs of the container it points at, when this one starts. */
export interface LinkTarget {
  name: string;
  ip: string;
  env: string[];
  exposed: string[]; // "80/tcp"
}

/** `NAME[:ALIAS]` or docker's stored `/NAME:/SELF/ALIAS` into the linked name and the alias. */
export function parseLink(link: string): { name: string; alias: string } {
  const [name, alias] = link.split(':');
  if (!name || link.split(':').length > 2) throw invalid(`invalid link: ${link}`);
  return { name: name.replace(/^\//, ''), alias: (alias ?? name).replace(/^.*\//, '') };
}

/** At create: docker's stored form `/NAME:/SELF/ALIAS`; resolve gives a container's name (or throws). */
export function normalizeLinks(links: string[], self: string, resolve: (ref: string) => string): string[] {
  return links.map((l) => {
    const { name, alias } = parseLink(l);
    return `/${resolve(name)}:/${self}/${alias}`;
  });
}

/** The variables docker sets for each link (its own environment wins over them). */
export function linkEnv(links: string[], self: string, target: (name: string) => LinkTarget): string[] {
  const out: string[] = [];
  for (const l of links) {
    const { name, alias } = parseLink(l);
    const t = target(name);
    const p = alias.toUpperCase().replace(/[^A-Z0-9]/g, '_');
    const ports = t.exposed.map((e) => e.split('/')).map(([port, proto]) => ({ port: Number(port), proto: proto || 'tcp' })).sort((a, b) => a.port - b.port);
    if (ports.length) out.push(`${p}_PORT=${ports[0].proto}://${t.ip}:${ports[0].port}`);
    for (const { port, proto } of ports) {
      const k = `${p}_PORT_${port}_${proto.toUpperCase()}`;
      out.push(`${k}=${proto}://${t.ip}:${port}`, `${k}_ADDR=${t.ip}`, `${k}_PORT=${port}`, `${k}_PROTO=${proto}`);
    }
    out.push(`${p}_NAME=/${self}/${alias}`);
    for (const e of t.env) {
      const eq = e.indexOf('=');
      const key = e.slice(0, eq);
      if (eq > 0 && !['HOME', 'HOSTNAME', 'PATH'].includes(key)) out.push(`${p}_ENV_${key}=${e.slice(eq + 1)}`);
    }
  }
  return out;
}

/** /etc/hosts entries ("NAME:IP", as --add-host gives them): the alias and the linked container's name. */
export function linkHosts(links: string[], target: (name: string) => LinkTarget): string[] {
  return links.flatMap((l) => {
    const { name, alias } = parseLink(l);
    const t = target(name);
    return t.ip ? [...new Set([alias, t.name])].map((n) => `${n}:${t.ip}`) : [];
  });
}

/** The container's process with its links' variables (its own environment wins). */
export function withLinks<P extends { env: string[] }>(record: { Name: string; HostConfig: { Links?: string[] | null } }, proc: P, target: (name: string) => LinkTarget): P {
  const links = record.HostConfig.Links ?? [];
  if (!links.length) return proc;
  const own = new Set(proc.env.map((e) => e.split('=', 1)[0]));
  return { ...proc, env: [...linkEnv(links, record.Name, target).filter((e) => !own.has(e.split('=', 1)[0])), ...proc.env] };
}

/**
 * A container's links on one user network, for its DNS: the endpoint's own (`NAME:ALIAS` as given
 * in NetworkingConfig or at connect) and, on the network it was run on, its --link ones.
 */
export function networkLinks(record: { HostConfig: { Links?: string[] | null; NetworkMode?: string } }, network: string, endpointLinks: string[] | undefined): Array<{ name: string; alias: string }> {
  const own = record.HostConfig.NetworkMode === network ? (record.HostConfig.Links ?? []) : [];
  return [...own, ...(endpointLinks ?? [])].map(parseLink);
}
