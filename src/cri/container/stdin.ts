// The stdin of CRI containers created with `stdin`: a pipe from this daemon, held open while the
// container runs (as containerd's shim holds its fifo), so a shell waits for an attach to type
// into it. Attach clients write into it; with `stdin_once` the first client's end closes it.
// Held in memory: after a daemon restart a container's stdin stays open at its monitor (which
// keeps the pipe when the daemon's side goes, without StdinOnce) but takes no more input.
import type { Readable, Writable } from 'node:stream';
import type { ContainerStreams } from '../../engine/container/types.ts';

const held = new Map<string, { stdin: Writable; once: boolean; used: boolean }>();

/** Takes a started container's streams: output is drained (the monitor logs it), stdin kept. */
export function holdStdin(id: string, streams: ContainerStreams, once: boolean): void {
  streams.stdout.resume();
  streams.stderr.resume();
  if (streams.stdin) {
    streams.stdin.on('error', () => {});
    held.set(id, { stdin: streams.stdin, once, used: false });
  }
  streams.exited.catch(() => undefined).finally(() => held.delete(id));
}

/** Copies an attach client's input into the container's stdin; false when it has none here. */
export function attachStdin(id: string, input: Readable): boolean {
  const h = held.get(id);
  if (!h || (h.once && h.used)) return false;
  h.used = true;
  input.on('data', (b: Buffer) => h.stdin.write(b));
  input.once('end', () => {
    if (h.once) {
      h.stdin.end();
      held.delete(id);
    }
  });
  return true;
}
