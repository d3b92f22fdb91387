// Which stored blobs stand for an image's layers when it leaves this machine: compressed ones for
// a registry (push), uncompressed tars for an archive (save). A pulled image keeps the blobs it was
// pulled with; import, commit and load keep uncompressed tars, compressed once here on first push
// and remembered (diff id -> blob), so pushing the same image again sends the same bytes.
import * as fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { BerthError } from '../core/errors.ts';
import type { Descriptor, ImageManifest, ImageRecord } from '../core/types.ts';
import { sniff, type Compression } from './compression.ts';
import { parseManifest } from './manifest.ts';
import { MEDIA, type ImageStore } from './store.ts';

const LAYER_MEDIA: Record<Compression, string> = { gzip: MEDIA.ociLayerGzip, zstd: MEDIA.ociLayerZstd, none: MEDIA.ociLayerTar };

/** The compression of a stored blob, from its first bytes (media types of old manifests are not to be trusted). */
export function blobCompression(images: ImageStore, digest: string): Compression | undefined {
  let fd: number;
  try {
    fd = fs.openSync(images.content.path(digest), 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(6);
    const n = fs.readSync(fd, head, 0, 6, 0);
    const kind = sniff(head.subarray(0, n));
    return kind === 'bzip2' || kind === 'xz' ? undefined : kind;
  } finally {
    fs.closeSync(fd);
  }
}

export function storedManifest(images: ImageStore, rec: ImageRecord): { bytes: Buffer; manifest: ImageManifest } {
  const bytes = images.content.read(rec.manifest);
  const parsed = parseManifest(bytes);
  if (parsed.kind !== 'manifest') throw new BerthError('Internal', `image ${rec.id} has an index as its manifest`);
  return { bytes, manifest: parsed.manifest };
}

/** Every stored blob known to hold a layer, by diff id: from all images' manifests and the compressed blobs made for push. */
export function layerBlobs(images: ImageStore): Map<string, Descriptor[]> {
  const out = new Map<string, Descriptor[]>();
  const add = (diffId: string, d: Descriptor) => {
    if (!images.content.has(d.digest)) return;
    const list = out.get(diffId) ?? [];
    if (!list.some((x) => x.digest === d.digest)) list.push(d);
    out.set(diffId, list);
  };
  for (const rec of images.records()) {
    let m: ImageManifest;
    try {
      m = storedManifest(images, rec).manifest;
    } catch {
      continue;
    }
    if (m.layers.length !== rec.layers.length) continue;
    rec.layers.forEach((diffId, i) => add(diffId, m.layers[i]));
  }
  for (const diffId of new Set([...out.keys()])) {
    const gz = images.compressedBlob(diffId);
    if (gz) add(diffId, { mediaType: MEDIA.ociLayerGzip, digest: gz, size: fs.statSync(images.content.path(gz)).size });
  }
  return out;
}

/** Gzips the uncompressed blob of a layer into the content store, once, and remembers it. */
async function gzipLayer(images: ImageStore, diffId: string): Promise<Descriptor> {
  const known = images.compressedBlob(diffId);
  if (known) return { mediaType: MEDIA.ociLayerGzip, digest: known, size: fs.statSync(images.content.path(known)).size };
  const w = images.content.writer();
  let digest: string;
  try {
    await pipeline(fs.createReadStream(images.content.path(diffId)), zlib.createGzip(), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) w.write(chunk);
    });
    digest = w.commit();
  } catch (err) {
    w.abort();
    throw err;
  }
  images.setCompressedBlob(diffId, digest);
  return { mediaType: MEDIA.ociLayerGzip, digest, size: w.size };
}

/**
 * The manifest a registry gets for an image. A manifest whose layers are all compressed and
 * stored is sent byte for byte (a pulled image keeps its digest); otherwise one is built with
 * a compressed blob for every layer, the same one on every push.
 */
export async function distributionManifest(images: ImageStore, rec: ImageRecord): Promise<{ bytes: Buffer; manifest: ImageManifest }> {
  const stored = storedManifest(images, rec);
  const compressed = (d: Descriptor) => {
    const c = blobCompression(images, d.digest);
    return c === 'gzip' || c === 'zstd';
  };
  if (stored.manifest.layers.length === rec.layers.length && stored.manifest.layers.every(compressed) && images.content.has(rec.id)) return stored;
  const known = layerBlobs(images);
  const layers: Descriptor[] = [];
  for (const diffId of rec.layers) {
    const have = (known.get(diffId) ?? []).find(compressed);
    if (have) {
      layers.push({ mediaType: LAYER_MEDIA[blobCompression(images, have.digest)!], digest: have.digest, size: have.size });
      continue;
    }
    if (!images.content.has(diffId)) throw new BerthError('FailedPrecondition', `no blob of layer ${diffId} is stored; pull or load the image again`);
    layers.push(await gzipLayer(images, diffId));
  }
  const configBytes = images.content.read(rec.id);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: rec.id, size: configBytes.length },
    layers,
  };
  return { bytes: Buffer.from(JSON.stringify(manifest)), manifest };
}

/**
 * A layer as its uncompressed tar (what docker-archive and save's OCI layout hold), from
 * whichever blob of it is stored. Callers verify the bytes against the diff id.
 */
export async function* uncompressedLayer(images: ImageStore, diffId: string, known: Map<string, Descriptor[]>): AsyncGenerator<Buffer> {
  const source = images.content.has(diffId) ? diffId : (known.get(diffId) ?? []).find((d) => blobCompression(images, d.digest) !== undefined)?.digest;
  if (!source) throw new BerthError('FailedPrecondition', `no blob of layer ${diffId} is stored; pull or load the image again`);
  const stream = fs.createReadStream(images.content.path(source), { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
  if (source === diffId) yield* stream;
  else {
    const { decompress } = await import('./compression.ts');
    yield* decompress(stream);
  }
}
