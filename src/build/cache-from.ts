// --cache-from: images built by berth keep the chain key of each history entry in their config
// (berth.build.cache), so a step missing from the local cache can be taken from such an image:
// the state after it is that image cut after the step's entry, with its layers up to there.
import type { ImageRecord } from '../core/types.ts';
import type { ImageStore } from '../image/store.ts';
import { CACHE_KEYS_FIELD, type StageState } from './state.ts';

type Index = Map<string, { rec: ImageRecord; index: number }>;

export class CacheFrom {
  private readonly images: ImageStore;
  private readonly refs: string[];
  private readonly resolve: (ref: string) => Promise<ImageRecord>;
  private readonly warn: (message: string) => void;
  private index?: Promise<Index>;

  /** `resolve` finds (or pulls) an image; one that cannot be had is skipped with a warning. */
  constructor(images: ImageStore, refs: string[], resolve: (ref: string) => Promise<ImageRecord>, warn: (message: string) => void) {
    this.images = images;
    this.refs = refs;
    this.resolve = resolve;
    this.warn = warn;
  }

  private steps(): Promise<Index> {
    return (this.index ??= (async () => {
      const index: Index = new Map();
      for (const ref of this.refs) {
        let rec: ImageRecord;
        try {
          rec = await this.resolve(ref);
        } catch (err) {
          this.warn(`--cache-from ${ref}: ${(err as Error).message}`);
          continue;
        }
        (rec.config[CACHE_KEYS_FIELD] ?? []).forEach((k, i) => k && !index.has(k) && index.set(k, { rec, index: i }));
      }
      return index;
    })());
  }

  /** The state after the step with this chain key, if a --cache-from image has it (`before`: the state before it). */
  async hit(key: string, before: StageState): Promise<StageState | undefined> {
    if (!this.refs.length) return undefined;
    const found = (await this.steps()).get(key);
    if (!found) return undefined;
    const { rec, index } = found;
    const history = (rec.config.history ?? []).slice(0, index + 1);
    const n = history.filter((h) => !h.empty_layer).length;
    const diffIds = rec.layers.slice(0, n);
    if (diffIds.length !== n || !diffIds.every((d) => this.images.layers.has(d))) return undefined;
    return {
      config: { ...before.config, created: history[index].created, rootfs: { type: 'layers', diff_ids: diffIds }, history },
      layers: this.images.layerDescriptors(rec).slice(0, n),
      layerSizes: diffIds.map((d, i) => rec.layerSizes?.[i] ?? this.images.layerSize(d)),
      key,
      keys: (rec.config[CACHE_KEYS_FIELD] ?? []).slice(0, index + 1),
    };
  }
}
