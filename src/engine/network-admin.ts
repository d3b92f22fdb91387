// The network commands' engine side (docker's /networks): create, list, inspect, remove, prune,
// connect and disconnect. Containers are asked who uses a network; the sandbox layer does the
// CNI work. The CLI and the API both call this.
import { BerthError, conflict, invalid, notFound } from '../core/errors.ts';
import { inUse } from '../network/sweep.ts';
import { parseIp6 } from '../network/cidr6.ts';
import { checkRequestedIps } from '../network/ipam-config.ts';
import { endpointView, type Sandboxes } from '../network/sandbox.ts';
import { DEFAULT_NETWORK, PSEUDO_NETWORKS, type CreateNetwork, type NetworkRecord } from '../network/store.ts';
import type { Containers } from './containers.ts';
import { networkLinks } from './links.ts';
import { parseNetworkMode } from './networking.ts';
import { crashPoint } from '../util/crash.ts';

export class NetworkAdmin {
  private readonly containers: Containers;
  constructor(containers: Containers) {
    this.containers = containers;
  }

  private sandboxes!: Sandboxes;

  static async open(containers: Containers): Promise<NetworkAdmin> {
    const admin = new NetworkAdmin(containers);
    admin.sandboxes = await containers.sandboxes();
    return admin;
  }

  /** duplicate: the name may be another network's too (dockerd's CheckDuplicate=false before API 1.44). */
  create(opts: CreateNetwork, duplicate = false): Promise<NetworkRecord> {
    return this.sandboxes.networks.create(opts, false, duplicate);
  }

  /** The root's networks, the default bridge materialised, plus docker's host and none. */
  async list(): Promise<Array<NetworkRecord | { Name: string; Id: string; Driver: string; Created: string; Labels: Record<string, string> }>> {
    await this.sandboxes.networks.get(DEFAULT_NETWORK);
    const pseudo = PSEUDO_NETWORKS.map((n) => ({ Name: n, Id: n.padEnd(64, '0'), Driver: n === 'host' ? 'host' : 'null', Created: '', Labels: {} }));
    return [...this.sandboxes.networks.list(), ...pseudo];
  }

  /** Live attachments to a network: container id -> endpoint. */
  private members(netId: string) {
    const out = new Map<string, ReturnType<typeof endpointView> & { container: string }>();
    for (const sb of this.sandboxes.list()) {
      if (!inUse(sb) || sb.pooled !== undefined) continue; // a pooled sandbox has no container yet
      for (const a of sb.attachments) if (a.network === netId && a.result) out.set(sb.container, { ...endpointView(a), container: sb.container });
    }
    return out;
  }

  /** docker's network inspect shape (host and none too: docker lists them as networks). */
  async inspect(nameOrId: string): Promise<object> {
    const pseudo = PSEUDO_NETWORKS.find((n) => n === nameOrId || n.padEnd(64, '0').startsWith(nameOrId));
    if (pseudo) {
      return {
        Name: pseudo, Id: pseudo.padEnd(64, '0'), Created: '0001-01-01T00:00:00Z', Scope: 'local', Driver: pseudo === 'host' ? 'host' : 'null',
        EnableIPv6: false, IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false,
        ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: {}, Labels: {},
      };
    }
    const net = await this.sandboxes.networks.get(nameOrId);
    const containers: Record<string, object> = {};
    for (const [id, ep] of this.members(net.Id)) {
      let name = id.slice(0, 12);
      try {
        name = this.containers.get(id).record.Name;
      } catch {}
      containers[id] = { Name: name, EndpointID: ep.EndpointID, MacAddress: ep.MacAddress, IPv4Address: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen}` : '',
        IPv6Address: ep.GlobalIPv6Address ? `${ep.GlobalIPv6Address}/${ep.GlobalIPv6PrefixLen}` : '' };
    }
    return {
      Name: net.Name, Id: net.Id, Created: net.Created, Scope: 'local', Driver: net.Driver, EnableIPv6: net.EnableIPv6 === true,
      // The config as given when one was (dockerd's shows no gateway it was not given), else the
      // chosen subnet; then the IPv6 pools as given (dockerd 20.10 shows them even when unused).
      IPAM: { Driver: 'default', Options: net.IpamOptions === undefined ? {} : net.IpamOptions, Config: [net.Ipam ?? { Subnet: net.Subnet, Gateway: net.Gateway }, ...(net.Ipam6 ?? [])] },
      Internal: net.Internal, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
      // docker shows driver options only as given (the default bridge has its own), which clients
      // compare with what they asked for (docker-compose 1.29 does).
      Containers: containers, Options: net.Name === DEFAULT_NETWORK ? { 'com.docker.network.bridge.name': net.Bridge } : net.Options ?? {}, Labels: net.Labels,
    };
  }

  async remove(nameOrId: string): Promise<NetworkRecord> {
    const predefined = (name: string) => new BerthError('PermissionDenied', `${name} is a pre-defined network and cannot be removed`);
    if (PSEUDO_NETWORKS.includes(nameOrId)) throw predefined(nameOrId); // dockerd's 403
    const net = this.sandboxes.networks.find(nameOrId);
    if (!net) throw notFound(`network ${nameOrId} not found`);
    if (net.Name === DEFAULT_NETWORK) throw predefined(DEFAULT_NETWORK);
    // Releases still running after containers exited hold the network: wait for them.
    for (const sb of this.sandboxes.list()) if (sb.attachments.some((a) => a.network === net.Id) && !inUse(sb)) await this.sandboxes.release(sb.id, (now) => !inUse(now)).catch(() => undefined);
    return this.sandboxes.networks.remove(nameOrId, (id) => {
      const first = [...this.members(id).keys()][0];
      return first ? first.slice(0, 12) : undefined;
    });
  }

  /** Networks no container is attached to (the default bridge stays, as docker's does). */
  async prune(): Promise<string[]> {
    const removed: string[] = [];
    for (const net of this.sandboxes.networks.list()) {
      if (net.Name === DEFAULT_NETWORK || this.members(net.Id).size) continue;
      await this.remove(net.Id).then(() => removed.push(net.Name), () => undefined);
    }
    return removed;
  }

  /** Attaches a container: now (eth1, eth2...) if it runs, at its next start otherwise. */
  async connect(nameOrId: string, container: string, opts: { aliases?: string[]; ip?: string; ip6?: string; links?: string[] } = {}): Promise<void> {
    const net = await this.sandboxes.networks.get(nameOrId);
    const c = this.containers.get(container);
    const mode = parseNetworkMode(c.record.HostConfig.NetworkMode ?? 'none');
    // dockerd's words (runconfig's ErrConflictNoNetwork and ErrConflictSharedNetwork).
    if (mode.kind === 'none') throw invalid('container cannot be connected to multiple networks with one of the networks in private (none) mode');
    if (mode.kind !== 'network') throw invalid('container sharing network namespace with another container or host cannot be connected to any other network');
    const endpoints = { ...(c.record.Endpoints ?? { [mode.name]: { Aliases: [] } }) };
    if (endpoints[net.Name]) throw conflict(`endpoint with name ${c.record.Name} already exists in network ${net.Name}`);
    if ((opts.ip || opts.ip6) && net.Name === DEFAULT_NETWORK) throw invalid('user specified IP address is supported on user defined networks only');
    if (opts.ip6) parseIp6(opts.ip6);
    if (net.Name !== DEFAULT_NETWORK) checkRequestedIps(net, opts.ip, opts.ip6);
    endpoints[net.Name] = { Aliases: opts.aliases ?? [], ...(opts.ip ? { IPv4Address: opts.ip } : {}), ...(opts.ip6 ? { IPv6Address: opts.ip6 } : {}), ...(opts.links?.length ? { Links: opts.links } : {}) };
    const view = this.containers.networkView(c);
    const sb = view && this.sandboxes.get(view.SandboxID);
    if (sb) {
      // A connect killed after attaching, before the container's record said so: its attachment is
      // kept when whole (CNI's ADD done), else undone first (DEL is idempotent), so a retry converges.
      const left = sb.attachments.find((a) => a.network === net.Id);
      if (left && !left.result) await this.sandboxes.detach(sb, net.Id);
      if (!left?.result) await this.sandboxes.attach(sb, { net, aliases: opts.aliases ?? [], ip: opts.ip, ip6: opts.ip6, names: this.containers.peerNames(c.record), links: networkLinks(c.record, net.Name, opts.links) }, freeIfname(sb.attachments.map((a) => a.rt.ifname)));
      crashPoint('network-connect:attached');
      this.containers.writeNetworkView(c.record, sb, this.sandboxes);
    }
    crashPoint('network-connect:view-written');
    this.containers.setEndpoints(c.record, endpoints);
  }

  async disconnect(nameOrId: string, container: string): Promise<void> {
    const net = this.sandboxes.networks.find(nameOrId);
    if (!net) throw notFound(`network ${nameOrId} not found`);
    const c = this.containers.get(container);
    const endpoints = { ...(c.record.Endpoints ?? {}) };
    if (!endpoints[net.Name]) throw invalid(`container ${c.record.Name} is not connected to network ${net.Name}`);
    delete endpoints[net.Name];
    const view = this.containers.networkView(c);
    const sb = view && this.sandboxes.get(view.SandboxID);
    if (sb) {
      await this.sandboxes.detach(sb, net.Id);
      this.containers.writeNetworkView(c.record, sb, this.sandboxes);
    }
    this.containers.setEndpoints(c.record, endpoints);
  }
}

/** eth0, eth1...: the first name no attachment of the sandbox has (after a disconnect there are gaps). */
function freeIfname(used: string[]): string {
  for (let i = 0; ; i++) if (!used.includes(`eth${i}`)) return `eth${i}`;
}
