// ContainerConfig (+ its pod's config) -> CreateOptions (pure): the container joins the
// sandbox's network, IPC and UTS namespaces (and PID as the pod asks), under the pod's cgroup
// parent, logging in the CRI format to the path the kubelet gives.
import * as path from 'node:path';
import type { HostConfig, MountSpec, DeviceMapping } from '../../core/container.ts';
import { invalid } from '../../core/errors.ts';
import type { CreateOptions } from '../../engine/container/types.ts';
import { containerName, criLabels, int, type ContainerExtra } from '../sandbox/meta.ts';
import type { ContainerConfig, LinuxContainerResources, Mount, Device, PodSandboxConfig } from './cri-types.ts';
import { containerSecurity, type CriHost } from './security.ts';
import { podMetadata } from '../sandbox/options.ts';

const PROPAGATION: Record<string, string | undefined> = {
  PROPAGATION_PRIVATE: undefined, // berth's default, rprivate
  PROPAGATION_HOST_TO_CONTAINER: 'rslave',
  PROPAGATION_BIDIRECTIONAL: 'rshared',
};

export function mountsOf(mounts: Mount[] | undefined): MountSpec[] {
  return (mounts ?? []).map((m) => {
    if (!m.container_path || !path.isAbsolute(m.container_path)) throw invalid(`mount's container path must be absolute: ${JSON.stringify(m.container_path)}`);
    if (!m.host_path) throw invalid(`mount of ${m.container_path} needs a host path`);
    const propagation = PROPAGATION[m.propagation ?? 'PROPAGATION_PRIVATE'];
    return { Type: 'bind', Source: m.host_path, Target: m.container_path, ReadOnly: m.readonly === true, ...(propagation ? { Propagation: propagation } : {}) };
  });
}

export function devicesOf(devices: Device[] | undefined): DeviceMapping[] {
  return (devices ?? []).map((d) => {
    if (!d.host_path) throw invalid('a device needs a host path');
    return { PathOnHost: d.host_path, PathInContainer: d.container_path || d.host_path, CgroupPermissions: d.permissions || 'rwm' };
  });
}

/** The CRI's resources as docker's fields (0 leaves a limit unset). */
export function resourcesOf(r: LinuxContainerResources | null | undefined): CriHost {
  if (!r) return {};
  const quota = int(r.cpu_quota);
  const period = int(r.cpu_period);
  const out: CriHost = {};
  if (quota > 0) {
    out.CpuQuota = quota;
    out.CpuPeriod = period || 100_000;
  } else if (period > 0) out.CpuPeriod = period;
  if (int(r.cpu_shares) > 0) out.CpuShares = int(r.cpu_shares);
  if (int(r.memory_limit_in_bytes) > 0) out.Memory = int(r.memory_limit_in_bytes);
  if (int(r.memory_swap_limit_in_bytes) > 0) out.MemorySwap = int(r.memory_swap_limit_in_bytes);
  if (int(r.oom_score_adj) !== 0) out.OomScoreAdj = int(r.oom_score_adj);
  if (r.cpuset_cpus) out.CpusetCpus = r.cpuset_cpus;
  if (r.cpuset_mems) out.CpusetMems = r.cpuset_mems;
  // hugepage_limits and unified have no engine field yet: they are not applied.
  return out;
}

/** docker's "key=value" from the CRI's key/value pairs. */
export function envOf(envs: ContainerConfig['envs']): string[] {
  return (envs ?? []).map((e) => `${e.key}=${e.value}`);
}

export function containerOptions(sandboxId: string, config: ContainerConfig, pod: PodSandboxConfig, opts: { podPrivileged?: boolean; readProfile?: (file: string) => string } = {}): CreateOptions {
  const m = config.metadata;
  if (!m || !m.name) throw invalid('container config must include metadata with a name');
  const image = config.image?.image;
  if (!image) throw invalid('container config must name an image');
  const pm = podMetadata(pod);
  const linux = config.linux ?? {};
  const sc = linux.security_context;
  if (sc?.privileged && !(opts.podPrivileged ?? pod.linux?.security_context?.privileged)) throw invalid('no privileged container allowed in sandbox');
  const sec = containerSecurity(sc, opts.readProfile);
  const ns = sc?.namespace_options ?? {};
  const pid = ns.pid ?? 'POD';
  if (pid === 'TARGET' && !ns.target_id) throw invalid('target PID namespace needs a target container id');
  const logPath = pod.log_directory && config.log_path ? path.join(pod.log_directory, config.log_path) : '';
  const extra: ContainerExtra = { logPath, image, mounts: config.mounts ?? [] };
  const host: CriHost = {
    ...sec.host,
    ...resourcesOf(linux.resources),
    Mounts: mountsOf(config.mounts),
    ...(config.devices?.length ? { Devices: devicesOf(config.devices) } : {}),
    NetworkMode: `container:${sandboxId}`,
    IpcMode: `container:${sandboxId}`,
    UTSMode: `container:${sandboxId}`,
    PidMode: pid === 'NODE' ? 'host' : pid === 'CONTAINER' ? '' : pid === 'TARGET' ? `container:${ns.target_id}` : `container:${sandboxId}`,
    ...(pod.linux?.cgroup_parent ? { CgroupParent: pod.linux.cgroup_parent } : {}),
    LogConfig: logPath ? { Type: 'cri', Config: { path: logPath } } : { Type: 'none', Config: {} },
  };
  // command replaces the image's ENTRYPOINT (and then its CMD), args replace its CMD.
  const command = config.command ?? [];
  const args = config.args ?? [];
  return {
    image,
    ...(command.length ? { entrypoint: command } : {}),
    cmd: args,
    env: envOf(config.envs),
    ...(config.working_dir ? { workdir: config.working_dir } : {}),
    ...(sec.user ? { user: sec.user } : {}),
    name: containerName({ name: m.name, attempt: m.attempt ?? 0 }, pm),
    tty: config.tty === true,
    ...(config.stdin ? { openStdin: true, stdinOnce: config.stdin_once === true } : {}),
    labels: criLabels('container', { metadata: m, labels: config.labels, annotations: config.annotations, extra, sandbox: sandboxId }),
    resolveEnv: false,
    host: host as Partial<HostConfig>,
  };
}
