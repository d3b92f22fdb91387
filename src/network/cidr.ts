// IPv4 addresses and subnets as numbers: parsing, overlap, and choosing a free private subnet.
// Pure: the host's routes and the subnets already in use are passed in.
import { invalid } from '../core/errors.ts';

export interface Subnet {
  base: number; // network address (host bits zero)
  bits: number; // prefix length
}

export function parseIp(text: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw invalid(`invalid IPv4 address: ${text}`);
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** "10.1.2.0/24"; host bits must be zero (docker refuses them too). */
export function parseSubnet(text: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (!m || Number(m[2]) > 32) throw invalid(`invalid CIDR address: ${text}`);
  const bits = Number(m[2]);
  const ip = parseIp(m[1]);
  if (((ip & ~mask(bits)) >>> 0) !== 0) throw invalid(`invalid subnet ${text}: host bits are set (did you mean ${formatIp((ip & mask(bits)) >>> 0)}/${bits}?)`);
  if (bits > 30) throw invalid(`subnet ${text} is too small: at least /30`);
  return { base: ip, bits };
}

export function formatSubnet(s: Subnet): string {
  return `${formatIp(s.base)}/${s.bits}`;
}

export function contains(s: Subnet, ip: number): boolean {
  return ((ip & mask(s.bits)) >>> 0) === s.base;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const bits = Math.min(a.bits, b.bits);
  return ((a.base & mask(bits)) >>> 0) === ((b.base & mask(bits)) >>> 0);
}

/**
 * Candidate pools, in order: 10.88-10.127.0.0/16 (podman's range and after it), then docker's
 * 172.17-31.0.0/16 and 192.168.{0..240 by 16}.0/20.
 */
export function candidateSubnets(): Subnet[] {
  const out: Subnet[] = [];
  for (let b = 88; b < 128; b++) out.push({ base: parseIp(`10.${b}.0.0`), bits: 16 });
  for (let b = 17; b < 32; b++) out.push({ base: parseIp(`172.${b}.0.0`), bits: 16 });
  for (let b = 0; b < 256; b += 16) out.push({ base: parseIp(`192.168.${b}.0`), bits: 20 });
  return out;
}

/** The first candidate that overlaps no host route and no subnet already taken. Default routes (/0) do not count. */
export function pickSubnet(taken: Subnet[], routes: Subnet[]): Subnet | undefined {
  const busy = [...taken, ...routes.filter((r) => r.bits > 0)];
  return candidateSubnets().find((c) => !busy.some((b) => overlaps(c, b)));
}

/** /proc/net/route: destination and mask are little-endian hex. */
export function parseProcRoutes(text: string): Subnet[] {
  const out: Subnet[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const le = (h: string) => {
      const n = parseInt(h, 16);
      return (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) | (n >>> 24)) >>> 0;
    };
    const m = le(f[7]);
    let bits = 0;
    while (bits < 32 && (m & (0x80000000 >>> bits)) !== 0) bits++;
    out.push({ base: (le(f[1]) & mask(bits)) >>> 0, bits });
  }
  return out;
}

/** The gateway docker would give a subnet: its first address. */
export function firstHost(s: Subnet): number {
  return s.base + 1;
}
