// The shapes the container verbs share, apart from the code that implements them: filters,
// inspect, df and the API read these without loading (or importing back) the engine.
import type { Readable, Writable } from 'node:stream';
import type { ContainerRecord, ContainerState, EndpointSpec, HostConfig } from '../../core/container.ts';
import type { RunConfig } from '../../core/types.ts';
import type { EndpointView, SandboxRecord, Sandboxes } from '../../network/sandbox.ts';
import type { PortMapping } from '../../network/ports.ts';
import type { PlanInput } from '../../runtime/plan.ts';
import type { ShimExit } from '../../runtime/shim.ts';

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
  /** docker exec --privileged: every capability; the container's seccomp and no-new-privileges still hold (as with dockerd). */
  privileged?: boolean;
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

/** What the network side of a start hands to the plan. */
export interface NetSetup {
  network: NonNullable<PlanInput['network']>;
  etc?: PlanInput['etcFiles'];
  hostname?: string;
  sandbox?: SandboxRecord;
  sandboxes?: Sandboxes;
  release?: string[];
}
