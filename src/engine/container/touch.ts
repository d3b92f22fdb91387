// The containers directory's mtime as the mark of a change to what the container index caches
// (store.ts readAll()): a record, a saved state, whether a start claim is there. A listing whose
// index was written under the directory's current mtime trusts its entries without a stat of
// each container's directory. Creating and removing a container rename an entry of the directory,
// which changes its mtime; every other change of a cached fact is bracketed by touchContainers():
// before, so that a writer killed half way has already invalidated the index, and after, so that a
// listing that read the old fact meanwhile does not stay trusted.
import * as fs from 'node:fs';

export function touchContainers(containersDir: string): void {
  const now = new Date();
  try {
    fs.utimesSync(containersDir, now, now);
  } catch {} // no containers directory: no index to invalidate
}
