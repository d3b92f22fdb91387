// Terminal resize of a container (or of one of its execs) started through the API: its own module
// because the facade's method is synchronous, and importing start.ts for it would load the start
// code for every command.
import { invalid } from '../../core/errors.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import type { Ctx } from './context.ts';

/** Resizes the terminal of a container (or of one of its execs) started through the API. */
export function resize(ctx: Ctx, monitorPid: number, file: string, rows: number, cols: number): void {
  if (!(rows > 0 && rows < 65536 && cols > 0 && cols < 65536)) throw invalid(`invalid terminal size ${rows}x${cols}`);
  writeFileAtomic(file, `${rows} ${cols}\n`);
  try {
    ctx.host.kill(monitorPid, 'SIGWINCH');
  } catch {}
}
