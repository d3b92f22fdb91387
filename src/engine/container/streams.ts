// A shim working for a caller: in the foreground of the CLI (drive), or with its stdio as
// streams for the API to carry (streamsOf).
import type { ShimExit, ShimHandle } from '../../runtime/shim.ts';
import { FORWARDED_SIGNALS } from '../../kernel/signals.ts';
import { mark } from '../../util/trace.ts';
import type { ContainerStreams } from './types.ts';

/**
 * Runs body while the shim works for us. Attached: our signals are forwarded to the
 * container, and at the end closing the report socket lets the shim tear down, which we wait
 * for (so an --rm container is gone when we return). Detached: the shim carries on alone.
 */
export async function drive<T>(shim: ShimHandle, attached: boolean, body: () => Promise<T>): Promise<T> {
  // SIGWINCH: with a terminal the monitor resizes the pty from our terminal's size.
  const forward = (sig: NodeJS.Signals) => shim.kill(sig);
  if (attached) for (const s of [...FORWARDED_SIGNALS, 'SIGWINCH'] as const) process.on(s, forward);
  let detached = !attached;
  try {
    const result = await body();
    if ((result as ShimExit | undefined)?.detached) detached = true;
    return result;
  } finally {
    if (!detached) {
      shim.close();
      await shim.gone;
      mark('monitor gone');
      for (const s of [...FORWARDED_SIGNALS, 'SIGWINCH'] as const) process.off(s, forward);
    } else {
      shim.detach();
    }
  }
}

/** The shim's stdio as streams; `exited` is its exit after `settle` (a container's state saved). */
export function streamsOf(shim: ShimHandle, settle: (exit: ShimExit) => ShimExit): ContainerStreams {
  const exited = shim.exited.then(settle).finally(() => shim.close());
  exited.catch(() => {});
  return { stdin: shim.stdio.stdin, stdout: shim.stdio.stdout!, stderr: shim.stdio.stderr!, exited, gone: shim.gone.then(() => undefined), monitorPid: shim.shimPid };
}
