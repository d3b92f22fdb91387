// docker's container inspect shape, so scripts written for `docker inspect` keep working:
// every field clients read is present, `{}`/`[]` where docker gives them, never a missing key.
import type { Container, NetworkView } from './containers.ts';
import { portsView } from '../network/ports.ts';

export function inspectContainer(c: Container, paths: { dir: string; log: string; layers: string[]; volumePath: (name: string) => string; restarts: number; health?: object; network?: NetworkView }): object {
  const { record: r, state: s } = c;
  const mode = r.HostConfig.NetworkMode ?? 'none';
  const net = paths.network;
  const empty = { IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' };
  // docker lists the container's networks even when it is stopped (with empty addresses).
  const names = r.Endpoints ? Object.keys(r.Endpoints) : mode.startsWith('container:') ? [] : [mode];
  const networks = Object.fromEntries(names.map((n) => {
    const live = net?.Networks[n];
    const spec = r.Endpoints?.[n];
    return [n, { ...empty, ...live, IPAMConfig: spec?.IPv4Address ? { IPv4Address: spec.IPv4Address } : null, Aliases: live?.Aliases ?? spec?.Aliases ?? null }];
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
      Running: running,
      Paused: s.Status === 'paused',
      Restarting: s.Status === 'restarting',
      OOMKilled: s.OOMKilled,
      Dead: s.Status === 'dead',
      Pid: running ? s.Pid : 0,
      ExitCode: s.ExitCode,
      Error: s.Error,
      StartedAt: s.StartedAt,
      FinishedAt: s.FinishedAt,
      ...(paths.health ? { Health: paths.health } : {}),
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
      LogConfig: r.HostConfig.LogConfig ?? { Type: 'json-file', Config: {} },
      NetworkMode: mode,
      PortBindings: r.HostConfig.PortBindings ?? {},
      PublishAllPorts: r.HostConfig.PublishAllPorts === true,
      Dns: r.HostConfig.Dns ?? [],
      DnsSearch: r.HostConfig.DnsSearch ?? [],
      DnsOptions: r.HostConfig.DnsOptions ?? [],
      ExtraHosts: r.HostConfig.ExtraHosts ?? null,
      RestartPolicy: r.HostConfig.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: r.HostConfig.AutoRemove,
      CapAdd: null,
      CapDrop: null,
      Privileged: false,
      ReadonlyRootfs: false,
      Memory: r.HostConfig.Memory,
      MemorySwap: r.HostConfig.MemorySwap,
      NanoCpus: r.HostConfig.NanoCpus,
      CpuShares: r.HostConfig.CpuShares,
      PidsLimit: r.HostConfig.PidsLimit || null,
      Binds: null,
      Mounts: r.HostConfig.Mounts ?? [],
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
    Mounts: (r.HostConfig.Mounts ?? []).map((m) => ({
      Type: m.Type,
      ...(m.Type === 'volume' ? { Name: m.Source, Driver: 'local' } : {}),
      Source: m.Type === 'volume' ? paths.volumePath(m.Source) : m.Source,
      Destination: m.Target,
      Mode: m.Type === 'volume' ? 'z' : '',
      RW: !m.ReadOnly,
      Propagation: m.Type === 'bind' ? 'rprivate' : '',
    })),
    Config: {
      Hostname: r.Config.Hostname,
      Domainname: '',
      User: r.Config.User,
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      Tty: r.Config.Tty === true,
      OpenStdin: false,
      StdinOnce: false,
      Env: r.Config.Env,
      Cmd: r.Config.Cmd,
      Image: r.ImageName,
      Volumes: r.Config.Volumes ?? null,
      WorkingDir: r.Config.WorkingDir,
      Entrypoint: r.Config.Entrypoint,
      OnBuild: null,
      Labels: r.Config.Labels ?? {},
      ...(r.Config.ExposedPorts ? { ExposedPorts: r.Config.ExposedPorts } : {}),
      ...(r.Config.Healthcheck ? { Healthcheck: r.Config.Healthcheck } : {}),
      ...(r.Config.StopSignal ? { StopSignal: r.Config.StopSignal } : {}),
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: net?.SandboxID ?? '',
      Ports: net ? portsView(net.Ports, Object.keys(r.Config.ExposedPorts ?? {})) : {},
      SandboxKey: net?.SandboxKey ?? '',
      Gateway: primary?.Gateway ?? '',
      IPAddress: primary?.IPAddress ?? '',
      IPPrefixLen: primary?.IPPrefixLen ?? 0,
      MacAddress: primary?.MacAddress ?? '',
      Networks: networks,
    },
  };
}
