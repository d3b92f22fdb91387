// The only place where berth's error codes become gRPC statuses (as api/http.ts is for HTTP).
// The kubelet reads some of them: NOT_FOUND for a pod or container that is gone, UNIMPLEMENTED
// for a call the runtime does not serve.
import * as grpc from '@grpc/grpc-js';
import { BerthError, type ErrorCode } from '../core/errors.ts';

const STATUS: Partial<Record<ErrorCode, grpc.status>> = {
  NotFound: grpc.status.NOT_FOUND,
  InvalidArgument: grpc.status.INVALID_ARGUMENT,
  AlreadyExists: grpc.status.ALREADY_EXISTS,
  FailedPrecondition: grpc.status.FAILED_PRECONDITION,
  Unavailable: grpc.status.UNAVAILABLE,
  Unimplemented: grpc.status.UNIMPLEMENTED,
  PermissionDenied: grpc.status.PERMISSION_DENIED,
  NoSpace: grpc.status.RESOURCE_EXHAUSTED,
};

/** A status a handler means exactly (DEADLINE_EXCEEDED for an exec's timeout...), passed through as it is. */
export class CriStatusError extends Error {
  readonly code: grpc.status;
  constructor(code: grpc.status, message: string) {
    super(message);
    this.code = code;
    this.name = 'CriStatusError';
  }
}

/** What a client receives for an error thrown by a handler. */
export function toStatus(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof CriStatusError) return { code: err.code, details: err.message };
  if (err instanceof BerthError) return { code: statusOf(err), details: err.message };
  return { code: grpc.status.UNKNOWN, details: err instanceof Error ? err.message : String(err) };
}

/**
 * Conflict is both "that name is taken" (ALREADY_EXISTS: the kubelet retries with a new attempt)
 * and "not in a state for that" (FAILED_PRECONDITION); the engine's messages say which.
 */
export function statusOf(err: BerthError): grpc.status {
  if (err.code === 'Conflict') return /already (in use|exists)/i.test(err.message) ? grpc.status.ALREADY_EXISTS : grpc.status.FAILED_PRECONDITION;
  return STATUS[err.code] ?? grpc.status.UNKNOWN;
}

export function unimplemented(method: string): CriStatusError {
  return new CriStatusError(grpc.status.UNIMPLEMENTED, `${method} is not implemented by berth`);
}
