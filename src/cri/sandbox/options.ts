// PodSandboxConfig -> the sandbox container's CreateOptions (pure). The sandbox is a berth
// container running the pause image: it holds the pod's network (joined from the netns the pod
// network made, or the host's), IPC and UTS namespaces, and its PID namespace when the pod shares
// one; the pod's containers join them.
import type { HostConfig } from '../../core/container.ts';
import { invalid } from '../../core/errors.ts';
import type { CreateOptions } from '../../engine/container/types.ts';
import type { PodSandboxConfig, PodSandboxMetadata } from '../container/cri-types.ts';
import { sandboxSecurity, type CriHost } from '../container/security.ts';
import { criLabels, sandboxName, type SandboxExtra } from './meta.ts';

export interface SandboxPlan {
  /** The pause image's reference and what to run (the image's own command when empty). */
  image: string;
  cmd?: string[];
  /** The netns the pod network made (absent: host network, or no pod network). */
  netns?: string;
  runtimeHandler?: string;
  readProfile?: (file: string) => string;
}

export function isHostNetwork(config: PodSandboxConfig): boolean {
  return config.linux?.security_context?.namespace_options?.network === 'NODE';
}

/** The pod's metadata, all of it there (the kubelet always sends it). */
export function podMetadata(config: PodSandboxConfig): PodSandboxMetadata {
  const m = config.metadata;
  if (!m || !m.name || !m.namespace || !m.uid) throw invalid('sandbox config must include metadata with name, namespace and uid');
  return { name: m.name, namespace: m.namespace, uid: m.uid, attempt: m.attempt ?? 0 };
}

export function sandboxOptions(config: PodSandboxConfig, plan: SandboxPlan): CreateOptions {
  const m = podMetadata(config);
  const linux = config.linux ?? {};
  const ns = linux.security_context?.namespace_options ?? {};
  const hostNet = ns.network === 'NODE';
  const sec = sandboxSecurity(linux.security_context, plan.readProfile);
  const dns = config.dns_config;
  const extra: SandboxExtra = {
    logDirectory: config.log_directory ?? '',
    runtimeHandler: plan.runtimeHandler ?? '',
    namespaces: { network: ns.network ?? 'POD', pid: ns.pid ?? 'POD', ipc: ns.ipc ?? 'POD', target_id: ns.target_id ?? '' },
    hostNetwork: hostNet,
  };
  const host: CriHost = {
    ...sec.host,
    NetworkMode: hostNet ? 'host' : plan.netns ? `ns:${plan.netns}` : 'none',
    ...(hostNet ? { UTSMode: 'host' } : {}),
    IpcMode: ns.ipc === 'NODE' ? 'host' : 'shareable',
    PidMode: ns.pid === 'NODE' ? 'host' : '',
    ...(dns?.servers?.length ? { Dns: dns.servers } : {}),
    ...(dns?.searches?.length ? { DnsSearch: dns.searches } : {}),
    ...(dns?.options?.length ? { DnsOptions: dns.options } : {}),
    ...(linux.cgroup_parent ? { CgroupParent: linux.cgroup_parent } : {}),
    ...(linux.sysctls && Object.keys(linux.sysctls).length ? { Sysctls: linux.sysctls } : {}),
    // The pause process writes nothing worth keeping.
    LogConfig: { Type: 'none', Config: {} },
  };
  return {
    image: plan.image,
    cmd: plan.cmd ?? [],
    name: sandboxName(m),
    ...(config.hostname && !hostNet ? { hostname: config.hostname } : {}),
    ...(sec.user ? { user: sec.user } : {}),
    labels: criLabels('sandbox', { metadata: m, labels: config.labels, annotations: config.annotations, extra }),
    resolveEnv: false,
    host: host as Partial<HostConfig>,
  };
}
