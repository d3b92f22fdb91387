// An exec whose process cannot be started is the exec's outcome in dockerd, not a failed
// request: /exec/{id}/start answers 200, the stream carries the message, and the exec's
// ExitCode reads 126 (127 for a missing command from API 1.42, dockerd 23 on). Clients check
// that (testcontainers' port probes, docker-py's exec_run, the docker CLI's exit status).
import { BerthError, isCode } from '../core/errors.ts';

export interface ExecFailure {
  exitCode: number;
  /** The stream's text, as dockerd writes it. */
  message: string;
}

const runc = (what: string) => `OCI runtime exec failed: exec failed: unable to start container process: ${what}: unknown`;

/** What a failed exec start becomes, or undefined for an error of the request itself (409, 404...). Pure. */
export function execFailure(err: unknown, apiVersion: number): ExecFailure | undefined {
  if (!(err instanceof BerthError)) return undefined;
  if (isCode(err, 'CommandNotFound')) return { exitCode: apiVersion >= 1.42 ? 127 : 126, message: runc(err.message) };
  if (isCode(err, 'CannotInvoke')) return { exitCode: 126, message: runc(err.message) };
  // The daemon's own lookups, before any runtime (its words, no runtime's prefix).
  if (isCode(err, 'InvalidArgument') && /^unable to find (user|group) /i.test(err.message)) return { exitCode: 126, message: err.message };
  // A working directory that is not there: runc's words for it.
  const cwd = /entering the working directory (.*): No such file or directory$/.exec(err.message);
  if (cwd) return { exitCode: 126, message: runc(`chdir to cwd ("${cwd[1]}") set in config.json failed: no such file or directory`) };
  return undefined;
}
