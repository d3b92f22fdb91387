// What every container verb works with: the stores, the event journal, and the machine (Host).
import * as path from 'node:path';
import type { ContainerRecord } from '../../core/container.ts';
import type { ImageStore } from '../../image/store.ts';
import type { Events } from '../events.ts';
import type { StateRoot } from '../../core/root.ts';
import type { Volumes } from '../volumes.ts';
import type { Host } from './host.ts';
import type { ContainerStore } from './store.ts';

export interface Ctx {
  root: StateRoot;
  images: ImageStore;
  store: ContainerStore;
  volumes: Volumes;
  events: Events;
  host: Host;
}

/** docker's container event: the actor's attributes are its labels, image and name. */
export function emit(ctx: Ctx, action: string, record: ContainerRecord, extra: Record<string, string> = {}): void {
  ctx.events.emit('container', action, record.Id, { ...record.Config.Labels, image: record.ImageName, name: record.Name, ...extra });
}

/** Compiled seccomp programs, kept across containers. */
export function cacheDir(ctx: Ctx): string {
  return path.join(ctx.root.dir, 'cache');
}
