// /_ping, /version, /info, /events, /system/df, and the volume and network collections.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { invalid, notFound } from '../core/errors.ts';
import { VERSION } from '../core/version.ts';
import type { Engine } from '../engine/engine.ts';
import { runtimeCommand } from '../runtime/runtimes.ts';
import { eventMatches, type EngineEvent } from '../engine/events.ts';
import { parseTime } from '../engine/logs.ts';
import { networkMatcher, type NetworkView } from '../engine/network-filters.ts';
import { splitPools } from '../network/ipam-config.ts';
import { hasLabel, pruneFilter } from '../engine/prune-filters.ts';
import { containerSummary } from '../engine/summary.ts';
import { API_VERSION, MIN_API_VERSION, filters, flag, readJson, streamStart, type Router } from './http.ts';

export function systemRoutes(r: Router, engine: Engine): void {
  const ping = async () => ({
    status: 200,
    body: 'OK',
    headers: { 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Builder-Version': '1', Swarm: 'inactive' },
  });
  r.on('GET', '/_ping', ping);

  r.on('GET', '/version', async () => ({ status: 200, body: version() }));

  r.on('GET', '/info', async () => ({ status: 200, body: info(engine) }));

  r.on('GET', '/events', async (call) => {
    const f = filters(call.query);
    const since = call.query.get('since');
    const until = call.query.get('until');
    const sinceMs = since ? parseTime(since) : undefined;
    const untilMs = until ? parseTime(until) : undefined;
    const res = streamStart(call, 200, 'application/json');
    const send = (e: EngineEvent) => {
      if (!eventMatches(e, f) || (untilMs !== undefined && e.timeNano / 1e6 > untilMs)) return;
      res.write(JSON.stringify({ status: e.Action, id: e.Actor.ID, from: e.Actor.Attributes.image, ...e }) + '\n');
    };
    const unsubscribe = engine.events.subscribe(send, sinceMs);
    // Containers that exit under their monitors with nobody watching become `die` events when
    // someone looks: while a client follows events, look every second.
    const look = setInterval(() => engine.containers.list(false), 1000);
    const stop = () => {
      unsubscribe();
      clearInterval(look);
    };
    res.on('close', stop);
    if (untilMs !== undefined) {
      setTimeout(() => {
        stop();
        res.end();
      }, Math.max(0, untilMs - Date.now() + 100)).unref();
    }
  });

  r.on('GET', '/system/df', async () => {
    const u = await engine.diskUsage();
    const sizes = await engine.containerSizes(u.containers.map((x) => x.container));
    const ts = (iso: string) => Math.floor(Date.parse(iso) / 1000);
    return {
      status: 200,
      body: {
        LayersSize: u.layersSize,
        Images: u.images.map((i) => ({ Id: i.id, ParentId: '', RepoTags: i.names, RepoDigests: [], Created: ts(i.created), Size: i.size, SharedSize: i.shared, VirtualSize: i.size, Labels: {}, Containers: i.containers })),
        Containers: u.containers.map(({ container: c, size }) => ({ ...containerSummary(c, undefined, engine.containers.networkView(c)), SizeRw: size, SizeRootFs: sizes.get(c.record.Id)?.rootFs ?? size })),
        Volumes: u.volumes.map(({ volume, links, size }) => ({ ...volume, UsageData: { Size: size, RefCount: links } })),
        BuildCache: [],
        BuilderSize: 0,
      },
    };
  });

  // ---- volumes ----
  const volumes = () => engine.containers.volumes;
  r.on('GET', '/volumes', async (call) => {
    const f = filters(call.query);
    const names = f.get('name') ?? [];
    const labels = f.get('label') ?? [];
    const dangling = f.get('dangling')?.[0];
    const used = dangling === undefined ? undefined : (name: string) => engine.containers.volumeUser(name) !== undefined;
    const list = volumes().list().filter((v) => (!names.length || names.some((n) => v.Name.includes(n)))
      && labels.every((l) => hasLabel(v.Labels ?? {}, l))
      && (!used || used(v.Name) !== (dangling === 'true' || dangling === '1')));
    return { status: 200, body: { Volumes: list, Warnings: null } };
  });
  r.on('POST', '/volumes/create', async (call) => {
    const body = await readJson(call.req);
    const driver = (body.Driver as string) || 'local';
    const name = (body.Name as string) || undefined;
    // dockerd's answer for a driver it has no plugin for (a 404, which SDKs raise as NotFound).
    if (driver !== 'local') throw notFound(`create ${name ?? ''}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    if (name) {
      try {
        return { status: 201, body: volumes().get(name) }; // docker: creating an existing volume returns it
      } catch {}
    }
    const v = volumes().create(name, { labels: (body.Labels as Record<string, string>) ?? {} });
    engine.events.emit('volume', 'create', v.Name, { driver: 'local' });
    return { status: 201, body: v };
  });
  r.on('GET', '/volumes/{name}', async (call) => ({ status: 200, body: volumes().get(call.params.name) }));
  r.on('DELETE', '/volumes/{name}', async (call) => {
    volumes().remove(call.params.name, (n) => engine.containers.volumeUser(n), flag(call.query, 'force'));
    engine.events.emit('volume', 'destroy', call.params.name, { driver: 'local' });
    return { status: 204 };
  });
  r.on('POST', '/volumes/prune', async (call) => {
    const f = filters(call.query);
    // docker prunes only anonymous volumes unless all=true (API 1.42; older clients: every unused one)
    const all = call.version < 1.42 || (f.get('all') ?? []).some((v) => v === 'true' || v === '1');
    f.delete('all');
    const accept = pruneFilter(f, ['label', 'label!']);
    const deleted: string[] = [];
    for (const v of volumes().list()) {
      if ((!v.Anonymous && !all) || !accept({ labels: v.Labels ?? {} })) continue;
      try {
        volumes().remove(v.Name, (n) => engine.containers.volumeUser(n));
        deleted.push(v.Name);
      } catch {}
    }
    engine.events.emit('volume', 'prune', '', { reclaimed: '0' });
    return { status: 200, body: { VolumesDeleted: deleted, SpaceReclaimed: 0 } };
  });

  // ---- networks: the engine's (the default bridge, user networks) and docker's host and none ----
  const admin = () => engine.networks();
  r.on('GET', '/networks', async (call) => {
    const a = await admin();
    const keep = networkMatcher(filters(call.query));
    const all = (await Promise.all((await a.list()).map((n) => a.inspect(n.Id)))) as NetworkView[];
    return { status: 200, body: all.filter(keep) };
  });
  // A network's name may hold slashes, as dockerd's routes ({id:.+}) take them.
  r.on('GET', '/networks/{id*}', async (call) => ({ status: 200, body: await (await admin()).inspect(call.params.id) }));
  r.on('POST', '/networks/create', async (call) => {
    const body = await readJson(call.req);
    const driver = (body.Driver as string) || 'bridge';
    if (driver !== 'bridge') throw invalid(`network driver "${driver}" is not available: only "bridge"`);
    const ipamBody = body.IPAM as { Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> | null }> | null; Options?: Record<string, string> | null } | null;
    const configs = ipamBody?.Config ?? [];
    // The IPv4 pool (one: the bridge driver's rule) and the IPv6 ones, told apart by the subnet.
    const { v4: ipam, v6 } = splitPools(configs.map((c) => ({ ...c, AuxiliaryAddresses: c.AuxiliaryAddresses ?? undefined })));
    const ipam6 = v6.map((c) => ({
      Subnet: c.Subnet, ...(c.IPRange ? { IPRange: c.IPRange } : {}), ...(c.Gateway ? { Gateway: c.Gateway } : {}),
      ...(c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length ? { AuxiliaryAddresses: c.AuxiliaryAddresses } : {}),
    }));
    // Before API 1.44 dockerd makes a second network of a name unless CheckDuplicate is true (the
    // docker CLI sends true; docker-py and compose 1.x leave it out), and warns.
    const duplicate = call.version < 1.44 && body.CheckDuplicate !== true;
    const a = await admin();
    const net = await a.create({
      enableIPv6: body.EnableIPv6 === true, ipam6,
      name: String(body.Name ?? ''), subnet: ipam?.Subnet || undefined, gateway: ipam?.Gateway || undefined,
      ipRange: ipam?.IPRange || undefined, auxAddresses: ipam?.AuxiliaryAddresses ?? undefined, ipamOptions: ipamBody?.Options ?? null,
      internal: body.Internal === true, labels: (body.Labels as Record<string, string> | null) ?? {},
      options: (body.Options as Record<string, string> | null) ?? {},
    }, duplicate);
    engine.events.emit('network', 'create', net.Id, { name: net.Name, type: 'bridge' });
    const first = duplicate ? (await a.list()).find((n) => n.Name === net.Name && n.Id !== net.Id) : undefined;
    return { status: 201, body: { Id: net.Id, Warning: first ? `Network with name ${net.Name} (id : ${first.Id}) already exists` : '' } };
  });
  r.on('DELETE', '/networks/{id*}', async (call) => {
    const net = await (await admin()).remove(call.params.id);
    engine.events.emit('network', 'destroy', net.Id, { name: net.Name, type: 'bridge' });
    return { status: 204 };
  });
  r.on('POST', '/networks/{id*}/connect', async (call) => {
    const body = await readJson(call.req);
    const ep = (body.EndpointConfig ?? {}) as { Aliases?: string[]; IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null; Links?: string[] | null };
    await (await admin()).connect(call.params.id, String(body.Container ?? ''), {
      aliases: ep.Aliases ?? [], ip: ep.IPAMConfig?.IPv4Address || undefined, ip6: ep.IPAMConfig?.IPv6Address || undefined, links: ep.Links ?? undefined });
    return { status: 200 };
  });
  r.on('POST', '/networks/{id*}/disconnect', async (call) => {
    const body = await readJson(call.req);
    await (await admin()).disconnect(call.params.id, String(body.Container ?? ''));
    return { status: 200 };
  });
  r.on('POST', '/networks/prune', async () => ({ status: 200, body: { NetworksDeleted: await (await admin()).prune() } }));
}

/** GET /info's answer (docker's system.Info); `berth info` shows the same. */
export function info(engine: Engine) {
  const cs = engine.containers.list(true);
  const count = (s: string) => cs.filter((c) => c.state.Status === s).length;
  return {
    ID: engine.root.key, Containers: cs.length, ContainersRunning: count('running'), ContainersPaused: count('paused'), ContainersStopped: count('exited') + count('created'),
    Images: engine.images.records().length, Driver: 'overlay2', DriverStatus: engine.images.layers.status(), DockerRootDir: engine.root.dir,
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file'] },
    MemoryLimit: true, SwapLimit: true, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: false, PidsLimit: true, IPv4Forwarding: true,
    Debug: false, NFd: 0, OomKillDisable: false, NGoroutines: 0, SystemTime: new Date().toISOString(), LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs', CgroupVersion: String(engine.cgroups.version), NEventsListener: 0, KernelVersion: os.release(), OperatingSystem: osName(), OSVersion: '',
    OSType: 'linux', Architecture: os.machine(), IndexServerAddress: 'https://index.docker.io/v1/', RegistryConfig: {
      AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [], InsecureRegistryCIDRs: ['127.0.0.0/8'], Mirrors: [],
      IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
    },
    NCPU: os.availableParallelism(), MemTotal: os.totalmem(), Name: os.hostname(), Labels: [], ExperimentalBuild: false, ServerVersion: VERSION,
    Runtimes: { berth: { path: 'berth-shim' }, ...installedRuntimes() }, DefaultRuntime: 'berth', Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true, Isolation: '', InitBinary: 'docker-init', SecurityOptions: ['name=seccomp,profile=builtin', 'name=cgroupns'], Warnings: [],
    KernelMemory: false, KernelMemoryTCP: false, BridgeNfIptables: true, BridgeNfIp6tables: true, GenericResources: null,
    HttpProxy: process.env.HTTP_PROXY ?? '', HttpsProxy: process.env.HTTPS_PROXY ?? '', NoProxy: process.env.NO_PROXY ?? '',
    ContainerdCommit: { ID: '', Expected: '' }, RuncCommit: { ID: '', Expected: '' }, InitCommit: { ID: '', Expected: '' },
  };
}

export function version() {
  return {
    Platform: { Name: 'Berth' },
    Components: [{ Name: 'Engine', Version: VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: goArch(), KernelVersion: os.release(), GitCommit: '', GoVersion: `node${process.versions.node}`, BuildTime: '', Experimental: 'false' } }],
    Version: VERSION, ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: '', GoVersion: `node${process.versions.node}`,
    Os: 'linux', Arch: goArch(), KernelVersion: os.release(), BuildTime: '',
  };
}

function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
}

function osName(): string {
  try {
    const text = fs.readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

/** Other OCI runtimes on this machine that `--runtime` can name. */
function installedRuntimes(): Record<string, { path: string }> {
  const out: Record<string, { path: string }> = {};
  for (const name of ['runc', 'crun']) {
    try {
      out[name] = { path: runtimeCommand(name)[0] };
    } catch {}
  }
  return out;
}
