// A container's filesystem from outside: docker diff, cp, export and the archive API. A running
// container is frozen while its root is read or written (nothing in it can race the path
// checks); a stopped one's root is mounted by a holder process in a mount namespace of its own.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerRecord } from '../../core/container.ts';
import { conflict, invalid, isCode, notFound } from '../../core/errors.ts';
import { buildHoldPlan } from '../../runtime/plan.ts';
import { readXattrs, shimSpecialFs } from '../../runtime/shim.ts';
import type { Change } from '../../snapshot/diff.ts';
import type { PathStat } from '../copy.ts';
import { emit, type Ctx } from './context.ts';
import { cgroupsOf } from './cgroup-parent.ts';
import { lowerDirs, mountPlan, rootfs } from './plan.ts';
import { get, initPid } from './reconcile.ts';

// diff, commit, export, cp and inspect load their code on use: `run` should not pay for it.

/** docker diff: what the container changed relative to its image. */
export async function diff(ctx: Ctx, nameOrId: string): Promise<Change[]> {
  const { changes } = await import('../../snapshot/diff.ts');
  const c = get(ctx, nameOrId);
  const lowers = ctx.images.layers.mount(c.record.Layers).reverse();
  return changes(path.join(ctx.store.cdir(c.record.Id), 'upper'), lowers, mountTargets(c.record));
}

/** docker cp, both ways (see copy.ts). */
export async function copy(ctx: Ctx, nameOrId: string, op: { out: string; to: string } | { in: string; to: string }): Promise<void> {
  const { copyIn, copyOut } = await import('../copy.ts');
  const owner = rootOwner(get(ctx, nameOrId).record);
  await inRoot(ctx, nameOrId, (root) => ('out' in op ? copyOut(root, op.out, op.to) : copyIn(root, op.in, op.to, owner)));
}

/** docker's path stat for the archive API: name, size, Go FileMode bits, mtime, link target. */
export async function pathStat(ctx: Ctx, nameOrId: string, ctrPath: string): Promise<PathStat> {
  const { statInRoot } = await import('../copy.ts');
  return inRoot(ctx, nameOrId, (root) => statInRoot(root, ctrPath));
}

/**
 * GET archive: a tar of a path in a running container, its entries under the path's base name.
 * The path is copied out (safely, frozen) to a scratch directory first, then streamed.
 */
export async function archiveOut(ctx: Ctx, nameOrId: string, ctrPath: string): Promise<{ stat: PathStat; tar: AsyncGenerator<Buffer> }> {
  const [{ copyOut, statInRoot }, { mergedTar }] = await Promise.all([import('../copy.ts'), import('../../snapshot/diff.ts')]);
  const scratch = scratchDir(ctx);
  try {
    const stat = await inRoot(ctx, nameOrId, (root) => {
      const st = statInRoot(root, ctrPath);
      copyOut(root, ctrPath.replace(/\/\.$/, '/'), scratch);
      return st;
    });
    emit(ctx, 'archive-path', get(ctx, nameOrId).record);
    const tar = (async function* () {
      try {
        yield* mergedTar([scratch], async () => new Map());
      } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
      }
    })();
    return { stat, tar };
  } catch (err) {
    fs.rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
}

/** PUT archive: a (hostile until checked) tar unpacked safely, then copied into a directory of the container. */
export async function archiveIn(ctx: Ctx, nameOrId: string, ctrPath: string, tar: AsyncIterable<Buffer>): Promise<void> {
  const [{ copyIn, statInRoot }, { applyLayer }] = await Promise.all([import('../copy.ts'), import('../../image/apply.ts')]);
  const scratch = scratchDir(ctx);
  try {
    await inRoot(ctx, nameOrId, (root) => {
      if (!statInRoot(root, ctrPath).isDir) throw invalid(`extraction point is not a directory: ${ctrPath}`);
    });
    await applyLayer(tar, scratch, shimSpecialFs);
    const owner = rootOwner(get(ctx, nameOrId).record);
    await inRoot(ctx, nameOrId, (root) => copyIn(root, `${scratch}/.`, ctrPath, owner));
    emit(ctx, 'extract-to-dir', get(ctx, nameOrId).record);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** docker export: the container's filesystem as one tar (volumes and mounts not included). */
export async function* exportFs(ctx: Ctx, nameOrId: string): AsyncGenerator<Buffer> {
  const { mergedTar, unshifter } = await import('../../snapshot/diff.ts');
  const c = get(ctx, nameOrId);
  const dirs = [...ctx.images.layers.mount(c.record.Layers), path.join(ctx.store.cdir(c.record.Id), 'upper')];
  // A remapped container's own files are owned by host ids: exported as the container sees them.
  yield* mergedTar(dirs, readXattrs, unshifter(c.record.HostConfig.IdMap));
}

/** Mount points of the user's mounts are not the container's changes (docker's too). */
export function mountTargets(record: ContainerRecord): string[] {
  return (record.HostConfig.Mounts ?? []).map((m) => m.Target.replace(/^\/+/, ''));
}

/** What a copy into the container creates belongs to its root: for a remapped one, a host id. */
function rootOwner(record: ContainerRecord): { uid: number; gid: number } | undefined {
  const map = record.HostConfig.IdMap;
  return map && { uid: map.HostId, gid: map.HostId };
}

/**
 * Runs fn with the container's root as "/proc/PID/root": a running container's own, frozen
 * meanwhile; a stopped one's mounted by a holder process in a mount namespace of its own.
 */
async function inRoot<T>(ctx: Ctx, nameOrId: string, fn: (root: string) => T | Promise<T>): Promise<T> {
  try {
    return await inRootOf(ctx, nameOrId, fn);
  } catch (err) {
    // dockerd names the container as it was asked for: "Could not find the file /x in container c2".
    if (isCode(err, 'NotFound') && (err as Error).message.endsWith(' in container')) throw notFound(`${(err as Error).message} ${nameOrId}`);
    throw err;
  }
}

async function inRootOf<T>(ctx: Ctx, nameOrId: string, fn: (root: string) => T | Promise<T>): Promise<T> {
  const c = get(ctx, nameOrId);
  if (c.state.Status === 'created' || c.state.Status === 'exited') return inHeldRoot(ctx, c.record, fn);
  if (c.state.Status !== 'running' && c.state.Status !== 'paused') throw conflict(`cannot copy files while ${c.record.Name} is ${c.state.Status}`);
  const root = `/proc/${initPid(ctx, c)}/root`;
  const freeze = c.state.Status === 'running';
  const cg = cgroupsOf(ctx, c.record);
  if (freeze) await cg.freeze(c.record.Id, true);
  try {
    return await fn(root);
  } finally {
    if (freeze) await cg.freeze(c.record.Id, false);
  }
}

async function inHeldRoot<T>(ctx: Ctx, record: ContainerRecord, fn: (root: string) => T | Promise<T>): Promise<T> {
  const shim = ctx.host.spawn(buildHoldPlan(rootfs(ctx, record, lowerDirs(ctx, record)), mountPlan(ctx, record).filter((m) => m.type === 'bind')), { stdin: 'pipe', output: 'ignore' });
  try {
    const pid = await shim.started;
    return await fn(`/proc/${pid}/root`);
  } finally {
    shim.stdio.stdin?.end();
    shim.close();
    await shim.gone;
  }
}

function scratchDir(ctx: Ctx): string {
  const base = path.join(ctx.root.dir, 'tmp');
  fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  return fs.mkdtempSync(path.join(base, 'cp-'));
}
