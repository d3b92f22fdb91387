// docker's IPAM.Config extras on a network: IPRange (containers' addresses come only from it) and
// AuxiliaryAddresses (addresses of the subnet never given out). Pure: checked against the subnet
// and turned into host-local's range bounds; the reservations are made by the store.
import { BerthError, invalid } from '../core/errors.ts';
import { contains, formatIp, mask, parseIp, parseSubnet, type Subnet } from './cidr.ts';
import { contains6, parseIp6, parseSubnet6 } from './cidr6.ts';

/** The IPAM config as the client gave it: inspect echoes it (dockerd shows what was asked). */
export interface IpamConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

/**
 * A create's IPAM pools by family: the IPv4 one (at most one: the bridge driver's rule, in
 * dockerd's words and status) and the IPv6 ones (ipv6.ts checks those). Pure.
 */
export function splitPools(configs: IpamConfig[]): { v4?: IpamConfig; v6: IpamConfig[] } {
  const v4 = configs.filter((c) => !c.Subnet?.includes(':'));
  if (v4.length > 1) throw new BerthError('PermissionDenied', "bridge driver doesn't support multiple subnets");
  return { v4: v4[0], v6: configs.filter((c) => c.Subnet?.includes(':')) };
}

/**
 * Addresses a container asks for on a network (--ip, --ip6), in dockerd's words: only on a
 * network whose pools were given, and inside them. An IPv6 address on a network without its IPv6
 * half is only kept (dockerd 20.10). Pure.
 */
export function checkRequestedIps(net: { Subnet: string; Subnet6?: string; Ipam?: IpamConfig; Ipam6?: IpamConfig[] }, ip?: string, ip6?: string): void {
  if (!ip && !ip6) return;
  if (!net.Ipam && !net.Ipam6?.length) throw invalid('user specified IP address is supported only when connecting to networks with user configured subnets');
  const outside = (a: string) => invalid(`Invalid address ${a}: It does not belong to any of this network's subnets`);
  if (ip && !contains(parseSubnet(net.Subnet), parseIp(ip))) throw outside(ip);
  if (ip6 && net.Subnet6 && !contains6(parseSubnet6(net.Subnet6), parseIp6(ip6))) throw outside(ip6);
}

/** A sub-range may be as small as one address (/32), unlike a network's subnet. */
function parseRange(text: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (!m || Number(m[2]) > 32) throw invalid(`invalid CIDR address: ${text}`);
  const bits = Number(m[2]);
  const ip = parseIp(m[1]);
  if (((ip & ~mask(bits)) >>> 0) !== 0) throw invalid(`invalid ip range ${text}: host bits are set`);
  return { base: ip, bits };
}

function last(s: Subnet): number {
  return (s.base | ~mask(s.bits)) >>> 0;
}

/**
 * host-local's rangeStart/rangeEnd for an IPRange of the subnet: the range's addresses less the
 * subnet's network and broadcast addresses (host-local refuses those as bounds). Without a given
 * gateway, rangeStart is the network's (dockerd takes the range's first address for it).
 */
export function rangeBounds(subnet: Subnet, ipRange: string): { rangeStart: string; rangeEnd: string } {
  const r = parseRange(ipRange);
  if (!contains(subnet, r.base) || r.bits < subnet.bits) throw invalid(`ip range ${ipRange} is not inside subnet ${formatIp(subnet.base)}/${subnet.bits}`);
  const start = Math.max(r.base, subnet.base + 1);
  const end = Math.min(last(r), last(subnet) - 1);
  if (start > end) throw invalid(`ip range ${ipRange} has no usable address in subnet ${formatIp(subnet.base)}/${subnet.bits}`);
  return { rangeStart: formatIp(start), rangeEnd: formatIp(end) };
}

/** The auxiliary addresses, each a host address of the subnet (libnetwork's words for the errors). */
export function auxAddresses(subnet: Subnet, aux: Record<string, string>, network: string): string[] {
  return Object.entries(aux).map(([k, v]) => {
    let ip: number;
    try {
      ip = parseIp(v);
    } catch {
      throw invalid(`non parsable secondary ip address (${k}:${v}) passed for network ${network}`);
    }
    if (!contains(subnet, ip)) throw invalid(`secondary ip address (${k}:${v}) must belong to the master pool ${formatIp(subnet.base)}/${subnet.bits}`);
    return formatIp(ip);
  });
}
