// The IPv6 half of a bridge network, as dockerd 20.10 makes it: EnableIPv6 with one IPv6 pool
// (dockerd has no default IPv6 pools), whose gateway goes on the bridge and whose addresses go to
// the containers beside their IPv4 ones. An IPv6 pool given without EnableIPv6 is only kept
// (inspect shows it; no container gets an address from it), as dockerd 20.10 does.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, invalid } from '../core/errors.ts';
import { contains6, formatIp6, parseIp6, parseSubnet6, rangeBounds6, type Subnet6 } from './cidr6.ts';
import type { IpamConfig } from './ipam-config.ts';

/** What the store needs of an IPv6-enabled network: its subnet, gateway and reserved addresses. */
export interface Ipv6Plan {
  subnet: Subnet6;
  gateway: string;
  aux: string[];
}

/**
 * Checks the IPv6 pools of a create, in libnetwork's words where dockerd has them. Pure.
 * undefined: no IPv6 half (EnableIPv6 not asked).
 */
export function planIpv6(enable: boolean, pools: IpamConfig[], network: string): Ipv6Plan | undefined {
  for (const p of pools) if (p.Subnet) parseSubnet6(p.Subnet); // a bad pool is refused even when unused, as dockerd does
  if (!enable) return undefined;
  if (!pools.length) throw new BerthError('NotFound', 'could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network');
  if (pools.length > 1) throw new BerthError('PermissionDenied', "bridge driver doesn't support multiple subnets");
  const [pool] = pools;
  if (!pool.Subnet) throw invalid('an IPv6 pool needs a subnet');
  const subnet = parseSubnet6(pool.Subnet);
  let gateway: bigint;
  if (pool.Gateway) {
    try {
      gateway = parseIp6(pool.Gateway);
    } catch {
      throw invalid(`invalid gateway address ${pool.Gateway}`);
    }
    if (!contains6(subnet, gateway) || gateway === subnet.base) throw invalid(`gateway ${pool.Gateway} is not a host address of ${pool.Subnet}`);
  } else {
    // As for IPv4: the range's first address when a range is given, else the subnet's first host.
    gateway = pool.IPRange ? parseIp6(rangeBounds6(subnet, pool.IPRange).rangeStart) : subnet.base + 1n;
  }
  if (pool.IPRange) rangeBounds6(subnet, pool.IPRange);
  const aux = Object.entries(pool.AuxiliaryAddresses ?? {}).map(([k, v]) => {
    let ip: bigint;
    try {
      ip = parseIp6(v);
    } catch {
      throw invalid(`non parsable secondary ip address (${k}:${v}) passed for network ${network}`);
    }
    if (!contains6(subnet, ip)) throw invalid(`secondary ip address (${k}:${v}) must belong to the master pool ${pool.Subnet}`);
    return formatIp6(ip);
  });
  return { subnet, gateway: formatIp6(gateway), aux };
}

/**
 * Why this host cannot give a network IPv6, or undefined when it can: a kernel without IPv6 (or
 * booted with ipv6.disable=1) has no /proc/sys/net/ipv6; with default.disable_ipv6=1 a new bridge
 * could hold no IPv6 address.
 */
export function ipv6Unavailable(procSys = '/proc/sys/net/ipv6'): string | undefined {
  if (!fs.existsSync(procSys)) return `IPv6 is not available on this host: ${procSys} is missing (a kernel without IPv6, or booted with ipv6.disable=1)`;
  try {
    if (fs.readFileSync(path.join(procSys, 'conf', 'default', 'disable_ipv6'), 'utf8').trim() === '1') {
      return 'IPv6 is disabled on this host (net.ipv6.conf.default.disable_ipv6=1): set it to 0 to create IPv6 networks';
    }
  } catch {}
  return undefined;
}

/** host-local's IPv6 range of a network (bounds dropped for an attachment that asks an address). Pure. */
export function range6(net: { Subnet6?: string; Gateway6?: string; Ipam6?: IpamConfig[] }, fixedIp: boolean): Record<string, string> | undefined {
  if (!net.Subnet6 || !net.Gateway6) return undefined;
  const given = net.Ipam6?.[0]?.IPRange;
  const bounds = given && !fixedIp ? rangeBounds6(parseSubnet6(net.Subnet6), given) : {};
  return { subnet: net.Subnet6, gateway: net.Gateway6, ...bounds };
}
