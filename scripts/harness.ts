// What the scripts and benchmarks that drive bin/berth share: the repo's berth, whose bundle is
// rebuilt first when src/ is newer (measure and test what src/ holds now, not an older build of
// it), and removing the cgroup scopes their roots leave behind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, stale } from './bundle.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BERTH = path.join(REPO, 'bin/berth');
if (stale()) await bundle();

/** The per-root cgroup scopes (and docker's bench parent) a finished benchmark leaves. */
export async function removeScopes(berthRoots: string[], extra: string[] = ['berth/docker-bench']): Promise<void> {
  const { openRoot } = await import('../src/core/root.ts');
  // The roots' layer images stay mounted while they exist: unmounted before the roots are deleted.
  const { Engine } = await import('../src/engine/engine.ts');
  for (const r of berthRoots) new Engine(r).images.layers.unmountAll();
  const scopes = [...berthRoots.map((r) => `berth/${openRoot(r).key}`), ...extra];
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    for (const scope of scopes) {
      try {
        fs.rmdirSync(path.join('/sys/fs/cgroup', h, scope));
      } catch {}
    }
  }
}
