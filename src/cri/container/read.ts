// ContainerStatus and ListContainers.
import { allOfKind, findKind } from '../sandbox/lookup.ts';
import { givenLabels, sandboxOf, selects } from '../sandbox/meta.ts';
import type { CriContext } from './cri-types.ts';
import { containerInfo, containerStatus, containerView, stateOf } from './status.ts';

export function containerStatusCall(ctx: CriContext, req: { container_id: string; verbose?: boolean }): object {
  const c = findKind(ctx.engine, req.container_id, 'container');
  return { status: containerStatus(c), info: req.verbose ? containerInfo(c) : {} };
}

interface Filter {
  id?: string;
  state?: { state: string } | null;
  pod_sandbox_id?: string;
  label_selector?: Record<string, string>;
}

export function listContainers(ctx: CriContext, req: { filter?: Filter | null }): object {
  const f = req.filter ?? {};
  const items = allOfKind(ctx.engine, 'container').filter((c) =>
    (!f.id || c.record.Id.startsWith(f.id)) &&
    (!f.pod_sandbox_id || sandboxOf(c.record).startsWith(f.pod_sandbox_id)) &&
    (!f.state || stateOf(c) === f.state.state) &&
    selects(givenLabels(c.record), f.label_selector));
  return { containers: items.map(containerView) };
}
