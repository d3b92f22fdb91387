// Engine sandbox containers -> the CRI's answers about pods (pure): READY while the pause
// container runs, its network address, namespace options and metadata.
import type { Container } from '../../engine/container/types.ts';
import { annotationsOf, extraOf, givenLabels, metadataOf, nanos, type SandboxExtra } from './meta.ts';

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export function sandboxState(c: Container): SandboxState {
  return c.state.Status === 'running' || c.state.Status === 'paused' ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY';
}

/** The list view (ListPodSandbox). */
export function sandboxView(c: Container): object {
  return {
    id: c.record.Id,
    metadata: metadataOf(c.record),
    state: sandboxState(c),
    created_at: nanos(c.record.Created),
    labels: givenLabels(c.record),
    annotations: annotationsOf(c.record),
    runtime_handler: extraOf<SandboxExtra>(c.record).runtimeHandler ?? '',
  };
}

export function sandboxStatus(c: Container, net: { netns?: string; ip: string; additionalIps: string[] } | undefined): object {
  const x = extraOf<SandboxExtra>(c.record);
  const ns = x.namespaces ?? { network: 'POD', pid: 'POD', ipc: 'POD', target_id: '' };
  // A stopped pod's network is gone: containerd reports no address then.
  const ip = sandboxState(c) === 'SANDBOX_READY' && !x.hostNetwork ? net : undefined;
  return {
    ...sandboxView(c),
    network: { ip: ip?.ip ?? '', additional_ips: (ip?.additionalIps ?? []).map((a) => ({ ip: a })) },
    linux: { namespaces: { options: { network: ns.network, pid: ns.pid, ipc: ns.ipc, target_id: ns.target_id } } },
  };
}

export function sandboxInfo(c: Container, netns: string | undefined): Record<string, string> {
  return {
    info: JSON.stringify({
      pid: c.state.Pid,
      processStatus: c.state.Status,
      netNamespaceClosed: !netns,
      image: c.record.ImageName,
      snapshotKey: c.record.Id,
      snapshotter: 'overlayfs',
      runtimeHandler: extraOf<SandboxExtra>(c.record).runtimeHandler ?? '',
      runtimeType: 'io.berth.v1',
      config: { metadata: metadataOf(c.record), labels: givenLabels(c.record), annotations: annotationsOf(c.record) },
      runtimeSpec: { hostname: c.record.Config.Hostname, hostConfig: c.record.HostConfig },
    }),
  };
}
