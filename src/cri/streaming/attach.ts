// Attach over the streaming server: a running container's output on the client's channels until
// it ends (or the client leaves); success or the failure on the error channel.
import type { Channels } from './channels.ts';
import type { StreamRuntime } from './runtime.ts';
import { errorStatus, finish, sizes, successStatus } from './status.ts';

export interface AttachRequest {
  container_id: string;
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export async function serveAttach(rt: StreamRuntime, req: AttachRequest, ch: Channels): Promise<void> {
  const gone = new AbortController();
  ch.done.then(() => gone.abort());
  let status: Buffer | null;
  try {
    await rt.attach(req.container_id, req.tty, { stdin: ch.stdin, stdout: ch.stdout, stderr: ch.stderr }, ch.resize && sizes(ch.resize), gone.signal);
    status = successStatus(ch.version);
  } catch (err) {
    status = errorStatus(ch.version, err);
  }
  await finish(ch, status);
}
