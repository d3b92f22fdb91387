// Docker's create body (Config + HostConfig) into the engine's create options, with moby's
// validation errors. Pure: unit-tested without a daemon.
import type { DeviceMapping, HostConfig, MountSpec } from '../core/container.ts';
import { invalid } from '../core/errors.ts';
import type { CreateOptions } from '../engine/containers.ts';
import { parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from '../engine/volumes.ts';
import { deviceMapping } from '../kernel/devices.ts';
import { parsePortKey, type PortBindings } from '../network/ports.ts';
import { checkCpuset } from '../kernel/cpuset.ts';

type Json = Record<string, unknown>;

/** The drivers dockerd has built in (berth has json-file, local and none of them). */
const DOCKER_LOG_DRIVERS = new Set(['json-file', 'local', 'none', 'syslog', 'journald', 'gelf', 'fluentd', 'awslogs', 'splunk', 'etwlogs', 'gcplogs', 'logentries']);

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const strList = (v: unknown, what: string): string[] | undefined => {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid(`${what} must be a list of strings`);
  return v as string[];
};
// Wrong JSON types are 400s with the field's name, as moby's decoder gives, never a TypeError here.
const list = (v: unknown, what: string): unknown[] => {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw invalid(`${what} must be a list`);
  return v;
};
const dict = <T = unknown>(v: unknown, what: string): Record<string, T> => {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`${what} must be an object`);
  return v as Record<string, T>;
};
const strDict = (v: unknown, what: string): Record<string, string> => {
  const d = dict(v, what);
  for (const [k, x] of Object.entries(d)) if (typeof x !== 'string') throw invalid(`${what}: the value of "${k}" must be a string`);
  return d as Record<string, string>;
};
const num = (v: unknown, what: string): number => {
  if (v === null || v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${what} must be a number`);
  return v;
};

/** Network modes berth has today; the docker CLI sends "default" unless told otherwise. */
/** HostConfig.PortBindings as docker sends it, checked here (the engine fills in empty host ports at start). */
/** HostConfig.Devices, checked as `--device` is (an empty container path is the host's). */
function devices(v: unknown): DeviceMapping[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw invalid('HostConfig.Devices must be a list');
  return v.map((d: Json) => {
    const host = str(d?.PathOnHost);
    if (!host) throw invalid('HostConfig.Devices: PathOnHost is required');
    return deviceMapping(host, str(d?.PathInContainer) || host, str(d?.CgroupPermissions) || 'rwm');
  });
}

function portBindings(v: unknown): PortBindings {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('HostConfig.PortBindings must be an object');
  const out: PortBindings = {};
  for (const [key, bindings] of Object.entries(v as Record<string, unknown>)) {
    const { port, proto } = parsePortKey(key);
    out[`${port}/${proto}`] = (list(bindings, `HostConfig.PortBindings["${key}"]`) as Json[]).map((b) => {
      const hostPort = str(b?.HostPort) ?? '';
      if (hostPort && !/^\d{1,5}$/.test(hostPort)) throw invalid(`invalid host port "${hostPort}" for ${key}`);
      return { HostIp: str(b?.HostIp) ?? '', HostPort: hostPort };
    });
  }
  return out;
}

function mounts(host: Json, config: Json): MountSpec[] {
  const out: MountSpec[] = [];
  for (const b of strList(host.Binds, 'HostConfig.Binds') ?? []) out.push(parseVolumeFlag(b));
  for (const m of list(host.Mounts, 'HostConfig.Mounts') as Json[]) {
    if (!m || typeof m !== 'object') throw invalid('HostConfig.Mounts entries must be objects');
    const fields = [`type=${str(m.Type) ?? 'volume'}`, `target=${str(m.Target) ?? ''}`];
    if (str(m.Source)) fields.push(`source=${m.Source}`);
    if (m.ReadOnly === true) fields.push('readonly');
    const bind = dict(m.BindOptions, 'BindOptions');
    if (str(bind.Propagation)) fields.push(`bind-propagation=${bind.Propagation}`);
    const t = dict(m.TmpfsOptions, 'TmpfsOptions');
    if (typeof t.SizeBytes === 'number' && t.SizeBytes > 0) fields.push(`tmpfs-size=${t.SizeBytes}`);
    if (typeof t.Mode === 'number') fields.push(`tmpfs-mode=${t.Mode.toString(8)}`);
    if (!str(m.Target)) throw invalid('invalid mount config: Target is required');
    out.push(parseMountFlag(fields.join(',')));
  }
  for (const [target, opts] of Object.entries(strDict(host.Tmpfs, 'HostConfig.Tmpfs'))) out.push(parseTmpfsFlag(opts ? `${target}:${opts}` : target));
  // Config.Volumes: the anonymous volumes of `-v /path` (and of the image's VOLUME).
  const taken = new Set(out.map((m) => m.Target));
  for (const target of Object.keys(dict(config.Volumes, 'Volumes'))) if (!taken.has(target)) out.push(parseVolumeFlag(target));
  return out;
}

function restartPolicy(v: unknown, autoRemove: boolean): HostConfig['RestartPolicy'] {
  const p = dict(v, 'HostConfig.RestartPolicy');
  const name = str(p.Name) ?? 'no';
  if (!['no', 'always', 'on-failure', 'unless-stopped'].includes(name)) throw invalid(`invalid restart policy '${name}'`);
  if (name !== 'no' && autoRemove) throw invalid('can\'t create \'AutoRemove\' container with restart policy');
  const max = num(p.MaximumRetryCount, 'RestartPolicy.MaximumRetryCount');
  if (max < 0) throw invalid('invalid value for RestartPolicy.MaximumRetryCount: must be positive');
  if (max > 0 && name !== 'on-failure') throw invalid(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  return { Name: name as 'no', MaximumRetryCount: max };
}

export function createOptions(body: Json, name: string | null): CreateOptions {
  const host = (body.HostConfig ?? {}) as Json;
  if (typeof host !== 'object' || Array.isArray(host)) throw invalid('HostConfig must be an object');
  const image = str(body.Image);
  if (!image) throw invalid('No image specified');
  // PID, IPC and UTS modes (host, container:NAME) are checked by the engine (namespaces.ts).
  checkCpuset(str(host.CpusetCpus), 'cpus');
  checkCpuset(str(host.CpusetMems), 'mems');
  const shares = num(host.CpuShares, 'CpuShares');
  if (shares < 0) throw invalid('invalid CPU shares: must be a positive number');
  const memory = num(host.Memory, 'Memory');
  if (memory < 0) throw invalid('invalid Memory: must be positive');
  if (memory > 0 && memory < 6 * 1024 * 1024) throw invalid('Minimum memory limit allowed is 6MB');
  const memorySwap = num(host.MemorySwap, 'MemorySwap');
  if (memorySwap > 0 && memory === 0) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage.');
  if (memorySwap > 0 && memorySwap < memory) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage.');
  // --cpus, or --cpu-period/--cpu-quota as given (inspect shows NanoCpus 0 for the latter, as
  // dockerd); the engine checks them together.
  const nanoCpus = num(host.NanoCpus, 'NanoCpus');
  const quota = num(host.CpuQuota, 'CpuQuota');
  const period = num(host.CpuPeriod, 'CpuPeriod');
  const pids = host.PidsLimit === null || host.PidsLimit === undefined ? 0 : num(host.PidsLimit, 'PidsLimit');
  const autoRemove = host.AutoRemove === true;
  const entrypoint = body.Entrypoint === null || body.Entrypoint === undefined ? undefined : strList(body.Entrypoint, 'Entrypoint');
  // Fields a client sent as null (python's SDK) are absent, as docker keeps them.
  const health = body.Healthcheck && typeof body.Healthcheck === 'object'
    ? (Object.fromEntries(Object.entries(body.Healthcheck).filter(([, v]) => v !== null && v !== undefined)) as CreateOptions['healthcheck'])
    : undefined;
  const log = dict(host.LogConfig, 'HostConfig.LogConfig');
  const logType = str(log.Type) ?? 'json-file';
  if (logType !== 'json-file' && logType !== 'local' && logType !== 'none') {
    // dockerd looks a driver it does not have up as a plugin; berth has no plugins.
    if (!DOCKER_LOG_DRIVERS.has(logType)) throw invalid(`error looking up logging plugin ${logType}: plugin "${logType}" not found`);
    throw invalid(`logging driver "${logType}" is not supported: berth has json-file, local and none`);
  }
  // The endpoint of the container's network (docker's NetworkingConfig.EndpointsConfig[mode]).
  const endpoints = dict<Json>(dict(body.NetworkingConfig, 'NetworkingConfig').EndpointsConfig, 'NetworkingConfig.EndpointsConfig');
  const ep = endpoints[str(host.NetworkMode) ?? ''] ?? Object.values(endpoints)[0];
  // Config.MacAddress: where clients before API 1.44 (python's SDK) put it, with or without an endpoint.
  const endpoint = ep
    ? {
      Aliases: strList(ep.Aliases, 'Aliases') ?? [], IPv4Address: str((ep.IPAMConfig as Json | null)?.IPv4Address) || undefined,
      IPv6Address: str((ep.IPAMConfig as Json | null)?.IPv6Address) || undefined, MacAddress: str(ep.MacAddress) || str(body.MacAddress) || undefined,
      DriverOpts: ep.DriverOpts ? dict<string>(ep.DriverOpts, 'DriverOpts') : undefined,
      LinkLocalIPs: strList((ep.IPAMConfig as Json | null)?.LinkLocalIPs, 'LinkLocalIPs') ?? undefined, Links: strList(ep.Links, 'Links') ?? undefined,
    }
    : str(body.MacAddress) ? { Aliases: [], MacAddress: str(body.MacAddress) } : undefined;
  const consoleSize = Array.isArray(host.ConsoleSize) && host.ConsoleSize.length === 2 ? (host.ConsoleSize as [number, number]) : undefined;
  return {
    image,
    cmd: strList(body.Cmd, 'Cmd') ?? [],
    entrypoint,
    env: strList(body.Env, 'Env') ?? [],
    resolveEnv: false, // the client looked up `-e KEY` already; the daemon's environment is not the user's
    workdir: str(body.WorkingDir),
    user: str(body.User),
    hostname: str(body.Hostname),
    name: name ?? undefined,
    stopSignal: str(body.StopSignal),
    tty: body.Tty === true,
    openStdin: body.OpenStdin === true,
    stdinOnce: body.StdinOnce === true,
    labels: strDict(body.Labels, 'Labels'),
    healthcheck: health && (health.Test?.length || health.Interval || health.Timeout || health.Retries || health.StartPeriod) ? health : undefined,
    host: {
      AutoRemove: autoRemove,
      Memory: memory,
      MemorySwap: memorySwap,
      NanoCpus: nanoCpus,
      CpuShares: shares,
      PidsLimit: pids,
      CapAdd: strList(host.CapAdd, 'CapAdd') ?? null,
      CapDrop: strList(host.CapDrop, 'CapDrop') ?? null,
      Privileged: host.Privileged === true,
      Runtime: typeof host.Runtime === 'string' ? host.Runtime : undefined,
      ...(host.Isolation ? { Isolation: isolation(host.Isolation) } : {}),
      ...(typeof host.VolumeDriver === 'string' && host.VolumeDriver ? { VolumeDriver: host.VolumeDriver } : {}),
      ReadonlyRootfs: host.ReadonlyRootfs === true,
      SecurityOpt: strList(host.SecurityOpt, 'SecurityOpt') ?? null,
      RestartPolicy: restartPolicy(host.RestartPolicy, autoRemove),
      Ulimits: list(host.Ulimits, 'HostConfig.Ulimits') as HostConfig['Ulimits'],
      OomScoreAdj: host.OomScoreAdj ? num(host.OomScoreAdj, 'OomScoreAdj') : undefined,
      Sysctls: strDict(host.Sysctls, 'HostConfig.Sysctls'),
      GroupAdd: strList(host.GroupAdd, 'GroupAdd') ?? [],
      Devices: devices(host.Devices),
      UsernsMode: str(host.UsernsMode) ?? '',
      DeviceCgroupRules: strList(host.DeviceCgroupRules, 'DeviceCgroupRules') ?? [],
      LogConfig: { Type: logType, Config: strDict(log.Config, 'HostConfig.LogConfig.Config') },
      Mounts: mounts(host, body),
      ...(consoleSize && consoleSize[0] > 0 && consoleSize[1] > 0 ? { ConsoleSize: consoleSize } : {}),
      NetworkMode: str(host.NetworkMode) ?? 'default',
      PortBindings: portBindings(host.PortBindings),
      PublishAllPorts: host.PublishAllPorts === true,
      Dns: strList(host.Dns, 'Dns') ?? [],
      DnsSearch: strList(host.DnsSearch, 'DnsSearch') ?? [],
      DnsOptions: strList(host.DnsOptions, 'DnsOptions') ?? [],
      ExtraHosts: strList(host.ExtraHosts, 'ExtraHosts') ?? [],
      ...(str(host.CgroupParent) ? { CgroupParent: str(host.CgroupParent) } : {}),
      ...(Array.isArray(host.MaskedPaths) ? { MaskedPaths: strList(host.MaskedPaths, 'HostConfig.MaskedPaths') } : {}),
      ...(Array.isArray(host.ReadonlyPaths) ? { ReadonlyPaths: strList(host.ReadonlyPaths, 'HostConfig.ReadonlyPaths') } : {}),
      PidMode: str(host.PidMode) ?? '',
      IpcMode: str(host.IpcMode) ?? '',
      UTSMode: str(host.UTSMode) ?? '',
      Binds: strList(host.Binds, 'HostConfig.Binds') ?? null,
      ...(host.Tmpfs && typeof host.Tmpfs === 'object' ? { Tmpfs: host.Tmpfs as Record<string, string> } : {}),
      ...(quota ? { CpuQuota: quota } : {}),
      ...(period ? { CpuPeriod: period } : {}),
      ...(str(host.CpusetCpus) ? { CpusetCpus: str(host.CpusetCpus) } : {}),
      ...(str(host.CpusetMems) ? { CpusetMems: str(host.CpusetMems) } : {}),
      ...resourceFields(host),
      Init: typeof host.Init === 'boolean' ? host.Init : null,
      Links: strList(host.Links, 'HostConfig.Links') ?? null,
      VolumesFrom: strList(host.VolumesFrom, 'HostConfig.VolumesFrom') ?? null,
    },
    expose: Object.keys(dict(body.ExposedPorts, 'ExposedPorts')),
    ...(typeof body.StopTimeout === 'number' ? { stopTimeout: body.StopTimeout } : {}),
    ...(endpoint ? { endpoint } : {}),
  };
}

/** docker's block I/O, memory and realtime fields as given (checked as the CLI checks them). */
function resourceFields(host: Record<string, unknown>): Partial<HostConfig> {
  const out: Partial<HostConfig> = {};
  const list = <T>(k: string) => (Array.isArray(host[k]) && (host[k] as unknown[]).length ? (host[k] as T[]) : undefined);
  const n = (k: string) => (typeof host[k] === 'number' && host[k] !== 0 ? (host[k] as number) : undefined);
  if (n('BlkioWeight')) {
    if (n('BlkioWeight')! < 10 || n('BlkioWeight')! > 1000) throw invalid('Range of blkio weight is from 10 to 1000');
    out.BlkioWeight = n('BlkioWeight');
  }
  out.BlkioWeightDevice = list<{ Path: string; Weight: number }>('BlkioWeightDevice');
  for (const k of ['BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps'] as const) out[k] = list<{ Path: string; Rate: number }>(k);
  if (n('MemoryReservation')) out.MemoryReservation = n('MemoryReservation');
  if (typeof host.MemorySwappiness === 'number' && host.MemorySwappiness >= 0) {
    if (host.MemorySwappiness > 100) throw invalid(`Invalid value: ${host.MemorySwappiness}, valid memory swappiness range is 0-100`);
    out.MemorySwappiness = host.MemorySwappiness;
  }
  if (host.OomKillDisable === true) out.OomKillDisable = true;
  if (n('CpuRealtimeRuntime')) out.CpuRealtimeRuntime = n('CpuRealtimeRuntime');
  if (n('CpuRealtimePeriod')) out.CpuRealtimePeriod = n('CpuRealtimePeriod');
  if (n('ShmSize')) out.ShmSize = n('ShmSize');
  for (const k of Object.keys(out) as Array<keyof HostConfig>) if (out[k] === undefined) delete out[k];
  return out;
}

/** dockerd's rule on Linux: the isolation is `default` or none. */
function isolation(v: unknown): string {
  if (v !== 'default') throw invalid(`Invalid isolation: "${String(v)}" - linux only supports 'default'`);
  return v;
}
