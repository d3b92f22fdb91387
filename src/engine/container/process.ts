// The process to run: the container's command, or an exec's (a health probe's), with docker's
// env defaults, the user resolved in the image, and the confinement of the container.
import * as path from 'node:path';
import type { ContainerRecord } from '../../core/container.ts';
import { resolveGroup, resolveUser } from '../../image/passwd.ts';
import { capMask } from '../../kernel/capabilities.ts';
import type { ProcessSpec } from '../../runtime/plan.ts';
import { readImageFile } from '../../snapshot/layers.ts';
import { DEFAULT_PATH } from '../../util/paths.ts';
import { confinement, rlimits, seccompProgram } from '../security.ts';
import { cacheDir, type Ctx } from './context.ts';
import { mergeEnv } from './create.ts';
import { sysinfoNotify } from './views.ts';

export async function processSpec(ctx: Ctx, record: ContainerRecord, x: { args?: string[]; env?: string[]; user?: string; cwd?: string; tty?: ProcessSpec['tty']; privileged?: boolean } = {}): Promise<ProcessSpec> {
  const conf = confinement(record.HostConfig);
  // A privileged exec gets every capability, as dockerd gives it; the seccomp program stays the
  // container's (dockerd's is container-wide: runc applies it to every exec).
  const caps = x.privileged ? confinement({ Privileged: true, CapAdd: [], CapDrop: [], SecurityOpt: [] }).caps : conf.caps;
  const c = record.Config;
  const read = (p: string) => readImageFile(ctx.images.layers, record.Layers, p);
  const user = resolveUser(x.user ?? c.User, read('etc/passwd'), read('etc/group'));
  const groupAdd = (record.HostConfig.GroupAdd ?? []).map((g) => resolveGroup(g, read('etc/group')));
  // "KEY" alone (kept as given through the API) is not in the process's environment (docker's too).
  const env = mergeEnv(c.Env, x.env ?? []).filter((e) => e.includes('='));
  const has = (k: string) => env.some((e) => e.startsWith(k + '='));
  if (!has('PATH')) env.unshift(`PATH=${DEFAULT_PATH}`);
  if (!has('HOSTNAME')) env.push(`HOSTNAME=${c.Hostname}`);
  if (!has('HOME')) env.push(`HOME=${user.home}`);
  if (x.tty && !has('TERM')) env.push('TERM=xterm');
  return {
    userns: record.HostConfig.IdMap !== undefined,
    args: x.args ?? [...(c.Entrypoint ?? []), ...c.Cmd],
    env,
    cwd: x.cwd || c.WorkingDir || '/',
    uid: user.uid,
    gid: user.gid,
    groups: [...new Set([...user.groups, ...groupAdd])],
    caps: capMask(caps),
    rlimits: rlimits(record.HostConfig.Ulimits),
    oomScoreAdj: record.HostConfig.OomScoreAdj || undefined,
    noNewPrivileges: conf.noNewPrivileges,
    seccomp: await seccompProgram(conf, cacheDir(ctx)),
    notify: await sysinfoNotify(ctx, record, conf),
    tty: x.tty,
  };
}

/** The files a process writes to join the container's cgroups. */
export function joinFiles(ctx: Ctx, cg: { procs: string[] }): string[] {
  // A single thread moving itself into a v1 hierarchy through `tasks` avoids the global lock
  // that a move through cgroup.procs takes (an RCU grace period, ~10 ms here).
  return ctx.host.cgroups().version === 1 ? cg.procs.map((f) => path.join(path.dirname(f), 'tasks')) : cg.procs;
}
