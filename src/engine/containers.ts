// Container lifecycle in-process (no daemon): create, run in the foreground, list, remove, and
// reconcile what dead runs left behind. Every kernel object of a container is named by its id
// (cgroups under the root's scope, its directory), so recovery needs nothing but the id.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initialState, isUp, transition, type ContainerRecord, type ContainerState, type EndpointSpec, type HostConfig, type MountSpec } from '../core/container.ts';
import { BerthError, conflict, invalid, notFound } from '../core/errors.ts';
import type { ImageRecord, Mount, RunConfig } from '../core/types.ts';
import type { ImageStore } from '../image/store.ts';
import { resolveGroup, resolveUser } from '../image/passwd.ts';
import { capMask } from '../kernel/capabilities.ts';
import { cgroupMounts, killAndRemove, type CgroupDriver, type Limits } from '../kernel/cgroups.ts';
import { isAlive, parentPid, refOf, selfRef, type ProcessRef } from '../kernel/process.ts';
import { deviceProgramHex, deviceRules, hostDevices, type DeviceNode } from '../kernel/devices.ts';
import { FORWARDED_SIGNALS, parseSignal } from '../kernel/signals.ts';
import { parseBytes } from '../core/units.ts';
import { buildExecPlan, buildHoldPlan, buildHostPlan, buildPlan, buildRuntimePlan, encodeRecords, runtimeSpec, type PlanInput, type ProcessSpec } from '../runtime/plan.ts';
import { readXattrs, runShim, shimSpecialFs, type ShimExit, type ShimHandle, type ShimStdio } from '../runtime/shim.ts';
import type { PathStat } from './copy.ts';
import type { Readable, Writable } from 'node:stream';
import type { Change } from '../snapshot/diff.ts';
import { readImageFile } from '../snapshot/layers.ts';
import { readJsonFile, readTextFile, writeFileAtomic } from '../util/atomic.ts';
import { randomHex } from '../util/random.ts';
import { deframer } from '../util/frames.ts';
import { mark } from '../util/trace.ts';
import { checkSysctls, confinement, idMapFor, REMAPPED_SYSCTLS, rlimits, seccompProfile, seccompProgram } from './security.ts';
import { checkNamespaceModes, sharedNamespaces, volumesFrom } from './namespaces.ts';
import { initMounts, withInit } from './init.ts';
import { linkHosts, normalizeLinks, withLinks, type LinkTarget } from './links.ts';
import { limitsOf } from './update.ts';
import { Volumes } from './volumes.ts';
import { Events } from './events.ts';
import { NAME_PATTERN, randomName } from './names.ts';
import type { StateRoot } from './root.ts';
import { hostHosts, hostResolv, hostsFile, parseNetworkMode, resolvFile } from './networking.ts';
import type { EndpointView, Sandboxes, SandboxRecord } from '../network/sandbox.ts';
import type { PortMapping } from '../network/ports.ts';
import { inUse, sweepSandboxes } from '../network/sweep.ts';
import * as os from 'node:os';
import { DEFAULT_PATH, REPO } from '../util/paths.ts';


export interface CreateOptions {
  image: string;
  cmd: string[];
  entrypoint?: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  name?: string;
  stopSignal?: string;
  tty?: boolean;
  /** Keep stdin open for an attached client (docker's OpenStdin; StdinOnce closes it after the first). */
  openStdin?: boolean;
  stdinOnce?: boolean;
  labels?: Record<string, string>;
  healthcheck?: RunConfig['Healthcheck'];
  host?: Partial<HostConfig>;
  /** Created by `run`, which starts it at once: an --rm container whose run died first is abandoned. */
  run?: boolean;
  /** Per network (bridge / user network modes): aliases, a fixed address, a fixed MAC. */
  endpoint?: Partial<EndpointSpec>;
  /** Ports ("80/tcp") added to the image's ExposedPorts (--expose, and every -p). */
  expose?: string[];
  /** false (the API): a "KEY" without a value stays as given instead of being looked up here. */
  resolveEnv?: boolean;
  /** Seconds a stop waits before SIGKILL (docker's Config.StopTimeout). */
  stopTimeout?: number;
}

/** What a running container's network looks like (network.json; inspect and `port` read it). */
export interface NetworkView {
  SandboxID: string;
  SandboxKey: string;
  Ports: PortMapping[];
  Networks: Record<string, EndpointView>;
}

export interface Container {
  record: ContainerRecord;
  state: ContainerState;
}

export interface ExecOptions {
  args: string[];
  env?: string[];
  user?: string;
  cwd?: string;
  tty?: { rows: number; cols: number };
}

/** A container's (or an exec's) stdio carried by the caller, and how it ends. */
export interface ContainerStreams {
  stdin: Writable | null;
  stdout: Readable;
  stderr: Readable;
  /** The exit; for a container, its state is saved by then. */
  exited: Promise<ShimExit>;
  /** The monitor is gone: teardown done (an --rm container is removed). */
  gone: Promise<void>;
  monitorPid: number;
}

export class Containers {
  private readonly root: StateRoot;
  private readonly images: ImageStore;
  private readonly cgroups: () => CgroupDriver;
  private readonly dir: string;
  private readonly namesDir: string;
  readonly volumes: Volumes;
  private _sandboxes?: Promise<Sandboxes>;
  readonly events: Events;
  constructor(root: StateRoot, images: ImageStore, cgroups: () => CgroupDriver, events = new Events(root.dir)) {
    this.root = root;
    this.events = events;
    this.images = images;
    this.cgroups = cgroups;
    this.dir = path.join(root.dir, 'containers');
    this.namesDir = path.join(root.dir, 'names');
    this.volumes = new Volumes(root.dir);
  }

  private cdir(id: string): string {
    return path.join(this.dir, id);
  }

  /** Networks and sandboxes of this root (loaded on first use: `--network none` never needs the CNI code). */
  sandboxes(): Promise<Sandboxes> {
    return (this._sandboxes ??= (async () => {
      const [{ Sandboxes }, { Networks }] = await Promise.all([import('../network/sandbox.ts'), import('../network/store.ts')]);
      return new Sandboxes(this.root, new Networks(this.root), (id) => path.join(this.cdir(id), 'hosts'));
    })());
  }

  /** What other containers on a user network call this one. */
  peerNames(record: ContainerRecord): string[] {
    return [record.Name, record.Id.slice(0, 12), ...(record.Config.Hostname !== record.Id.slice(0, 12) ? [record.Config.Hostname] : [])];
  }

  /** network connect/disconnect: the networks joined at the next start. */
  setEndpoints(record: ContainerRecord, endpoints: Record<string, EndpointSpec>): void {
    record.Endpoints = endpoints;
    this.saveRecord(record);
  }

  /** Writes a changed record (network connect, docker update). */
  saveRecord(record: ContainerRecord): void {
    writeFileAtomic(path.join(this.cdir(record.Id), 'config.json'), JSON.stringify(record), { durable: !record.HostConfig.AutoRemove });
  }

  /** Validates --network and what goes with it; the endpoint for the bridge / user network modes. */
  private async checkNetwork(host: HostConfig, opts: CreateOptions): Promise<Record<string, EndpointSpec> | undefined> {
    const mode = parseNetworkMode(host.NetworkMode);
    const ep = opts.endpoint ?? {};
    const published = Object.keys(host.PortBindings ?? {}).length > 0 || host.PublishAllPorts === true;
    if (mode.kind === 'container') {
      if (opts.hostname !== undefined) throw invalid('conflicting options: hostname and the network mode');
      if (published) throw invalid('conflicting options: port publishing and the container type network mode');
      if (host.Dns?.length || host.DnsSearch?.length || host.ExtraHosts?.length) throw invalid('conflicting options: dns and the network mode');
      host.NetworkMode = `container:${this.get(mode.ref).record.Id}`;
    }
    if (mode.kind !== 'network') {
      if (ep.Aliases?.length || ep.IPv4Address || ep.MacAddress) throw invalid(`--network-alias, --ip and --mac-address need a network, not "${host.NetworkMode}"`);
      if (mode.kind !== 'container') host.NetworkMode = mode.kind;
      // docker discards published ports without a network of the container's own.
      host.PortBindings = {};
      host.PublishAllPorts = false;
      return undefined;
    }
    const net = mode.name === 'bridge' ? undefined : (await this.sandboxes()).networks.find(mode.name);
    if (mode.name !== 'bridge' && !net) throw notFound(`network ${mode.name} not found`);
    const name = net?.Name ?? 'bridge';
    host.NetworkMode = name;
    if (ep.IPv4Address) {
      (await import('../network/cidr.ts')).parseIp(ep.IPv4Address);
      if (name === 'bridge') throw invalid('user specified IP address is supported on user defined networks only');
    }
    if (ep.Aliases?.length && name === 'bridge') throw invalid('network-scoped alias is supported only for containers in user defined networks');
    if (ep.MacAddress && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(ep.MacAddress)) throw invalid(`invalid MAC address: ${ep.MacAddress}`);
    return { [name]: { Aliases: ep.Aliases ?? [], ...(ep.IPv4Address ? { IPv4Address: ep.IPv4Address } : {}), ...(ep.MacAddress ? { MacAddress: ep.MacAddress.toLowerCase() } : {}) } };
  }

  /**
   * The network side of a start: nothing for none (a fresh namespace, loopback only), the host's
   * namespace, another container's namespace and /etc files, or a new sandbox attached to the
   * container's networks with its ports published (undone here if anything fails).
   */
  private async setupNetwork(record: ContainerRecord, dir: string): Promise<NetSetup> {
    // Records from before networking have no mode: they had loopback only.
    const mode = parseNetworkMode(record.HostConfig.NetworkMode ?? 'none');
    fs.rmSync(path.join(dir, 'network.json'), { force: true });
    if (mode.kind === 'none') return { network: { mode: 'new' } };
    if (mode.kind === 'host') return { network: { mode: 'host' } };
    if (mode.kind === 'container') {
      const other = this.get(mode.ref);
      const pid = this.initPid(other);
      const odir = this.cdir(other.record.Id);
      const view = readJsonFile<NetworkView>(path.join(odir, 'network.json'));
      return {
        network: { mode: 'join', path: view?.SandboxKey || `/proc/${pid}/ns/net` },
        etc: { hostname: path.join(odir, 'hostname'), hosts: path.join(odir, 'hosts'), resolv: path.join(odir, 'resolv.conf') },
        hostname: other.record.Config.Hostname,
      };
    }
    const sandboxes = await this.sandboxes();
    const endpoints = [];
    for (const [name, spec] of Object.entries(record.Endpoints ?? { [mode.name]: { Aliases: [] } })) {
      endpoints.push({ net: await sandboxes.networks.get(name), aliases: spec.Aliases, names: this.peerNames(record), ip: spec.IPv4Address, mac: spec.MacAddress });
    }
    let bindings = record.HostConfig.PortBindings ?? {};
    if (record.HostConfig.PublishAllPorts) bindings = (await import('../network/ports.ts')).publishAll(bindings, Object.keys(record.Config.ExposedPorts ?? {}));
    const sb = await sandboxes.create(record.Id, endpoints, bindings);
    try {
      this.writeNetworkView(record, sb, sandboxes);
    } catch (err) {
      await sandboxes.release(sb.id).catch(() => undefined);
      throw err;
    }
    return { network: { mode: 'join', path: sb.netns }, sandbox: sb, sandboxes, release: sandboxes.releaseArgv(sb.id) };
  }

  /** network.json (inspect, port) and /etc/hosts with the container's own address. */
  writeNetworkView(record: ContainerRecord, sb: SandboxRecord, sandboxes: Sandboxes): void {
    const dir = this.cdir(record.Id);
    const views = sandboxes.views(sb);
    const first = Object.values(views)[0];
    const self = first?.IPAddress ? { ip: first.IPAddress, names: [record.Config.Hostname] } : undefined;
    // In place: a running container has this very file (inode) bind-mounted.
    // Links whose container is gone or stopped since (a later network connect) are left out.
    const links = linkHosts(record.HostConfig.Links ?? [], (name) => {
      try {
        return this.linkTarget(name);
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
  networkView(c: Container): NetworkView | undefined {
    if (c.state.Status !== 'running' && c.state.Status !== 'paused') return undefined;
    return readJsonFile<NetworkView>(path.join(this.cdir(c.record.Id), 'network.json'));
  }

  /** The name of a container a link names; a missing one is a bad request, not a 404 (which the docker CLI takes for a missing image). */
  private linkName(ref: string): string {
    try {
      return this.get(ref).record.Name;
    } catch (err) {
      if (err instanceof BerthError && err.code === 'NotFound') throw invalid(`could not get container for ${ref}`);
      throw err;
    }
  }

  /** A running container a legacy link points at: its address on the default bridge, env and ports. */
  private linkTarget(name: string): LinkTarget {
    const c = this.get(name);
    if (!isUp(c.state.Status)) throw conflict(`Cannot link to a non running container: /${c.record.Name}`);
    const view = this.networkView(c);
    const ip = (view?.Networks.bridge ?? Object.values(view?.Networks ?? {})[0])?.IPAddress ?? '';
    return { name: c.record.Name, ip, env: c.record.Config.Env, exposed: Object.keys(c.record.Config.ExposedPorts ?? {}) };
  }

  /** docker port: the published ports of a running container. */
  ports(nameOrId: string): PortMapping[] {
    return this.networkView(this.get(nameOrId))?.Ports ?? [];
  }

  /** Sandboxes of a container that nothing uses any more are released (and a release in progress waited for). */
  private async releaseSandboxes(record: ContainerRecord): Promise<void> {
    if (parseNetworkMode(record.HostConfig.NetworkMode ?? 'none').kind !== 'network') return;
    const sandboxes = await this.sandboxes();
    for (const sb of sandboxes.list()) {
      if (sb.container !== record.Id || inUse(sb)) continue;
      await sandboxes.release(sb.id, (now) => !inUse(now)).catch(() => undefined);
    }
  }

  /** docker's container event: the actor's attributes are its labels, image and name. */
  event(action: string, record: ContainerRecord, extra: Record<string, string> = {}): void {
    this.events.emit('container', action, record.Id, { ...record.Config.Labels, image: record.ImageName, name: record.Name, ...extra });
  }

  async create(opts: CreateOptions): Promise<ContainerRecord> {
    const image = this.images.resolve(opts.image);
    const host: HostConfig = {
      AutoRemove: false, Memory: 0, MemorySwap: 0, NanoCpus: 0, CpuShares: 0, PidsLimit: 0,
      CapAdd: null, CapDrop: null, Privileged: false, ReadonlyRootfs: false, SecurityOpt: null, Mounts: [],
      ...opts.host,
    };
    if (host.VolumesFrom?.length) host.Mounts = volumesFrom(host.VolumesFrom, host.Mounts, (ref) => this.get(ref).record.HostConfig.Mounts);
    const targets = new Set<string>();
    for (const m of host.Mounts) {
      if (targets.has(m.Target)) throw invalid(`Duplicate mount point: ${m.Target}`);
      targets.add(m.Target);
    }
    const conf = confinement(host); // bad capabilities or security options fail here, before anything exists
    checkSysctls(host.Sysctls ?? {});
    checkNamespaceModes(host, (ref) => this.get(ref).record.Id);
    host.IdMap = idMapFor(host);
    if (host.Runtime === '' || host.Runtime === 'berth') delete host.Runtime;
    if (host.Runtime) {
      runtimeCommand(host.Runtime); // an unknown runtime fails now
      if (host.IdMap) throw invalid(`--userns remap is not supported with --runtime ${host.Runtime}`);
    }
    // A device that is not there, or not a device, fails now; the nodes are read again at start.
    if (host.Devices?.length || host.DeviceCgroupRules?.length) deviceRules(hostDevices(host.Devices ?? []), host.DeviceCgroupRules ?? []);
    if (host.OomScoreAdj !== undefined && (host.OomScoreAdj < -1000 || host.OomScoreAdj > 1000)) throw invalid(`Invalid value ${host.OomScoreAdj}, range for oom score adj is [-1000, 1000]`);
    if (typeof conf.seccomp === 'object') {
      await seccompProgram(conf, this.cacheDir); // compiles: a bad profile fails now
      // The profile as it is now is the container's (docker keeps the JSON, not the path).
      const profile = conf.seccomp.profile;
      host.SecurityOpt = (host.SecurityOpt ?? []).map((o) => (/^seccomp[=:]/.test(o) ? `seccomp=${profile}` : o));
    }
    const ic = image.config.config ?? {};
    const entrypoint = opts.entrypoint ?? ic.Entrypoint ?? null;
    const cmd = opts.cmd.length ? opts.cmd : opts.entrypoint ? [] : (ic.Cmd ?? []);
    if ((entrypoint ?? []).length + cmd.length === 0) throw invalid('No command specified');
    if (opts.stopSignal !== undefined) parseSignal(opts.stopSignal);
    const id = randomHex(32);
    const endpoints = await this.checkNetwork(host, opts);
    const mode = parseNetworkMode(host.NetworkMode);
    const hostname = opts.hostname ?? (mode.kind === 'host' || host.UTSMode === 'host' ? os.hostname() : id.slice(0, 12));
    if (opts.hostname !== undefined && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(opts.hostname)) throw invalid(`invalid hostname: "${opts.hostname}"`);
    const record: ContainerRecord = {
      Id: id,
      Name: '',
      Created: new Date().toISOString(),
      Image: image.id,
      ImageName: opts.image,
      Config: {
        Hostname: hostname,
        User: opts.user ?? ic.User ?? '',
        Env: mergeEnv(ic.Env ?? [], opts.env ?? [], opts.resolveEnv === false ? null : process.env),
        Cmd: cmd,
        Entrypoint: entrypoint,
        WorkingDir: opts.workdir ?? ic.WorkingDir ?? '',
        Labels: { ...(ic.Labels ?? {}), ...opts.labels },
        ...(ic.ExposedPorts || opts.expose?.length ? { ExposedPorts: { ...ic.ExposedPorts, ...Object.fromEntries((opts.expose ?? []).map((k) => [k, {}])) } } : {}),
        StopSignal: opts.stopSignal ?? ic.StopSignal,
        ...(opts.stopTimeout !== undefined ? { StopTimeout: opts.stopTimeout } : {}),
        // Flags refine the image's check: timings alone keep its test.
        Healthcheck: opts.healthcheck ? { ...ic.Healthcheck, ...opts.healthcheck } : ic.Healthcheck,
        Tty: opts.tty === true,
        ...(opts.openStdin ? { OpenStdin: true, StdinOnce: opts.stdinOnce === true } : {}),
      },
      HostConfig: host,
      Layers: image.layers,
      ...(opts.run ? { Owner: selfRef() } : {}),
      ...(endpoints ? { Endpoints: endpoints } : {}),
    };
    // Everything the container needs is prepared in a temporary directory, which appears under
    // its id only when complete; a killed creator leaves only a sweepable temp dir.
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const me = record.Owner ?? selfRef();
    const tmp = path.join(this.dir, `.new-${me.pid}.${me.start}.${id.slice(0, 12)}`);
    fs.mkdirSync(tmp);
    try {
      for (const d of ['upper', 'work', 'rootfs']) fs.mkdirSync(path.join(tmp, d), { mode: 0o755 });
      fs.writeFileSync(path.join(tmp, 'hostname'), hostname + '\n');
      fs.writeFileSync(path.join(tmp, 'hosts'), hostsFile({ base: mode.kind === 'host' ? hostHosts() : undefined, extra: host.ExtraHosts }));
      fs.writeFileSync(path.join(tmp, 'resolv.conf'), resolvFile(hostResolv(), { keepLoopback: mode.kind === 'host', dns: host.Dns, search: host.DnsSearch, options: host.DnsOptions }));
      fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify(record));
      record.Name = this.reserveName(opts.name, id);
      if (host.Links?.length) host.Links = normalizeLinks(host.Links, record.Name, (ref) => this.linkName(ref));
      host.Mounts = this.prepareMounts(host.Mounts);
      // The final record, on disk (unless --rm) before the directory takes the container's id.
      const fd = fs.openSync(path.join(tmp, 'config.json'), 'w');
      try {
        fs.writeSync(fd, JSON.stringify(record));
        if (!host.AutoRemove) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, this.cdir(id));
      this.event('create', record);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (record.Name) fs.rmSync(path.join(this.namesDir, record.Name), { force: true });
      for (const m of host.Mounts) if (m.Anonymous && m.Source) this.volumes.remove(m.Source, () => undefined);
      throw err;
    }
    return record;
  }

  /** Names are claimed with an exclusive create: of two concurrent creates, one wins. */
  private reserveName(wanted: string | undefined, id: string): string {
    fs.mkdirSync(this.namesDir, { recursive: true });
    if (wanted !== undefined) {
      const name = wanted.replace(/^\//, '');
      if (!NAME_PATTERN.test(name)) throw invalid(`Invalid container name (${wanted}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      this.claim(name, id, true);
      return name;
    }
    for (let i = 0; ; i++) {
      const name = i < 10 ? randomName() : `${randomName()}${i}`;
      if (this.claim(name, id, false)) return name;
    }
  }

  private claim(name: string, id: string, mustWin: boolean): boolean {
    const p = path.join(this.namesDir, name);
    // The name file appears whole or not at all: written aside, then hard-linked into place
    // (link fails if the name exists). A plain O_EXCL create would let a loser read it empty.
    const tmp = path.join(this.namesDir, `.tmp-${process.pid}-${id.slice(0, 12)}`);
    fs.writeFileSync(tmp, id);
    try {
      fs.linkSync(tmp, p);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    const holder = fs.readFileSync(p, 'utf8');
    // A name whose container no longer exists (a crash between claim and removal) is free again.
    if (holder && !fs.existsSync(this.cdir(holder)) && !this.pendingCreate(holder)) {
      fs.rmSync(p, { force: true });
      return this.claim(name, id, mustWin);
    }
    if (mustWin) throw conflict(`Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
    return false;
  }

  private pendingCreate(id: string): boolean {
    try {
      return fs.readdirSync(this.dir).some((n) => n.startsWith('.new-') && n.endsWith(id.slice(0, 12)));
    } catch {
      return false;
    }
  }

  get(nameOrId: string): Container {
    const id = this.resolveId(nameOrId);
    return this.observe(id) ?? (() => { throw notFound(`No such container: ${nameOrId}`); })();
  }

  private resolveId(nameOrId: string): string {
    const byName = path.join(this.namesDir, nameOrId.replace(/^\//, ''));
    if (NAME_PATTERN.test(nameOrId.replace(/^\//, ''))) {
      try {
        return fs.readFileSync(byName, 'utf8');
      } catch {}
    }
    if (/^[a-f0-9]{1,64}$/.test(nameOrId)) {
      const ids = this.ids().filter((id) => id.startsWith(nameOrId));
      if (ids.length === 1) return ids[0];
      if (ids.length > 1) throw invalid(`multiple containers match "${nameOrId}": use a longer prefix`);
    }
    throw notFound(`No such container: ${nameOrId}`);
  }

  private ids(): string[] {
    try {
      return fs.readdirSync(this.dir).filter((n) => /^[a-f0-9]{64}$/.test(n));
    } catch {
      return [];
    }
  }

  /** Reads a container and settles what its monitor's death implies. */
  private observe(id: string): Container | undefined {
    const dir = this.cdir(id);
    let record: ContainerRecord | undefined;
    try {
      record = readJsonFile<ContainerRecord>(path.join(dir, 'config.json'));
    } catch {}
    if (!record) return undefined;
    const state = readJsonFile<ContainerState>(path.join(dir, 'state.json')) ?? initialState();
    if ((state.Status === 'running' || state.Status === 'paused') && !isAlive(state.Monitor)) {
      // The monitor is gone: its exit file holds the real status; without one it died first (docker: 255).
      const exit = readJsonFile<ShimExit>(path.join(dir, 'exit.json'));
      state.Status = 'exited';
      state.ExitCode = exit ? exit.exit : 255;
      state.OOMKilled = exit?.oom ?? false;
      state.Pid = 0;
      if (state.FinishedAt === '0001-01-01T00:00:00Z') state.FinishedAt = new Date().toISOString();
      this.removeCgroups(record);
      this.event('die', record, { exitCode: String(state.ExitCode) });
      if (record.HostConfig.AutoRemove) {
        this.destroy(record);
        return undefined;
      }
      this.saveState(record, state);
    } else if (state.Status === 'created' && record.HostConfig.AutoRemove && record.Owner && !isAlive(record.Owner)) {
      // A `run --rm` whose CLI died before the container started (`create --rm` waits for a start).
      this.removeCgroups(record);
      this.destroy(record);
      return undefined;
    } else if (state.Status === 'removing' && !isAlive(state.Monitor)) {
      this.removeCgroups(record);
      this.destroy(record);
      return undefined;
    } else if (state.Status === 'running' && (record.HostConfig.RestartPolicy?.Name ?? 'no') !== 'no' && !this.liveInit(id, state)) {
      // Its monitor is alive but its init is not: between two runs of a restart policy, the
      // monitor waits out its back-off. Derived, never stored: the monitor restarts on its own.
      state.Status = 'restarting';
      state.Pid = 0;
      const exit = readJsonFile<ShimExit>(path.join(dir, 'exit.json'));
      if (exit) {
        state.ExitCode = exit.exit;
        state.OOMKilled = exit.oom;
        try {
          state.FinishedAt = fs.statSync(path.join(dir, 'exit.json')).mtime.toISOString();
        } catch {}
      }
    }
    return { record, state };
  }

  private saveState(record: ContainerRecord, state: ContainerState): void {
    writeFileAtomic(path.join(this.cdir(record.Id), 'state.json'), JSON.stringify(state), { durable: !record.HostConfig.AutoRemove });
  }

  private destroy(record: ContainerRecord): void {
    // Out of sight first (readers skip dot names), then removed: a concurrent listing never sees
    // a container directory that is half gone. A `.rm-` left by a crash is swept.
    const gone = path.join(this.dir, `.rm-${record.Id}.${process.pid}`);
    try {
      fs.renameSync(this.cdir(record.Id), gone);
    } catch {}
    fs.rmSync(gone, { recursive: true, force: true });
    fs.rmSync(this.cdir(record.Id), { recursive: true, force: true });
    this.event('destroy', record);
    const namePath = path.join(this.namesDir, record.Name);
    try {
      if (fs.readFileSync(namePath, 'utf8') === record.Id) fs.rmSync(namePath, { force: true });
    } catch {}
  }

  /**
   * What `run` and `create` do instead of a full reconcile: sweep half-created containers of
   * dead creators, which is one directory listing. Reading every container would make starting
   * one cost O(containers); the full reconcile is left to commands that list or name them.
   */
  sweepCreates(): void {
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.dir);
    } catch {}
    for (const n of names) this.sweepPartial(n);
  }

  /**
   * A container directory half made (`.new-`, its creator dead) or half removed (`.rm-`, its
   * remover cut short, or still at work: two removers of one tree are harmless) is removed.
   * True when the name is one of those.
   */
  private sweepPartial(n: string): boolean {
    const m = /^\.new-(\d+)\.(\d+)\./.exec(n);
    if (!m && !n.startsWith('.rm-')) return false;
    if (!m || !isAlive({ pid: Number(m[1]), start: Number(m[2]) })) {
      try {
        fs.rmSync(path.join(this.dir, n), { recursive: true, force: true });
      } catch {}
    }
    return true;
  }

  /**
   * The other half of what `run` and `create` sweep: containers whose monitor died with the CLI
   * (kill -9 of both). Each such container still has its cgroup, now empty (the init dies with
   * its monitor, and everything else with the init), so one listing of the root's cgroups finds
   * them; only empty ones are read further. The cost grows with running containers (one read of
   * cgroup.procs each), not with all containers. An empty cgroup may also belong to a start in
   * progress or a restart back-off: observe() leaves those alone (state `created` or a live
   * monitor). Cgroups are listed before their directories are looked at, as in reconcile().
   */
  sweepOrphans(): void {
    const cg = this.cgroups();
    for (const id of cg.list()) {
      if (cg.pids(id).length) continue;
      if (!this.observe(id)) cg.remove(id); // settled and removed, or a cgroup without a container
    }
  }

  /** Reconciles every container and sweeps what killed creators left. */
  reconcile(): Container[] {
    // Cgroups are listed before the containers: a container's directory is in place before its
    // cgroups are created, so every cgroup listed here has its container in the listing below
    // (unless it really is an orphan). The other order would race with a concurrent start.
    const cg = this.cgroups();
    const cgroupIds = cg.list();
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.dir);
    } catch {}
    const out: Container[] = [];
    for (const n of names) {
      if (this.sweepPartial(n) || !/^[a-f0-9]{64}$/.test(n)) continue;
      const c = this.observe(n);
      if (c) out.push(c);
    }
    // Cgroups of containers that no longer exist (a crash between cgroup creation and cleanup).
    const known = new Set(out.map((c) => c.record.Id));
    for (const id of cgroupIds) if (!known.has(id)) cg.remove(id);
    // Network sandboxes whose monitor died (or whose creator died before there was one).
    sweepSandboxes(this.root);
    return out;
  }

  /**
   * Frees names whose container is gone (a crash between claiming a name and publishing the
   * container, or in the middle of a removal). The names are listed before the containers: a
   * name claimed after that listing is not considered, and one claimed before it has its
   * container directory (temporary or final) already in place. `live` (containers just
   * reconciled) spares reading the names their records hold: a name is claimed before a record
   * takes it, and never reclaimed while its container exists, so such a file points at them.
   */
  sweepNames(live: Container[] = []): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.namesDir);
    } catch {
      return;
    }
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(this.dir);
    } catch {}
    const present = new Set(entries.map((n) => (n.startsWith('.new-') ? n.slice(-12) : n.slice(0, 12))));
    const held = new Map(live.map((c) => [c.record.Name, c.record.Id.slice(0, 12)]));
    for (const n of names) {
      if (present.has(held.get(n) ?? '')) continue;
      let id = '';
      try {
        id = fs.readFileSync(path.join(this.namesDir, n), 'utf8');
      } catch {}
      if (!present.has(id.slice(0, 12))) fs.rmSync(path.join(this.namesDir, n), { force: true });
    }
  }

  list(all: boolean): Container[] {
    const cs = this.reconcile().sort((a, b) => b.record.Created.localeCompare(a.record.Created));
    return all ? cs : cs.filter((c) => isUp(c.state.Status));
  }

  /** For rmi: which container (in any state) uses an image, and whether it runs. */
  imageUsers(): (imageId: string) => { id: string; running: boolean } | undefined {
    const all = this.reconcile();
    return (imageId) => {
      // A running user decides (its image can never go), whatever order the directory lists them in.
      const users = all.filter((x) => x.record.Image === imageId);
      const c = users.find((x) => isUp(x.state.Status)) ?? users[0];
      return c && { id: c.record.Id, running: isUp(c.state.Status) };
    };
  }

  async remove(nameOrId: string, force: boolean, volumes = false): Promise<string> {
    const c = this.get(nameOrId);
    if (isUp(c.state.Status) && !force)
      throw conflict(`You cannot remove a ${c.state.Status === 'restarting' ? 'restarting' : 'running'} container ${c.record.Id}. Stop the container before attempting removal or force remove`);
    const wasPaused = c.state.Status === 'paused';
    try {
      fs.writeFileSync(path.join(this.cdir(c.record.Id), 'stopped'), ''); // no restart while we remove it
    } catch {}
    if (c.state.Status === 'restarting') this.wakeMonitor(c);
    if (c.state.Status !== 'removing') {
      c.state.Status = transition(c.state.Status, 'removing', c.record.Id);
      this.saveState(c.record, c.state);
    }
    // Frozen processes die only once thawed (cgroup v1).
    if (wasPaused) await this.cgroups().freeze(c.record.Id, false).catch(() => undefined);
    this.removeCgroups(c.record); // kills whatever still runs in it
    // Its monitor still writes the exit status and tears down: let it finish before the
    // directory goes, or the two would race over it.
    for (const end = Date.now() + 10_000; isAlive(c.state.Monitor) && Date.now() < end;) await new Promise((r) => setTimeout(r, 5));
    this.destroy(c.record);
    await this.releaseSandboxes(c.record);
    // rm -v (and --rm): anonymous volumes go with their container; named ones stay.
    if (volumes || c.record.HostConfig.AutoRemove) {
      for (const m of c.record.HostConfig.Mounts ?? []) if (m.Type === 'volume' && m.Anonymous) this.volumes.remove(m.Source, () => undefined);
    }
    return c.record.Id;
  }

  /**
   * docker container prune: every container that is not up and matches the label filters
   * (`label=k`, `label=k=v`) is removed; those that cannot be (removed meanwhile) are skipped.
   */
  async prune(labels: string[] = [], accept: (c: Container) => boolean = () => true): Promise<string[]> {
    const { matches } = await import('./filters.ts');
    const f = new Map(labels.length ? [['label', labels]] : []);
    const deleted: string[] = [];
    for (const c of this.list(true)) {
      if (isUp(c.state.Status) || !matches(c, f, () => undefined, []) || !accept(c)) continue;
      try {
        await this.remove(c.record.Id, false);
        deleted.push(c.record.Id);
      } catch {}
    }
    return deleted;
  }

  /**
   * Starts a created or exited container. Attached, its stdio is this process's and the promise
   * resolves with its exit (docker's status: the command's, 128+n for a signal). Detached, it
   * resolves once the command runs; the container's monitor keeps it, and its output goes to
   * the json-file log.
   */
  async start(record: ContainerRecord, opts: { attach?: { stdin: boolean }; size?: { rows: number; cols: number } } = {}): Promise<ShimExit | undefined> {
    const attach = opts.attach;
    const launched = await this.launch(record, attach ? { stdin: attach.stdin ? 'inherit' : 'ignore', output: 'inherit' } : { stdin: 'ignore', output: 'ignore' }, opts.size);
    if (!launched) return undefined;
    const { shim, state } = launched;
    const exit = await this.drive(shim, attach !== undefined, async () => {
      try {
        await shim.started;
        if (!attach) return undefined;
        const exit = await shim.exited;
        mark('container exited');
        return this.settleExit(record, state, exit);
      } catch (err) {
        this.settleFailure(record, state, err);
        throw err;
      }
    });
    // An attached --rm container is gone once drive() returns: its monitor removed it.
    if (exit && !exit.detached && record.HostConfig.AutoRemove) this.event('destroy', record);
    return exit;
  }

  /**
   * Starts a container with its stdio as streams for the caller to carry (the API daemon):
   * output goes to the json-file log and to the streams. Resolves once the command runs.
   * `exited` settles the container's state; the monitor then tears down (removing an --rm
   * container) and `gone` resolves. If the caller dies, the monitor carries on alone.
   */
  async startStreams(record: ContainerRecord, opts: { stdin: boolean; size?: { rows: number; cols: number } }): Promise<ContainerStreams | undefined> {
    const launched = await this.launch(record, { stdin: opts.stdin ? 'pipe' : 'ignore', output: 'pipe' }, opts.size, true);
    if (!launched) return undefined;
    const { shim, state } = launched;
    try {
      await shim.started;
    } catch (err) {
      this.settleFailure(record, state, err);
      throw err;
    }
    return this.streamsOf(shim, (exit) => this.settleExit(record, state, exit));
  }

  private streamsOf(shim: ShimHandle, settle: (exit: ShimExit) => ShimExit): ContainerStreams {
    const exited = shim.exited.then(settle).finally(() => shim.close());
    exited.catch(() => {});
    return { stdin: shim.stdio.stdin, stdout: shim.stdio.stdout!, stderr: shim.stdio.stderr!, exited, gone: shim.gone.then(() => undefined), monitorPid: shim.shimPid };
  }

  /** The exit of an attached container becomes its state (a restart policy's monitor carries on). */
  private settleExit(record: ContainerRecord, state: ContainerState, exit: ShimExit): ShimExit {
    if (exit.detached) return exit;
    this.event('die', record, { exitCode: String(exit.exit) });
    if (exit.oom) this.event('oom', record);
    if ((record.HostConfig.RestartPolicy?.Name ?? 'no') !== 'no') return { ...exit, detached: true };
    if (!record.HostConfig.AutoRemove) {
      state.Status = transition(state.Status, 'exited', record.Id);
      state.ExitCode = exit.exit;
      state.OOMKilled = exit.oom;
      state.Pid = 0;
      state.FinishedAt = new Date().toISOString();
      this.saveState(record, state);
    }
    return exit;
  }

  /** A container whose command could not be started is kept as exited (docker's statuses). */
  private settleFailure(record: ContainerRecord, state: ContainerState, err: unknown): void {
    if (record.HostConfig.AutoRemove || !(err instanceof BerthError)) return;
    state.Status = 'exited';
    state.ExitCode = err.code === 'CommandNotFound' ? 127 : err.code === 'CannotInvoke' ? 126 : 128;
    state.Error = err.message;
    state.Pid = 0;
    state.FinishedAt = new Date().toISOString();
    this.saveState(record, state);
  }

  /** Everything up to a running monitor: cgroups, plan, shim; the state is saved once it runs. */
  private async launch(record: ContainerRecord, stdio: ShimStdio, size?: { rows: number; cols: number }, api = false): Promise<{ shim: ShimHandle; state: ContainerState } | undefined> {
    const current = this.observe(record.Id)?.state ?? initialState();
    if (isUp(current.Status)) return undefined; // docker: starting a running container is a no-op
    const state = { ...initialState(), Status: transition(current.Status, 'running', record.Id) };
    const image = this.images.get(record.Image);
    if (!image) throw notFound(`image ${record.Image} of container ${record.Id.slice(0, 12)} is gone`);
    const dir = this.cdir(record.Id);
    fs.rmSync(path.join(dir, 'exit.json'), { force: true }); // from a previous run
    fs.rmSync(path.join(dir, 'stopped'), { force: true });
    fs.rmSync(path.join(dir, 'pid.json'), { force: true });
    fs.rmSync(path.join(dir, 'health.json'), { force: true });
    // A previous run's network may still be being released (asynchronously, after its exit): its
    // published ports must be free again before this run claims them.
    if (current.Status !== 'created') await this.releaseSandboxes(record);
    const net = await this.setupNetwork(record, dir);
    mark('network ready');
    const undoNetwork = async () => {
      if (net.sandbox) await net.sandboxes!.release(net.sandbox.id).catch(() => undefined);
    };
    const cg = this.cgroups();
    const h = record.HostConfig;
    let devices: ReturnType<typeof hostDevices>;
    try {
      devices = hostDevices(h.Devices ?? []); // privileged too: the rules allow all, the nodes are still made
    } catch (err) {
      await undoNetwork();
      throw err;
    }
    const allowed = h.Privileged ? 'all' : deviceRules(devices, h.DeviceCgroupRules ?? []);
    const limits: Limits = { ...limitsOf(h), devices: allowed };
    mark('container created');
    let cgPaths;
    try {
      cgPaths = cg.create(record.Id, limits);
    } catch (err) {
      if (!(err instanceof BerthError && err.code === 'AlreadyExists')) {
        await undoNetwork();
        throw err;
      }
      // Cgroups with a process belong to a concurrent start; empty ones were left by a start
      // killed before its container ran (it is still created or exited): they are replaced.
      try {
        if (cg.pids(record.Id).length) throw conflict(`Container ${record.Id} is being started by another command`);
        cg.remove(record.Id);
        cgPaths = cg.create(record.Id, limits);
      } catch (again) {
        await undoNetwork();
        throw again;
      }
    }
    mark('cgroups created');
    const attached = stdio.output !== 'ignore';
    // A foreground --rm container of the CLI keeps the fast path: its output goes straight to
    // our stdio and nothing is logged (there would be nobody to read it). Otherwise the monitor logs.
    const lc = h.LogConfig?.Config ?? {};
    // Log driver none: the monitor still carries the output (attach), into nothing.
    const none = h.LogConfig?.Type === 'none';
    const log = stdio.output === 'inherit' && h.AutoRemove ? undefined : {
      path: none ? '/dev/null' : this.logPath(record.Id), tee: attached,
      maxSize: lc['max-size'] && !none ? parseBytes(lc['max-size']) : 0, maxFiles: lc['max-file'] ? Number(lc['max-file']) : 1,
    };
    let plan;
    try {
      const tty = record.Config.Tty
        ? { ...(size ?? { rows: 24, cols: 80 }), interactive: stdio.stdin !== 'ignore', winsizeFile: api ? this.winsizeFile(record.Id) : undefined }
        : undefined;
      plan = await this.plan(record, dir, cgPaths, log, tty, net, { nodes: devices, rules: allowed });
    } catch (err) {
      cg.remove(record.Id);
      await undoNetwork();
      throw err;
    }
    mark('plan built');
    // Input from the API comes over a socket; the container reads it from a pipe (kept open for
    // OpenStdin without StdinOnce, as docker keeps it).
    if (stdio.stdin === 'pipe' && !record.Config.Tty) plan.push(['stdinpipe', record.Config.OpenStdin && !record.Config.StdinOnce ? 'hold' : 'close']);
    let shim = runShim(plan, stdio);
    if (h.Runtime) shim = this.awaitRuntimeInit(shim, record.Id);
    const monitor = refOf(shim.shimPid);
    // From here the monitor owns the sandbox: it starts the release when the container is gone.
    if (net.sandbox && shim.shimPid) net.sandboxes!.setMonitor(net.sandbox, monitor);
    else if (net.sandbox) await undoNetwork(); // no monitor was born: nobody else would
    // Saved as soon as the command runs, whoever waits for what comes next.
    shim.started.then((pid) => {
      mark('container started');
      state.Pid = pid;
      state.Monitor = monitor;
      state.StartedAt = new Date().toISOString();
      this.saveState(record, state);
      this.event('start', record);
    }, () => {});
    return { shim, state };
  }

  /**
   * Another runtime's container has started once that runtime wrote its init's pid (after its
   * create, before its start), not when the monitor exec'd it: until then there is nothing to
   * exec into, signal or inspect.
   */
  private awaitRuntimeInit(shim: ShimHandle, id: string): ShimHandle {
    const file = this.runtimePidFile(id);
    const started = shim.started.then(async (pid) => {
      let gone = false;
      void shim.exited.then(() => (gone = true), () => (gone = true));
      for (let i = 0; !gone && i < 2000; i++) {
        const inner = Number(readTextFile(file)?.trim());
        if (inner > 0) return inner;
        await new Promise((res) => setTimeout(res, 5));
      }
      if (gone) return pid; // it failed or finished: its exit (and log) tell
      throw new BerthError('Internal', `the runtime did not start container ${id} within 10 s`);
    });
    started.catch(() => {});
    return { ...shim, started };
  }

  /** Where an API client's terminal size goes before the monitor is sent SIGWINCH. */
  winsizeFile(id: string, execId?: string): string {
    return path.join(this.cdir(id), execId ? `exec-${execId.slice(0, 16)}.winsize` : 'winsize');
  }

  /** Resizes the terminal of a container (or of one of its execs) started through the API. */
  resize(monitorPid: number, file: string, rows: number, cols: number): void {
    if (!(rows > 0 && rows < 65536 && cols > 0 && cols < 65536)) throw invalid(`invalid terminal size ${rows}x${cols}`);
    writeFileAtomic(file, `${rows} ${cols}\n`);
    try {
      process.kill(monitorPid, 'SIGWINCH');
    } catch {}
  }

  /** The host pid of a running container's init, checked to still be its monitor's child. */
  private initPid(c: Container): number {
    if (c.state.Status === 'restarting') throw conflict(`Container ${c.record.Id} is restarting, wait until the container is running`);
    const pid = c.state.Status === 'running' || c.state.Status === 'paused' ? this.liveInit(c.record.Id, c.state) : 0;
    if (!pid) throw conflict(`Container ${c.record.Id} is not running`);
    return pid;
  }

  /** The current init's pid if it is alive and its monitor's child, else 0. */
  private liveInit(id: string, state: ContainerState): number {
    // A restart policy gives the container a new init; its monitor records each one.
    // Another runtime: the monitor's child is that runtime's `run`, and the init its child,
    // whose pid the runtime writes (again at each restart).
    const inner = Number(readTextFile(this.runtimePidFile(id))?.trim() ?? 0);
    if (inner > 0) return parentPid(parentPid(inner)) === state.Monitor?.pid ? inner : 0;
    const restarted = readJsonFile<{ pid: number }>(path.join(this.cdir(id), 'pid.json'));
    const pid = restarted?.pid ?? state.Pid;
    return pid > 0 && parentPid(pid) === state.Monitor?.pid ? pid : 0;
  }

  /**
   * Ends a restarting container's back-off early (any signal it handles does), so that it sees
   * the `stopped` marker now rather than after up to a minute. Should it have just started the
   * init again, it forwards the signal there, which a stop wants too.
   */
  private wakeMonitor(c: Container): void {
    try {
      if (isAlive(c.state.Monitor)) process.kill(c.state.Monitor!.pid, 'SIGTERM');
    } catch {}
  }

  /** docker diff: what the container changed relative to its image. */
  // diff, commit, export, cp and inspect load their code on use: `run` should not pay for it.
  async diff(nameOrId: string): Promise<Change[]> {
    const { changes } = await import('../snapshot/diff.ts');
    const c = this.get(nameOrId);
    const lowers = this.images.layers.mount(c.record.Layers).reverse();
    return changes(path.join(this.cdir(c.record.Id), 'upper'), lowers, this.mountTargets(c.record));
  }

  /**
   * docker cp, both ways, for a running container: frozen meanwhile (so nothing in it can
   * race our path checks), paths resolved with its root as "/" (see copy.ts).
   */
  async copy(nameOrId: string, op: { out: string; to: string } | { in: string; to: string }): Promise<void> {
    const { copyIn, copyOut } = await import('./copy.ts');
    const owner = this.rootOwner(this.get(nameOrId).record);
    await this.inRoot(nameOrId, (root) => ('out' in op ? copyOut(root, op.out, op.to) : copyIn(root, op.in, op.to, owner)));
  }

  /** What a copy into the container creates belongs to its root: for a remapped one, a host id. */
  private rootOwner(record: ContainerRecord): { uid: number; gid: number } | undefined {
    const map = record.HostConfig.IdMap;
    return map && { uid: map.HostId, gid: map.HostId };
  }

  /**
   * Runs fn with the container's root as "/proc/PID/root": a running container's own, frozen
   * meanwhile; a stopped one's mounted by a holder process in a mount namespace of its own.
   */
  private async inRoot<T>(nameOrId: string, fn: (root: string) => T | Promise<T>): Promise<T> {
    const c = this.get(nameOrId);
    if (c.state.Status === 'created' || c.state.Status === 'exited') return this.inHeldRoot(c.record, fn);
    if (c.state.Status !== 'running' && c.state.Status !== 'paused') throw conflict(`cannot copy files while ${c.record.Name} is ${c.state.Status}`);
    const root = `/proc/${this.initPid(c)}/root`;
    const freeze = c.state.Status === 'running';
    if (freeze) await this.cgroups().freeze(c.record.Id, true);
    try {
      return await fn(root);
    } finally {
      if (freeze) await this.cgroups().freeze(c.record.Id, false);
    }
  }

  private async inHeldRoot<T>(record: ContainerRecord, fn: (root: string) => T | Promise<T>): Promise<T> {
    const shim = runShim(buildHoldPlan(this.rootfs(record, this.lowerDirs(record))), { stdin: 'pipe', output: 'ignore' });
    try {
      const pid = await shim.started;
      return await fn(`/proc/${pid}/root`);
    } finally {
      shim.stdio.stdin?.end();
      shim.close();
      await shim.gone;
    }
  }

  /** docker's path stat for the archive API: name, size, Go FileMode bits, mtime, link target. */
  async pathStat(nameOrId: string, ctrPath: string): Promise<PathStat> {
    const { statInRoot } = await import('./copy.ts');
    return this.inRoot(nameOrId, (root) => statInRoot(root, ctrPath));
  }

  /**
   * GET archive: a tar of a path in a running container, its entries under the path's base name.
   * The path is copied out (safely, frozen) to a scratch directory first, then streamed.
   */
  async archiveOut(nameOrId: string, ctrPath: string): Promise<{ stat: PathStat; tar: AsyncGenerator<Buffer> }> {
    const [{ copyOut, statInRoot }, { mergedTar }] = await Promise.all([import('./copy.ts'), import('../snapshot/diff.ts')]);
    const scratch = this.scratchDir();
    try {
      const stat = await this.inRoot(nameOrId, (root) => {
        const st = statInRoot(root, ctrPath);
        copyOut(root, ctrPath.replace(/\/\.$/, '/'), scratch);
        return st;
      });
      const tar = (async function* () {
        try {
          yield* mergedTar([scratch], async () => new Map());
        } finally {
          fs.rmSync(scratch, { recursive: true, force: true });
        }
      })();
      return { stat, tar };
    } catch (err) {
      fs.rmSync(scratch, { recursive: true, force: true });
      throw err;
    }
  }

  /** PUT archive: a (hostile until checked) tar unpacked safely, then copied into a directory of the container. */
  async archiveIn(nameOrId: string, ctrPath: string, tar: AsyncIterable<Buffer>): Promise<void> {
    const [{ copyIn, statInRoot }, { applyLayer }] = await Promise.all([import('./copy.ts'), import('../image/apply.ts')]);
    const scratch = this.scratchDir();
    try {
      await this.inRoot(nameOrId, (root) => {
        if (!statInRoot(root, ctrPath).isDir) throw invalid(`extraction point is not a directory: ${ctrPath}`);
      });
      await applyLayer(tar, scratch, shimSpecialFs);
      const owner = this.rootOwner(this.get(nameOrId).record);
      await this.inRoot(nameOrId, (root) => copyIn(root, `${scratch}/.`, ctrPath, owner));
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }

  private scratchDir(): string {
    const base = path.join(this.root.dir, 'tmp');
    fs.mkdirSync(base, { recursive: true, mode: 0o700 });
    return fs.mkdtempSync(path.join(base, 'cp-'));
  }

  /** docker export: the container's filesystem as one tar (volumes and mounts not included). */
  async *export(nameOrId: string): AsyncGenerator<Buffer> {
    const { mergedTar, unshifter } = await import('../snapshot/diff.ts');
    const c = this.get(nameOrId);
    const dirs = [...this.images.layers.mount(c.record.Layers), path.join(this.cdir(c.record.Id), 'upper')];
    // A remapped container's own files are owned by host ids: exported as the container sees them.
    yield* mergedTar(dirs, readXattrs, unshifter(c.record.HostConfig.IdMap));
  }

  /** Mount points of the user's mounts are not the container's changes (docker's too). */
  private mountTargets(record: ContainerRecord): string[] {
    return (record.HostConfig.Mounts ?? []).map((m) => m.Target.replace(/^\/+/, ''));
  }

  /**
   * docker commit: the container's changes become a new layer on top of its image, with its
   * run config (plus `changes`). A running container is paused meanwhile, so the layer is a
   * consistent snapshot.
   */
  async commit(nameOrId: string, opts: { name?: string; changes?: RunConfig; comment?: string; author?: string; pause?: boolean }): Promise<ImageRecord> {
    const c = this.get(nameOrId);
    const parent = this.images.get(c.record.Image);
    if (!parent) throw notFound(`image ${c.record.Image} of container ${c.record.Id.slice(0, 12)} is gone`);
    const { layerTar, unshifter } = await import('../snapshot/diff.ts');
    const pause = opts.pause !== false && c.state.Status === 'running';
    if (pause) await this.pause(c.record.Id);
    try {
      const upper = path.join(this.cdir(c.record.Id), 'upper');
      const xattrs = await readXattrs(upper);
      const cfg = c.record.Config;
      const runConfig: RunConfig = {
        User: cfg.User, Env: cfg.Env, Cmd: cfg.Cmd, Entrypoint: cfg.Entrypoint, WorkingDir: cfg.WorkingDir,
        Labels: cfg.Labels, ...(cfg.StopSignal ? { StopSignal: cfg.StopSignal } : {}), ...opts.changes,
      };
      return await this.images.addLayer(layerTar(upper, xattrs, this.mountTargets(c.record), unshifter(c.record.HostConfig.IdMap)), {
        parent, name: opts.name, runConfig, createdBy: `berth commit ${c.record.Name}`, comment: opts.comment, author: opts.author,
      });
    } finally {
      if (pause) await this.unpause(c.record.Id).catch(() => undefined);
    }
  }

  /** The container's processes as seen from the host (docker top's default columns). */
  top(nameOrId: string): { Titles: string[]; Processes: string[][] } {
    const c = this.get(nameOrId);
    this.initPid(c);
    const users = new Map<number, string>();
    try {
      for (const l of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = l.split(':');
        if (f.length > 2) users.set(Number(f[2]), f[0]);
      }
    } catch {}
    const tick = 100; // USER_HZ
    const boot = Date.now() / 1000 - Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const rows: string[][] = [];
    for (const pid of this.cgroups().pids(c.record.Id).sort((a, b) => a - b)) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
        const cpu = (Number(f[11]) + Number(f[12])) / tick;
        const started = new Date((boot + Number(f[19]) / tick) * 1000);
        const hms = (s: number) => [s / 3600, (s % 3600) / 60, s % 60].map((x) => String(Math.floor(x)).padStart(2, '0')).join(':');
        rows.push([users.get(uid) ?? String(uid), String(pid), f[1], '0', started.toTimeString().slice(0, 5), '?', hms(cpu), cmd]);
      } catch {
        // exited while we looked
      }
    }
    return { Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: rows };
  }

  /** One sample of a running container's usage counters. */
  stats(nameOrId: string): { id: string; name: string; running: boolean } & ReturnType<CgroupDriver['stats']> {
    const c = this.get(nameOrId);
    const running = c.state.Status === 'running' || c.state.Status === 'paused';
    const s = running ? this.cgroups().stats(c.record.Id) : { memoryUsage: 0, memoryLimit: 0, cpuNanos: 0, pids: 0 };
    return { id: c.record.Id, name: c.record.Name, running, ...s };
  }

  /** Freezes every process of a running container (docker pause). */
  async pause(nameOrId: string): Promise<string> {
    const c = this.get(nameOrId);
    if (c.state.Status === 'paused') throw conflict(`Container ${c.record.Id} is already paused`);
    this.initPid(c); // running, and really ours
    await this.cgroups().freeze(c.record.Id, true);
    c.state.Status = transition(c.state.Status, 'paused', c.record.Id);
    this.saveState(c.record, c.state);
    this.event('pause', c.record);
    return c.record.Id;
  }

  async unpause(nameOrId: string): Promise<string> {
    const c = this.get(nameOrId);
    if (c.state.Status !== 'paused') throw conflict(`Container ${c.record.Id} is not paused`);
    await this.cgroups().freeze(c.record.Id, false);
    c.state.Status = transition(c.state.Status, 'running', c.record.Id);
    this.saveState(c.record, c.state);
    this.event('unpause', c.record);
    return c.record.Id;
  }

  /** Sends a signal (docker's names or numbers) to the container's init. */
  kill(nameOrId: string, signal = 'KILL'): string {
    const sig = parseSignal(signal); // an unknown signal is refused before anything is touched
    const c = this.get(nameOrId);
    process.kill(this.initPid(c), sig);
    this.event('kill', c.record, { signal: String(sig) });
    return c.record.Id;
  }

  /** The image's stop signal (default SIGTERM), then SIGKILL after the timeout. */
  async stop(nameOrId: string, timeoutSec?: number): Promise<string> {
    const c = this.get(nameOrId);
    if (!isUp(c.state.Status)) return c.record.Id; // docker: stopping a stopped container succeeds
    const sig = parseSignal(c.record.Config.StopSignal || 'SIGTERM');
    const deadline = Date.now() + (timeoutSec ?? c.record.Config.StopTimeout ?? 10) * 1000;
    fs.writeFileSync(path.join(this.cdir(c.record.Id), 'stopped'), ''); // its monitor must not restart it
    if (c.state.Status === 'restarting') this.wakeMonitor(c);
    else {
      try {
        process.kill(this.initPid(c), sig);
      } catch {}
    }
    // A frozen process handles no signal: thaw it so it can stop (or die).
    if (c.state.Status === 'paused') await this.unpause(c.record.Id).catch(() => undefined);
    if (!(await this.waitUntilStopped(c.record.Id, deadline))) {
      try {
        process.kill(this.initPid(this.get(c.record.Id)), 'SIGKILL');
      } catch {}
      await this.waitUntilStopped(c.record.Id, Date.now() + 10_000);
    }
    this.event('stop', c.record);
    return c.record.Id;
  }

  private async waitUntilStopped(id: string, deadline: number): Promise<boolean> {
    for (;;) {
      const c = this.observe(id);
      if (!c || !isUp(c.state.Status)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Blocks until the container is not running; its exit code (docker's `wait`). */
  async wait(nameOrId: string): Promise<number> {
    const id = this.get(nameOrId).record.Id;
    await this.waitUntilStopped(id, Infinity);
    return this.observe(id)?.state.ExitCode ?? 0;
  }

  rename(nameOrId: string, newName: string): void {
    const c = this.get(nameOrId);
    const name = newName.replace(/^\//, '');
    if (!NAME_PATTERN.test(name)) throw invalid(`Invalid container name (${newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (name === c.record.Name) throw invalid(`Renaming a container with the same name as its current name`);
    this.claim(name, c.record.Id, true);
    const old = c.record.Name;
    c.record.Name = name;
    writeFileAtomic(path.join(this.cdir(c.record.Id), 'config.json'), JSON.stringify(c.record), { durable: true });
    fs.rmSync(path.join(this.namesDir, old), { force: true });
    this.event('rename', c.record, { oldName: `/${old}` });
  }

  async inspect(nameOrId: string): Promise<object> {
    const { inspectContainer } = await import('./inspect.ts');
    const c = this.get(nameOrId);
    const layers = [...c.record.Layers].reverse().map((d) => this.images.layers.dir(d));
    const volumePath = (name: string) => {
      try {
        return this.volumes.get(name).Mountpoint;
      } catch {
        return '';
      }
    };
    const restarts = readJsonFile<{ restarts: number }>(path.join(this.cdir(c.record.Id), 'pid.json'))?.restarts ?? 0;
    return inspectContainer(c, { dir: this.cdir(c.record.Id), log: this.logPath(c.record.Id), layers, volumePath, restarts, health: this.health(c.record), network: this.networkView(c) });
  }

  /** Short on purpose: a unix socket path must fit in 108 bytes, a container directory may not. */
  private attachSocket(id: string): string {
    fs.mkdirSync(path.join(this.root.dir, 's'), { recursive: true, mode: 0o700 });
    return path.join(this.root.dir, 's', id.slice(0, 16));
  }

  /**
   * docker attach: follows a running container's output until it stops, and returns its exit
   * code. `write` gets each frame's payload with its stream.
   */
  async attach(nameOrId: string, write: (stream: 'stdout' | 'stderr', data: Buffer) => void): Promise<number> {
    const c = this.get(nameOrId);
    this.initPid(c); // running
    const { connect } = await import('node:net');
    const sock = connect(this.attachSocket(c.record.Id));
    await new Promise<void>((resolve, reject) => {
      sock.on('data', deframer(write));
      sock.on('error', (err) => reject(new BerthError('Unavailable', `cannot attach to ${c.record.Name}: ${err.message}`)));
      sock.on('close', () => resolve());
    });
    return this.wait(c.record.Id);
  }

  logPath(id: string): string {
    return path.join(this.cdir(id), `${id}-json.log`);
  }

  /** The process to run: the container's command, or an exec's, with docker's env defaults. */
  /** Named volumes are created on first use, anonymous ones get a name; -v creates a missing host directory. */
  private prepareMounts(mounts: MountSpec[]): MountSpec[] {
    return mounts.map((m) => {
      if (m.Type === 'volume') return { ...m, Source: this.volumes.create(m.Source || undefined, { anonymous: m.Anonymous }).Name };
      if (m.Type === 'bind' && !fs.existsSync(m.Source)) fs.mkdirSync(m.Source, { recursive: true });
      return m;
    });
  }

  private mountPlan(record: ContainerRecord): NonNullable<PlanInput['mounts']> {
    return record.HostConfig.Mounts.map((m) => {
      if (m.Type === 'tmpfs') return { type: 'tmpfs' as const, source: '', target: m.Target, readonly: m.ReadOnly, data: m.TmpfsOptions };
      const source = m.Type === 'volume' ? this.volumes.get(m.Source).Mountpoint : m.Source;
      let file = false;
      try {
        file = !fs.statSync(source).isDirectory();
      } catch {
        throw notFound(`mount source ${source} of ${m.Target} does not exist`);
      }
      return { type: 'bind' as const, source, target: m.Target, readonly: m.ReadOnly, file, propagation: m.Propagation };
    });
  }

  private anonymousVolumeDirs(record: ContainerRecord): string[] {
    return record.HostConfig.Mounts.filter((m) => m.Type === 'volume' && m.Anonymous).map((m) => path.dirname(this.volumes.get(m.Source).Mountpoint));
  }

  /** Which container uses a volume (for volume rm). */
  volumeUser(name: string): string | undefined {
    return this.reconcile().find((c) => c.record.HostConfig.Mounts.some((m) => m.Type === 'volume' && m.Source === name))?.record.Name;
  }

  private get cacheDir(): string {
    return path.join(this.root.dir, 'cache');
  }

  private async processSpec(record: ContainerRecord, x: { args?: string[]; env?: string[]; user?: string; cwd?: string; tty?: ProcessSpec['tty'] } = {}): Promise<ProcessSpec> {
    const conf = confinement(record.HostConfig);
    const c = record.Config;
    const read = (p: string) => readImageFile(this.images.layers, record.Layers, p);
    const user = resolveUser(x.user ?? c.User, read('etc/passwd'), read('etc/group'));
    const groupAdd = (record.HostConfig.GroupAdd ?? []).map((g) => resolveGroup(g, read('etc/group')));
    // "KEY" alone (kept as given through the API) is not in the process's environment (docker's too).
    const env = mergeEnv(c.Env, x.env ?? []).filter((e) => e.includes('='));
    const has = (k: string) => env.some((e) => e.startsWith(k + '='));
    if (!has('PATH')) env.unshift(`PATH=${DEFAULT_PATH}`);
    if (!has('HOSTNAME')) env.push(`HOSTNAME=${c.Hostname}`);
    if (!has('HOME')) env.push(`HOME=${user.home}`);
    if (x.tty && !has('TERM')) env.push('TERM=xterm');
    return {
      userns: record.HostConfig.IdMap !== undefined,
      args: x.args ?? [...(c.Entrypoint ?? []), ...c.Cmd],
      env,
      cwd: x.cwd || c.WorkingDir || '/',
      uid: user.uid,
      gid: user.gid,
      groups: [...new Set([...user.groups, ...groupAdd])],
      caps: capMask(conf.caps),
      rlimits: rlimits(record.HostConfig.Ulimits),
      oomScoreAdj: record.HostConfig.OomScoreAdj || undefined,
      noNewPrivileges: conf.noNewPrivileges,
      seccomp: await seccompProgram(conf, this.cacheDir),
      tty: x.tty,
    };
  }

  /**
   * What a remapped container needs on the host before its start: the upper directory (the
   * overlay's root) and its own /etc files owned by its root, a mount point per image layer for
   * the idmapped layers, and the maps.
   */
  private remapFiles(record: ContainerRecord, dir: string, lowers: string[], net: NetSetup): PlanInput['userns'] {
    const { HostId, Size } = record.HostConfig.IdMap!;
    fs.lchownSync(path.join(dir, 'upper'), HostId, HostId);
    if (!net.etc) for (const f of ['hostname', 'hosts', 'resolv.conf']) fs.lchownSync(path.join(dir, f), HostId, HostId);
    // A new (empty, root-owned) volume becomes the container root's, as docker does for a
    // remapped daemon; one with content keeps its owners.
    for (const m of record.HostConfig.Mounts) {
      if (m.Type !== 'volume') continue;
      const data = this.volumes.get(m.Source).Mountpoint;
      const st = fs.lstatSync(data, { throwIfNoEntry: false });
      if (st?.isDirectory() && st.uid === 0 && st.gid === 0 && !fs.readdirSync(data).length) fs.lchownSync(data, HostId, HostId);
    }
    const idmounts: Array<[string, string]> = lowers.map((l, i) => {
      const target = path.join(dir, 'idmap', String(i));
      fs.mkdirSync(target, { recursive: true, mode: 0o700 });
      return [l, target];
    });
    const map = `0 ${HostId} ${Size}\n`;
    return { uidMap: map, gidMap: map, idmounts, rootId: HostId };
  }

  /** The health probe as an exec plan file for the monitor, when the container has a check. */
  private async healthPlan(record: ContainerRecord, dir: string, cg: { procs: string[] }): Promise<PlanInput['health']> {
    const hc = record.Config.Healthcheck;
    const test = hc?.Test ?? [];
    if (!test.length || test[0] === 'NONE') return undefined;
    const args = test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test.slice(1).join(' ')] : test[0] === 'CMD' ? test.slice(1) : test;
    const plan = buildExecPlan({ pid: '%PID%', cgroupJoin: this.joinFiles(cg), process: await this.processSpec(record, { args }), userns: record.HostConfig.IdMap && '/proc/%PID%/ns/user' });
    const planFile = path.join(dir, 'health.plan');
    writeFileAtomic(planFile, encodeRecords(plan));
    const ms = (ns: number | undefined, def: number) => (ns ? Math.max(1, Math.round(ns / 1e6)) : def);
    return {
      planFile, intervalMs: ms(hc?.Interval, 30_000), timeoutMs: ms(hc?.Timeout, 30_000), retries: hc?.Retries || 3,
      startPeriodMs: ms(hc?.StartPeriod, 0), file: path.join(dir, 'health.json'),
    };
  }

  /** docker's State.Health, from what the monitor's probes recorded. */
  health(record: ContainerRecord): { Status: string; FailingStreak: number; Log: object[] } | undefined {
    const test = record.Config.Healthcheck?.Test ?? [];
    if (!test.length || test[0] === 'NONE') return undefined;
    return readJsonFile(path.join(this.cdir(record.Id), 'health.json')) ?? { Status: 'starting', FailingStreak: 0, Log: [] };
  }

  private joinFiles(cg: { procs: string[] }): string[] {
    // A single thread moving itself into a v1 hierarchy through `tasks` avoids the global lock
    // that a move through cgroup.procs takes (an RCU grace period, ~10 ms here).
    return this.cgroups().version === 1 ? cg.procs.map((f) => path.join(path.dirname(f), 'tasks')) : cg.procs;
  }

  private lowerDirs(record: ContainerRecord): string[] {
    const empty = path.join(this.root.dir, 'empty');
    if (!record.Layers.length) fs.mkdirSync(empty, { recursive: true });
    return this.images.layers.lowerDirs(record.Layers, empty);
  }

  /** The container's overlay root: its upper directory over these lower dirs. */
  private rootfs(record: ContainerRecord, lowers: string[]): Mount {
    const dir = this.cdir(record.Id);
    return this.images.layers.rootfsMount(lowers, path.join(dir, 'upper'), path.join(dir, 'work'), path.join(dir, 'rootfs'));
  }

  private async plan(record: ContainerRecord, dir: string, cg: { procs: string[]; dirs: string[]; oom: string }, log: PlanInput['log'], tty: ProcessSpec['tty'], net: NetSetup, devices: { nodes: DeviceNode[]; rules: 'all' | string[] }) {
    const input = await this.planInput(record, dir, cg, log, tty, net, devices);
    const runtime = record.HostConfig.Runtime;
    if (!runtime) return buildPlan(input);
    // Another OCI runtime: the same container as a bundle, run in the foreground under our
    // monitor; it joins the cgroup we made and limited (an absolute cgroupsPath).
    const bundle = path.join(dir, 'bundle');
    fs.mkdirSync(bundle, { recursive: true });
    const spec = runtimeSpec(input, { cgroupsPath: `/berth/${this.root.key}/${record.Id}`, seccomp: await seccompProfile(confinement(record.HostConfig)), devices: devices.rules });
    writeFileAtomic(path.join(bundle, 'config.json'), JSON.stringify(spec));
    fs.rmSync(this.runtimePidFile(record.Id), { force: true });
    // The runtime's own state lives in the container's directory and goes with it; what a
    // runtime killed with its monitor left there is forgotten before the next start.
    const state = path.join(dir, 'runtime-state');
    fs.rmSync(state, { recursive: true, force: true });
    // The runtime makes the container's cgroup in every hierarchy, also those berth leaves alone;
    // it removes its leaves, the monitor then their scope (one try each).
    const managed = new Set(cg.dirs.map((d) => path.dirname(path.dirname(path.dirname(d)))));
    for (const m of cgroupMounts()) if (!managed.has(m)) input.teardown.rmscope = [...(input.teardown.rmscope ?? []), path.join(m, 'berth', this.root.key)];
    return buildRuntimePlan(input, [...runtimeCommand(runtime), '--root', state,
      'run', '--bundle', bundle, '--pid-file', this.runtimePidFile(record.Id), '--no-new-keyring', record.Id], this.runtimePidFile(record.Id));
  }

  /**
   * A container's cgroups, and whatever still runs in them. Another runtime also makes the
   * container's cgroup in the hierarchies berth leaves alone (blkio, cpuset, ...); it removes
   * them itself when it ends normally, and here when it was killed first.
   */
  private removeCgroups(record: ContainerRecord): void {
    this.cgroups().remove(record.Id);
    if (record.HostConfig.Runtime) killAndRemove(cgroupMounts().map((m) => path.join(m, 'berth', this.root.key, record.Id)));
  }

  /** With another runtime: where it writes the container's init pid (its own process is the monitor's child). */
  private runtimePidFile(id: string): string {
    return path.join(this.cdir(id), 'runtime.pid');
  }

  private async planInput(record: ContainerRecord, dir: string, cg: { procs: string[]; dirs: string[]; oom: string }, log: PlanInput['log'], tty: ProcessSpec['tty'], net: NetSetup, devices: { nodes: DeviceNode[]; rules: 'all' | string[] }): Promise<PlanInput> {
    const lowers = this.lowerDirs(record);
    // Remapped: the layers are mounted idmapped under the container's directory, in its mount
    // namespace only, and the overlay is made of those.
    const userns = record.HostConfig.IdMap && this.remapFiles(record, dir, lowers, net);
    return {
      rootfs: this.rootfs(record, userns ? userns.idmounts.map(([, target]) => target) : lowers),
      cgroupNamespace: fs.existsSync('/proc/self/ns/cgroup'),
      cgroupJoin: this.joinFiles(cg),
      oomFile: cg.oom,
      hostname: net.hostname ?? record.Config.Hostname,
      etcFiles: net.etc ?? { hostname: path.join(dir, 'hostname'), hosts: path.join(dir, 'hosts'), resolv: path.join(dir, 'resolv.conf') },
      network: net.network,
      namespaces: sharedNamespaces(record.HostConfig, (ref) => this.initPid(this.get(ref))),
      shmSize: record.HostConfig.ShmSize,
      process: withLinks(record, withInit(record, await this.processSpec(record, { tty })), (name) => this.linkTarget(name)),
      privileged: record.HostConfig.Privileged,
      sysctls: userns && (net.network?.mode === 'new' || net.sandbox) ? { ...REMAPPED_SYSCTLS, ...record.HostConfig.Sysctls } : record.HostConfig.Sysctls,
      userns,
      readonlyRoot: record.HostConfig.ReadonlyRootfs,
      exitFile: record.HostConfig.AutoRemove ? undefined : path.join(dir, 'exit.json'),
      log,
      attachSocket: log && this.attachSocket(record.Id).length < 100 ? this.attachSocket(record.Id) : undefined,
      health: await this.healthPlan(record, dir, cg),
      restart: record.HostConfig.RestartPolicy && record.HostConfig.RestartPolicy.Name !== 'no'
        ? { policy: record.HostConfig.RestartPolicy.Name, max: record.HostConfig.RestartPolicy.MaximumRetryCount, stopMarker: path.join(dir, 'stopped'), pidFile: path.join(dir, 'pid.json') }
        : undefined,
      // cgroup v2 has no devices files: the same rules as v1's go in as a program.
      devices: devices.nodes.length ? devices.nodes : undefined,
      deviceProgram: this.cgroups().version === 2 && devices.rules !== 'all' ? { cgroup: cg.dirs[0], program: deviceProgramHex(devices.rules) } : undefined,
      mounts: [...this.mountPlan(record), ...initMounts(record)],
      // An --rm container takes its anonymous volumes with it (docker's behaviour).
      teardown: { rmdirs: [...cg.dirs].reverse(), rmtree: record.HostConfig.AutoRemove ? [dir, ...this.anonymousVolumeDirs(record)] : undefined, release: net.release },
    };
  }

  /**
   * Runs a command inside a running container, in all its namespaces and cgroups. Attached:
   * resolves with the command's exit; detached: once it runs.
   */
  async exec(nameOrId: string, x: ExecOptions & { attach?: { stdin: boolean } }): Promise<ShimExit | undefined> {
    const shim = await this.execShim(nameOrId, x, x.attach ? { stdin: x.attach.stdin ? 'inherit' : 'ignore', output: 'inherit' } : { stdin: 'ignore', output: 'ignore' });
    return this.drive(shim, x.attach !== undefined, async () => {
      await shim.started;
      return x.attach ? await shim.exited : undefined;
    });
  }

  /** An exec whose stdio are streams for the caller (the API); `exited` has its status. */
  async execStreams(nameOrId: string, x: ExecOptions & { stdin: boolean; execId: string }): Promise<ContainerStreams> {
    const shim = await this.execShim(nameOrId, x, { stdin: x.stdin ? 'pipe' : 'ignore', output: 'pipe' });
    await shim.started;
    return this.streamsOf(shim, (exit) => exit);
  }

  /**
   * A berth command run for a remote client (`berth` talking to the daemon): the same CLI, on
   * this engine's state root and with the daemon's own berth settings (BERTH_*), as a process of
   * the daemon's under a monitor, its stdio streams for the caller. Only the client's terminal
   * settings cross over from its environment.
   */
  cliStreams(x: { args: string[]; env: string[]; cwd: string; tty?: { rows: number; cols: number }; stdin: boolean; execId: string }): ContainerStreams {
    const passed = x.env.filter((e) => /^(TERM|LANG|LC_[A-Z_]+|NO_COLOR|COLUMNS|BERTH_TRACE)=/.test(e));
    const own = Object.entries(process.env).filter(([k]) => k.startsWith('BERTH_') && k !== 'BERTH_HOST' && k !== 'BERTH_ROOT' && k !== 'BERTH_TRACE').map(([k, v]) => `${k}=${v}`);
    const env = [`PATH=${DEFAULT_PATH}`, 'HOME=/root', `BERTH_ROOT=${this.root.dir}`, ...own, ...passed];
    const tty = x.tty && { ...x.tty, interactive: x.stdin, winsizeFile: this.cliWinsizeFile(x.execId) };
    fs.mkdirSync(path.join(this.root.dir, 'tmp'), { recursive: true });
    const cwd = path.isAbsolute(x.cwd) && fs.statSync(x.cwd, { throwIfNoEntry: false })?.isDirectory() ? x.cwd : '/';
    const shim = runShim(buildHostPlan({ args: [path.join(REPO, 'bin/berth'), ...x.args], env, cwd, tty }), { stdin: x.stdin ? 'pipe' : 'ignore', output: 'pipe' });
    // Its monitor is recorded until it is gone: a daemon killed meanwhile leaves it without a
    // client, and the next daemon hangs it up (endOrphanCommands).
    const record = path.join(this.root.dir, 'tmp', `cli-${x.execId.slice(0, 16)}.monitor`);
    if (shim.shimPid) writeFileAtomic(record, JSON.stringify(refOf(shim.shimPid)));
    const streams = this.streamsOf(shim, (exit) => exit);
    void streams.gone.then(() => {
      fs.rmSync(record, { force: true });
      if (tty) fs.rmSync(tty.winsizeFile, { force: true });
    });
    return streams;
  }

  /** At a daemon's start: the commands a killed daemon ran for its clients have none now. */
  endOrphanCommands(): void {
    const dir = path.join(this.root.dir, 'tmp');
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir).filter((n) => /^cli-[0-9a-f]+\.(monitor|winsize)$/.test(n));
    } catch {}
    for (const n of names) {
      const ref = n.endsWith('.monitor') ? readJsonFile<ProcessRef>(path.join(dir, n)) : undefined;
      fs.rmSync(path.join(dir, n), { force: true });
      if (!ref) continue; // a terminal's size file
      // Hung up as a closed terminal would, then killed (the command dies with its monitor);
      // what it started (a container) lives on, as when an in-process berth is killed.
      const signal = (sig: NodeJS.Signals) => {
        try {
          if (isAlive(ref)) process.kill(ref.pid, sig);
        } catch {}
      };
      signal('SIGHUP');
      setTimeout(() => signal('SIGKILL'), 2000).unref();
    }
  }

  cliWinsizeFile(execId: string): string {
    return path.join(this.root.dir, 'tmp', `cli-${execId.slice(0, 16)}.winsize`);
  }

  private async execShim(nameOrId: string, x: ExecOptions & { execId?: string }, stdio: ShimStdio): Promise<ShimHandle> {
    const c = this.get(nameOrId);
    if (c.state.Status === 'paused') throw conflict(`Container ${c.record.Id} is paused, unpause the container before exec`);
    const pid = this.initPid(c);
    if (!x.args.length) throw invalid('No exec command specified');
    const tty = x.tty && { ...x.tty, interactive: stdio.stdin !== 'ignore', winsizeFile: x.execId ? this.winsizeFile(c.record.Id, x.execId) : undefined };
    const plan = buildExecPlan({ pid, cgroupJoin: this.joinFiles(this.cgroups().paths(c.record.Id)), process: await this.processSpec(c.record, { ...x, tty }), userns: c.record.HostConfig.IdMap && `/proc/${pid}/ns/user` });
    return runShim(plan, stdio);
  }

  /**
   * Runs body while the shim works for us. Attached: our signals are forwarded to the
   * container, and at the end closing the report socket lets the shim tear down, which we wait
   * for (so an --rm container is gone when we return). Detached: the shim carries on alone.
   */
  private async drive<T>(shim: ShimHandle, attached: boolean, body: () => Promise<T>): Promise<T> {
    const forward = (sig: NodeJS.Signals) => shim.kill(sig);
    if (attached) for (const s of [...FORWARDED_SIGNALS, 'SIGWINCH'] as const) process.on(s, forward);
    let detached = !attached;
    try {
      const result = await body();
      if ((result as ShimExit | undefined)?.detached) detached = true;
      return result;
    } finally {
      if (!detached) {
        shim.close();
        await shim.gone;
        mark('monitor gone');
        for (const s of [...FORWARDED_SIGNALS, 'SIGWINCH'] as const) process.off(s, forward);
      } else {
        shim.detach();
      }
    }
  }
}

interface NetSetup {
  network: NonNullable<PlanInput['network']>;
  etc?: PlanInput['etcFiles'];
  hostname?: string;
  sandbox?: SandboxRecord;
  sandboxes?: Sandboxes;
  release?: string[];
}

// SIGWINCH: with a terminal the monitor resizes the pty from our terminal's size.


// The OCI runtimes `--runtime` may name, called as runc is (docker, too, runs only runtimes it
// was configured with: a name from an API request must never run an arbitrary program).
const KNOWN_RUNTIMES = new Set(['runc', 'crun', 'youki', 'runsc', 'berth-runtime']);

/** `--runtime NAME`: one of the known OCI runtimes, found in the system's program directories. */
export function runtimeCommand(name: string): string[] {
  if (!KNOWN_RUNTIMES.has(name)) throw invalid(`unknown or invalid runtime name: ${name}`);
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const file = path.join(d, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return [file];
    } catch {}
  }
  throw invalid(`unknown or invalid runtime name: ${name}`);
}

/**
 * Image env, then the user's: later keys win. "KEY" alone takes the value from `lookup` (the
 * CLI's environment: `-e KEY`), and is dropped when it has none there; without a lookup (the
 * API: the client already looked) it stays "KEY", as docker keeps it.
 */
export function mergeEnv(base: string[], extra: string[], lookup: Record<string, string | undefined> | null = process.env): string[] {
  const out = new Map<string, string>();
  for (const e of base) out.set(e.split('=', 1)[0], e);
  for (const e of extra) {
    const eq = e.indexOf('=');
    if (eq === 0) throw invalid(`invalid environment variable: ${e}`);
    if (eq < 0) {
      if (!lookup) out.set(e, e);
      else if (lookup[e] !== undefined) out.set(e, `${e}=${lookup[e]}`);
      continue;
    }
    out.set(e.slice(0, eq), e);
  }
  return [...out.values()];
}
