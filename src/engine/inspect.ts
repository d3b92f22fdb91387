// docker's container inspect shape, so scripts written for `docker inspect` keep working:
// every field clients read is present, `{}`/`[]` where docker gives them, never a missing key.
import { MASKED_PATHS, READONLY_PATHS } from '../runtime/plan.ts';
import { portsView } from '../network/ports.ts';
import type { Container, NetworkView } from './container/types.ts';
import { mountPoints } from './summary.ts';

export function inspectContainer(c: Container, paths: { dir: string; log: string; layers: string[]; volumePath: (name: string) => string; restarts: number; health?: object; network?: NetworkView }): object {
  const { record: r, state: s } = c;
  const mode = r.HostConfig.NetworkMode ?? 'none';
  const net = paths.network;
  const empty = { IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null };
  // docker lists the container's networks even when it is stopped (with empty addresses).
  const names = r.Endpoints ? Object.keys(r.Endpoints) : mode.startsWith('container:') || mode.startsWith('ns:') ? [] : [mode];
  const networks = Object.fromEntries(names.map((n) => {
    const live = net?.Networks[n];
    const spec = r.Endpoints?.[n];
    const ipam = { ...(spec?.IPv4Address ? { IPv4Address: spec.IPv4Address } : {}), ...(spec?.IPv6Address ? { IPv6Address: spec.IPv6Address } : {}), ...(spec?.LinkLocalIPs ? { LinkLocalIPs: spec.LinkLocalIPs } : {}) };
    return [n, { ...empty, ...live, IPAMConfig: Object.keys(ipam).length ? ipam : null, Aliases: live?.Aliases ?? spec?.Aliases ?? null, Links: spec?.Links ?? null, DriverOpts: spec?.DriverOpts ?? null }];
  }));
  const primary = net ? Object.values(net.Networks)[0] : undefined;
  const cmd = [...(r.Config.Entrypoint ?? []), ...r.Config.Cmd];
  const running = s.Status === 'running' || s.Status === 'paused';
  return {
    Id: r.Id,
    Created: r.Created,
    Path: cmd[0] ?? '',
    Args: cmd.slice(1),
    State: {
      Status: s.Status,
      Running: running || s.Status === 'restarting', // docker: a restarting container is still running
      Paused: s.Status === 'paused',
      Restarting: s.Status === 'restarting',
      OOMKilled: s.OOMKilled,
      Dead: s.Status === 'dead',
      Pid: running ? s.Pid : 0,
      ExitCode: s.ExitCode,
      Error: s.Error,
      StartedAt: s.StartedAt,
      FinishedAt: s.FinishedAt,
      ...(paths.health && s.Status !== 'created' ? { Health: paths.health } : {}),
    },
    Image: r.Image,
    ResolvConfPath: `${paths.dir}/resolv.conf`,
    HostnamePath: `${paths.dir}/hostname`,
    HostsPath: `${paths.dir}/hosts`,
    LogPath: paths.log,
    Name: `/${r.Name}`,
    RestartCount: paths.restarts,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      Binds: r.HostConfig.Binds?.length ? r.HostConfig.Binds : null,
      ContainerIDFile: '',
      LogConfig: r.HostConfig.LogConfig ?? { Type: 'json-file', Config: {} },
      NetworkMode: mode,
      PortBindings: r.HostConfig.PortBindings ?? {},
      PublishAllPorts: r.HostConfig.PublishAllPorts === true,
      Dns: r.HostConfig.Dns ?? [],
      DnsSearch: r.HostConfig.DnsSearch ?? [],
      DnsOptions: r.HostConfig.DnsOptions ?? [],
      ExtraHosts: r.HostConfig.ExtraHosts?.length ? r.HostConfig.ExtraHosts : null,
      RestartPolicy: r.HostConfig.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: r.HostConfig.AutoRemove,
      VolumeDriver: r.HostConfig.VolumeDriver ?? '',
      VolumesFrom: r.HostConfig.VolumesFrom?.length ? r.HostConfig.VolumesFrom : null,
      ConsoleSize: r.HostConfig.ConsoleSize ?? [0, 0],
      CapAdd: r.HostConfig.CapAdd,
      CapDrop: r.HostConfig.CapDrop,
      CgroupnsMode: 'private',
      GroupAdd: r.HostConfig.GroupAdd?.length ? r.HostConfig.GroupAdd : null,
      IpcMode: r.HostConfig.IpcMode || 'private',
      Cgroup: '',
      Links: r.HostConfig.Links?.length ? r.HostConfig.Links : null,
      OomScoreAdj: r.HostConfig.OomScoreAdj ?? 0,
      PidMode: r.HostConfig.PidMode ?? '',
      Privileged: r.HostConfig.Privileged,
      ReadonlyRootfs: r.HostConfig.ReadonlyRootfs,
      SecurityOpt: r.HostConfig.SecurityOpt,
      UTSMode: r.HostConfig.UTSMode ?? '',
      UsernsMode: r.HostConfig.UsernsMode ?? '',
      ShmSize: r.HostConfig.ShmSize || 67108864,
      // dockerd's default runtime's name, which clients compare with; berth's own shim runs it.
      Runtime: r.HostConfig.Runtime ?? 'runc',
      Isolation: r.HostConfig.Isolation ?? '',
      CpuShares: r.HostConfig.CpuShares,
      Memory: r.HostConfig.Memory,
      NanoCpus: r.HostConfig.NanoCpus,
      CgroupParent: r.HostConfig.CgroupParent ?? '',
      BlkioWeight: r.HostConfig.BlkioWeight ?? 0,
      BlkioWeightDevice: r.HostConfig.BlkioWeightDevice ?? [],
      BlkioDeviceReadBps: r.HostConfig.BlkioDeviceReadBps ?? [],
      BlkioDeviceWriteBps: r.HostConfig.BlkioDeviceWriteBps ?? [],
      BlkioDeviceReadIOps: r.HostConfig.BlkioDeviceReadIOps ?? [],
      BlkioDeviceWriteIOps: r.HostConfig.BlkioDeviceWriteIOps ?? [],
      CpuPeriod: r.HostConfig.CpuPeriod ?? 0,
      CpuQuota: r.HostConfig.CpuQuota ?? 0,
      CpuRealtimePeriod: r.HostConfig.CpuRealtimePeriod ?? 0,
      CpuRealtimeRuntime: r.HostConfig.CpuRealtimeRuntime ?? 0,
      CpusetCpus: r.HostConfig.CpusetCpus ?? '',
      CpusetMems: r.HostConfig.CpusetMems ?? '',
      Devices: r.HostConfig.Devices ?? [],
      DeviceCgroupRules: r.HostConfig.DeviceCgroupRules?.length ? r.HostConfig.DeviceCgroupRules : null,
      DeviceRequests: null,
      MemoryReservation: r.HostConfig.MemoryReservation ?? 0,
      MemorySwap: r.HostConfig.MemorySwap,
      MemorySwappiness: r.HostConfig.MemorySwappiness ?? null,
      OomKillDisable: r.HostConfig.OomKillDisable ?? false,
      PidsLimit: r.HostConfig.PidsLimit || null,
      Ulimits: r.HostConfig.Ulimits ?? [],
      ...(Object.keys(r.HostConfig.Sysctls ?? {}).length ? { Sysctls: r.HostConfig.Sysctls } : {}),
      ...(r.HostConfig.Tmpfs ? { Tmpfs: r.HostConfig.Tmpfs } : {}),
      ...(typeof r.HostConfig.Init === 'boolean' ? { Init: r.HostConfig.Init } : {}),
      KernelMemory: 0,
      KernelMemoryTCP: 0,
      CpuCount: 0,
      CpuPercent: 0,
      IOMaximumIOps: 0,
      IOMaximumBandwidth: 0,
      MaskedPaths: r.HostConfig.Privileged ? [] : r.HostConfig.MaskedPaths ?? MASKED_PATHS,
      ReadonlyPaths: r.HostConfig.Privileged ? [] : r.HostConfig.ReadonlyPaths ?? READONLY_PATHS,
    },
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        LowerDir: paths.layers.join(':'),
        UpperDir: `${paths.dir}/upper`,
        WorkDir: `${paths.dir}/work`,
        MergedDir: `${paths.dir}/rootfs`,
      },
    },
    Mounts: mountPoints(r, paths.volumePath, 'z'),
    Config: {
      Hostname: r.Config.Hostname,
      Domainname: '',
      User: r.Config.User,
      AttachStdin: r.Config.OpenStdin === true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: r.Config.Tty === true,
      OpenStdin: r.Config.OpenStdin === true,
      StdinOnce: r.Config.StdinOnce === true,
      Env: r.Config.Env,
      Cmd: r.Config.Cmd,
      Image: r.ImageName,
      Volumes: volumes(r),
      WorkingDir: r.Config.WorkingDir,
      Entrypoint: r.Config.Entrypoint,
      OnBuild: null,
      Labels: r.Config.Labels ?? {},
      ...(r.Config.ExposedPorts ? { ExposedPorts: r.Config.ExposedPorts } : {}),
      ...(r.Config.Healthcheck ? { Healthcheck: r.Config.Healthcheck } : {}),
      ...(r.Config.StopSignal ? { StopSignal: r.Config.StopSignal } : {}),
      ...(typeof r.Config.StopTimeout === 'number' ? { StopTimeout: r.Config.StopTimeout } : {}),
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: net?.SandboxID ?? '',
      Ports: net ? portsView(net.Ports, Object.keys(r.Config.ExposedPorts ?? {})) : {},
      SandboxKey: net?.SandboxKey ?? '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: primary?.EndpointID ?? '',
      GlobalIPv6Address: primary?.GlobalIPv6Address ?? '',
      GlobalIPv6PrefixLen: primary?.GlobalIPv6PrefixLen ?? 0,
      IPv6Gateway: primary?.IPv6Gateway ?? '',
      Gateway: primary?.Gateway ?? '',
      IPAddress: primary?.IPAddress ?? '',
      IPPrefixLen: primary?.IPPrefixLen ?? 0,
      MacAddress: primary?.MacAddress ?? '',
      Networks: networks,
    },
  };
}

/** Config.Volumes: the image's volumes and the anonymous ones of `-v /path`, as docker lists them. */
function volumes(r: Container['record']): Record<string, object> | null {
  const out: Record<string, object> = { ...r.Config.Volumes };
  for (const m of r.HostConfig.Mounts ?? []) if (m.Type === 'volume' && m.Anonymous) out[m.Target] = {};
  return Object.keys(out).length ? out : null;
}
