// One error type for the whole engine. Codes are stable: the CLI maps them to exit codes and the
// API layer (only there) maps them to HTTP statuses. Context goes into the message or `cause`.

export type ErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'Conflict'
  | 'FailedPrecondition'
  | 'Unavailable'
  | 'Unimplemented' // asked of something this container or engine does not provide (docker: 501)
  | 'PermissionDenied'
  | 'CannotInvoke' // the container's command exists but cannot be executed (docker: 126)
  | 'CommandNotFound' // the container's command does not exist (docker: 127)
  | 'NoSpace' // a write found the file system (or its quota) full
  | 'Internal';

export class BerthError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'BerthError';
  }
}

export function isCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof BerthError && err.code === code;
}

export const notFound = (msg: string, cause?: unknown) => new BerthError('NotFound', msg, { cause });
export const invalid = (msg: string, cause?: unknown) => new BerthError('InvalidArgument', msg, { cause });
export const conflict = (msg: string, cause?: unknown) => new BerthError('Conflict', msg, { cause });

/**
 * A system error (Node's errno errors) that means something to the user, as a BerthError: a full
 * file system is "no space left on device" wherever the write happened, an over-long name an
 * invalid argument. Anything else is returned as it is. Causes are looked through, so a wrapped
 * ENOSPC is still one.
 */
export function fromSystemError(err: unknown): unknown {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = (e as Error).cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    const where = (e as NodeJS.ErrnoException).path ? ` (writing ${(e as NodeJS.ErrnoException).path})` : '';
    if (code === 'ENOSPC' || code === 'EDQUOT') return new BerthError('NoSpace', `no space left on device${where}`, { cause: err });
    if (/no space left on device/i.test(e.message) && !(e instanceof BerthError && e.code !== 'Internal')) return new BerthError('NoSpace', e.message, { cause: err });
    if (code === 'ENAMETOOLONG' && err === e) return new BerthError('InvalidArgument', `name too long${where}`, { cause: err });
  }
  return err;
}
