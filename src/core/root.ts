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
  fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
  const real = fs.realpathSync(dir);
  return { dir: real, key: rootKey(real) };
}

export { rootKey };

