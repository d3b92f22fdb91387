// StartContainer, StopContainer and RemoveContainer. Stop and remove are idempotent: the kubelet
// repeats them after failures and restarts.
import { isUp } from '../../core/container.ts';
import { conflict, isCode } from '../../core/errors.ts';
import { findKind, maybeKind } from '../sandbox/lookup.ts';
import { sandboxOf } from '../sandbox/meta.ts';
import { sandboxState } from '../sandbox/status.ts';
import type { CriContext } from './cri-types.ts';
import { stateOf } from './status.ts';
import { holdStdin } from './stdin.ts';

/** Only a created container starts: an exited one is the kubelet's to recreate (containerd's rule). */
export async function startContainer(ctx: CriContext, req: { container_id: string }): Promise<object> {
  const c = findKind(ctx.engine, req.container_id, 'container');
  const state = stateOf(c);
  if (state !== 'CONTAINER_CREATED') throw conflict(`container ${JSON.stringify(c.record.Id)} is in ${state} state`);
  const sb = findKind(ctx.engine, sandboxOf(c.record), 'sandbox');
  if (sandboxState(sb) !== 'SANDBOX_READY') throw conflict(`sandbox container ${JSON.stringify(sb.record.Id)} is not running`);
  if (c.record.Config.OpenStdin) {
    const streams = await ctx.engine.containers.startStreams(c.record, { stdin: true });
    if (streams) holdStdin(streams);
  } else await ctx.engine.containers.start(c.record);
  return {};
}

/** The image's stop signal, then SIGKILL after `timeout` seconds. */
export async function stopContainer(ctx: CriContext, req: { container_id: string; timeout?: string | number }): Promise<object> {
  const c = findKind(ctx.engine, req.container_id, 'container');
  if (!isUp(c.state.Status)) return {};
  try {
    await ctx.engine.containers.stop(c.record.Id, Math.max(0, Number(req.timeout ?? 0)));
  } catch (err) {
    if (!isCode(err, 'NotFound')) throw err;
  }
  return {};
}

/** A running container is killed first (as containerd does); one already gone is success. */
export async function removeContainer(ctx: CriContext, req: { container_id: string }): Promise<object> {
  const c = maybeKind(ctx.engine, req.container_id, 'container');
  if (!c) return {};
  try {
    await ctx.engine.containers.remove(c.record.Id, true);
  } catch (err) {
    if (!isCode(err, 'NotFound')) throw err;
  }
  return {};
}
