// RUN --mount=type=cache,sharing=locked: one RUN at a time uses the cache directory, across every
// process of the state root (two `berth build`s, or one beside the daemon), not only within one
// build. The lock is a claim file beside the cache directory (kernel/claim.ts): it names its
// holder process, so a build that was killed holding it does not block the next one.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { claim, holderDead, selfHolder } from '../kernel/claim.ts';
import { chainKey } from './cache.ts';

/** The name of a cache mount's directory (and, with `.lock`, of its lock) under cache-mounts/. */
export function cacheMountName(id: string): string {
  return chainKey('cache', id).slice(0, 32);
}

export function cacheMountsDir(rootDir: string): string {
  return path.join(rootDir, 'build', 'cache-mounts');
}

/**
 * Waits until this process holds the locks of these cache mounts (taken in a fixed order, so two
 * builds locking the same pair never wait on each other), or the signal aborts. Returns the release.
 */
export async function lockCacheMounts(rootDir: string, ids: string[], signal?: AbortSignal): Promise<() => void> {
  const dir = cacheMountsDir(rootDir);
  const names = [...new Set(ids.map(cacheMountName))].sort();
  fs.mkdirSync(dir, { recursive: true });
  const held: Array<() => void> = [];
  const releaseAll = () => {
    for (const r of held.reverse()) r();
  };
  try {
    for (const name of names) {
      for (;;) {
        signal?.throwIfAborted();
        const got = claim(dir, `${name}.lock`, selfHolder(), holderDead);
        if (got) {
          held.push(got);
          break;
        }
        // Held by a live RUN elsewhere: it may take minutes; polled, not spun.
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } catch (err) {
    releaseAll();
    throw err;
  }
  return releaseAll;
}
