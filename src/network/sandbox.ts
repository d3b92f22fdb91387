// A container's network sandbox: a persistent network namespace (bind-mounted on
// /run/netns/berth-<root key>-<sandbox>), its CNI attachments with their cached results, and the
// host ports it publishes. Each start of a container gets a new sandbox (a new CNI container id),
// so the slow release of a previous run never races with the next one.
//
// Lifecycle, with no daemon: the engine writes the record before it creates anything, so a crash
// at any point leaves a record that says what to undo. The container's monitor, when the
// container is gone for good, starts `release-main.ts` detached (nobody waits for CNI DEL); the
// engine's reconcile releases sandboxes whose monitor and creator are both dead and that no
// live releaser holds.
//
// The pool of prepared sandboxes is pool.ts.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, isCode } from '../core/errors.ts';
import { claim, holderDead, release, selfHolder } from '../kernel/claim.ts';
import { isAlive, selfRef, type ProcessRef } from '../kernel/process.ts';
import type { StateRoot } from '../core/root.ts';
import { SHIM_PATH, shimStartFailure } from '../runtime/shim.ts';
import { readJsonFile, writeFileAtomic } from '../util/atomic.ts';
import { randomHex } from '../util/random.ts';
import { SRC } from '../util/paths.ts';
import { mark } from '../util/trace.ts';
import { deleteNetns, inUse, lockHeld, NETNS_DIR, netnsPath, poolSize, releaseArgv, sandboxIds, sweepSandboxes } from './sweep.ts';
import { cniAdd, cniDel } from './cni.ts';
import type { PortBindings } from './ports.ts';
import { claimPorts, unclaimPort } from './host-ports.ts';
import { endpointView, hostsLine, netLock, poolable, type Attachment, type Endpoint, type EndpointView, type SandboxRecord } from './sandbox-types.ts';
import type { NetworkRecord, Networks } from './store.ts';
import { SandboxPool } from './pool.ts';

export { checkPortFree } from './host-ports.ts';
export { endpointView, plain, poolable, type Attachment, type Endpoint, type EndpointView, type SandboxRecord } from './sandbox-types.ts';

export class Sandboxes {
  readonly root: StateRoot;
  readonly networks: Networks;
  /** <root>/networks/sandboxes: the records, their locks, the pool's index and timer. */
  readonly dir: string;
  private readonly hostsPath: (container: string) => string;
  private readonly pool: SandboxPool;
  constructor(root: StateRoot, networks: Networks, hostsPath: (container: string) => string) {
    this.root = root;
    this.networks = networks;
    this.hostsPath = hostsPath;
    this.dir = path.join(root.dir, 'networks', 'sandboxes');
    this.pool = new SandboxPool(this);
  }

  /** pool.ts: prepares sandboxes until the pool holds `size`; how many it made. */
  fillPool(size = poolSize()): Promise<number> {
    return this.pool.fillPool(size);
  }

  /** pool.ts: a timer that expires the pool when it is due. */
  armPoolTimer(delayMs: number): void {
    this.pool.armPoolTimer(delayMs);
  }

  /** pool.ts: what the timer runs. */
  expiryDue(): Promise<void> {
    return this.pool.expiryDue();
  }

  /** pool.ts: every pooled sandbox released. */
  drainPool(): Promise<void> {
    return this.pool.drainPool();
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  get(id: string): SandboxRecord | undefined {
    return readJsonFile<SandboxRecord>(this.file(id));
  }

  /** (for pool.ts too) */
  save(sb: SandboxRecord): void {
    writeFileAtomic(this.file(sb.id), JSON.stringify(sb));
  }

  list(): SandboxRecord[] {
    return sandboxIds(this.root).map((id) => this.get(id)).filter((s): s is SandboxRecord => s !== undefined);
  }

  netnsPath(id: string): string {
    return netnsPath(this.root, id);
  }

  /**
   * Creates the namespace, attaches it to each network (CNI ADD) and publishes the ports. On any
   * failure everything done so far is undone before the error is thrown.
   */
  async create(container: string, endpoints: Endpoint[], bindings: PortBindings): Promise<SandboxRecord> {
    if (poolable(endpoints, bindings)) {
      const taken = this.pool.take(container, endpoints[0].net);
      if (taken) {
        mark('pooled sandbox taken');
        return taken;
      }
    }
    return this.make(container, endpoints, bindings);
  }

  /** A new sandbox (pool.ts makes its prepared ones with it). */
  async make(container: string, endpoints: Endpoint[], bindings: PortBindings): Promise<SandboxRecord> {
    const id = randomHex(32);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const sb: SandboxRecord = { id, container, netns: this.netnsPath(id), owner: selfRef(), attachments: [], ports: [] };
    this.save(sb); // first: whatever follows can be undone from this record
    try {
      sb.ports = await claimPorts(this.root.dir, id, bindings, (holder) => this.releaseExited(holder));
      this.save(sb);
      mark('ports claimed');
      fs.mkdirSync(NETNS_DIR, { recursive: true });
      const made = spawnSync(SHIM_PATH, ['netns', 'add', sb.netns], { encoding: 'utf8', env: {} });
      if (made.status !== 0) throw new BerthError('Unavailable', `cannot create the network namespace: ${made.stderr?.trim() || (made.error ? shimStartFailure(made.error) : '')}`);
      mark('netns created');
      for (const [i, ep] of endpoints.entries()) await this.attach(sb, ep, `eth${i}`);
      mark('CNI ADD done');
      return sb;
    } catch (err) {
      await this.release(id).catch(() => undefined);
      throw err;
    }
  }

  /** One more network for a sandbox (at create, or `network connect` while running). */
  async attach(sb: SandboxRecord, ep: Endpoint, ifname: string): Promise<Attachment> {
    // Under the network's lock until the attachment is recorded: a release that finds the network
    // idle must not remove its bridge between ensureHost and then (after, it sees the record).
    // The CNI ADD itself runs unlocked, so starts on one network go on in parallel.
    await this.lockWait(netLock(ep.net.Id));
    let a: Attachment;
    try {
      a = await this.record(sb, ep, ifname);
    } finally {
      this.unlock(netLock(ep.net.Id));
    }
    a.result = await cniAdd(a.conflist, a.rt);
    this.save(sb);
    this.announce(sb, a);
    if (ep.net.Dns) await this.ensureDns(ep.net);
    return a;
  }

  /** The network's bridge and rules made if missing, and the attachment saved in the sandbox's record. */
  private async record(sb: SandboxRecord, ep: Endpoint, ifname: string): Promise<Attachment> {
    await this.networks.ensureHost(ep.net);
    const capabilityArgs: Record<string, unknown> = {};
    // Ports are published on the first network only (docker publishes through one endpoint too).
    const publish = sb.attachments.length === 0 && sb.ports.length > 0 && !ep.net.Internal;
    if (publish) capabilityArgs.portMappings = sb.ports;
    // An IPv6 address only where the network has IPv6 (dockerd 20.10 keeps the request otherwise, unused).
    const ip6 = ep.net.Subnet6 ? ep.ip6 : undefined;
    const ips = [ep.ip, ip6].filter((x): x is string => x !== undefined);
    if (ips.length) capabilityArgs.ips = ips;
    if (ep.mac) capabilityArgs.mac = ep.mac;
    const a: Attachment = {
      network: ep.net.Id, name: ep.net.Name, aliases: ep.aliases, names: ep.net.Dns ? [...new Set([...ep.names, ...ep.aliases])] : [],
      ...(ep.net.Dns && ep.links?.length ? { links: ep.links } : {}),
      conflist: this.networks.conflist(ep.net, { mac: ep.mac !== undefined, ports: publish, fixedIp: ep.ip !== undefined, fixedIp6: ip6 !== undefined }),
      rt: { containerId: sb.id, netns: sb.netns, ifname, capabilityArgs },
    };
    sb.attachments.push(a);
    this.save(sb); // before ADD: a crash during ADD still leaves the DEL to do
    return a;
  }

  /**
   * The network's DNS responder (dns-main.ts), started if it is not running, and waited for: the
   * container's first lookup must find it listening. It stops by itself when the network is empty.
   */
  private async ensureDns(net: NetworkRecord): Promise<void> {
    const pidFile = path.join(this.root.dir, 'networks', 'dns', `${net.Id}.json`);
    const up = () => {
      const ref = readJsonFile<ProcessRef>(pidFile);
      return ref !== undefined && isAlive(ref);
    };
    if (up()) return;
    const script = path.join(SRC, 'network/dns-main.ts');
    spawn(process.execPath, ['--disable-warning=ExperimentalWarning', script, this.root.dir, net.Id], { detached: true, stdio: 'ignore', env: {} }).unref();
    for (const end = Date.now() + 5000; !up() && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
  }

  // Name resolution on user networks, without a daemon: every container's /etc/hosts lists the
  // other containers on its networks. A joining container's line is appended to the others'
  // files (in place: the file is bind-mounted by inode) and removed when its sandbox is released.
  // Each line ends with "# berth <sandbox>" so it can be found again.

  private live(sb: SandboxRecord): boolean {
    return inUse(sb);
  }

  /** Lines naming the other live containers on this sandbox's networks. */
  peerLines(sb: SandboxRecord): string[] {
    const lines: string[] = [];
    const nets = new Set(sb.attachments.filter((a) => a.names?.length).map((a) => a.network));
    if (!nets.size) return lines;
    for (const other of this.list()) {
      if (other.id === sb.id || !this.live(other)) continue;
      for (const a of other.attachments) if (nets.has(a.network) && a.names?.length) {
        const ip = a.result?.ips?.[0]?.address.split('/')[0];
        if (ip) lines.push(hostsLine(ip, a.names, other.id));
      }
    }
    return lines;
  }

  private announce(sb: SandboxRecord, a: Attachment): void {
    const ip = a.result?.ips?.[0]?.address.split('/')[0];
    if (!ip || !a.names?.length) return;
    for (const other of this.list()) {
      if (other.id === sb.id || other.container === sb.container || !this.live(other)) continue;
      if (!other.attachments.some((x) => x.network === a.network && x.names?.length)) continue;
      try {
        fs.appendFileSync(this.hostsPath(other.container), hostsLine(ip, a.names, sb.id) + '\n');
      } catch {}
    }
  }

  private withdraw(sb: SandboxRecord, networkId?: string): void {
    const nets = new Set(sb.attachments.filter((a) => a.names?.length && (!networkId || a.network === networkId)).map((a) => a.network));
    if (!nets.size) return;
    const tag = `# berth ${sb.id.slice(0, 12)}`;
    for (const other of this.list()) {
      if (other.id === sb.id || !other.attachments.some((x) => nets.has(x.network))) continue;
      const file = this.hostsPath(other.container);
      try {
        const text = fs.readFileSync(file, 'utf8');
        const kept = text.split('\n').filter((l) => !l.endsWith(tag)).join('\n');
        if (kept !== text) fs.writeFileSync(file, kept); // in place: same inode
      } catch {}
    }
  }

  /** `network disconnect`: DEL of one attachment. */
  async detach(sb: SandboxRecord, networkId: string): Promise<void> {
    const a = sb.attachments.find((x) => x.network === networkId);
    if (!a) return;
    this.withdraw(sb, networkId);
    await cniDel(a.conflist, a.rt, a.result);
    sb.attachments = sb.attachments.filter((x) => x !== a);
    this.save(sb);
  }

  setMonitor(sb: SandboxRecord, monitor: ProcessRef): void {
    sb.monitor = monitor;
    this.save(sb);
  }

  /** The monitor's teardown step: this script, detached, releases the sandbox. */
  releaseArgv(id: string): string[] {
    return releaseArgv(this.root, id);
  }

  /**
   * Takes a sandbox (or `pool`, or a network's netLock) for this process (kernel/claim.ts): false
   * while another live process has it. Ended by unlock().
   */
  lock(id: string): boolean {
    return claim(this.dir, `${id}.lock`, selfHolder(), holderDead) !== undefined;
  }

  unlock(id: string): void {
    release(this.dir, `${id}.lock`, selfHolder());
  }

  /**
   * CNI DEL of every attachment (while the namespace still exists: the bridge plugin finds the
   * addresses whose NAT rules it removes there), then the namespace, the port claims, the record.
   * If another process is releasing it, waits for that instead.
   */
  async release(id: string, onlyIf?: (sb: SandboxRecord) => boolean): Promise<void> {
    if (!this.lock(id)) {
      for (const end = Date.now() + 60_000; fs.existsSync(this.file(id)) && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
      return;
    }
    const sb = this.get(id);
    // Decided again under the lock: a sandbox found unused a moment ago may have been taken since.
    if (sb && onlyIf && !onlyIf(sb)) {
      this.unlock(id);
      return;
    }
    let first: unknown;
    const networks = new Set(sb?.attachments.map((a) => a.network) ?? []); // DEL empties the list
    if (sb) {
      this.withdraw(sb);
      for (const a of [...sb.attachments].reverse()) {
        try {
          await cniDel(a.conflist, a.rt, a.result);
          sb.attachments = sb.attachments.filter((x) => x !== a);
        } catch (e) {
          // A plugin that is not installed made nothing in an ADD that never completed.
          if (!a.result && isCode(e, 'FailedPrecondition')) sb.attachments = sb.attachments.filter((x) => x !== a);
          else first ??= e;
        }
      }
      // A DEL that failed keeps the record: the next reconcile tries again rather than leaving
      // rules or addresses behind that nothing knows about. The namespace (and its interfaces)
      // goes now unless a retry needs it: only the bridge plugin's own masquerading (attachments
      // made before NAT was the network's) looks for the container's addresses there.
      if (first) {
        this.save(sb);
        if (!sb.attachments.some((a) => a.conflist.plugins.some((p) => p.ipMasq))) deleteNetns(this.netnsPath(id));
        this.unlock(id);
        throw first;
      }
    }
    const del = deleteNetns(this.netnsPath(id));
    if (del.status !== 0) first ??= new BerthError('Unavailable', `removing the network namespace: ${del.stderr.trim()}`);
    if (sb) for (const p of sb.ports) unclaimPort(this.root.dir, p, id);
    this.pool.unindex(id);
    fs.rmSync(this.file(id), { force: true });
    this.unlock(id);
    for (const net of networks) await this.releaseIdleHost(net);
    if (first) throw first;
  }

  /**
   * The last sandbox on a network is gone (a pooled one counts): its bridge and rules go too, as
   * nothing else would remove them. User networks with a DNS responder keep theirs (it listens
   * on the bridge) until `network rm`. Skipped if a start holds the network: it needs them.
   */
  private async releaseIdleHost(networkId: string): Promise<void> {
    const net = this.networks.find(networkId);
    if (!net || net.Dns || !this.lock(netLock(networkId))) return;
    try {
      if (!this.list().some((other) => other.attachments.some((a) => a.network === networkId))) await this.networks.releaseHost(net);
    } finally {
      this.unlock(netLock(networkId));
    }
  }

  /** lock(), waiting while another live process holds it (briefly: a network's bridge made or released). */
  private async lockWait(id: string): Promise<void> {
    for (const end = Date.now() + 30_000; !this.lock(id);) {
      if (Date.now() > end) throw new BerthError('Unavailable', `${id} is held by another process for more than 30 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Sandboxes whose container can no longer be using them: no live monitor, no live creator. */
  stale(): SandboxRecord[] {
    return this.list().filter((sb) => !inUse(sb) && !lockHeld(this.root, sb.id));
  }

  sweep(): void {
    sweepSandboxes(this.root);
  }

  /**
   * A sandbox of this root whose container has exited but whose release has not run yet (it
   * runs asynchronously after the exit): released now, so that its ports are free for the next
   * start, as docker frees a stopped container's ports at once (docker-compose 1.29 stops the
   * old container, then starts its new one). True if it was such a sandbox.
   */
  private async releaseExited(id: string): Promise<boolean> {
    const sb = this.get(id);
    if (!sb || inUse(sb)) return false;
    await this.release(id, (now) => !inUse(now)).catch(() => undefined);
    return true;
  }

  /** What inspect shows of each attachment, by network name. */
  views(sb: SandboxRecord): Record<string, EndpointView> {
    return Object.fromEntries(sb.attachments.map((a) => [a.name, endpointView(a)]));
  }

}
