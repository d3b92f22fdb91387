// The build cache: one record per step, keyed by the step's chain key (the state before it plus
// what the step does, including the content hashes of what COPY/ADD read), holding the state
// after it. A record is a hit only while every layer it names is still stored; images and
// layers removed since (rmi, prune) make it a miss, never an error.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { ImageStore } from '../image/store.ts';
import { dirUsage } from '../snapshot/layers.ts';
import { readJsonFile, writeFileAtomic } from '../util/atomic.ts';
import type { StageState } from './state.ts';

export function chainKey(parent: string, step: unknown): string {
  return createHash('sha256').update(parent).update('\n').update(JSON.stringify(step)).digest('hex');
}

export class BuildCache {
  private readonly dir: string;
  private readonly images: ImageStore;
  constructor(rootDir: string, images: ImageStore) {
    this.dir = path.join(rootDir, 'build', 'cache');
    this.images = images;
  }

  private file(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }

  get(key: string): StageState | undefined {
    const rec = readJsonFile<StageState>(this.file(key));
    if (!rec || rec.key !== key) return undefined;
    const ok = rec.config.rootfs.diff_ids.every((d) => this.images.layers.has(d)) && rec.layers.every((l) => this.images.content.has(l.digest));
    return ok ? rec : undefined;
  }

  put(state: StageState): void {
    fs.mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(this.file(state.key), JSON.stringify(state));
  }

  /**
   * builder prune: every record and every RUN cache-mount directory. The layers the records
   * named go with the images that hold them, or with image prune when no image does.
   */
  prune(): { records: number; reclaimed: number } {
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.dir);
    } catch {}
    for (const f of names) fs.rmSync(path.join(this.dir, f), { force: true });
    const mounts = path.join(path.dirname(this.dir), 'cache-mounts');
    let reclaimed = 0;
    try {
      reclaimed = dirUsage(mounts);
    } catch {}
    fs.rmSync(mounts, { recursive: true, force: true });
    return { records: names.length, reclaimed };
  }
}
