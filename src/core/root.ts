// A state root (the engine's, and the network's below it). Everything berth keeps lives below it; the kernel objects it makes
// (cgroups) are named by the root's key, so two roots on one machine never touch each other.
import * as fs from 'node:fs';
import { rootKey } from '../util/hash.ts';

export interface StateRoot {
  dir: string;
  key: string; // 12 hex chars derived from the real path of dir
}

export const DEFAULT_ROOT = '/var/lib/berth';

export function openRoot(dir: string): StateRoot {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const real = fs.realpathSync(dir);
  closeToOthers(real);
  return { dir: real, key: rootKey(real) };
}

export { rootKey };

/**
 * The root holds container and image configurations with their environment (often secrets),
 * registry credentials and the attach sockets: root's alone, as docker's state directory. A root
 * made before that (0711, or by hand) is closed when opened.
 */
function closeToOthers(dir: string): void {
  const st = fs.statSync(dir);
  if (st.mode & 0o077 && process.getuid?.() === st.uid) fs.chmodSync(dir, st.mode & 0o700);
}

