// docker commit: the container's changes become a new layer on top of its image.
import * as path from 'node:path';
import { notFound } from '../../core/errors.ts';
import type { ImageRecord, RunConfig } from '../../core/types.ts';
import { readXattrs } from '../../runtime/shim.ts';
import { mountTargets } from './archive.ts';
import type { Ctx } from './context.ts';
import { get } from './reconcile.ts';
import { crashPoint } from '../../util/crash.ts';
import { freezeForCommit } from './pause.ts';
import { applyChange } from '../../image/changes.ts';

export interface CommitOptions {
  name?: string;
  changes?: RunConfig;
  /** Dockerfile instructions (docker's `--change`), applied over the config in order: ENV adds to the container's. */
  instructions?: string[];
  comment?: string;
  author?: string;
  pause?: boolean;
}

/**
 * The new image has the container's run config (plus `changes`). A running container is frozen
 * meanwhile, so the layer is a consistent snapshot; what the user does to its pause meanwhile
 * is kept (pause.ts).
 */
export async function commit(ctx: Ctx, nameOrId: string, opts: CommitOptions): Promise<ImageRecord> {
  const c = get(ctx, nameOrId);
  const parent = ctx.images.get(c.record.Image);
  if (!parent) throw notFound(`image ${c.record.Image} of container ${c.record.Id.slice(0, 12)} is gone`);
  const { layerTar, unshifter } = await import('../../snapshot/diff.ts');
  const thaw = opts.pause !== false && (c.state.Status === 'running' || c.state.Status === 'paused') ? await freezeForCommit(ctx, c.record.Id) : undefined;
  crashPoint('commit:paused');
  try {
    const upper = path.join(ctx.store.cdir(c.record.Id), 'upper');
    const xattrs = await readXattrs(upper);
    const cfg = c.record.Config;
    let runConfig: RunConfig = {
      User: cfg.User, Env: cfg.Env, Cmd: cfg.Cmd, Entrypoint: cfg.Entrypoint, WorkingDir: cfg.WorkingDir,
      Labels: cfg.Labels, ...(cfg.StopSignal ? { StopSignal: cfg.StopSignal } : {}),
      ...(cfg.ExposedPorts ? { ExposedPorts: cfg.ExposedPorts } : {}), ...(cfg.Healthcheck ? { Healthcheck: cfg.Healthcheck } : {}), ...opts.changes,
    };
    for (const i of opts.instructions ?? []) runConfig = applyChange(runConfig, i);
    return await ctx.images.addLayer(layerTar(upper, xattrs, mountTargets(c.record), unshifter(c.record.HostConfig.IdMap)), {
      parent, name: opts.name, runConfig, createdBy: `berth commit ${c.record.Name}`, comment: opts.comment, author: opts.author,
      container: { id: c.record.Id, config: { ...cfg, Image: c.record.ImageName } },
    });
  } finally {
    await thaw?.();
  }
}
