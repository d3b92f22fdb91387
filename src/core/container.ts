// Containers as data: the record the engine keeps, and the status state machine every
// operation checks before acting.
import type { ProcessRef } from './types.ts';
import { conflict } from './errors.ts';
import type { RunConfig } from './types.ts';

export type Status = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'removing' | 'dead';

/** Allowed transitions; anything else is a bug or a race and is refused. */
const NEXT: Record<Status, Status[]> = {
  created: ['running', 'removing', 'exited'],
  running: ['paused', 'exited', 'restarting', 'removing'],
  paused: ['running', 'exited', 'removing'],
  restarting: ['running', 'exited', 'removing'],
  exited: ['running', 'removing', 'restarting'],
  removing: ['dead'],
  dead: ['removing'],
};

/** A monitor holds the container: it runs, is frozen, or waits to run again (restart policy). */
export function isUp(s: Status): boolean {
  return s === 'running' || s === 'paused' || s === 'restarting';
}

export function canTransition(from: Status, to: Status): boolean {
  return NEXT[from].includes(to);
}

export function transition(from: Status, to: Status, id: string): Status {
  if (!canTransition(from, to)) throw conflict(`container ${id.slice(0, 12)} is ${from}: cannot become ${to}`);
  return to;
}

/** A user mount as the engine keeps it (docker's HostConfig.Mounts, normalised). */
export interface MountSpec {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source: string; // host path (bind), volume name (volume), '' (tmpfs)
  Target: string;
  ReadOnly: boolean;
  TmpfsOptions?: string; // mount data for tmpfs, e.g. "size=64m,mode=1777"
  Anonymous?: boolean; // a volume created for this container only (-v /path)
  /** A bind's propagation (docker's `rshared`, `rslave`, `private`...); absent: rprivate. */
  Propagation?: string;
}

export interface HostConfig {
  AutoRemove: boolean;
  Memory: number; // bytes, 0 = unlimited
  MemorySwap: number; // bytes, 0 = default, -1 = unlimited
  NanoCpus: number;
  CpuShares: number;
  PidsLimit: number; // 0 = unlimited
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[] | null;
  Mounts: MountSpec[];
  RestartPolicy?: { Name: 'no' | 'always' | 'on-failure' | 'unless-stopped'; MaximumRetryCount: number };
  /**
   * json-file (and local, stored the same way), none: nothing is logged, or cri: the CRI's log
   * format in the file `Config.path` names (the kubelet's, which it rotates with reopenLog).
   */
  LogConfig?: { Type: 'json-file' | 'local' | 'none' | 'cri'; Config: Record<string, string> };
  Ulimits?: Array<{ Name: string; Soft: number; Hard: number }>;
  OomScoreAdj?: number;
  Sysctls?: Record<string, string>;
  GroupAdd?: string[];
  /** [rows, cols] of the client's terminal at create (the API's ConsoleSize). */
  ConsoleSize?: [number, number];
  /** none | host | bridge | container:<name or id> | a network's name */
  NetworkMode?: string;
  PortBindings?: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  PublishAllPorts?: boolean;
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  ExtraHosts?: string[];
  /** --device: host device nodes made in the container, and allowed in its device rules. */
  Devices?: DeviceMapping[] | null;
  /** --device-cgroup-rule: more rules ("c 42:* rmw"), for nodes the container makes itself. */
  DeviceCgroupRules?: string[] | null;
  /** --userns: "host" (the host's ids), "remap", or "" (remap when BERTH_USERNS_REMAP says so). */
  UsernsMode?: string;
  /** Set at create when the container is remapped: its ids 0..Size-1 are the host's HostId... */
  IdMap?: { HostId: number; Size: number };
  /** `--runtime`: another OCI runtime's name (runc, crun...) to run the container; absent: berth's own. */
  Runtime?: string;
  /** As given (inspect shows them): `default` is Linux's only isolation; a volume driver name. */
  Isolation?: string;
  VolumeDriver?: string;
  /** Block I/O: weight 10-1000 (0: the default), per device; throttles per device (docker's fields). */
  BlkioWeight?: number;
  BlkioWeightDevice?: Array<{ Path: string; Weight: number }> | null;
  BlkioDeviceReadBps?: ThrottleDevice[] | null;
  BlkioDeviceWriteBps?: ThrottleDevice[] | null;
  BlkioDeviceReadIOps?: ThrottleDevice[] | null;
  BlkioDeviceWriteIOps?: ThrottleDevice[] | null;
  MemoryReservation?: number;
  /** 0-100; null/absent: the kernel's default. */
  MemorySwappiness?: number | null;
  OomKillDisable?: boolean;
  CpuRealtimeRuntime?: number;
  CpuRealtimePeriod?: number;
  /** /dev/shm's size in bytes (docker's default 64 MiB). */
  ShmSize?: number;
  /** berth's own: false turns the resource views (LXCFS's /proc/meminfo...) off for this container. */
  ProcViews?: boolean;
  /** docker's CPU fields as given, shown by inspect (with NanoCpus, --cpus: one or the other, engine/limits.ts). */
  CpuQuota?: number;
  CpuPeriod?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  /** As the client gave them (inspect shows them; Mounts holds what berth mounts). */
  Binds?: string[] | null;
  Tmpfs?: Record<string, string>;
  /** --init: a small init runs as pid 1, reaps zombies and forwards signals to the command. */
  Init?: boolean | null;
  /**
   * The cgroup the container's goes under (docker's --cgroup-parent; the kubelet's pod cgroup):
   * a cgroupfs path, or a systemd slice name (kernel/cgroup-parent.ts). Absent: berth's own scope.
   */
  CgroupParent?: string;
  /** docker's: paths masked (/dev/null or an empty tmpfs) and made read-only; null/absent: berth's defaults, []: none; privileged: none. */
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
  /** "" (a namespace of its own), "host", or "container:<id>" (another container's). */
  PidMode?: string;
  IpcMode?: string;
  UTSMode?: string;
  /** docker's legacy links, "NAME:ALIAS" (name resolved to the container's name at create). */
  Links?: string[] | null;
  /** Containers whose mounts this one had at create ("NAME[:ro|rw]"). */
  VolumesFrom?: string[] | null;
}

/** docker's shape of one --device-read-bps etc.: a block device's path and a rate. */
export interface ThrottleDevice {
  Path: string;
  Rate: number;
}

/** docker's shape of one --device. */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string; // subset of "rwm"
}

/** How a container joins one network (docker's EndpointSettings as given at create/connect). */
export interface EndpointSpec {
  Aliases: string[];
  IPv4Address?: string;
  IPv6Address?: string;
  MacAddress?: string;
  /** Kept as given and shown by inspect, as dockerd does (its bridge driver reads none of them). */
  DriverOpts?: Record<string, string>;
  LinkLocalIPs?: string[];
  Links?: string[];
}

export interface ContainerRecord {
  Id: string;
  Name: string; // without the leading "/"
  Created: string;
  Image: string; // image id
  ImageName: string; // as the user wrote it
  Config: RunConfig & { Hostname: string; Cmd: string[]; Entrypoint: string[] | null; Env: string[]; User: string; WorkingDir: string; Tty?: boolean; OpenStdin?: boolean; StdinOnce?: boolean; StopTimeout?: number | null };
  HostConfig: HostConfig;
  Layers: string[]; // the image's diff ids at creation, bottom first
  Owner?: ProcessRef; // the `run` that created it and starts it (for crash recovery before a monitor exists)
  /** Networks it is attached to at start (bridge / user network modes), by network name. */
  Endpoints?: Record<string, EndpointSpec>;
}

export interface ContainerState {
  Status: Status;
  Monitor?: ProcessRef; // the shim that is the container's parent
  Pid: number;
  ExitCode: number;
  OOMKilled: boolean;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function initialState(): ContainerState {
  return { Status: 'created', Pid: 0, ExitCode: 0, OOMKilled: false, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME };
}
