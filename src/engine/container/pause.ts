// Freezing a container: docker pause and unpause, and commit's own freeze, which must never undo
// or block what the user asks. The cgroup is frozen while the user's status says paused or a
// commit is taking its snapshot; the status is the user's (and a commit's, as dockerd shows it,
// only while the commit made it so). One short lock per container orders these steps, across
// processes (the CLI and the daemon share the state root).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { transition } from '../../core/container.ts';
import { conflict } from '../../core/errors.ts';
import { claim, holderDead, selfHolder } from '../../kernel/claim.ts';
import { cgroupsOf } from './cgroup-parent.ts';
import { BY_COMMIT, commitsFreezing } from './commit-pause.ts';
import { emit, type Ctx } from './context.ts';
import { getSettled, initPid, liveInit } from './reconcile.ts';

let seq = 0;

async function locked<T>(ctx: Ctx, id: string, fn: () => Promise<T>): Promise<T> {
  const dir = ctx.store.cdir(id);
  const end = Date.now() + 30_000;
  for (;;) {
    const release = claim(dir, 'pause.lock', selfHolder(), holderDead);
    if (release) {
      try {
        return await fn();
      } finally {
        release();
      }
    }
    if (Date.now() > end) throw conflict(`Container ${id} is being paused or committed by another command`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Freezes every process of a running container (docker pause). */
export async function pause(ctx: Ctx, nameOrId: string): Promise<string> {
  const id = getSettled(ctx, nameOrId).record.Id;
  return locked(ctx, id, async () => {
    const c = getSettled(ctx, id);
    const marker = path.join(ctx.store.cdir(id), BY_COMMIT);
    if (c.state.Status === 'paused') {
      // Paused by a commit: now the user's pause too, which the commit's end leaves alone.
      if (!fs.existsSync(marker)) throw conflict(`Container ${id} is already paused`);
      fs.rmSync(marker, { force: true });
      return id;
    }
    initPid(ctx, c); // running, and really ours
    await cgroupsOf(ctx, c.record).freeze(id, true);
    fs.rmSync(marker, { force: true });
    c.state.Status = transition(c.state.Status, 'paused', id);
    ctx.store.saveState(c.record, c.state);
    emit(ctx, 'pause', c.record);
    return id;
  });
}

/** docker unpause; a commit taking its snapshot keeps the cgroup frozen until it is done. */
export async function unpause(ctx: Ctx, nameOrId: string): Promise<string> {
  const id = getSettled(ctx, nameOrId).record.Id;
  return locked(ctx, id, async () => {
    const c = getSettled(ctx, id);
    if (c.state.Status !== 'paused') throw conflict(`Container ${id} is not paused`);
    const dir = ctx.store.cdir(id);
    if (!commitsFreezing(dir)) await cgroupsOf(ctx, c.record).freeze(id, false);
    fs.rmSync(path.join(dir, BY_COMMIT), { force: true });
    c.state.Status = transition(c.state.Status, 'running', id);
    ctx.store.saveState(c.record, c.state);
    emit(ctx, 'unpause', c.record);
    return id;
  });
}

/**
 * Freezes a running or paused container for a commit's snapshot; the returned function ends
 * the freeze. A container the user paused (before or during the commit) stays paused; one the
 * user unpaused during the commit runs again when the commit is done.
 */
export async function freezeForCommit(ctx: Ctx, id: string): Promise<() => Promise<void>> {
  const dir = ctx.store.cdir(id);
  const holder = path.join(dir, `commit.${selfHolder().replace(' ', '.')}.${++seq}`);
  await locked(ctx, id, async () => {
    const c = getSettled(ctx, id);
    fs.writeFileSync(holder, '');
    if (c.state.Status !== 'running') return; // paused already: the user's, or another commit's
    // Its command may have ended since the state was read (a commit right after a short run's
    // start): then there is nothing to freeze, and the commit takes the stopped container's files.
    if (!liveInit(ctx, c.record.Id, c.state)) return;
    try {
      await cgroupsOf(ctx, c.record).freeze(id, true);
    } catch (err) {
      if (!liveInit(ctx, c.record.Id, c.state)) return; // it ended meanwhile, its cgroup with it
      throw err;
    }
    // As dockerd shows a committing container: paused (with its events).
    fs.writeFileSync(path.join(dir, BY_COMMIT), '');
    c.state.Status = transition(c.state.Status, 'paused', id);
    ctx.store.saveState(c.record, c.state);
    emit(ctx, 'pause', c.record);
  });
  return () => locked(ctx, id, async () => {
    fs.rmSync(holder, { force: true });
    if (commitsFreezing(dir)) return; // another commit's snapshot is still being taken
    const c = getSettled(ctx, id);
    const byCommit = fs.existsSync(path.join(dir, BY_COMMIT));
    if (c.state.Status === 'paused' && !byCommit) return; // the user's pause
    if (c.state.Status === 'paused' || c.state.Status === 'running') await cgroupsOf(ctx, c.record).freeze(id, false);
    if (c.state.Status === 'paused') {
      fs.rmSync(path.join(dir, BY_COMMIT), { force: true });
      c.state.Status = transition(c.state.Status, 'running', id);
      ctx.store.saveState(c.record, c.state);
      emit(ctx, 'unpause', c.record);
    }
  }).catch(() => undefined); // the container may have gone meanwhile
}
