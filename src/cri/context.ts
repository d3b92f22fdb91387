// What every CRI handler module is given: the engine (the same one the Docker API serves), the
// daemon's CRI settings, and the parts other modules provide (the streaming server, pod networks).
import type * as grpc from '@grpc/grpc-js';
import type { Engine } from '../engine/engine.ts';

export interface CriConfig {
  /** CNI configurations (containerd's conf_dir). */
  cniConfDir: string;
  /** Where CNI plugins are looked for, in order (containerd's bin_dir). */
  cniBinDirs: string[];
  /** The pod CIDR the kubelet gave in UpdateRuntimeConfig, once it has. */
  podCidr?: string;
  /** Registry hosts' settings: `<dir>/<host>/hosts.toml` (containerd's config_path). */
  registryConfigDir?: string;
  /** HOST:PORT of the streaming server (port 0: any free one). */
  streamAddress: string;
}

export const CRI_DEFAULTS: CriConfig = {
  cniConfDir: '/etc/cni/net.d',
  cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni'],
  registryConfigDir: '/etc/berth/certs.d',
  streamAddress: '127.0.0.1:0',
};

/** The pod network as the CRI uses it (network/pod-network.ts's PodNetworks). */
export interface PodNetworksLike {
  /** Ready iff a usable CNI configuration exists. */
  status(): { ready: boolean; reason?: string; message?: string };
  setUp(podId: string, p: {
    name: string; namespace: string; uid: string;
    portMappings: Array<{ hostPort: number; containerPort: number; protocol: 'tcp' | 'udp' | 'sctp'; hostIP?: string }>;
    dns?: { servers: string[]; searches: string[]; options: string[] };
  }, opts?: { alongside?: (netns: string) => Promise<unknown> }): Promise<{ netns: string; ip: string; additionalIps: string[] }>;
  /** Idempotent; works after a daemon was killed (the ADD result is kept). */
  tearDown(podId: string): Promise<void>;
  get(podId: string): { netns: string; ip: string; additionalIps: string[] } | undefined;
  /** The pods whose set-up has not completed (being set up now, or cut short by a kill). */
  unfinished(): string[];
}

export interface CriContext {
  engine: Engine;
  config: CriConfig;
  /** The streaming server's URLs for Exec, Attach and PortForward (cri-stream sets it). */
  streaming?: { url(kind: 'exec' | 'attach' | 'portforward', req: object): string };
  podNetworks?: PodNetworksLike;
  /** Run when the server closes, newest first (a module's own servers, timers, watchers). */
  onClose: Array<() => Promise<void> | void>;
}

/** A call's handler: resolves to the reply; a server-streaming handler writes to `call` and ends it. */
export type Handler = (req: any, call?: grpc.ServerUnaryCall<any, any> | grpc.ServerWritableStream<any, any>) => Promise<object> | object | void;

export type Handlers = Partial<Record<string, Handler>>;
