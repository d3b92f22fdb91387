// PodSandboxStatus and ListPodSandbox.
import type { CriContext } from '../container/cri-types.ts';
import { containerStatus } from '../container/status.ts';
import { allOfKind, findKind, podContainers } from './lookup.ts';
import { givenLabels, selects } from './meta.ts';
import { sandboxInfo, sandboxState, sandboxStatus, sandboxView } from './status.ts';

export function podSandboxStatus(ctx: CriContext, req: { pod_sandbox_id: string; verbose?: boolean }): object {
  const sb = findKind(ctx.engine, req.pod_sandbox_id, 'sandbox');
  const net = ctx.podNetworks?.get(sb.record.Id);
  return {
    status: sandboxStatus(sb, net),
    info: req.verbose ? sandboxInfo(sb, net?.netns) : {},
    containers_statuses: podContainers(ctx.engine, sb.record.Id).map(containerStatus),
    timestamp: String(BigInt(Date.now()) * 1_000_000n),
  };
}

interface Filter {
  id?: string;
  state?: { state: string } | null;
  label_selector?: Record<string, string>;
}

export function listPodSandbox(ctx: CriContext, req: { filter?: Filter | null }): object {
  const f = req.filter ?? {};
  const items = allOfKind(ctx.engine, 'sandbox').filter((c) =>
    (!f.id || c.record.Id.startsWith(f.id)) &&
    (!f.state || sandboxState(c) === f.state.state) &&
    selects(givenLabels(c.record), f.label_selector));
  return { items: items.map(sandboxView) };
}
