// A system error's meaning without the path node puts in its message ("spawn /opt/x ENOENT"):
// messages built from it reach API clients, who have no business knowing the host's paths.
import { getSystemErrorMessage } from 'node:util';

/** "no such file or directory", "permission denied", ... for an errno error; its code otherwise. */
export function errnoText(err: NodeJS.ErrnoException): string {
  return typeof err.errno === 'number' && err.errno < 0 ? getSystemErrorMessage(err.errno) : err.code ?? 'unknown error';
}
