// Networks of one state root: records under <root>/networks, names claimed (kernel/claim.ts),
// subnets claimed machine-wide under /run/berth/subnets (two roots never pick the same one), and
// the CNI conflist each network is. The default `bridge` network is created on first use.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, conflict, invalid, notFound } from '../core/errors.ts';
import type { StateRoot } from '../core/root.ts';
import { readJsonFile, sweepTemps, writeFileAtomic } from '../util/atomic.ts';
import { claim, dropIf, holderDead, owner, release, selfHolder, sweepGuards } from '../kernel/claim.ts';
import { isAlive, type ProcessRef } from '../kernel/process.ts';
import { randomHex } from '../util/random.ts';
import { contains, firstHost, overlaps, formatIp, formatSubnet, parseIp, parseProcRoutes, parseSubnet, pickSubnet, type Subnet } from './cidr.ts';
import { CNI_VERSION, type NetConfList } from './cni.ts';
import { addBridgeRules, BRIDGE_PREFIX, removeBridgeRules } from './firewall.ts';
import { checkDriverOptions } from './driver-options.ts';
import { auxAddresses, rangeBounds, type IpamConfig } from './ipam-config.ts';
import { formatSubnet6, overlaps6, parseSubnet6, type Subnet6 } from './cidr6.ts';
import { ipv6Unavailable, planIpv6, range6 } from './ipv6.ts';

export const DEFAULT_NETWORK = 'bridge';
/** Not networks of their own: modes docker lists among the networks. */
export const PSEUDO_NETWORKS = ['host', 'none'];
/**
 * dockerd takes any name (a slash, a leading dot, 300 characters). Here a name is a file, its
 * claim: the name itself when it can be a file name (no slash, not starting with a dot as claims'
 * temp files and guards do, within 255 bytes: every name earlier versions took), else % and the
 * name's sha256. The record holds the name (a lookup checks it); the file is only the claim.
 */
const PLAIN = /^[^./\0][^/\0]*$/;
export function nameKey(name: string): string {
  return PLAIN.test(name) && Buffer.byteLength(name) <= 255 ? name : `%${createHash('sha256').update(name).digest('hex')}`;
}
const CLAIMS = process.env.BERTH_RUN_DIR ? path.join(process.env.BERTH_RUN_DIR, 'subnets') : '/run/berth/subnets';

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Driver: 'bridge';
  Internal: boolean;
  Labels: Record<string, string>;
  Subnet: string;
  Gateway: string;
  Bridge: string; // the Linux bridge: berthb + 9 hex of the id (15 chars, IFNAMSIZ)
  /** Name resolution for containers on it (user networks; docker's default bridge has none). */
  Dns: boolean;
  /**
   * Its outbound NAT is the network's own MASQUERADE rule (firewall.ts). Networks made before
   * that relied on the bridge plugin's per-container rules: theirs is added on first use.
   */
  Nat?: boolean;
  /** The driver options as given (docker echoes them in inspect; driver-options.ts checks them). */
  Options?: Record<string, string>;
  /** The IPAM config as given (inspect shows it so); absent when the subnet was chosen. */
  Ipam?: IpamConfig;
  /** IPAM.Options as given: null when none were (dockerd's inspect shows null then). */
  IpamOptions?: Record<string, string> | null;
  /** EnableIPv6 as asked: with it the network has Subnet6 and Gateway6 (ipv6.ts). */
  EnableIPv6?: boolean;
  /** The IPv6 subnet containers get addresses from (host bits dropped), claimed machine-wide. */
  Subnet6?: string;
  Gateway6?: string;
  /** The IPv6 pools as given (inspect shows them after the IPv4 one, used or not). */
  Ipam6?: IpamConfig[];
}

export interface CreateNetwork {
  name: string;
  options?: Record<string, string>;
  subnet?: string;
  gateway?: string;
  /** Containers' addresses come only from this part of the subnet (docker's --ip-range). */
  ipRange?: string;
  /** Addresses of the subnet never given out (docker's --aux-address). */
  auxAddresses?: Record<string, string>;
  ipamOptions?: Record<string, string> | null;
  internal?: boolean;
  labels?: Record<string, string>;
  enableIPv6?: boolean;
  /** IPAM configs with an IPv6 subnet (the IPv4 one is subnet, gateway... above). */
  ipam6?: IpamConfig[];
}

export class Networks {
  readonly root: StateRoot;
  private readonly dir: string;
  constructor(root: StateRoot) {
    this.root = root;
    this.dir = path.join(root.dir, 'networks');
  }

  private namePath(name: string): string {
    return path.join(this.dir, 'names', nameKey(name));
  }

  list(): NetworkRecord[] {
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.join(this.dir, 'names')).filter((n) => !n.startsWith('.')); // not claims' temp files
    } catch {}
    return [...names.map((n) => this.byKey(n)), ...this.duplicates()].filter((n): n is NetworkRecord => n !== undefined);
  }

  /**
   * Networks whose name another network had when they were made: dockerd before API 1.44 makes
   * them when CheckDuplicate is false. The name's claim stays the first one's; each duplicate is
   * marked by dups/<id> (written after its record), and looking the name up is then ambiguous.
   */
  private duplicates(name?: string): NetworkRecord[] {
    let ids: string[] = [];
    try {
      ids = fs.readdirSync(path.join(this.dir, 'dups')).filter((n) => /^[a-f0-9]{64}$/.test(n));
    } catch {}
    return ids.map((id) => readJsonFile<NetworkRecord>(path.join(this.dir, `${id}.json`))).filter((n): n is NetworkRecord => n !== undefined && (name === undefined || n.Name === name));
  }

  private byName(name: string): NetworkRecord | undefined {
    const rec = this.byKey(nameKey(name));
    return rec?.Name === name ? rec : undefined;
  }

  /** The record a claim file (names/<key>) names. */
  private byKey(key: string): NetworkRecord | undefined {
    try {
      const id = fs.readFileSync(path.join(this.dir, 'names', key), 'utf8');
      return readJsonFile<NetworkRecord>(path.join(this.dir, `${id}.json`));
    } catch {
      return undefined;
    }
  }

  /** By name, full id or unique id prefix; `bridge` is created if it does not exist yet. */
  async get(nameOrId: string): Promise<NetworkRecord> {
    if (nameOrId === DEFAULT_NETWORK) return this.byName(DEFAULT_NETWORK) ?? (await this.create({ name: DEFAULT_NETWORK }, true));
    const found = this.find(nameOrId);
    if (!found) throw notFound(`network ${nameOrId} not found`);
    return found;
  }

  find(nameOrId: string): NetworkRecord | undefined {
    const named = [this.byName(nameOrId), ...this.duplicates(nameOrId)].filter((n): n is NetworkRecord => n !== undefined);
    // A full id is never ambiguous; a name two networks share is (dockerd's words).
    if (named.length > 1) return named.find((n) => n.Id === nameOrId) ?? ambiguousName(nameOrId, named.length);
    if (named.length) return named[0];
    if (!/^[a-f0-9]{1,64}$/.test(nameOrId)) return undefined;
    const matches = this.list().filter((n) => n.Id.startsWith(nameOrId));
    if (matches.length > 1) throw invalid(`network ${nameOrId} is ambiguous (${matches.length} matches found based on ID prefix)`);
    return matches[0];
  }

  /** duplicate: another network may have the name (dockerd's CheckDuplicate=false before API 1.44). */
  async create(opts: CreateNetwork, isDefault = false, duplicate = false): Promise<NetworkRecord> {
    if (!opts.name || opts.name.includes('\0')) throw invalid(`invalid network name "${opts.name}": ${opts.name ? 'a NUL byte' : 'a name is needed'}`);
    // dockerd's runconfig.IsPreDefinedNetwork names and its words (a 403, trailing space and all).
    if (!isDefault && [DEFAULT_NETWORK, ...PSEUDO_NETWORKS, 'default'].includes(opts.name)) throw new BerthError('PermissionDenied', `operation is not permitted on predefined ${opts.name} network `);
    const existing = this.byName(opts.name) ?? this.duplicates(opts.name)[0];
    // Two first uses of the default network at once: the other one made it meanwhile.
    if (existing && isDefault) return existing;
    if (existing && !duplicate) throw conflict(`network with name ${opts.name} already exists`);
    checkDriverOptions(opts.options ?? {});
    const id = randomHex(32);
    const subnet = opts.subnet ? parseSubnet(opts.subnet) : undefined;
    let gateway = opts.gateway ? parseIp(opts.gateway) : undefined;
    if (gateway !== undefined && !subnet) throw invalid('--gateway needs --subnet');
    if ((opts.ipRange || opts.auxAddresses) && !subnet) throw invalid(`${opts.ipRange ? '--ip-range' : '--aux-address'} needs --subnet`);
    // Checked before the subnet is claimed: a refused create claims nothing.
    if (subnet && opts.ipRange) rangeBounds(subnet, opts.ipRange);
    const aux = subnet && opts.auxAddresses ? auxAddresses(subnet, opts.auxAddresses, opts.name) : [];
    const v6 = planIpv6(opts.enableIPv6 === true, opts.ipam6 ?? [], opts.name);
    const noV6 = v6 && ipv6Unavailable();
    if (noV6) throw new BerthError('FailedPrecondition', noV6);
    if (v6) this.claimSubnet6(id, v6.subnet);
    let chosen: Subnet;
    try {
      chosen = this.claimSubnet(id, subnet);
    } catch (err) {
      if (v6) this.unclaimName(claimName6(v6.subnet), id);
      throw err;
    }
    if (gateway !== undefined && (!contains(chosen, gateway) || gateway === chosen.base)) {
      this.unclaimSubnet(chosen, id);
      if (v6) this.unclaimName(claimName6(v6.subnet), id);
      throw invalid(`gateway ${opts.gateway} is not a host address of ${formatSubnet(chosen)}`);
    }
    const given: IpamConfig | undefined = subnet && {
      Subnet: formatSubnet(subnet), ...(opts.ipRange ? { IPRange: opts.ipRange } : {}), ...(opts.gateway ? { Gateway: opts.gateway } : {}),
      ...(opts.auxAddresses && Object.keys(opts.auxAddresses).length ? { AuxiliaryAddresses: opts.auxAddresses } : {}),
    };
    gateway ??= subnet && opts.ipRange ? parseIp(rangeBounds(subnet, opts.ipRange).rangeStart) : firstHost(chosen);
    const rec: NetworkRecord = {
      Name: opts.name, Id: id, Created: new Date().toISOString(), Driver: 'bridge', Internal: opts.internal === true,
      Labels: opts.labels ?? {}, Subnet: formatSubnet(chosen), Gateway: formatIp(gateway), Bridge: `${BRIDGE_PREFIX}${id.slice(0, 9)}`,
      Dns: !isDefault, Nat: true, ...(opts.options && Object.keys(opts.options).length ? { Options: opts.options } : {}),
      ...(given ? { Ipam: given } : {}), ...(opts.ipamOptions !== undefined ? { IpamOptions: opts.ipamOptions } : {}),
      ...(opts.enableIPv6 ? { EnableIPv6: true } : {}), ...(v6 ? { Subnet6: formatSubnet6(v6.subnet), Gateway6: v6.gateway } : {}),
      ...(opts.ipam6?.length ? { Ipam6: opts.ipam6 } : {}),
    };
    this.reserve(rec, [...aux, ...(v6?.aux ?? [])]);
    fs.mkdirSync(path.join(this.dir, 'names'), { recursive: true, mode: 0o700 });
    // The record first, then the name: a name always points at a record (a name whose record is
    // gone, left by a crash in the middle of a removal, is taken over).
    writeFileAtomic(path.join(this.dir, `${id}.json`), JSON.stringify(rec), { durable: true });
    const named = claim(path.join(this.dir, 'names'), nameKey(opts.name), id, (held) => !fs.existsSync(path.join(this.dir, `${held}.json`)));
    if (!named && duplicate) {
      fs.mkdirSync(path.join(this.dir, 'dups'), { recursive: true, mode: 0o700 });
      writeFileAtomic(path.join(this.dir, 'dups', id), opts.name, { durable: true });
    }
    if (!named && !duplicate) {
      fs.rmSync(path.join(this.dir, `${id}.json`), { force: true });
      fs.rmSync(this.ipamDir(rec), { recursive: true, force: true });
      this.unclaimSubnet(chosen, id);
      if (v6) this.unclaimName(claimName6(v6.subnet), id);
      // Two first uses of the default network at once: the other one made it.
      const other = isDefault ? this.byName(opts.name) : undefined;
      if (other) return other;
      throw conflict(`network with name ${opts.name} already exists`);
    }
    try {
      await addBridgeRules(this.root.key, rec, this.cniName(rec));
    } catch (err) {
      await this.remove(rec.Name, () => undefined).catch(() => undefined);
      throw err;
    }
    return rec;
  }

  /**
   * A subnet no host route, no network of ours and no other root's network uses, claimed
   * machine-wide (kernel/claim.ts). The claim is made before the network's record exists, so it
   * names its creator too: it stands while the creator lives, and after that while a network
   * uses it (subnetClaimStale).
   */
  private claimSubnet(id: string, wanted?: Subnet): Subnet {
    fs.mkdirSync(CLAIMS, { recursive: true, mode: 0o700 });
    let routes: Subnet[] = [];
    try {
      routes = parseProcRoutes(fs.readFileSync('/proc/net/route', 'utf8'));
    } catch {}
    const taken = this.list().map((n) => parseSubnet(n.Subnet));
    for (let attempt = 0; attempt < 64; attempt++) {
      const claimed = liveClaims();
      const s = wanted ?? pickSubnet([...taken, ...claimed], routes);
      if (!s) throw conflict('no free subnet for a new network: every candidate overlaps a route or a network (choose one with --subnet)');
      if (wanted && [...taken, ...claimed].some((t) => overlaps(t, wanted))) throw poolOverlaps();
      if (claim(CLAIMS, claimName(s), `${this.root.dir}\n${id}\n${selfHolder()}\n`, subnetClaimStale)) return s;
      if (wanted) throw poolOverlaps();
      // Another create took it a moment ago: the next listing has its claim.
    }
    throw conflict('no free subnet for a new network');
  }

  /**
   * An IPv6 subnet no other network of any root overlaps, claimed as IPv4 ones are (dockerd picks
   * none by itself: the pool is always given). No host route check: dockerd makes none either.
   */
  private claimSubnet6(id: string, wanted: Subnet6): void {
    fs.mkdirSync(CLAIMS, { recursive: true, mode: 0o700 });
    const taken = [...this.list().flatMap((n) => (n.Subnet6 ? [parseSubnet6(n.Subnet6)] : [])), ...liveClaims6()];
    if (taken.some((t) => overlaps6(t, wanted))) throw poolOverlaps();
    if (!claim(CLAIMS, claimName6(wanted), `${this.root.dir}\n${id}\n${selfHolder()}\n`, subnetClaimStale)) throw poolOverlaps();
  }

  private unclaimSubnet(s: Subnet, id: string): void {
    this.unclaimName(claimName(s), id);
  }

  private unclaimName(name: string, id: string): void {
    dropIf(CLAIMS, name, (held) => held.split('\n')[1] === id);
  }

  /** Removes a network no container uses: its rules, its bridge, its address allocations. */
  async remove(nameOrId: string, user: (id: string) => string | undefined): Promise<NetworkRecord> {
    if (PSEUDO_NETWORKS.includes(nameOrId)) throw invalid(`${nameOrId} is a pre-defined network and cannot be removed`);
    const net = this.find(nameOrId);
    if (!net) throw notFound(`network ${nameOrId} not found`);
    const holder = user(net.Id);
    if (holder) throw conflict(`error while removing network: network ${net.Name} id ${net.Id} has active endpoints (${holder})`);
    release(path.join(this.dir, 'names'), nameKey(net.Name), net.Id);
    fs.rmSync(path.join(this.dir, 'dups', net.Id), { force: true });
    // Its DNS responder (ours: a pid with its start time) goes first: it listens on the bridge.
    const dns = readJsonFile<ProcessRef>(path.join(this.dir, 'dns', `${net.Id}.json`));
    if (dns && isAlive(dns)) process.kill(dns.pid, 'SIGTERM');
    fs.rmSync(path.join(this.dir, 'dns', `${net.Id}.json`), { force: true });
    await this.releaseHost(net);
    fs.rmSync(this.ipamDir(net), { recursive: true, force: true });
    this.unclaimSubnet(parseSubnet(net.Subnet), net.Id);
    if (net.Subnet6) this.unclaimName(claimName6(parseSubnet6(net.Subnet6)), net.Id);
    fs.rmSync(path.join(this.dir, `${net.Id}.json`), { force: true });
    return net;
  }

  /**
   * The auxiliary addresses taken in host-local's store before any container asks: host-local
   * keeps one file per address given out and never hands out one whose file exists. Made before
   * the network is named, so no container can be given one first; removed with the store.
   */
  private reserve(net: NetworkRecord, aux: string[]): void {
    if (!aux.length) return;
    const dir = this.ipamDir(net);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const ip of aux) writeFileAtomic(path.join(dir, ip), 'auxiliary-address', { durable: true });
  }

  /** host-local keeps its allocations here (one file per address), per root. */
  ipamDir(net: NetworkRecord): string {
    return path.join(this.root.dir, 'networks', 'ipam', this.cniName(net));
  }

  cniName(net: NetworkRecord): string {
    return `berth-${this.root.key}-${net.Id.slice(0, 12)}`;
  }

  /**
   * The network's parts on the host, its rules and its bridge, gone: when it is removed, or when
   * nothing is attached to it any more (ensureHost brings them back with the next container).
   */
  async releaseHost(net: NetworkRecord): Promise<void> {
    await removeBridgeRules(this.root.key, net, this.cniName(net));
    await new Promise<void>((resolve) => execFile('ip', ['link', 'del', net.Bridge], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } }, () => resolve()));
  }

  /** After a reboot (or a bridge deleted by hand, or released while idle) the forwarding and NAT rules must be put back. */
  async ensureHost(net: NetworkRecord): Promise<void> {
    if (fs.existsSync(`/sys/class/net/${net.Bridge}`) && net.Nat) return;
    await addBridgeRules(this.root.key, net, this.cniName(net));
    if (!net.Nat) {
      net.Nat = true;
      writeFileAtomic(path.join(this.dir, `${net.Id}.json`), JSON.stringify(net), { durable: true });
    }
  }

  /** The network as a CNI conflist: bridge with host-local IPAM, portmap for published ports, tuning for a fixed MAC. */
  conflist(net: NetworkRecord, opts: { mac?: boolean; ports?: boolean; fixedIp?: boolean; fixedIp6?: boolean } = {}): NetConfList {
    return buildConflist(this.cniName(net), net, path.join(this.root.dir, 'networks', 'ipam'), opts);
  }
}

function claimName(s: Subnet): string {
  return formatSubnet(s).replace('/', '_');
}

function claimName6(s: Subnet6): string {
  return formatSubnet6(s).replace('/', '_');
}

/**
 * A subnet claim (`<root dir>\n<network id>\n<creator pid> <start>\n`) is stale once its
 * creator is gone and no network uses it: the network's record is gone, or was never named (a
 * creator killed between the two). Claims of older versions name no creator: their record decides.
 */
function subnetClaimStale(held: string): boolean {
  const [rootDir, id, creator] = held.split('\n');
  if (creator && !holderDead(creator)) return false;
  if (!rootDir || !id) return true;
  const dir = path.join(rootDir, 'networks');
  const rec = readJsonFile<NetworkRecord>(path.join(dir, `${id}.json`));
  return !rec || (owner(path.join(dir, 'names'), nameKey(rec.Name)) !== id && !fs.existsSync(path.join(dir, 'dups', id)));
}

/** dockerd's words and status (403) for a pool that overlaps another network's (of any root here). */
function poolOverlaps(): BerthError {
  return new BerthError('PermissionDenied', 'Pool overlaps with other one on this address space');
}

function ambiguousName(name: string, n: number): never {
  throw invalid(`network ${name} is ambiguous (${n} matches found based on name)`);
}

/** Subnets claimed by any root; stale claims are swept on the way. */
function liveClaims(): Subnet[] {
  return liveClaimNames().filter((n) => !n.includes(':')).flatMap((n) => {
    try {
      return [parseSubnet(n.replace('_', '/'))];
    } catch {
      return [];
    }
  });
}

function liveClaims6(): Subnet6[] {
  return liveClaimNames().filter((n) => n.includes(':')).flatMap((n) => {
    try {
      return [parseSubnet6(n.replace('_', '/'))];
    } catch {
      return [];
    }
  });
}

/** The names of the live subnet claims of every root (IPv4 and IPv6). */
function liveClaimNames(): string[] {
  const out: string[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(CLAIMS);
  } catch {}
  sweepTemps(CLAIMS, names); // claims half-written by a killed claimer
  sweepGuards(CLAIMS, names); // takeovers cut short by a kill
  for (const n of names) {
    if (n.startsWith('.')) continue;
    dropIf(CLAIMS, n, subnetClaimStale);
    if (owner(CLAIMS, n) === undefined) continue;
    out.push(n);
  }
  return out;
}

/**
 * Pure: the conflist of one attachment. Plugins with nothing to do are left out (tuning without a
 * MAC, portmap without published ports): each is a process to start on ADD and on DEL. The
 * attachment keeps its conflist, so its DEL runs exactly the plugins its ADD ran.
 */
export function buildConflist(name: string, net: NetworkRecord, ipamDataDir: string, opts: { mac?: boolean; ports?: boolean; fixedIp?: boolean; fixedIp6?: boolean }): NetConfList {
  // An address asked for (--ip) may be anywhere in the subnet, as dockerd allows, not only in
  // the IPRange dynamic ones come from: host-local takes a requested address only within its range.
  const bounds = net.Ipam?.IPRange && !opts.fixedIp ? rangeBounds(parseSubnet(net.Subnet), net.Ipam.IPRange) : {};
  const v6 = range6(net, opts.fixedIp6 === true);
  const { mtu } = checkDriverOptions(net.Options ?? {});
  const plugins: NetConfList['plugins'] = [
    {
      type: 'bridge', bridge: net.Bridge, isGateway: true, ipMasq: false, hairpinMode: true, // NAT: firewall.ts
      ...(mtu ? { mtu } : {}),
      capabilities: { ips: true },
      ipam: {
        type: 'host-local', dataDir: ipamDataDir,
        ranges: [[{ subnet: net.Subnet, gateway: net.Gateway, ...bounds }], ...(v6 ? [[v6]] : [])],
        routes: net.Internal ? [] : [{ dst: '0.0.0.0/0' }, ...(v6 ? [{ dst: '::/0' }] : [])],
      },
    },
  ];
  if (opts.mac) plugins.push({ type: 'tuning', capabilities: { mac: true } });
  if (opts.ports && !net.Internal) plugins.push({ type: 'portmap', capabilities: { portMappings: true }, snat: true });
  return { cniVersion: CNI_VERSION, name, plugins };
}
