// Containers whose cgroup is under a CgroupParent (docker's --cgroup-parent, the kubelet's pod
// cgroup) rather than the root's scope `berth/<key>`. The parent is the caller's: berth makes it
// when it is missing (as runc does) and never removes it, not even when it made it and it is empty
// (the kubelet owns pod cgroups and removes them itself; a parent berth removed under it would be
// made again by the next container anyway). Only the container's own cgroup goes.
//
// The sweeps find the root's containers by listing its scope; a cgroup elsewhere is found through
// a marker in the state root, `cgroup-parents/<id>.<parent, base64url>` (an empty directory, so
// the monitor's teardown removes it with an rmdir like the cgroups), made before the cgroup and
// removed after it: a kill -9 at any point leaves a marker that says which cgroup to remove.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerRecord } from '../../core/container.ts';
import type { CgroupDriver } from '../../kernel/cgroups.ts';
import type { Ctx } from './context.ts';

/** The driver that holds a container's cgroup. */
export function cgroupsOf(ctx: Ctx, record: ContainerRecord): CgroupDriver {
  return ctx.host.cgroups(record.HostConfig.CgroupParent || undefined);
}

function markers(ctx: Ctx): string {
  return path.join(ctx.root.dir, 'cgroup-parents');
}

/** The marker of a container under a parent; undefined for one in the root's own scope. */
export function parentMarker(ctx: Ctx, record: ContainerRecord): string | undefined {
  const parent = record.HostConfig.CgroupParent;
  return parent ? path.join(markers(ctx), `${record.Id}.${Buffer.from(parent).toString('base64url')}`) : undefined;
}

/** Before its cgroup is made: says where it will be. */
export function markParent(ctx: Ctx, record: ContainerRecord): void {
  const m = parentMarker(ctx, record);
  if (m) fs.mkdirSync(m, { recursive: true });
}

/** After its cgroup is gone. */
export function unmarkParent(ctx: Ctx, record: ContainerRecord): void {
  const m = parentMarker(ctx, record);
  if (m) fs.rmSync(m, { recursive: true, force: true });
}

/** The containers whose cgroup may be under a parent, with the driver that holds it. */
export function markedParents(ctx: Ctx): Array<{ id: string; cgroups: CgroupDriver; marker: string }> {
  let names: string[] = [];
  try {
    names = fs.readdirSync(markers(ctx));
  } catch {}
  const out: Array<{ id: string; cgroups: CgroupDriver; marker: string }> = [];
  for (const n of names) {
    const m = /^([a-f0-9]{64})\.([A-Za-z0-9_-]+)$/.exec(n);
    if (!m) continue;
    try {
      out.push({ id: m[1], cgroups: ctx.host.cgroups(Buffer.from(m[2], 'base64url').toString()), marker: path.join(markers(ctx), n) });
    } catch {} // a parent this version refuses: nothing it could have made
  }
  return out;
}
