// What a network sandbox is (sandbox.ts has the code that makes and releases them): its record,
// the endpoints asked for, what inspect shows, and the pure rules of the pool.
import type { ProcessRef } from '../kernel/process.ts';
import type { CniResult, NetConfList, RuntimeConf } from './cni.ts';
import type { PortBindings, PortMapping } from './ports.ts';
import { DEFAULT_NETWORK, type NetworkRecord } from './store.ts';
import { POOL_TTL_MS, poolSize } from './sweep.ts';

export interface Attachment {
  network: string; // network id
  name: string; // network name at attach time
  conflist: NetConfList;
  rt: RuntimeConf;
  aliases: string[];
  /** Names other containers on the network resolve to it (name, short id, aliases); empty without name resolution. */
  names?: string[];
  /**
   * Its legacy links on this network (docker's --link on a user network): `alias` resolves, for
   * this container only, to the container named `name` on the network (dns-main.ts).
   */
  links?: LinkAlias[];
  result?: CniResult; // cached ADD result, for DEL and inspect
}

export interface SandboxRecord {
  id: string;
  container: string;
  netns: string;
  owner: ProcessRef; // the process creating it
  monitor?: ProcessRef; // the container's monitor, once it exists
  attachments: Attachment[];
  ports: PortMapping[];
  /** Set while it waits in the pool, ready, with no container: when it was made (ms). */
  pooled?: number;
}

/** A pooled sandbox is not handed out in the last minute before a reconcile may release it. */
const CLAIM_MARGIN_MS = 60_000;

export interface Endpoint {
  net: NetworkRecord;
  aliases: string[];
  /** The container's own names on the network (name, short id). */
  names: string[];
  links?: LinkAlias[];
  ip?: string;
  /** An IPv6 address asked for (--ip6): used on a network with an IPv6 half, else only shown (as dockerd 20.10). */
  ip6?: string;
  mac?: string;
}

export interface LinkAlias {
  name: string;
  alias: string;
}

/** What inspect shows of one attachment. */
export interface EndpointView {
  NetworkID: string;
  EndpointID: string;
  Aliases: string[];
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  IPv6Gateway: string;
  MacAddress: string;
}

/** The attachment's address of one family (CIDR form) with its gateway, from the cached ADD result. */
export function attachmentIp(a: Attachment, family: 4 | 6): { address: string; gateway?: string; interface?: number } | undefined {
  return a.result?.ips?.find((ip) => ip.address.includes(':') === (family === 6));
}

export function endpointView(a: Attachment): EndpointView {
  const ip = attachmentIp(a, 4);
  const ip6 = attachmentIp(a, 6);
  const any = ip ?? ip6;
  const iface = any?.interface !== undefined ? a.result?.interfaces?.[any.interface] : a.result?.interfaces?.find((i) => i.sandbox);
  return {
    NetworkID: a.network,
    EndpointID: a.rt.containerId.slice(0, 32) + a.network.slice(0, 32),
    Aliases: a.aliases,
    IPAddress: ip ? ip.address.split('/')[0] : '',
    IPPrefixLen: ip ? Number(ip.address.split('/')[1]) : 0,
    Gateway: ip?.gateway ?? '',
    GlobalIPv6Address: ip6 ? ip6.address.split('/')[0] : '',
    GlobalIPv6PrefixLen: ip6 ? Number(ip6.address.split('/')[1]) : 0,
    IPv6Gateway: ip6?.gateway ?? '',
    MacAddress: iface?.mac ?? '',
  };
}

/** A start that needs nothing per-container in its CNI ADD can take a pooled sandbox. Pure. */
export function poolable(endpoints: Endpoint[], bindings: PortBindings): boolean {
  if (!poolSize() || endpoints.length !== 1) return false;
  const [ep] = endpoints;
  return ep.net.Name === DEFAULT_NETWORK && !ep.ip && !ep.ip6 && !ep.mac && !ep.aliases.length && !Object.keys(bindings).length;
}

/** Whether a sandbox is of the kind the pool prepares (so its container could have taken one). Pure. */
export function plain(sb: SandboxRecord): boolean {
  if (sb.attachments.length !== 1 || sb.ports.length) return false;
  const [a] = sb.attachments;
  return a.name === DEFAULT_NETWORK && !a.aliases.length && Object.keys(a.rt.capabilityArgs ?? {}).length === 0;
}

/** The lock a network's attachments and the release of its idle bridge share (in the sandboxes' directory). */
export function netLock(networkId: string): string {
  return `net-${networkId.slice(0, 12)}`;
}

/** Whether a pooled sandbox can be handed to a container on this network now. Pure but for the clock. */
export function takeable(sb: SandboxRecord, net: NetworkRecord): boolean {
  return sb.pooled !== undefined && Date.now() - sb.pooled < POOL_TTL_MS - CLAIM_MARGIN_MS &&
    sb.attachments.length === 1 && sb.attachments[0].network === net.Id && sb.attachments[0].result !== undefined;
}

export function hostsLine(ip: string, names: string[], sandbox: string): string {
  return `${ip}\t${names.join(' ')}\t# berth ${sandbox.slice(0, 12)}`;
}

