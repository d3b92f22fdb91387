// The runtime's own calls: Version, Status (RuntimeReady, NetworkReady), UpdateRuntimeConfig (the
// pod CIDR), RuntimeConfig (the cgroup driver), and CheckpointContainer, which berth cannot do yet.
import * as fs from 'node:fs';
import { VERSION } from '../core/version.ts';
import type { CriContext, Handlers } from './context.ts';
import { unimplemented } from './errors.ts';
import type { Reply, RuntimeCondition, StatusRequest, StatusResponse, UpdateRuntimeConfigRequest, VersionResponse } from './types.ts';

export const RUNTIME_NAME = 'berth';
/** The CRI version berth speaks (VersionResponse.version, the kubelet's "0.1.0"). */
export const CRI_VERSION = '0.1.0';

export function handlers(ctx: CriContext): Handlers {
  return {
    Version: (): Reply<VersionResponse> => ({ version: CRI_VERSION, runtime_name: RUNTIME_NAME, runtime_version: VERSION, runtime_api_version: 'v1' }),
    Status: (req: StatusRequest) => status(ctx, req.verbose),
    UpdateRuntimeConfig: (req: UpdateRuntimeConfigRequest) => {
      // An empty CIDR changes nothing (as containerd): the kubelet sends one once it knows it.
      const cidr = req.runtime_config?.network_config?.pod_cidr;
      if (cidr) ctx.config.podCidr = cidr;
      return {};
    },
    // berth places containers in cgroupfs paths (a systemd slice parent is turned into one).
    RuntimeConfig: () => ({ linux: { cgroup_driver: 'CGROUPFS' } }),
    CheckpointContainer: () => {
      throw unimplemented('CheckpointContainer');
    },
  };
}

function status(ctx: CriContext, verbose: boolean): Reply<StatusResponse> {
  const net = ctx.podNetworks?.status() ?? { ready: false, reason: 'NetworkPluginNotReady', message: 'no pod network' };
  const conditions: Reply<RuntimeCondition>[] = [
    { type: 'RuntimeReady', status: true, reason: '', message: '' },
    { type: 'NetworkReady', status: net.ready, reason: net.ready ? '' : (net.reason ?? 'NetworkPluginNotReady'), message: net.ready ? '' : (net.message ?? '') },
  ];
  const reply: Reply<StatusResponse> = {
    status: { conditions },
    runtime_handlers: [{ name: '', features: { recursive_read_only_mounts: false, user_namespaces: false } }],
    features: { supplemental_groups_policy: false, user_namespaces_host_network: false },
  };
  if (verbose) {
    reply.info = {
      config: JSON.stringify({ ...ctx.config, stateRoot: ctx.engine.root.dir }),
      cniconfig: JSON.stringify({ confDir: ctx.config.cniConfDir, binDirs: ctx.config.cniBinDirs, files: cniConfFiles(ctx.config.cniConfDir) }),
      lastCNILoadStatus: net.ready ? 'OK' : (net.message ?? 'not ready'),
    };
  }
  return reply;
}

/** The CNI configuration files of a directory, in the order CNI loads them (by name). */
export function cniConfFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((f) => /\.(conf|conflist|json)$/.test(f)).sort();
  } catch {
    return [];
  }
}
