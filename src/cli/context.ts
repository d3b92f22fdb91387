// What every command of the command line gets: the engine (opened on first use) and its output.
// Its own module, so that the commands do not import main.ts, which imports them.
import type { Engine } from '../engine/engine.ts';

/** A command's view of the invocation: the engine, created when first asked for, and where to write. */
export interface Context {
  engine(): Engine;
  out(text: string): void;
  err(text: string): void;
}
