// docker's -p/--publish grammar and the port maps it turns into. Pure.
//   [hostIp:][hostPort[-end]:]containerPort[-end][/tcp|udp|sctp]
import { invalid } from '../core/errors.ts';
import { parseIp } from './cidr.ts';

export type Proto = 'tcp' | 'udp' | 'sctp';

/** docker's HostConfig.PortBindings: "80/tcp" -> [{HostIp, HostPort}] ("" = any / a free one). */
export type PortBindings = Record<string, Array<{ HostIp: string; HostPort: string }>>;

/** One published port, as the CNI portmap plugin takes it. */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: Proto;
  hostIP: string; // '' = every address of the host
}

function port(text: string, spec: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw invalid(`invalid port "${text}" in "${spec}": ports are 1-65535`);
  return Number(text);
}

function range(text: string, spec: string): [number, number] {
  const [a, b] = text.split('-');
  const lo = port(a, spec);
  const hi = b === undefined ? lo : port(b, spec);
  if (hi < lo) throw invalid(`invalid port range "${text}" in "${spec}"`);
  return [lo, hi];
}

/** One -p flag into bindings (merged into `into`). */
export function parsePublish(spec: string, into: PortBindings = {}): PortBindings {
  let rest = spec;
  let proto: Proto = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') throw invalid(`invalid proto "${rest.slice(slash + 1)}" in "${spec}"`);
    proto = p;
    rest = rest.slice(0, slash);
  }
  let hostIp = '';
  if (rest.startsWith('[')) throw invalid(`IPv6 host addresses are not supported yet: "${spec}"`);
  const parts = rest.split(':');
  if (parts.length > 3 || !rest) throw invalid(`invalid port specification: "${spec}"`);
  if (parts.length === 3) {
    hostIp = parts.shift()!;
    if (hostIp) parseIp(hostIp);
  }
  const [ctr, host] = parts.length === 2 ? [parts[1], parts[0]] : [parts[0], ''];
  const [clo, chi] = range(ctr, spec);
  let hlo = 0, hhi = 0;
  if (host) {
    [hlo, hhi] = range(host, spec);
    if (hhi - hlo !== chi - clo && hlo !== hhi) throw invalid(`invalid ranges specified for container and host Ports: "${spec}"`);
    if (hlo === hhi && chi !== clo) throw invalid(`invalid ranges specified for container and host Ports: "${spec}"`);
  }
  for (let p = clo; p <= chi; p++) {
    const key = `${p}/${proto}`;
    const hp = host ? String(hlo + (p - clo)) : '';
    (into[key] ??= []).push({ HostIp: hostIp, HostPort: hp });
  }
  return into;
}

/** "80/tcp" (or "80") from an image's ExposedPorts key. */
export function parsePortKey(key: string): { port: number; proto: Proto } {
  const [p, proto = 'tcp'] = key.split('/');
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw invalid(`invalid exposed port "${key}"`);
  return { port: port(p, key), proto };
}

/** -P: every exposed port not bound yet gets a random host port. */
export function publishAll(bindings: PortBindings, exposed: string[]): PortBindings {
  const out: PortBindings = { ...bindings };
  for (const k of exposed) {
    const { port: p, proto } = parsePortKey(k);
    const key = `${p}/${proto}`;
    if (!out[key]) out[key] = [{ HostIp: '', HostPort: '' }];
  }
  return out;
}

/**
 * Bindings into mappings. Host ports left empty are filled by `pick` (a free ephemeral port for
 * that protocol and address), so the result is what was really published.
 */
export function toMappings(bindings: PortBindings, pick: (proto: Proto, hostIP: string) => number): PortMapping[] {
  const out: PortMapping[] = [];
  for (const [key, list] of Object.entries(bindings)) {
    const { port: containerPort, proto } = parsePortKey(key);
    for (const b of list) {
      const hostIP = b.HostIp === '0.0.0.0' ? '' : b.HostIp;
      // No host port, or 0 (what testcontainers sends): a random one, as docker picks.
      const hostPort = Number(b.HostPort || 0);
      out.push({ hostPort: hostPort > 0 ? hostPort : pick(proto, hostIP), containerPort, protocol: proto, hostIP });
    }
  }
  const seen = new Set<string>();
  for (const m of out) {
    for (const k of [`${m.protocol}:${m.hostIP}:${m.hostPort}`, ...(m.hostIP ? [`${m.protocol}::${m.hostPort}`] : [])]) {
      if (seen.has(k)) throw invalid(`port ${m.hostPort}/${m.protocol} is published twice`);
    }
    seen.add(`${m.protocol}:${m.hostIP}:${m.hostPort}`);
  }
  return out;
}

/** Two mappings want the same host port: same protocol and port, and either address is "any" or both are equal. */
export function clash(a: PortMapping, b: PortMapping): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (!a.hostIP || !b.hostIP || a.hostIP === b.hostIP);
}

/** NetworkSettings.Ports: every exposed or published port, with its host bindings (null when not published). */
export function portsView(mappings: PortMapping[], exposed: string[]): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const k of exposed) {
    const { port: p, proto } = parsePortKey(k);
    out[`${p}/${proto}`] = null;
  }
  for (const m of mappings) (out[`${m.containerPort}/${m.protocol}`] ??= [])!.push({ HostIp: m.hostIP || '0.0.0.0', HostPort: String(m.hostPort) });
  return out;
}

/** `berth port C [PORT[/PROTO]]` lines: "80/tcp -> 0.0.0.0:8080". */
export function portLines(mappings: PortMapping[], filter?: string): string[] {
  let want: { port: number; proto: Proto } | undefined;
  if (filter) want = parsePortKey(filter);
  return mappings
    .filter((m) => !want || (m.containerPort === want.port && m.protocol === want.proto))
    .sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol))
    .map((m) => (want ? '' : `${m.containerPort}/${m.protocol} -> `) + `${m.hostIP || '0.0.0.0'}:${m.hostPort}`);
}

/** docker ps's PORTS column: "127.0.0.1:8080->80/tcp, 0.0.0.0:32768->53/udp". */
export function psPorts(mappings: PortMapping[]): string {
  return [...mappings]
    .sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol))
    .map((m) => `${m.hostIP || '0.0.0.0'}:${m.hostPort}->${m.containerPort}/${m.protocol}`)
    .join(', ');
}

/** The Ports of docker's container list entry. */
export function summaryPorts(mappings: PortMapping[]): Array<{ IP: string; PrivatePort: number; PublicPort: number; Type: Proto }> {
  return mappings.map((m) => ({ IP: m.hostIP || '0.0.0.0', PrivatePort: m.containerPort, PublicPort: m.hostPort, Type: m.protocol }));
}
