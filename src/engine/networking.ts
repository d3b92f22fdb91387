// Network modes of a container (docker's --network): none (a namespace with loopback only, the
// fast path: no CNI at all), host (the host's namespace), container:C (C's namespace and /etc
// files), bridge (the default network) or a user network's name (a sandbox: persistent namespace
// + CNI), or ns:PATH (a network namespace made by someone else, a CRI pod's: joined, never
// changed nor removed). Also the /etc/hosts and /etc/resolv.conf a container gets. Files and modes are pure
// here; the sandbox work lives in src/network/.
import * as fs from 'node:fs';
import { invalid } from '../core/errors.ts';

export type NetworkMode = { kind: 'none' } | { kind: 'host' } | { kind: 'container'; ref: string } | { kind: 'ns'; path: string } | { kind: 'network'; name: string };

export function parseNetworkMode(mode: string | undefined): NetworkMode {
  const m = mode === undefined || mode === '' || mode === 'default' ? 'bridge' : mode;
  if (m === 'none') return { kind: 'none' };
  if (m === 'host') return { kind: 'host' };
  if (m.startsWith('container:')) {
    const ref = m.slice('container:'.length);
    if (!ref) throw invalid('--network container: needs a container name or id');
    return { kind: 'container', ref };
  }
  if (m.startsWith('ns:')) {
    const file = m.slice('ns:'.length);
    if (!file.startsWith('/')) throw invalid(`--network ns: needs the absolute path of a network namespace file, not "${file}"`);
    return { kind: 'ns', path: file };
  }
  return { kind: 'network', name: m };
}

const LOCALHOST = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';

/** docker's --add-host: "name:ip" (also "name=ip"); host-gateway is not supported yet. */
export function parseExtraHost(entry: string): [string, string] {
  const m = /^([^:=\s]+)[:=](.+)$/.exec(entry);
  if (!m || !/^[\d.]+$|:/.test(m[2])) throw invalid(`invalid IP address in add-host: "${entry}"`);
  return [m[1], m[2].replace(/^\[|\]$/g, '')];
}

/** /etc/hosts: the base (docker's localhost lines, or the host's own file), the container's own address, --add-host entries. */
export function hostsFile(opts: { base?: string; self?: { ip: string; ip6?: string; names: string[] }; extra?: string[] }): string {
  let text = opts.base ?? LOCALHOST;
  if (!text.endsWith('\n')) text += '\n';
  for (const e of opts.extra ?? []) {
    const [name, ip] = parseExtraHost(e);
    text += `${ip}\t${name}\n`;
  }
  if (opts.self) text += `${opts.self.ip}\t${opts.self.names.join(' ')}\n`;
  // An IPv6 address too, on a network with IPv6 (dockerd writes both).
  if (opts.self?.ip6) text += `${opts.self.ip6}\t${opts.self.names.join(' ')}\n`;
  return text;
}

/**
 * /etc/resolv.conf: the host's, minus loopback resolvers (meaningless in another namespace)
 * unless the container shares the host's network; --dns, --dns-search and --dns-option replace
 * the corresponding lines; with nothing left, Google's resolvers (docker's fallback).
 */
export function resolvFile(hostText: string, opts: { keepLoopback?: boolean; dns?: string[]; search?: string[]; options?: string[] } = {}): string {
  let lines = hostText.trim().split('\n').filter((l) => opts.keepLoopback || !/^\s*nameserver\s+(127\.|::1\b)/.test(l));
  if (opts.dns?.length) lines = [...lines.filter((l) => !/^\s*nameserver\s/.test(l)), ...opts.dns.map((d) => `nameserver ${d}`)];
  if (opts.search?.length) lines = [...lines.filter((l) => !/^\s*(search|domain)\s/.test(l)), `search ${opts.search.join(' ')}`];
  if (opts.options?.length) lines = [...lines.filter((l) => !/^\s*options\s/.test(l)), `options ${opts.options.join(' ')}`];
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  return lines.join('\n').trim() + '\n';
}

export function hostResolv(): string {
  try {
    return fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

export function hostHosts(): string | undefined {
  try {
    return fs.readFileSync('/etc/hosts', 'utf8');
  } catch {
    return undefined;
  }
}
