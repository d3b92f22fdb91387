// A container's network: what create checks, what a start sets up (and its undo), the view
// inspect and `port` read, and the release of sandboxes nothing uses any more.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isUp, type ContainerRecord, type EndpointSpec, type HostConfig } from '../../core/container.ts';
import { BerthError, conflict, invalid, notFound } from '../../core/errors.ts';
import { namespaceType } from '../../kernel/netns.ts';
import type { SandboxRecord, Sandboxes } from '../../network/sandbox.ts';
import { inUse } from '../../network/sweep.ts';
import { readJsonFile, writeFileAtomic } from '../../util/atomic.ts';
import type { Undo } from '../../util/undo.ts';
import { linkHosts, networkLinks, type LinkTarget } from '../links.ts';
import { hostResolv, hostsFile, parseNetworkMode, resolvFile } from '../networking.ts';
import type { Ctx } from './context.ts';
import { get, initPid } from './reconcile.ts';
import type { Container, CreateOptions, NetSetup, NetworkView } from './types.ts';

/** What other containers on a user network call this one. */
export function peerNames(record: ContainerRecord): string[] {
  return [record.Name, record.Id.slice(0, 12), ...(record.Config.Hostname !== record.Id.slice(0, 12) ? [record.Config.Hostname] : [])];
}

/** Validates --network and what goes with it; the endpoint for the bridge / user network modes. */
export async function checkNetwork(ctx: Ctx, host: HostConfig, opts: CreateOptions): Promise<Record<string, EndpointSpec> | undefined> {
  const mode = parseNetworkMode(host.NetworkMode);
  const ep = opts.endpoint ?? {};
  const published = Object.keys(host.PortBindings ?? {}).length > 0 || host.PublishAllPorts === true;
  if (mode.kind === 'container') {
    if (opts.hostname !== undefined) throw invalid('conflicting options: hostname and the network mode');
    if (published) throw invalid('conflicting options: port publishing and the container type network mode');
    if (host.Dns?.length || host.DnsSearch?.length || host.ExtraHosts?.length) throw invalid('conflicting options: dns and the network mode');
    host.NetworkMode = `container:${get(ctx, mode.ref).record.Id}`;
  }
  if (mode.kind === 'ns') checkNetns(mode.path);
  if (mode.kind !== 'network') {
    if (ep.Aliases?.length || ep.IPv4Address || ep.IPv6Address || ep.MacAddress) throw invalid(`--network-alias, --ip and --mac-address need a network, not "${host.NetworkMode}"`);
    if (mode.kind !== 'container' && mode.kind !== 'ns') host.NetworkMode = mode.kind;
    // docker discards published ports without a network of the container's own.
    host.PortBindings = {};
    host.PublishAllPorts = false;
    return undefined;
  }
  const net = mode.name === 'bridge' ? undefined : (await ctx.host.sandboxes()).networks.find(mode.name);
  if (mode.name !== 'bridge' && !net) throw notFound(`network ${mode.name} not found`);
  const name = net?.Name ?? 'bridge';
  // "default" stays as asked (dockerd's inspect shows it; the docker CLI and SDKs send it).
  host.NetworkMode = host.NetworkMode === 'default' ? 'default' : name;
  if (ep.IPv4Address) {
    (await import('../../network/cidr.ts')).parseIp(ep.IPv4Address);
    if (name === 'bridge') throw invalid('user specified IP address is supported on user defined networks only');
  }
  if (ep.IPv6Address) {
    (await import('../../network/cidr6.ts')).parseIp6(ep.IPv6Address);
    if (name === 'bridge') throw invalid('user specified IP address is supported on user defined networks only');
  }
  if (net) (await import('../../network/ipam-config.ts')).checkRequestedIps(net, ep.IPv4Address, ep.IPv6Address);
  if (ep.Aliases?.length && name === 'bridge') throw invalid('network-scoped alias is supported only for containers in user defined networks');
  if (ep.MacAddress && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(ep.MacAddress)) throw invalid(`invalid MAC address: ${ep.MacAddress}`);
  const kept = { ...(ep.DriverOpts ? { DriverOpts: ep.DriverOpts } : {}), ...(ep.LinkLocalIPs?.length ? { LinkLocalIPs: ep.LinkLocalIPs } : {}), ...(ep.Links?.length ? { Links: ep.Links } : {}) };
  return { [name]: { Aliases: ep.Aliases ?? [], ...(ep.IPv4Address ? { IPv4Address: ep.IPv4Address } : {}), ...(ep.IPv6Address ? { IPv6Address: ep.IPv6Address } : {}), ...(ep.MacAddress ? { MacAddress: ep.MacAddress.toLowerCase() } : {}), ...kept } };
}

/**
 * The network side of a start: nothing for none (a fresh namespace, loopback only), the host's
 * namespace, another container's namespace and /etc files, or a new sandbox attached to the
 * container's networks with its ports published. A new sandbox's release goes on `undo`.
 */
export async function setupNetwork(ctx: Ctx, record: ContainerRecord, undo: Undo): Promise<NetSetup> {
  const dir = ctx.store.cdir(record.Id);
  // Records from before networking have no mode: they had loopback only.
  const mode = parseNetworkMode(record.HostConfig.NetworkMode ?? 'none');
  fs.rmSync(path.join(dir, 'network.json'), { force: true });
  if (mode.kind === 'none') return { network: { mode: 'new' } };
  if (mode.kind === 'host') return { network: { mode: 'host' } };
  if (mode.kind === 'ns') {
    // Someone else's namespace: joined as it is (it may be gone since create), never released.
    checkNetns(mode.path);
    const view: NetworkView = { SandboxID: '', SandboxKey: mode.path, Ports: [], Networks: {} };
    writeFileAtomic(path.join(dir, 'network.json'), JSON.stringify(view));
    return { network: { mode: 'join', path: mode.path } };
  }
  if (mode.kind === 'container') {
    const other = get(ctx, mode.ref);
    const pid = initPid(ctx, other);
    const odir = ctx.store.cdir(other.record.Id);
    const view = readJsonFile<NetworkView>(path.join(odir, 'network.json'));
    return {
      network: { mode: 'join', path: view?.SandboxKey || `/proc/${pid}/ns/net` },
      etc: { hostname: path.join(odir, 'hostname'), hosts: path.join(odir, 'hosts'), resolv: path.join(odir, 'resolv.conf') },
      hostname: other.record.Config.Hostname,
    };
  }
  const sandboxes = await ctx.host.sandboxes();
  const endpoints = [];
  for (const [name, spec] of Object.entries(record.Endpoints ?? { [mode.name]: { Aliases: [] } })) {
    endpoints.push({ net: await sandboxes.networks.get(name), aliases: spec.Aliases, names: peerNames(record), links: networkLinks(record, name, spec.Links), ip: spec.IPv4Address, ip6: spec.IPv6Address, mac: spec.MacAddress });
  }
  let bindings = record.HostConfig.PortBindings ?? {};
  if (record.HostConfig.PublishAllPorts) bindings = (await import('../../network/ports.ts')).publishAll(bindings, Object.keys(record.Config.ExposedPorts ?? {}));
  const sb = await sandboxes.create(record.Id, endpoints, bindings);
  undo.push('network', () => sandboxes.release(sb.id).catch(() => undefined));
  writeNetworkView(ctx, record, sb, sandboxes);
  return { network: { mode: 'join', path: sb.netns }, sandbox: sb, sandboxes, release: sandboxes.releaseArgv(sb.id) };
}

/** `--network ns:PATH` joins only a network namespace (setns would take another kind, or fail late on a plain file). */
function checkNetns(file: string): void {
  const kind = namespaceType(file);
  if (kind === 'net') return;
  let why = kind ? `a namespace of type ${kind}, not a network namespace` : 'not a network namespace file';
  try {
    fs.statSync(file);
  } catch (e) {
    why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
  }
  throw invalid(`--network ns:${file}: ${why}`);
}

/** network.json (inspect, port) and /etc/hosts with the container's own address. */
export function writeNetworkView(ctx: Ctx, record: ContainerRecord, sb: SandboxRecord, sandboxes: Sandboxes): void {
  const dir = ctx.store.cdir(record.Id);
  const views = sandboxes.views(sb);
  const first = Object.values(views)[0];
  const self = first?.IPAddress ? { ip: first.IPAddress, ip6: first.GlobalIPv6Address || undefined, names: [record.Config.Hostname] } : undefined;
  // In place: a running container has this very file (inode) bind-mounted.
  // Links whose container is gone or stopped since (a later network connect) are left out.
  const links = linkHosts(record.HostConfig.Links ?? [], (name) => {
    try {
      return linkTarget(ctx, name);
    } catch {
      return { name, ip: '', env: [], exposed: [] };
    }
  });
  fs.writeFileSync(path.join(dir, 'hosts'), hostsFile({ extra: [...(record.HostConfig.ExtraHosts ?? []), ...links], self }) + sandboxes.peerLines(sb).map((l) => l + '\n').join(''));
  // On a network with name resolution, its DNS responder (on the gateway) is the resolver;
  // --dns still wins.
  const dnsNet = sb.attachments.find((a) => a.names?.length);
  if (dnsNet && !record.HostConfig.Dns?.length) {
    const gw = views[dnsNet.name]?.Gateway;
    fs.writeFileSync(path.join(dir, 'resolv.conf'), resolvFile(hostResolv(), { dns: [gw], search: record.HostConfig.DnsSearch, options: record.HostConfig.DnsOptions?.length ? record.HostConfig.DnsOptions : ['ndots:0'] }));
  }
  const view: NetworkView = { SandboxID: sb.id, SandboxKey: sb.netns, Ports: sb.ports, Networks: views };
  writeFileAtomic(path.join(dir, 'network.json'), JSON.stringify(view));
}

/** A running container's network as its start left it (undefined when it is not running or has none of its own). */
export function networkView(ctx: Ctx, c: Container): NetworkView | undefined {
  if (c.state.Status !== 'running' && c.state.Status !== 'paused') return undefined;
  return readJsonFile<NetworkView>(path.join(ctx.store.cdir(c.record.Id), 'network.json'));
}

/** The name of a container a link names; a missing one is a bad request, not a 404 (which the docker CLI takes for a missing image). */
export function linkName(ctx: Ctx, ref: string): string {
  try {
    return get(ctx, ref).record.Name;
  } catch (err) {
    if (err instanceof BerthError && err.code === 'NotFound') throw invalid(`could not get container for ${ref}`);
    throw err;
  }
}

/** A running container a legacy link points at: its address on the default bridge, env and ports. */
export function linkTarget(ctx: Ctx, name: string): LinkTarget {
  const c = get(ctx, name);
  if (!isUp(c.state.Status)) throw conflict(`Cannot link to a non running container: /${c.record.Name}`);
  const view = networkView(ctx, c);
  const ip = (view?.Networks.bridge ?? Object.values(view?.Networks ?? {})[0])?.IPAddress ?? '';
  return { name: c.record.Name, ip, env: c.record.Config.Env, exposed: Object.keys(c.record.Config.ExposedPorts ?? {}) };
}

/** Sandboxes of a container that nothing uses any more are released (and a release in progress waited for). */
export async function releaseSandboxes(ctx: Ctx, record: ContainerRecord): Promise<void> {
  if (parseNetworkMode(record.HostConfig.NetworkMode ?? 'none').kind !== 'network') return;
  const sandboxes = await ctx.host.sandboxes();
  for (const sb of sandboxes.list()) {
    if (sb.container !== record.Id || inUse(sb)) continue;
    await sandboxes.release(sb.id, (now) => !inUse(now)).catch(() => undefined);
  }
}
