// Parse errors name the file and the instruction's first line, as `docker build` does.

import { BerthError, invalid } from '../../core/errors.ts';

export function parseError(file: string, line: number, message: string): BerthError {
  return invalid(`${file}:${line}: ${message}`);
}

/** Rewraps an error thrown by a helper (already a BerthError without a position) at `line`. */
export function atLine(file: string, line: number, err: unknown): BerthError {
  const message = err instanceof Error ? err.message : String(err);
  return invalid(`${file}:${line}: ${message}`, err);
}
