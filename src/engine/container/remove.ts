// docker rm, rename and container prune.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isUp, transition } from '../../core/container.ts';
import { conflict, fromSystemError, isCode } from '../../core/errors.ts';
import { emit, type Ctx } from './context.ts';
import { cgroupsOf } from './cgroup-parent.ts';
import { releaseSandboxes } from './network.ts';
import { destroy, getSettled, markDead, newestFirst, reconcileAll, removeCgroups } from './reconcile.ts';
import { wakeMonitor } from './stop.ts';
import { crashPoint } from '../../util/crash.ts';
import type { Container } from './types.ts';

export async function remove(ctx: Ctx, nameOrId: string, force: boolean, volumes = false): Promise<string> {
  const c = getSettled(ctx, nameOrId);
  if (isUp(c.state.Status) && !force)
    throw conflict(`You cannot remove a ${c.state.Status === 'restarting' ? 'restarting' : 'running'} container ${c.record.Id}. Stop the container before attempting removal or force remove`);
  const wasPaused = c.state.Status === 'paused';
  try {
    fs.writeFileSync(path.join(ctx.store.cdir(c.record.Id), 'stopped'), ''); // no restart while we remove it
  } catch {}
  if (c.state.Status === 'restarting') wakeMonitor(ctx, c);
  if (c.state.Status !== 'removing') {
    c.state.Status = transition(c.state.Status, 'removing', c.record.Id);
    try {
      ctx.store.saveState(c.record, c.state);
    } catch (err) {
      // A full disk: the removal goes on without its marker (it is what frees the space); a
      // remover killed now leaves the container as it was, for another rm.
      if (!isCode(fromSystemError(err), 'NoSpace')) throw err;
    }
  }
  crashPoint('rm:removing-saved');
  // Frozen processes die only once thawed (cgroup v1).
  if (wasPaused) await cgroupsOf(ctx, c.record).freeze(c.record.Id, false).catch(() => undefined);
  try {
    removeCgroups(ctx, c.record); // kills whatever still runs in it
  } catch (err) {
    markDead(ctx, c.record, err); // half removed: only another rm can end it
    throw err;
  }
  crashPoint('rm:cgroups-removed');
  // Its monitor still writes the exit status and tears down: let it finish before the
  // directory goes, or the two would race over it.
  for (const end = Date.now() + 10_000; ctx.host.isAlive(c.state.Monitor) && Date.now() < end;) await new Promise((r) => setTimeout(r, 5));
  destroy(ctx, c.record); // a failure here leaves it `dead`
  await releaseSandboxes(ctx, c.record);
  // rm -v (and --rm): anonymous volumes go with their container; named ones stay.
  if (volumes || c.record.HostConfig.AutoRemove) {
    for (const m of c.record.HostConfig.Mounts ?? []) if (m.Type === 'volume' && m.Anonymous) ctx.volumes.remove(m.Source, () => undefined);
  }
  return c.record.Id;
}

/**
 * docker container prune: every container that is not up and matches the label filters
 * (`label=k`, `label=k=v`) is removed; those that cannot be (removed meanwhile) are skipped.
 */
export async function prune(ctx: Ctx, labels: string[] = [], accept: (c: Container) => boolean = () => true): Promise<string[]> {
  const { matches } = await import('../filters.ts');
  const f = new Map(labels.length ? [['label', labels]] : []);
  const deleted: string[] = [];
  const all = newestFirst(reconcileAll(ctx));
  for (const c of all) {
    if (isUp(c.state.Status) || !matches(c, f, () => undefined, []) || !accept(c)) continue;
    try {
      await remove(ctx, c.record.Id, false);
      deleted.push(c.record.Id);
    } catch {}
  }
  return deleted;
}

export function rename(ctx: Ctx, nameOrId: string, newName: string): void {
  const c = getSettled(ctx, nameOrId);
  const old = ctx.store.rename(c.record, newName);
  emit(ctx, 'rename', c.record, { oldName: `/${old}` });
}
