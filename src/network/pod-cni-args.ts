// What a pod's CNI ADD is given, as the kubelet's runtimes give it (containerd's CRI, dockershim):
// CNI_ARGS naming the pod, and the capability arguments its plugins may declare (portMappings,
// dns, bandwidth); and the pod's addresses read back from the result. Pure.
import type { CniResult } from './cni.ts';

export interface PortMappingSpec {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

export interface PodNetworkParams {
  name: string;
  namespace: string;
  uid: string;
  portMappings: PortMappingSpec[];
  dns?: { servers: string[]; searches: string[]; options: string[] };
  /** The bandwidth plugin's capability (bits per second; bursts in bits), from the pod's annotations. */
  bandwidth?: { ingressRate?: number; ingressBurst?: number; egressRate?: number; egressBurst?: number };
}

export interface PodNetwork {
  netns: string;
  ip: string;
  additionalIps: string[];
}

/** CNI_ARGS: IgnoreUnknown first, so plugins that know none of the K8S_ keys accept them. */
export function cniArgs(podId: string, p: Pick<PodNetworkParams, 'name' | 'namespace' | 'uid'>): string {
  const pairs: Array<[string, string]> = [
    ['IgnoreUnknown', '1'], ['K8S_POD_NAMESPACE', p.namespace], ['K8S_POD_NAME', p.name],
    ['K8S_POD_INFRA_CONTAINER_ID', podId], ['K8S_POD_UID', p.uid],
  ];
  // `;` and `=` separate the pairs: a value holding them would be read as more pairs.
  return pairs.map(([k, v]) => `${k}=${v.replace(/[;=]/g, '')}`).join(';');
}

/** runtimeConfig values by capability; cni.ts hands each only to plugins that declare it. */
export function capabilityArgs(p: PodNetworkParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // A port without a host port is only documentation (the kubelet sends it too): nothing to map.
  const ports = p.portMappings.filter((m) => m.hostPort > 0).map((m) => ({
    hostPort: m.hostPort, containerPort: m.containerPort, protocol: m.protocol.toLowerCase(), ...(m.hostIP ? { hostIP: m.hostIP } : {}),
  }));
  if (ports.length) out.portMappings = ports;
  if (p.dns && (p.dns.servers.length || p.dns.searches.length || p.dns.options.length)) out.dns = { servers: p.dns.servers, searches: p.dns.searches, options: p.dns.options };
  if (p.bandwidth && Object.values(p.bandwidth).some((v) => v)) out.bandwidth = p.bandwidth;
  return out;
}

/**
 * The pod's addresses: those of its interface `ifname` inside the namespace (an address whose
 * interface the result does not say counts too); the first IPv4 one is the pod's IP, the rest
 * are additional (containerd's choice). Empty ip when the result has none.
 */
export function podAddresses(result: CniResult & { ip4?: { ip: string }; ip6?: { ip: string } }, ifname: string): { ip: string; additionalIps: string[] } {
  const ifaces = result.interfaces ?? [];
  let ips = (result.ips ?? []).filter((a) => {
    if (a.interface === undefined) return true;
    const i = ifaces[a.interface];
    return i !== undefined && i.name === ifname && i.sandbox !== undefined && i.sandbox !== '';
  }).map((a) => a.address.split('/')[0]);
  // CNI 0.2.0 results (a plugin that speaks no newer version).
  if (!result.ips) ips = [result.ip4?.ip, result.ip6?.ip].filter((a): a is string => !!a).map((a) => a.split('/')[0]);
  const v4 = ips.find((a) => !a.includes(':'));
  const ip = v4 ?? ips[0] ?? '';
  return { ip, additionalIps: ips.filter((a) => a !== ip) };
}
