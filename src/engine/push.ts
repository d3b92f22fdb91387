// Pushing an image: the tag names a local image; its config and every layer blob the registry
// does not have yet are uploaded (HEAD first, then POST + PUT ?digest=), then the manifest is put
// under the tag. Progress leaves as events; only the CLI renders them.
import * as fs from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { BerthError, invalid, isCode, notFound } from '../core/errors.ts';
import type { Descriptor } from '../core/types.ts';
import { distributionManifest } from '../image/distribution.ts';
import { familiarReference, formatReference, parseReference, type Reference } from '../image/reference.ts';
import type { RegistryClient } from '../registry/client.ts';
import type { Credentials } from '../registry/credentials.ts';
import { Limiter } from '../util/limiter.ts';
import { RegistryOp } from './pull.ts';

export type PushStatus = 'preparing' | 'waiting' | 'pushing' | 'retrying' | 'pushed' | 'mounted' | 'exists';

export type PushEvent =
  /** The repository the push goes to; layers follow, bottom first. */
  | { type: 'start'; ref: Reference }
  /** `id` is the layer's diff id (what docker shows); bytes are the compressed blob's. */
  | { type: 'layer'; id: string; status: PushStatus; current?: number; total?: number; error?: string; from?: string }
  | { type: 'done'; ref: Reference; digest: string; size: number };

export interface PushResult {
  ref: Reference;
  digest: string; // of the manifest put under the tag
  size: number; // of that manifest, in bytes
}

/** docker's default of five concurrent uploads, shared by every push in the process. */
const limiter = new Limiter(5);
const ATTEMPTS = 3;
const PROGRESS_INTERVAL_MS = 100;

export class Pusher extends RegistryOp {

  async push(name: string, opts: { onEvent?: (e: PushEvent) => void; credentials?: Credentials } = {}): Promise<PushResult> {
    const ref = parseReference(name);
    if (ref.digest) throw invalid(`cannot push a digest reference: ${name}`);
    const emit = opts.onEvent ?? (() => {});
    let rec;
    try {
      rec = this.images.resolve(formatReference(ref));
    } catch (err) {
      if (isCode(err, 'NotFound')) throw notFound(`An image does not exist locally with the tag: ${familiarReference(ref)}`);
      throw err;
    }
    emit({ type: 'start', ref });
    const { bytes, manifest } = await distributionManifest(this.images, rec);
    const client = this.client(ref.domain, opts.credentials);

    // Another repository of the same registry this image was pulled from or pushed to: layers
    // missing here are mounted from there rather than uploaded (the registry may decline).
    const from = (rec.repoDigests ?? []).map((d) => parseReference(d)).find((r) => r.domain === ref.domain && r.path !== ref.path)?.path;
    for (const id of rec.layers) emit({ type: 'layer', id, status: 'preparing' });
    // The config goes first and alone: it meets the registry's challenge once, before layers run in parallel.
    await this.blob(client, ref.path, manifest.config);
    const tasks = manifest.layers.map((desc, i) => {
      const id = rec.layers[i];
      emit({ type: 'layer', id, status: 'waiting' });
      return limiter.run(() => this.blob(client, ref.path, desc, (status, current, error) => emit({ type: 'layer', id, status, current, total: desc.size, error, from }), from));
    });
    const settled = await Promise.allSettled(tasks);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;

    const digest = await client.putManifest(ref.path, ref.tag!, bytes, manifest.mediaType);
    this.images.addRepoDigest(rec.id, `${ref.domain}/${ref.path}@${digest}`, bytes);
    emit({ type: 'done', ref, digest, size: bytes.length });
    return { ref, digest, size: bytes.length };
  }

  /** One blob: skipped when the repository has it, else uploaded (again from the start after a network failure). */
  private async blob(client: RegistryClient, repo: string, desc: Descriptor, report?: (s: PushStatus, current?: number, error?: string) => void, from?: string): Promise<void> {
    if (await client.hasBlob(repo, desc.digest)) {
      report?.('exists');
      return;
    }
    const file = this.images.content.path(desc.digest);
    for (let attempt = 1; ; attempt++) {
      let shownAt = 0;
      const body = (): Readable => {
        let sent = 0;
        const count = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            sent += chunk.length;
            const now = Date.now();
            if (sent === desc.size || now - shownAt >= PROGRESS_INTERVAL_MS) {
              shownAt = now;
              report?.('pushing', sent);
            }
            cb(null, chunk);
          },
        });
        const src = fs.createReadStream(file, { highWaterMark: 1 << 20 });
        src.on('error', (err) => count.destroy(err));
        return src.pipe(count);
      };
      try {
        report?.('pushing', 0);
        const how = await client.uploadBlob(repo, desc, body, { from });
        report?.(how === 'mounted' ? 'mounted' : 'pushed', desc.size);
        return;
      } catch (err) {
        const retriable = !(err instanceof BerthError) || err.code === 'Unavailable';
        if (!retriable || attempt >= ATTEMPTS) throw err;
        report?.('retrying', 0, `attempt ${attempt + 1}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
      }
    }
  }
}
