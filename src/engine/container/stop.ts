// Signals: kill, stop (the stop signal, then SIGKILL), wait (pause and unpause: pause.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isUp, transition } from '../../core/container.ts';
import { conflict } from '../../core/errors.ts';
import { parseSignal } from '../../kernel/signals.ts';
import { crashPoint } from '../../util/crash.ts';
import { emit, type Ctx } from './context.ts';
import { cgroupsOf } from './cgroup-parent.ts';
import { unpause } from './pause.ts';
import { getSettled, initPid, settle } from './reconcile.ts';
import type { Container } from './types.ts';

/** Sends a signal (docker's names or numbers) to the container's init. */
export function kill(ctx: Ctx, nameOrId: string, signal = 'KILL'): string {
  const sig = parseSignal(signal); // an unknown signal is refused before anything is touched
  const c = getSettled(ctx, nameOrId);
  ctx.host.kill(initPid(ctx, c), sig);
  emit(ctx, 'kill', c.record, { signal: String(sig) });
  return c.record.Id;
}

/**
 * kill, and for SIGKILL (docker's default) the wait until the container is down, as dockerd
 * answers: an inspect right after the kill sees it exited with its status (up to 10 s).
 */
export async function killAndWait(ctx: Ctx, nameOrId: string, signal = 'KILL'): Promise<string> {
  const id = kill(ctx, nameOrId, signal);
  if (parseSignal(signal) === 9) await waitUntilStopped(ctx, id, Date.now() + 10_000);
  return id;
}

/** The image's stop signal (default SIGTERM), then SIGKILL after the timeout. */
export async function stop(ctx: Ctx, nameOrId: string, timeoutSec?: number): Promise<string> {
  const c = getSettled(ctx, nameOrId);
  if (!isUp(c.state.Status)) return c.record.Id; // docker: stopping a stopped container succeeds
  const sig = parseSignal(c.record.Config.StopSignal || 'SIGTERM');
  const deadline = Date.now() + (timeoutSec ?? c.record.Config.StopTimeout ?? 10) * 1000;
  fs.writeFileSync(path.join(ctx.store.cdir(c.record.Id), 'stopped'), ''); // its monitor must not restart it
  crashPoint('stop:marked');
  if (c.state.Status === 'restarting') wakeMonitor(ctx, c);
  else {
    try {
      ctx.host.kill(initPid(ctx, c), sig);
      emit(ctx, 'kill', c.record, { signal: String(sig) }); // dockerd reports each signal a stop sends
    } catch {}
  }
  crashPoint('stop:signalled');
  // A frozen process handles no signal: thaw it so it can stop (or die), even while a commit
  // takes its snapshot (pause.ts).
  if (c.state.Status === 'paused') await unpause(ctx, c.record.Id).catch(() => undefined);
  if (fs.readdirSync(ctx.store.cdir(c.record.Id)).some((n) => n.startsWith('commit.'))) await cgroupsOf(ctx, c.record).freeze(c.record.Id, false).catch(() => undefined);
  if (!(await waitUntilStopped(ctx, c.record.Id, deadline))) {
    try {
      ctx.host.kill(initPid(ctx, getSettled(ctx, c.record.Id)), 'SIGKILL');
      emit(ctx, 'kill', c.record, { signal: '9' });
    } catch {}
    await waitUntilStopped(ctx, c.record.Id, Date.now() + 10_000);
  }
  emit(ctx, 'stop', c.record);
  return c.record.Id;
}

async function waitUntilStopped(ctx: Ctx, id: string, deadline: number): Promise<boolean> {
  for (;;) {
    const c = settle(ctx, id);
    if (!c || !isUp(c.state.Status)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Blocks until the container is not running; its exit code (docker's `wait`). */
export async function wait(ctx: Ctx, nameOrId: string): Promise<number> {
  const id = getSettled(ctx, nameOrId).record.Id;
  await waitUntilStopped(ctx, id, Infinity);
  return settle(ctx, id)?.state.ExitCode ?? 0;
}

/**
 * Ends a restarting container's back-off early (any signal it handles does), so that it sees
 * the `stopped` marker now rather than after up to a minute. Should it have just started the
 * init again, it forwards the signal there, which a stop wants too.
 */
export function wakeMonitor(ctx: Ctx, c: Container): void {
  try {
    if (ctx.host.isAlive(c.state.Monitor)) ctx.host.kill(c.state.Monitor!.pid, 'SIGTERM');
  } catch {}
}
