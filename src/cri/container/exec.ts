// ExecSync: a command in a running container, its output captured whole, with a timeout after
// which the command is killed and the call fails as containerd's does (DEADLINE_EXCEEDED).
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { CriStatusError } from '../errors.ts';
import { randomHex } from '../../util/random.ts';
import { findKind } from '../sandbox/lookup.ts';
import type { CriContext } from './cri-types.ts';


export async function execSync(ctx: CriContext, req: { container_id: string; cmd: string[]; timeout?: string | number }): Promise<{ stdout: Buffer; stderr: Buffer; exit_code: number }> {
  const c = findKind(ctx.engine, req.container_id, 'container');
  const streams = await ctx.engine.containers.execStreams(c.record.Id, { args: req.cmd ?? [], stdin: false, execId: randomHex(16) });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  streams.stdout.on('data', (b: Buffer) => out.push(b));
  streams.stderr.on('data', (b: Buffer) => err.push(b));
  const ended = (s: NodeJS.ReadableStream) => new Promise<void>((resolve) => { s.once('end', resolve); s.once('close', resolve); s.once('error', () => resolve()); });
  const done = Promise.all([streams.exited, ended(streams.stdout), ended(streams.stderr)]).then(([exit]) => exit);
  const seconds = Number(req.timeout ?? 0);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = seconds > 0 ? new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), seconds * 1000); }) : undefined;
  try {
    const r = await (timedOut ? Promise.race([done, timedOut]) : done);
    if (r === 'timeout') {
      killCommand(streams.monitorPid);
      await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
      throw new CriStatusError(grpc.status.DEADLINE_EXCEEDED, `timeout ${seconds}s exceeded: context deadline exceeded`);
    }
    return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exit_code: r.exit };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Kills a timed-out command: its monitor's child, so that the monitor reaps it and ends as usual
 * (killing the monitor instead would leave the command to the container's init to reap, a
 * zombie where that init reaps nothing). The monitor itself if its child cannot be read.
 */
function killCommand(monitorPid: number): void {
  let children: number[] = [];
  try {
    children = fs.readFileSync(`/proc/${monitorPid}/task/${monitorPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {}
  for (const pid of children.length ? children : [monitorPid]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}
