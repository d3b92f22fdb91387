// The one error a template gives: a BerthError (so the CLI prints it without a stack) that knows
// whether it failed to parse or to execute, and the exit status docker gives for it (1 for a
// listing, 64 when `inspect` cannot parse its format).
import { BerthError } from '../../core/errors.ts';

export class TemplateError extends BerthError {
  readonly phase: 'parse' | 'exec';
  readonly exitStatus: number;
  /** What the template wrote before it failed (docker keeps a table header's partial output). */
  partial = '';
  constructor(message: string, phase: 'parse' | 'exec', exitStatus = 1) {
    super('InvalidArgument', message);
    this.phase = phase;
    this.exitStatus = exitStatus;
  }
}
