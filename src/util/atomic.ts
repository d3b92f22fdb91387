// Files that readers may open at any moment are never written in place: a reader sees the old
// content or the new, never half of either, even if the writer is killed mid-write.
import * as fs from 'node:fs';

let seq = 0;

export function writeFileAtomic(path: string, data: string | Uint8Array, opts: { durable?: boolean; mode?: number } = {}): void {
  const tmp = `${path}.${process.pid}.${++seq}.tmp`;
  const fd = fs.openSync(tmp, 'wx', opts.mode ?? 0o644);
  try {
    fs.writeFileSync(fd, data);
    // fsync costs milliseconds; only state that must survive a machine crash pays for it.
    if (opts.durable) fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, path);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

const TEMP = /\.(\d+)(?:\.\d+\.tmp|\.stale)$/;

/**
 * Removes what killed processes left half done: temporary files of writers killed between write
 * and rename, and stale locks set aside by a takeover (`<lock>.<pid>.stale`), whose pid is gone.
 * Given a directory's listing, so a caller that lists it anyway pays nothing more.
 */
export function sweepTemps(dir: string, names: string[]): void {
  for (const n of names) {
    const m = TEMP.exec(n);
    if (m && !fs.existsSync(`/proc/${m[1]}`)) fs.rmSync(`${dir}/${n}`, { force: true });
  }
}

/** A file's text, or undefined if it cannot be read (gone, or never written). */
export function readTextFile(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function readJsonFile<T>(path: string): T | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}
