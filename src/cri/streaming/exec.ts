// Exec over the streaming server: the command's stdio on the client's channels, its exit code on
// the error channel.
import type { ExecRequest as CriExecRequest } from '../types.ts';
import type { Channels } from './channels.ts';
import type { StreamRuntime } from './runtime.ts';
import { errorStatus, exitStatus, finish, sizes } from './status.ts';

/** The protocol's ExecRequest as the token keeps it (the audit id is the kubelet's, not ours). */
export type ExecRequest = Omit<CriExecRequest, 'audit_request_id'>;

export async function serveExec(rt: StreamRuntime, req: ExecRequest, ch: Channels): Promise<void> {
  const gone = new AbortController();
  let over = false;
  ch.done.then(() => !over && gone.abort());
  let status: Buffer | null;
  try {
    const code = await rt.exec(req.container_id, req.cmd, req.tty, { stdin: ch.stdin, stdout: ch.stdout, stderr: ch.stderr }, ch.resize && sizes(ch.resize), gone.signal);
    status = exitStatus(ch.version, code, req.cmd);
  } catch (err) {
    status = errorStatus(ch.version, err);
  }
  over = true;
  await finish(ch, status);
}
