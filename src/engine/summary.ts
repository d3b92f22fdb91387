// docker's one-line views of a container: the "Up 3 minutes (healthy)" status text and the
// /containers/json list entry. The CLI's ps and the API's list both show these.
import { since } from '../core/units.ts';
import type { Container, NetworkView } from './container/types.ts';
import { summaryPorts } from '../network/ports.ts';

export function statusText(c: Container, health?: string): string {
  const s = c.state;
  if (s.Status === 'running') {
    const suffix = health === 'starting' ? ' (health: starting)' : health ? ` (${health})` : '';
    return `Up ${since(s.StartedAt).replace(/ ago$/, '')}${suffix}`;
  }
  if (s.Status === 'exited') return `Exited (${s.ExitCode}) ${since(s.FinishedAt)}`;
  if (s.Status === 'created') return 'Created';
  if (s.Status === 'paused') return `Up ${since(s.StartedAt).replace(/ ago$/, '')} (Paused)`;
  if (s.Status === 'restarting') return `Restarting (${s.ExitCode}) ${since(s.FinishedAt)}`;
  return s.Status[0].toUpperCase() + s.Status.slice(1);
}

/** dockerd's one-line command: the arguments after the first in single quotes when they hold a space. */
export function commandLine(argv: string[]): string {
  return argv.map((a, i) => (i > 0 && a.includes(' ') ? `'${a}'` : a)).join(' ');
}

/** One entry of GET /containers/json (docker's ContainerSummary). */
export function containerSummary(c: Container, health?: string, net?: NetworkView): object {
  const r = c.record;
  const mode = r.HostConfig.NetworkMode ?? 'none';
  const empty = { IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null };
  const names = r.Endpoints ? Object.keys(r.Endpoints) : mode.startsWith('container:') ? [] : [mode];
  return {
    Id: r.Id,
    Names: [`/${r.Name}`],
    Image: r.ImageName,
    ImageID: r.Image,
    Command: commandLine([...(r.Config.Entrypoint ?? []), ...r.Config.Cmd]),
    Created: Math.floor(Date.parse(r.Created) / 1000),
    Ports: net ? summaryPorts(net.Ports) : [],
    Labels: r.Config.Labels ?? {},
    State: c.state.Status,
    Status: statusText(c, health),
    HostConfig: { NetworkMode: mode },
    NetworkSettings: { Networks: Object.fromEntries(names.map((n) => [n, { ...empty, ...net?.Networks[n] }])) },
    Mounts: mountPoints(r, (name) => name),
  };
}

/**
 * docker's MountPoint list (inspect, ps): volumes, binds and --mount's tmpfs, not --tmpfs.
 * `volumePath` gives a volume's host directory.
 */
export function mountPoints(r: Container['record'], volumePath: (name: string) => string, mode = ''): object[] {
  const tmpfs = r.HostConfig.Tmpfs ?? {};
  return (r.HostConfig.Mounts ?? []).filter((m) => !(m.Type === 'tmpfs' && m.Target in tmpfs)).map((m) => ({
    Type: m.Type,
    ...(m.Type === 'volume' ? { Name: m.Source } : {}),
    Source: m.Type === 'volume' ? volumePath(m.Source) : m.Source,
    Destination: m.Target,
    ...(m.Type === 'volume' ? { Driver: 'local' } : {}),
    Mode: m.Type === 'volume' ? mode : '',
    RW: !m.ReadOnly,
    Propagation: m.Type === 'bind' ? m.Propagation ?? 'rprivate' : '',
  }));
}
