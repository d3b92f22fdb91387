// StopPodSandbox and RemovePodSandbox. Both are idempotent (the kubelet repeats them until they
// succeed): a pod already stopped or gone is success. The kubelet owns the log directory.
import { isUp } from '../../core/container.ts';
import { isCode } from '../../core/errors.ts';
import type { CriContext } from '../container/cri-types.ts';
import { maybeKind, podContainers } from './lookup.ts';

async function ignoreGone(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isCode(err, 'NotFound')) throw err;
  }
}

/**
 * Every container of the pod (killed: the kubelet gave them their grace already), then the pause;
 * the network's tear-down meanwhile (the plugins and the kills are other processes; what is left
 * in the pod is being killed, so it cannot miss the network).
 */
export async function stopPodSandbox(ctx: CriContext, req: { pod_sandbox_id: string }): Promise<object> {
  const engine = ctx.engine;
  const sb = maybeKind(engine, req.pod_sandbox_id, 'sandbox');
  if (!sb) return {};
  const id = sb.record.Id;
  const stopped = (async () => {
    await Promise.all(podContainers(engine, id).filter((c) => isUp(c.state.Status)).map((c) => ignoreGone(engine.containers.stop(c.record.Id, 0))));
    if (isUp(sb.state.Status)) await ignoreGone(engine.containers.stop(id, 0));
  })();
  await settleAll([stopped, ctx.podNetworks?.tearDown(id)]);
  return {};
}

/** Waits for all, then throws the first failure (none is left running on its own). */
async function settleAll(ps: Array<Promise<unknown> | undefined>): Promise<void> {
  const failed = (await Promise.allSettled(ps)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Its containers, the pause container and the network; a pod not found is already removed. */
export async function removePodSandbox(ctx: CriContext, req: { pod_sandbox_id: string }): Promise<object> {
  const engine = ctx.engine;
  const sb = maybeKind(engine, req.pod_sandbox_id, 'sandbox');
  if (!sb) return {};
  const id = sb.record.Id;
  // The sandbox last: until it is gone a repeated call finds the pod, and what is left of it.
  await settleAll([...podContainers(engine, id).map((c) => ignoreGone(engine.containers.remove(c.record.Id, true))), ctx.podNetworks?.tearDown(id)]);
  await ignoreGone(engine.containers.remove(id, true));
  return {};
}
