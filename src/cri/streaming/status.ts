// The end of a remote command: its outcome on the error channel, as the kubelet's server writes
// it (v4 and later: a JSON metav1.Status; before: a plain message, and nothing for success), and
// the terminal sizes the client sends on the resize channel.
import { finished } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import type { Channels } from './channels.ts';
import type { TermSize } from './runtime.ts';

export function exitStatus(version: number, code: number, cmd: string[]): Buffer | null {
  if (code === 0) return version >= 4 ? Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' })) : null;
  const message = `command terminated with non-zero exit code: error executing command ${JSON.stringify(cmd)}, exit code ${code}`;
  if (version < 4) return Buffer.from(message);
  return Buffer.from(JSON.stringify({
    metadata: {}, status: 'Failure', message, reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  }));
}

export function successStatus(version: number): Buffer | null {
  return version >= 4 ? Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' })) : null;
}

/** A failure that is not the command's exit (it could not run, the container is gone...). */
export function errorStatus(version: number, err: unknown): Buffer {
  const msg = (err as Error)?.message ?? String(err);
  if (version < 4) return Buffer.from(msg);
  return Buffer.from(JSON.stringify({
    metadata: {}, status: 'Failure', message: `Internal error occurred: ${msg}`, reason: 'InternalError',
    details: { causes: [{ message: msg }] }, code: 500,
  }));
}

/** Ends a writable and waits until it is out (or gone). */
export async function endAndWait(w: Writable | null): Promise<void> {
  if (!w || w.destroyed || w.writableFinished) return;
  w.end();
  await finished(w, { readable: false }).catch(() => {});
}

/** Output ends, then the status, then the connection: the client sees all output before the exit. */
export async function finish(ch: Channels, status: Buffer | null): Promise<void> {
  await Promise.all([endAndWait(ch.stdout), endAndWait(ch.stderr)]);
  if (status && !ch.error.destroyed) ch.error.write(status);
  await endAndWait(ch.error);
  ch.close();
}

/** The JSON objects of a resize stream (`{"Width":80,"Height":24}` each, however they are cut). */
export async function* sizes(stream: Readable): AsyncIterable<TermSize> {
  let pending = '';
  for await (const chunk of stream) {
    pending += chunk.toString();
    for (;;) {
      const start = pending.indexOf('{');
      const end = pending.indexOf('}', start);
      if (start < 0 || end < 0) break;
      const text = pending.slice(start, end + 1);
      pending = pending.slice(end + 1);
      try {
        const o = JSON.parse(text);
        const width = Number(o.Width ?? o.width);
        const height = Number(o.Height ?? o.height);
        if (width > 0 && height > 0 && width < 65536 && height < 65536) yield { width, height };
      } catch {} // not a size: skipped, as the kubelet does
    }
    if (pending.length > 4096) pending = ''; // no object in sight: garbage
  }
}
