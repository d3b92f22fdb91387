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
