// Networks of one state root: records under <root>/networks, names claimed with O_EXCL, subnets
// claimed machine-wide under /run/berth/subnets (two roots never pick the same one), and the CNI
// conflist each network is. The default `bridge` network is created on first use.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { conflict, invalid, notFound } from '../core/errors.ts';
import type { StateRoot } from '../core/root.ts';
import { readJsonFile, writeFileAtomic } from '../util/atomic.ts';
import { isAlive, type ProcessRef } from '../kernel/process.ts';
import { randomHex } from '../util/random.ts';
import { contains, firstHost, overlaps, formatIp, formatSubnet, parseIp, parseProcRoutes, parseSubnet, pickSubnet, type Subnet } from './cidr.ts';
import { CNI_VERSION, type NetConfList } from './cni.ts';
import { addBridgeRules, BRIDGE_PREFIX, removeBridgeRules } from './firewall.ts';

export const DEFAULT_NETWORK = 'bridge';
/** Not networks of their own: modes docker lists among the networks. */
export const PSEUDO_NETWORKS = ['host', 'none'];
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
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
}

export interface CreateNetwork {
  name: string;
  subnet?: string;
  gateway?: string;
  internal?: boolean;
  labels?: Record<string, string>;
}

export class Networks {
  readonly root: StateRoot;
  private readonly dir: string;
  constructor(root: StateRoot) {
    this.root = root;
    this.dir = path.join(root.dir, 'networks');
  }

  private namePath(name: string): string {
    return path.join(this.dir, 'names', name);
  }

  list(): NetworkRecord[] {
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.join(this.dir, 'names'));
    } catch {}
    return names.map((n) => this.byName(n)).filter((n): n is NetworkRecord => n !== undefined);
  }

  private byName(name: string): NetworkRecord | undefined {
    try {
      const id = fs.readFileSync(this.namePath(name), 'utf8');
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
    const byName = NAME.test(nameOrId) ? this.byName(nameOrId) : undefined;
    if (byName) return byName;
    if (!/^[a-f0-9]{1,64}$/.test(nameOrId)) return undefined;
    const matches = this.list().filter((n) => n.Id.startsWith(nameOrId));
    if (matches.length > 1) throw invalid(`network ${nameOrId} is ambiguous (${matches.length} matches found based on ID prefix)`);
    return matches[0];
  }

  async create(opts: CreateNetwork, isDefault = false): Promise<NetworkRecord> {
    if (!NAME.test(opts.name)) throw invalid(`invalid network name "${opts.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (!isDefault && (opts.name === DEFAULT_NETWORK || PSEUDO_NETWORKS.includes(opts.name))) throw conflict(`network with name ${opts.name} already exists`);
    if (this.byName(opts.name)) throw conflict(`network with name ${opts.name} already exists`);
    const id = randomHex(32);
    const subnet = opts.subnet ? parseSubnet(opts.subnet) : undefined;
    let gateway = opts.gateway ? parseIp(opts.gateway) : undefined;
    if (gateway !== undefined && !subnet) throw invalid('--gateway needs --subnet');
    const chosen = this.claimSubnet(id, subnet);
    if (gateway !== undefined && (!contains(chosen, gateway) || gateway === chosen.base)) {
      this.unclaimSubnet(chosen, id);
      throw invalid(`gateway ${opts.gateway} is not a host address of ${formatSubnet(chosen)}`);
    }
    gateway ??= firstHost(chosen);
    const rec: NetworkRecord = {
      Name: opts.name, Id: id, Created: new Date().toISOString(), Driver: 'bridge', Internal: opts.internal === true,
      Labels: opts.labels ?? {}, Subnet: formatSubnet(chosen), Gateway: formatIp(gateway), Bridge: `${BRIDGE_PREFIX}${id.slice(0, 9)}`,
      Dns: !isDefault, Nat: true,
    };
    fs.mkdirSync(path.join(this.dir, 'names'), { recursive: true, mode: 0o700 });
    writeFileAtomic(path.join(this.dir, `${id}.json`), JSON.stringify(rec), { durable: true });
    try {
      fs.writeFileSync(this.namePath(opts.name), id, { flag: 'wx' });
    } catch (err) {
      fs.rmSync(path.join(this.dir, `${id}.json`), { force: true });
      this.unclaimSubnet(chosen, id);
      // Two first uses of the default network at once: the other one made it.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && isDefault) return this.byName(opts.name)!;
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw conflict(`network with name ${opts.name} already exists`);
      throw err;
    }
    try {
      await addBridgeRules(this.root.key, rec, this.cniName(rec));
    } catch (err) {
      await this.remove(rec.Name, () => undefined).catch(() => undefined);
      throw err;
    }
    return rec;
  }

  /** A subnet no host route, no network of ours and no other root's network uses, claimed machine-wide. */
  private claimSubnet(id: string, wanted?: Subnet): Subnet {
    fs.mkdirSync(CLAIMS, { recursive: true, mode: 0o700 });
    let routes: Subnet[] = [];
    try {
      routes = parseProcRoutes(fs.readFileSync('/proc/net/route', 'utf8'));
    } catch {}
    const taken = this.list().map((n) => parseSubnet(n.Subnet));
    for (let attempt = 0; attempt < 64; attempt++) {
      const claimed = this.liveClaims();
      const s = wanted ?? pickSubnet([...taken, ...claimed], routes);
      if (!s) throw conflict('no free subnet for a new network: every candidate overlaps a route or a network (choose one with --subnet)');
      if (wanted && [...taken, ...claimed].some((t) => overlaps(t, wanted))) throw conflict(`subnet ${formatSubnet(wanted)} overlaps a subnet in use by another network`);
      try {
        fs.writeFileSync(path.join(CLAIMS, formatSubnet(s).replace('/', '_')), `${this.root.dir}\n${id}\n`, { flag: 'wx' });
        return s;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (wanted) throw conflict(`subnet ${formatSubnet(wanted)} is in use by another network`);
      }
    }
    throw conflict('no free subnet for a new network');
  }

  /** Claims whose network still exists (a claim of a root or network that is gone is swept). */
  private liveClaims(): Subnet[] {
    const out: Subnet[] = [];
    let names: string[] = [];
    try {
      names = fs.readdirSync(CLAIMS);
    } catch {}
    for (const n of names) {
      const file = path.join(CLAIMS, n);
      let owner: string[] = [];
      try {
        owner = fs.readFileSync(file, 'utf8').split('\n');
      } catch {
        continue;
      }
      if (owner.length >= 2 && !fs.existsSync(path.join(owner[0], 'networks', `${owner[1]}.json`))) {
        fs.rmSync(file, { force: true });
        continue;
      }
      try {
        out.push(parseSubnet(n.replace('_', '/')));
      } catch {}
    }
    return out;
  }

  private unclaimSubnet(s: Subnet, id: string): void {
    const file = path.join(CLAIMS, formatSubnet(s).replace('/', '_'));
    try {
      if (fs.readFileSync(file, 'utf8').split('\n')[1] === id) fs.rmSync(file, { force: true });
    } catch {}
  }

  /** Removes a network no container uses: its rules, its bridge, its address allocations. */
  async remove(nameOrId: string, user: (id: string) => string | undefined): Promise<NetworkRecord> {
    if (PSEUDO_NETWORKS.includes(nameOrId)) throw invalid(`${nameOrId} is a pre-defined network and cannot be removed`);
    const net = this.find(nameOrId);
    if (!net) throw notFound(`network ${nameOrId} not found`);
    const holder = user(net.Id);
    if (holder) throw conflict(`error while removing network: network ${net.Name} id ${net.Id} has active endpoints (${holder})`);
    fs.rmSync(this.namePath(net.Name), { force: true });
    // Its DNS responder (ours: a pid with its start time) goes first: it listens on the bridge.
    const dns = readJsonFile<ProcessRef>(path.join(this.dir, 'dns', `${net.Id}.json`));
    if (dns && isAlive(dns)) process.kill(dns.pid, 'SIGTERM');
    fs.rmSync(path.join(this.dir, 'dns', `${net.Id}.json`), { force: true });
    await this.releaseHost(net);
    fs.rmSync(this.ipamDir(net), { recursive: true, force: true });
    this.unclaimSubnet(parseSubnet(net.Subnet), net.Id);
    fs.rmSync(path.join(this.dir, `${net.Id}.json`), { force: true });
    return net;
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
  conflist(net: NetworkRecord, opts: { mac?: boolean; ports?: boolean } = {}): NetConfList {
    return buildConflist(this.cniName(net), net, path.join(this.root.dir, 'networks', 'ipam'), opts);
  }
}

/**
 * Pure: the conflist of one attachment. Plugins with nothing to do are left out (tuning without a
 * MAC, portmap without published ports): each is a process to start on ADD and on DEL. The
 * attachment keeps its conflist, so its DEL runs exactly the plugins its ADD ran.
 */
export function buildConflist(name: string, net: NetworkRecord, ipamDataDir: string, opts: { mac?: boolean; ports?: boolean }): NetConfList {
  const plugins: NetConfList['plugins'] = [
    {
      type: 'bridge', bridge: net.Bridge, isGateway: true, ipMasq: false, hairpinMode: true, // NAT: firewall.ts
      capabilities: { ips: true },
      ipam: {
        type: 'host-local', dataDir: ipamDataDir,
        ranges: [[{ subnet: net.Subnet, gateway: net.Gateway }]],
        routes: net.Internal ? [] : [{ dst: '0.0.0.0/0' }],
      },
    },
  ];
  if (opts.mac) plugins.push({ type: 'tuning', capabilities: { mac: true } });
  if (opts.ports && !net.Internal) plugins.push({ type: 'portmap', capabilities: { portMappings: true }, snat: true });
  return { cniVersion: CNI_VERSION, name, plugins };
}
