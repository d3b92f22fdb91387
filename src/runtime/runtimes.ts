// The OCI runtimes `--runtime` may name, called as runc is (docker, too, runs only runtimes it
// was configured with: a name from an API request must never run an arbitrary program).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../core/errors.ts';

const KNOWN_RUNTIMES = new Set(['runc', 'crun', 'youki', 'runsc', 'berth-runtime']);

/** `--runtime NAME`: one of the known OCI runtimes, found in the system's program directories. */
export function runtimeCommand(name: string): string[] {
  if (!KNOWN_RUNTIMES.has(name)) throw invalid(`unknown or invalid runtime name: ${name}`);
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const file = path.join(d, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return [file];
    } catch {}
  }
  throw invalid(`unknown or invalid runtime name: ${name}`);
}
