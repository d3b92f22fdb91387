// dockerd decodes request bodies with Go's encoding/json, which matches object keys to struct
// fields without regard to case: docker-py sends `CPURealtimePeriod` for `CpuRealtimePeriod`,
// others `detachKeys`. Berth reads fixed names, so a create body's keys are first given the
// names the API documents.

/** ContainerConfig's fields, and the create body's HostConfig and NetworkingConfig. */
const CONFIG = ['Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty',
  'OpenStdin', 'StdinOnce', 'Env', 'Cmd', 'Healthcheck', 'ArgsEscaped', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint',
  'NetworkDisabled', 'MacAddress', 'OnBuild', 'Labels', 'StopSignal', 'StopTimeout', 'Shell', 'HostConfig', 'NetworkingConfig'];

const HOST_CONFIG = ['Binds', 'ContainerIDFile', 'LogConfig', 'NetworkMode', 'PortBindings', 'RestartPolicy', 'AutoRemove',
  'VolumeDriver', 'VolumesFrom', 'Mounts', 'ConsoleSize', 'Annotations', 'CapAdd', 'CapDrop', 'CgroupnsMode', 'Dns',
  'DnsOptions', 'DnsSearch', 'ExtraHosts', 'GroupAdd', 'IpcMode', 'Cgroup', 'Links', 'OomScoreAdj', 'PidMode',
  'Privileged', 'PublishAllPorts', 'ReadonlyRootfs', 'SecurityOpt', 'StorageOpt', 'Tmpfs', 'UTSMode', 'UsernsMode',
  'ShmSize', 'Sysctls', 'Runtime', 'Isolation', 'MaskedPaths', 'ReadonlyPaths', 'CpuShares', 'Memory', 'CgroupParent',
  'BlkioWeight', 'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps',
  'BlkioDeviceWriteIOps', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems',
  'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'KernelMemory', 'KernelMemoryTCP', 'MemoryReservation', 'MemorySwap',
  'MemorySwappiness', 'NanoCpus', 'OomKillDisable', 'Init', 'PidsLimit', 'Ulimits', 'CpuCount', 'CpuPercent',
  'IOMaximumIOps', 'IOMaximumBandwidth'];

type Json = Record<string, unknown>;

const byFold = (names: string[]) => new Map(names.map((n) => [n.toLowerCase(), n]));
const CONFIG_FOLD = byFold(CONFIG);
const HOST_FOLD = byFold(HOST_CONFIG);

/** The object with each key that matches a field but for case renamed to the field (an exact key wins). Pure. */
export function foldKeys(obj: Json, fields: Map<string, string>): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) {
    const name = fields.get(k.toLowerCase()) ?? k;
    if (name === k || !(name in obj)) out[name] = v;
  }
  return out;
}

/** A container create body with Config's and HostConfig's keys in the API's spelling. */
export function canonicalCreateBody(body: Json): Json {
  const out = foldKeys(body, CONFIG_FOLD);
  const host = out.HostConfig;
  if (host && typeof host === 'object' && !Array.isArray(host)) out.HostConfig = foldKeys(host as Json, HOST_FOLD);
  return out;
}
