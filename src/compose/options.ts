// A canonical service into the engine's create options: every attribute either becomes an
// option, or is reported (a warning when berth runs the service without it and the difference
// is cosmetic or advisory, an error when the service could not run as written). Pure: the
// caller supplies names of other containers and where secrets' contents live.
import type { HostConfig, MountSpec } from '../core/container.ts';
import { invalid } from '../core/errors.ts';
import { parseBytes, parseCpus, parseDuration, parseMemory } from '../core/units.ts';
import type { CreateOptions } from '../engine/containers.ts';
import { parseTmpfsFlag } from '../engine/volumes.ts';
import { deviceMapping } from '../kernel/devices.ts';
import type { FileReference, Project, Service } from './types.ts';

/** Attributes berth cannot honour but that do not change what the service does: warned about. */
const ADVISORY: Record<string, string> = {
  links: 'services find each other by name on the project network anyway',
  external_links: 'not supported',
  cpu_count: 'Windows only', cpu_percent: 'Windows only',
  domainname: 'not supported',
  storage_opt: 'not supported',
  credential_spec: 'Windows only',
  isolation: 'Windows only',
  annotations: 'not supported',
  attach: 'not supported',
  label_file: 'not supported',
  post_start: 'lifecycle hooks are not supported', pre_stop: 'lifecycle hooks are not supported',
  gpus: 'GPUs are not supported',
  models: 'not supported', provider: 'not supported', use_api_socket: 'not supported',
  pull_refresh_after: 'not supported',
};

/** Attributes whose absence would change what runs: refused before anything is created. */
function refuse(name: string, s: Service): void {
  const no = (what: string) => invalid(`service "${name}": ${what} is not supported by berth`);
  if (s.uts !== undefined && s.uts !== '' && s.uts !== 'host') throw no(`uts: ${s.uts}`);
  if (s.cgroup !== undefined && s.cgroup !== 'private') throw no(`cgroup: ${s.cgroup}`);
  if (s.userns_mode !== undefined && !['', 'host'].includes(s.userns_mode as string)) throw no(`userns_mode: ${s.userns_mode}`);
  const logging = s.logging as { driver?: string } | undefined;
  if (logging?.driver && !['json-file', 'local', 'none'].includes(logging.driver)) throw no(`the logging driver "${logging.driver}" (json-file, local and none are)`);
  for (const v of s.volumes ?? []) if (!['bind', 'volume', 'tmpfs'].includes(v.type)) throw no(`a volume of type ${v.type}`);
  for (const p of s.ports ?? []) if (p.published?.includes('-')) throw no(`the published port range ${p.published} for one container port (${p.target})`);
  for (const v of s.volumes ?? []) if (v.volume?.subpath) throw no(`volume subpath (${v.target})`);
}

export function warnings(name: string, s: Service): string[] {
  const out: string[] = [];
  for (const [k, why] of Object.entries(ADVISORY)) if (s[k] !== undefined && s[k] !== false) out.push(`service "${name}": ${k} is ignored: ${why}`);
  for (const k of ['placement', 'update_config', 'rollback_config', 'labels', 'endpoint_mode']) if (s.deploy?.[k] !== undefined) out.push(`service "${name}": deploy.${k} is ignored (swarm only)`);
  if (s.deploy?.resources?.limits?.devices) out.push(`service "${name}": deploy.resources.limits.devices are ignored (not supported)`);
  if (s.healthcheck?.start_interval) out.push(`service "${name}": healthcheck.start_interval is ignored (checks run at the interval from the start)`);
  for (const v of s.volumes ?? []) {
    if (v.bind?.selinux) out.push(`service "${name}": volume ${v.target}: SELinux relabelling (:${v.bind.selinux}) is ignored`);
    if (v.bind?.create_host_path === false) out.push(`service "${name}": volume ${v.target}: create_host_path: false is ignored (a missing source directory is created)`);
    if (v.volume?.nocopy) out.push(`service "${name}": volume ${v.target}: nocopy is ignored`);
  }
  for (const [net, n] of Object.entries(s.networks ?? {})) {
    for (const k of ['link_local_ips', 'interface_name', 'priority', 'gw_priority', 'driver_opts'] as const) if ((n as Record<string, unknown> | null)?.[k] !== undefined) out.push(`service "${name}": networks.${net}.${k} is ignored (not supported)`);
  }
  const mode = s.network_mode ?? '';
  if (s.ports?.length && (mode === 'host' || mode === 'none' || mode.startsWith('service:') || mode.startsWith('container:'))) out.push(`service "${name}": ports are not published with network_mode ${mode}`);
  const res = s.deploy?.resources?.reservations as Record<string, unknown> | undefined;
  for (const k of Object.keys(res ?? {})) if (k !== 'memory') out.push(`service "${name}": deploy.resources.reservations.${k} is ignored (only memory is, as a soft limit)`);
  return out;
}

const ns = (d: unknown, what: string): number | undefined => {
  if (d === undefined || d === null || d === '') return undefined;
  try {
    return parseDuration(String(d));
  } catch {
    throw invalid(`${what}: invalid duration "${d}"`);
  }
};

/** docker compose's restart values, or deploy.restart_policy's. */
function restart(s: Service): HostConfig['RestartPolicy'] {
  const r = (s.restart as string | undefined) ?? '';
  const m = /^(no|always|unless-stopped|on-failure)(?::(\d+))?$/.exec(r);
  if (r && !m) throw invalid(`invalid restart policy "${r}"`);
  if (m) return { Name: m[1] as 'no', MaximumRetryCount: Number(m[2] ?? 0) };
  const rp = s.deploy?.restart_policy as { condition?: string; max_attempts?: number } | undefined;
  if (rp?.condition === 'any') return { Name: 'always', MaximumRetryCount: 0 };
  if (rp?.condition === 'on-failure') return { Name: 'on-failure', MaximumRetryCount: Number(rp.max_attempts ?? 0) };
  return { Name: 'no', MaximumRetryCount: 0 };
}

function bytesOf(v: unknown, what: string, memory = false): number {
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'number') return v;
  try {
    return memory ? parseMemory(String(v)) : parseBytes(String(v));
  } catch (err) {
    throw invalid(`${what}: ${(err as Error).message}`);
  }
}

export interface Naming {
  /** A service's container (network_mode: service:x) as the engine knows it. */
  containerOf(service: string): string;
  /** Where a secret's or config's content lives on the host (a file berth wrote, or the file). */
  fileOf(kind: 'secret' | 'config', name: string, ref: FileReference): string;
}

/** The create options of one container of a service (number `n`); labels come from the caller. */
export function createOptions(project: Project, name: string, s: Service, containerName: string, labels: Record<string, string>, naming: Naming): CreateOptions {
  refuse(name, s);
  const where = `service "${name}"`;
  const limits = (s.deploy?.resources?.limits ?? {}) as { cpus?: string | number; memory?: string; pids?: number | string };

  const mounts: MountSpec[] = [];
  for (const v of s.volumes ?? []) {
    if (v.type === 'tmpfs') {
      const data = [v.tmpfs?.size !== undefined ? `size=${v.tmpfs.size}` : '', v.tmpfs?.mode !== undefined ? `mode=${Number(v.tmpfs.mode).toString(8)}` : ''].filter(Boolean).join(',');
      mounts.push({ Type: 'tmpfs', Source: '', Target: v.target, ReadOnly: v.read_only === true, TmpfsOptions: data });
    } else if (v.type === 'bind') mounts.push({ Type: 'bind', Source: v.source!, Target: v.target, ReadOnly: v.read_only === true, ...(v.bind?.propagation ? { Propagation: v.bind.propagation } : {}) });
    else if (v.source) mounts.push({ Type: 'volume', Source: project.volumes[v.source].name, Target: v.target, ReadOnly: v.read_only === true });
    else mounts.push({ Type: 'volume', Source: '', Target: v.target, ReadOnly: v.read_only === true, Anonymous: true });
  }
  for (const t of (s.tmpfs as string[] | undefined) ?? []) mounts.push(parseTmpfsFlag(t));
  for (const [kind, refs] of [['secret', s.secrets], ['config', s.configs]] as const) {
    for (const r of refs ?? []) {
      const target = r.target ? (r.target.startsWith('/') ? r.target : kind === 'secret' ? `/run/secrets/${r.target}` : `/${r.target}`) : kind === 'secret' ? `/run/secrets/${r.source}` : `/${r.source}`;
      mounts.push({ Type: 'bind', Source: naming.fileOf(kind, r.source, r), Target: target, ReadOnly: true });
    }
  }

  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of s.ports ?? []) (bindings[`${p.target}/${p.protocol}`] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: p.published ?? '' });

  const netNames = Object.keys(s.networks ?? {});
  let networkMode = s.network_mode;
  if (networkMode?.startsWith('service:')) networkMode = `container:${naming.containerOf(networkMode.slice(8))}`;
  const first = netNames[0];
  const firstNet = first ? s.networks![first] : null;
  if (!networkMode) networkMode = first ? project.networks[first].name : 'none';

  const hc = s.healthcheck;
  const healthcheck = hc?.disable
    ? { Test: ['NONE'] }
    : hc
      ? {
          ...(hc.test ? { Test: hc.test } : {}),
          ...(hc.interval ? { Interval: ns(hc.interval, `${where}: healthcheck.interval`) } : {}),
          ...(hc.timeout ? { Timeout: ns(hc.timeout, `${where}: healthcheck.timeout`) } : {}),
          ...(hc.retries !== undefined ? { Retries: hc.retries } : {}),
          ...(hc.start_period ? { StartPeriod: ns(hc.start_period, `${where}: healthcheck.start_period`) } : {}),
        }
      : undefined;

  const logging = s.logging as { driver?: string; options?: Record<string, unknown> } | undefined;
  const memory = bytesOf(s.mem_limit ?? limits.memory, `${where}: memory limit`, true);
  const cpus = s.cpus ?? limits.cpus;
  let nanoCpus = cpus !== undefined && cpus !== '' ? parseCpus(String(cpus)) * 1e4 : 0;
  if (!nanoCpus && s.cpu_quota !== undefined) nanoCpus = Math.round((Number(s.cpu_quota) / Number(s.cpu_period ?? 100000)) * 1e9);
  const envList = Object.entries(s.environment ?? {}).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`);

  return {
    image: s.image ?? `${project.name}-${name}`,
    cmd: s.command ?? [],
    entrypoint: s.entrypoint === null ? undefined : s.entrypoint,
    env: envList,
    workdir: s.working_dir as string | undefined,
    user: s.user as string | undefined,
    hostname: s.hostname as string | undefined,
    name: containerName,
    stopSignal: s.stop_signal as string | undefined,
    // As compose v2: the container keeps its grace period, so any stop of it (an orphan's too) waits that long.
    ...(s.stop_grace_period !== undefined ? { stopTimeout: stopTimeout(s) } : {}),
    tty: s.tty === true,
    openStdin: s.stdin_open === true,
    labels: { ...(s.labels ?? {}), ...labels },
    healthcheck,
    expose: [...Object.keys(bindings), ...(s.expose ?? []).map((e) => (e.includes('/') ? e : `${e}/tcp`))],
    endpoint: firstNet || first ? { Aliases: [name, ...(firstNet?.aliases ?? [])], IPv4Address: firstNet?.ipv4_address, ...(firstNet?.ipv6_address ? { IPv6Address: firstNet.ipv6_address } : {}), MacAddress: (firstNet?.mac_address ?? s.mac_address) as string | undefined } : undefined,
    host: {
      Memory: memory,
      MemorySwap: s.memswap_limit === -1 || s.memswap_limit === '-1' ? -1 : bytesOf(s.memswap_limit, `${where}: memswap_limit`),
      NanoCpus: nanoCpus,
      CpuShares: s.cpu_shares !== undefined ? Number(s.cpu_shares) : 0,
      PidsLimit: s.pids_limit !== undefined ? Number(s.pids_limit) : limits.pids !== undefined ? Number(limits.pids) : 0,
      CapAdd: (s.cap_add as string[] | undefined) ?? null,
      CapDrop: (s.cap_drop as string[] | undefined) ?? null,
      Privileged: s.privileged === true,
      ReadonlyRootfs: s.read_only === true,
      SecurityOpt: (s.security_opt as string[] | undefined) ?? null,
      RestartPolicy: restart(s),
      Ulimits: Object.entries((s.ulimits as Record<string, { soft: number; hard: number }> | undefined) ?? {}).map(([n, u]) => ({ Name: n, Soft: u.soft, Hard: u.hard })),
      OomScoreAdj: s.oom_score_adj !== undefined ? Number(s.oom_score_adj) : undefined,
      Sysctls: (s.sysctls as Record<string, string> | undefined) ?? {},
      GroupAdd: ((s.group_add as unknown[] | undefined) ?? []).map(String),
      Devices: ((s.devices as Array<{ source: string; target: string; permissions: string }> | undefined) ?? []).map((d) => deviceMapping(d.source, d.target ?? d.source, d.permissions ?? 'rwm')),
      DeviceCgroupRules: (s.device_cgroup_rules as string[] | undefined) ?? [],
      UsernsMode: (s.userns_mode as string | undefined) ?? '',
      NetworkMode: networkMode,
      PortBindings: bindings,
      Dns: (s.dns as string[] | undefined) ?? [],
      DnsSearch: (s.dns_search as string[] | undefined) ?? [],
      DnsOptions: (s.dns_opt as string[] | undefined) ?? [],
      ExtraHosts: (s.extra_hosts as string[] | undefined) ?? [],
      LogConfig: { Type: (logging?.driver ?? 'json-file') as 'json-file' | 'local' | 'none', Config: Object.fromEntries(Object.entries(logging?.options ?? {}).map(([k, v]) => [k, String(v)])) },
      ...engineHost(s, where, naming),
      ...(s.runtime ? { Runtime: s.runtime as string } : {}),
      Mounts: mounts,
    },
  };
}

/** A `service:x` reference of pid, ipc or volumes_from as the engine names that container. */
function serviceRef(v: string, naming: Naming): string {
  return v.startsWith('service:') ? `container:${naming.containerOf(v.slice(8))}` : v;
}

/**
 * The attributes the engine has docker's options for: init, /dev/shm, the namespaces shared with
 * the host or another service, volumes_from, the softer memory and CPU settings, block I/O and
 * the cgroup parent (compose v2 passes each to the engine as docker run's flags would).
 */
function engineHost(s: Service, where: string, naming: Naming): Partial<HostConfig> {
  const h: Partial<HostConfig> = {};
  if (s.init === true) h.Init = true;
  if (s.shm_size !== undefined) h.ShmSize = bytesOf(s.shm_size, `${where}: shm_size`);
  if (s.pid) h.PidMode = serviceRef(String(s.pid), naming);
  if (s.ipc) h.IpcMode = serviceRef(String(s.ipc), naming);
  if (s.uts) h.UTSMode = String(s.uts);
  const from = (s.volumes_from as string[] | undefined) ?? [];
  // "svc", "svc:ro", "container:name", "container:name:rw".
  if (from.length) h.VolumesFrom = from.map((v) => (v.startsWith('container:') ? v.slice(10) : `${naming.containerOf(v.split(':')[0])}${v.includes(':') ? v.slice(v.indexOf(':')) : ''}`));
  const reservation = (s.deploy?.resources?.reservations as { memory?: string } | undefined)?.memory;
  if (s.mem_reservation !== undefined || reservation !== undefined) h.MemoryReservation = bytesOf(s.mem_reservation ?? reservation, `${where}: memory reservation`, true);
  if (s.mem_swappiness !== undefined) h.MemorySwappiness = Number(s.mem_swappiness);
  if (s.oom_kill_disable !== undefined) h.OomKillDisable = s.oom_kill_disable === true;
  if (s.cpuset !== undefined) h.CpusetCpus = String(s.cpuset);
  // Microseconds: a plain number is that, a duration ("400ms") is converted.
  const micros = (v: unknown, what: string) => (/^\d+$/.test(String(v)) ? Number(v) : Math.round((ns(v, `${where}: ${what}`) ?? 0) / 1000));
  if (s.cpu_rt_runtime !== undefined) h.CpuRealtimeRuntime = micros(s.cpu_rt_runtime, 'cpu_rt_runtime');
  if (s.cpu_rt_period !== undefined) h.CpuRealtimePeriod = micros(s.cpu_rt_period, 'cpu_rt_period');
  if (s.cgroup_parent) h.CgroupParent = String(s.cgroup_parent);
  const b = s.blkio_config as { weight?: number; weight_device?: Array<{ path: string; weight: number }>; device_read_bps?: Rate[]; device_write_bps?: Rate[]; device_read_iops?: Rate[]; device_write_iops?: Rate[] } | undefined;
  if (b) {
    const rates = (l: Rate[] | undefined, bytes: boolean) => (l ?? []).map((r) => ({ Path: r.path, Rate: bytes ? bytesOf(r.rate, `${where}: blkio_config rate`) : Number(r.rate) }));
    if (b.weight !== undefined) h.BlkioWeight = Number(b.weight);
    if (b.weight_device) h.BlkioWeightDevice = b.weight_device.map((w) => ({ Path: w.path, Weight: Number(w.weight) }));
    if (b.device_read_bps) h.BlkioDeviceReadBps = rates(b.device_read_bps, true);
    if (b.device_write_bps) h.BlkioDeviceWriteBps = rates(b.device_write_bps, true);
    if (b.device_read_iops) h.BlkioDeviceReadIOps = rates(b.device_read_iops, false);
    if (b.device_write_iops) h.BlkioDeviceWriteIOps = rates(b.device_write_iops, false);
  }
  return h;
}

type Rate = { path: string; rate: number | string };

/** The further networks of a service (beyond the one it is created on), for the engine's endpoints. */
export function extraEndpoints(project: Project, name: string, s: Service): Record<string, { Aliases: string[]; IPv4Address?: string; IPv6Address?: string; MacAddress?: string }> {
  const out: Record<string, { Aliases: string[]; IPv4Address?: string; IPv6Address?: string; MacAddress?: string }> = {};
  for (const [key, n] of Object.entries(s.networks ?? {}).slice(1)) {
    out[project.networks[key].name] = { Aliases: [name, ...(n?.aliases ?? [])], ...(n?.ipv4_address ? { IPv4Address: n.ipv4_address } : {}), ...(n?.ipv6_address ? { IPv6Address: n.ipv6_address } : {}), ...(n?.mac_address ? { MacAddress: n.mac_address } : {}) };
  }
  return out;
}

/** stop_grace_period in seconds (the engine's stop timeout), 10 when not given. */
export function stopTimeout(s: Service | undefined): number {
  const d = ns(s?.stop_grace_period, 'stop_grace_period');
  return d === undefined ? 10 : Math.ceil(d / 1e9);
}

/** What top-level networks and volumes ask for that berth does not do: warned about. */
export function resourceWarnings(p: Project, networks: string[], volumes: string[]): string[] {
  const out: string[] = [];
  for (const key of networks) {
    const n = p.networks[key];
    if (n.external) continue;
    for (const k of ['driver_opts', 'attachable', 'enable_ipv4']) if (n[k] !== undefined) out.push(`network "${key}": ${k} is ignored (not supported)`);
    if (n.ipam?.driver && n.ipam.driver !== 'default') out.push(`network "${key}": ipam driver "${n.ipam.driver}" is ignored (only the default)`);
    if ((n.ipam?.config ?? []).filter((c) => !c.subnet?.includes(':')).length > 1) out.push(`network "${key}": only the first IPv4 ipam config is used`);
  }
  for (const key of volumes) {
    const v = p.volumes[key];
    if (!v.external && v.driver_opts !== undefined) out.push(`volume "${key}": driver_opts are ignored (local volumes are plain directories)`);
  }
  return out;
}
