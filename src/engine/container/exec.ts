// docker exec (a command in all of a running container's namespaces and cgroups) and attach.
import type { Readable } from 'node:stream';
import { conflict, BerthError, invalid } from '../../core/errors.ts';
import { buildExecPlan } from '../../runtime/plan.ts';
import type { ShimExit, ShimHandle, ShimStdio } from '../../runtime/shim.ts';
import { crashPoint } from '../../util/crash.ts';
import { deframer } from '../../util/frames.ts';
import type { Ctx } from './context.ts';
import { cgroupsOf } from './cgroup-parent.ts';
import { joinFiles, processSpec } from './process.ts';
import { get, getSettled, initPid } from './reconcile.ts';
import { wait } from './stop.ts';
import { drive, streamsOf } from './streams.ts';
import type { ContainerStreams, ExecOptions } from './types.ts';

/** Attached: resolves with the command's exit; detached: once it runs. */
export async function exec(ctx: Ctx, nameOrId: string, x: ExecOptions & { attach?: { stdin: boolean } }): Promise<ShimExit | undefined> {
  const shim = await execShim(ctx, nameOrId, x, x.attach ? { stdin: x.attach.stdin ? 'inherit' : 'ignore', output: 'inherit' } : { stdin: 'ignore', output: 'ignore' });
  return drive(shim, x.attach !== undefined, async () => {
    await shim.started;
    crashPoint('exec:started');
    return x.attach ? await shim.exited : undefined;
  });
}

/** An exec whose stdio are streams for the caller (the API); `exited` has its status. */
export async function execStreams(ctx: Ctx, nameOrId: string, x: ExecOptions & { stdin: boolean; execId: string }): Promise<ContainerStreams> {
  const shim = await execShim(ctx, nameOrId, x, { stdin: x.stdin ? 'pipe' : 'ignore', output: 'pipe' });
  await shim.started;
  crashPoint('exec:started');
  return streamsOf(shim, (exit) => exit);
}

async function execShim(ctx: Ctx, nameOrId: string, x: ExecOptions & { execId?: string }, stdio: ShimStdio): Promise<ShimHandle> {
  // Settled first: what its facts imply is done before a process joins it (a commit killed
  // while it had the container paused left it frozen: thawed now, not joined frozen).
  const c = getSettled(ctx, nameOrId);
  if (c.state.Status === 'paused') throw conflict(`Container ${c.record.Id} is paused, unpause the container before exec`);
  const pid = initPid(ctx, c);
  if (!x.args.length) throw invalid('No exec command specified');
  const tty = x.tty && { ...x.tty, interactive: stdio.stdin !== 'ignore', winsizeFile: x.execId ? ctx.store.winsizeFile(c.record.Id, x.execId) : undefined };
  const plan = buildExecPlan({ pid, cgroupJoin: joinFiles(ctx, cgroupsOf(ctx, c.record).paths(c.record.Id)), process: await processSpec(ctx, c.record, { ...x, tty }), userns: c.record.HostConfig.IdMap && `/proc/${pid}/ns/user` });
  return ctx.host.spawn(plan, stdio);
}

/**
 * docker attach: follows a running container's output until it stops, and returns its exit
 * code. `write` gets each frame's payload with its stream. `stdin` (the CRI's attach) goes to the
 * container's terminal or stdin pipe through the monitor; its end closes a StdinOnce stdin.
 */
export async function attach(ctx: Ctx, nameOrId: string, write: (stream: 'stdout' | 'stderr', data: Buffer) => void, signal?: AbortSignal, stdin?: Readable | null): Promise<number> {
  const c = get(ctx, nameOrId);
  initPid(ctx, c); // running
  const { connect } = await import('node:net');
  const sock = connect(ctx.store.attachSocket(c.record.Id));
  stdin?.pipe(sock);
  signal?.addEventListener('abort', () => sock.destroy(), { once: true }); // its client left
  await new Promise<void>((resolve, reject) => {
    sock.on('data', deframer(write));
    sock.on('error', (err) => reject(new BerthError('Unavailable', `cannot attach to ${c.record.Name}: ${err.message}`)));
    sock.on('close', () => resolve());
  });
  return wait(ctx, c.record.Id);
}
