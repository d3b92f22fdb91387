// CreateContainer: the container joins its pod's namespaces, under the pod's cgroup parent, and
// logs to <log_directory>/<log_path> in the CRI format. The pod's facts come from the kubelet's
// sandbox config, else from what the sandbox's record kept.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { conflict, invalid } from '../../core/errors.ts';
import { findKind } from '../sandbox/lookup.ts';
import { extraOf, metadataOf, type SandboxExtra } from '../sandbox/meta.ts';
import { sandboxState } from '../sandbox/status.ts';
import type { ContainerConfig, PodSandboxConfig, PodSandboxMetadata, CriContext } from './cri-types.ts';
import { containerOptions } from './options.ts';

export async function createContainer(ctx: CriContext, req: { pod_sandbox_id: string; config: ContainerConfig | null; sandbox_config: PodSandboxConfig | null }): Promise<{ container_id: string }> {
  if (!req.config) throw invalid('container config must be set');
  const sb = findKind(ctx.engine, req.pod_sandbox_id, 'sandbox');
  if (sandboxState(sb) !== 'SANDBOX_READY') throw conflict(`sandbox container ${JSON.stringify(sb.record.Id)} is not running`);
  const kept = extraOf<SandboxExtra>(sb.record);
  const given = req.sandbox_config;
  const pod: PodSandboxConfig = {
    ...given,
    metadata: given?.metadata?.name ? given.metadata : metadataOf<PodSandboxMetadata>(sb.record),
    log_directory: given?.log_directory || kept.logDirectory || '',
    linux: { ...given?.linux, cgroup_parent: given?.linux?.cgroup_parent || (sb.record.HostConfig as { CgroupParent?: string }).CgroupParent || '' },
  };
  const opts = containerOptions(sb.record.Id, req.config, pod, { podPrivileged: sb.record.HostConfig.Privileged });
  const log = (opts.host as { LogConfig?: { Config: { path?: string } } }).LogConfig?.Config.path;
  if (log) fs.mkdirSync(path.dirname(log), { recursive: true });
  const record = await ctx.engine.containers.create(opts);
  return { container_id: record.Id };
}
