// IPv6 addresses and subnets as 128-bit numbers (bigint): parsing (with an embedded IPv4 tail),
// RFC 5952's text form, containment and overlap, and an IPRange's bounds for host-local. Pure.
import { invalid } from '../core/errors.ts';

export interface Subnet6 {
  base: bigint; // network address (host bits zero)
  bits: number; // prefix length
}

const ALL = (1n << 128n) - 1n;

export function isIp6(text: string): boolean {
  return text.includes(':');
}

export function parseIp6(text: string): bigint {
  const bad = () => invalid(`invalid IPv6 address: ${text}`);
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length > 45) throw bad();
  let s = text;
  const groups: number[] = [];
  // An IPv4 tail (::ffff:1.2.3.4) is two groups.
  const v4 = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  let tail: number[] = [];
  if (v4) {
    const o = v4.slice(2).map(Number);
    if (o.some((n) => n > 255)) throw bad();
    tail = [(o[0] << 8) | o[1], (o[2] << 8) | o[3]];
    s = v4[1].endsWith('::') ? v4[1] : v4[1].slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) throw bad();
  const part = (p: string) => (p === '' ? [] : p.split(':').map((g) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
    return parseInt(g, 16);
  }));
  const head = part(halves[0]);
  const rest = halves.length === 2 ? part(halves[1]) : [];
  const given = head.length + rest.length + tail.length;
  if (halves.length === 2 ? given > 7 : given !== 8) throw bad();
  groups.push(...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail);
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** RFC 5952: lower case, no leading zeros, the longest run (2+) of zero groups as "::". */
export function formatIp6(n: bigint): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export function mask6(bits: number): bigint {
  return bits === 0 ? 0n : (ALL << BigInt(128 - bits)) & ALL;
}

/**
 * "fd00::/64". Host bits are allowed and dropped: dockerd 20.10 takes 2001:389::1/64 (docker-py's
 * own tests give that) and shows it as given, so the record keeps the text and this the network.
 */
export function parseSubnet6(text: string): Subnet6 {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(text);
  if (!m || Number(m[2]) > 128) throw invalid(`invalid CIDR address: ${text}`);
  const bits = Number(m[2]);
  // host-local needs room for the gateway and a container (dockerd refuses smaller pools too).
  if (bits > 126) throw invalid(`subnet ${text} is too small: at least /126`);
  return { base: parseIp6(m[1]) & mask6(bits), bits };
}

export function formatSubnet6(s: Subnet6): string {
  return `${formatIp6(s.base)}/${s.bits}`;
}

export function contains6(s: Subnet6, ip: bigint): boolean {
  return (ip & mask6(s.bits)) === s.base;
}

export function overlaps6(a: Subnet6, b: Subnet6): boolean {
  const m = mask6(Math.min(a.bits, b.bits));
  return (a.base & m) === (b.base & m);
}

export function last6(s: Subnet6): bigint {
  return s.base | (~mask6(s.bits) & ALL);
}

/**
 * host-local's rangeStart/rangeEnd for an IPRange of an IPv6 subnet: the range less the subnet's
 * first address (the subnet-router anycast address, which host-local refuses as a start).
 */
export function rangeBounds6(subnet: Subnet6, ipRange: string): { rangeStart: string; rangeEnd: string } {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(ipRange);
  if (!m || Number(m[2]) > 128) throw invalid(`invalid CIDR address: ${ipRange}`);
  const r: Subnet6 = { base: parseIp6(m[1]), bits: Number(m[2]) };
  if ((r.base & ~mask6(r.bits) & ALL) !== 0n) throw invalid(`invalid ip range ${ipRange}: host bits are set`);
  if (!contains6(subnet, r.base) || r.bits < subnet.bits) throw invalid(`ip range ${ipRange} is not inside subnet ${formatSubnet6(subnet)}`);
  const start = r.base > subnet.base ? r.base : subnet.base + 1n;
  const end = last6(r);
  if (start > end) throw invalid(`ip range ${ipRange} has no usable address in subnet ${formatSubnet6(subnet)}`);
  return { rangeStart: formatIp6(start), rangeEnd: formatIp6(end) };
}
