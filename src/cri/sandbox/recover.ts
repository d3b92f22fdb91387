// RunPodSandbox starts the pause container while the pod network's CNI ADD runs (run.ts): a
// daemon killed meanwhile leaves a pause running in a pod whose network never completed, whose id
// the kubelet never got. The next daemon stops such pauses as it starts serving: the pod is then
// NOTREADY, as one killed before its start is, and the kubelet's StopPodSandbox/RemovePodSandbox
// tear the half-made network down from its record.
import { isUp } from '../../core/container.ts';
import type { CriContext } from '../container/cri-types.ts';
import { maybeKind } from './lookup.ts';

/** Listed at once (nothing of this process is being set up yet); stopped in the background. */
export function stopCutShort(ctx: CriContext): void {
  for (const id of ctx.podNetworks?.unfinished() ?? []) {
    const sb = maybeKind(ctx.engine, id, 'sandbox');
    if (sb && isUp(sb.state.Status)) void Promise.resolve(id).then((x) => ctx.engine.containers.stop(x, 0)).catch(() => undefined);
  }
}
