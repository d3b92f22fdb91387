// The stdin of CRI containers created with `stdin`: a pipe from this daemon, held open while the
// container runs (as containerd's shim holds its fifo), so a shell waits for an attach to type
// into it instead of reading EOF. Attach clients' input reaches it through the monitor's attach
// socket (which closes a StdinOnce stdin when the first client's input ends). Without StdinOnce
// the monitor keeps the pipe open when this daemon's side goes (a daemon restart).
import type { ContainerStreams } from '../../engine/container/types.ts';

/** Takes a started container's streams: output is drained (the monitor logs it), stdin kept. */
export function holdStdin(streams: ContainerStreams): void {
  streams.stdout.resume();
  streams.stderr.resume();
  // The socket under it stays open while the container runs: nothing here writes to it.
  streams.stdin?.on('error', () => {});
  streams.exited.catch(() => undefined);
}
