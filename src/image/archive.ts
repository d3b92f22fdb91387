// Image archives: `save` writes docker-archive (manifest.json, repositories, config, layer tars)
// and, in the same tar, an OCI image layout (oci-layout, index.json, blobs/), as docker 25 does,
// so readers of either format take it. `load` reads either format, plain or compressed.
//
// An archive to load is hostile input. Its files are staged under the state root by position,
// never by their names; names in manifest.json and symlinks between archive members are
// resolved in a table, never on disk; every blob is checked against its digest and every layer
// against its diff id, and layers go through the same safe apply as pulls. Everything is
// validated before the first layer is unpacked, and a failure removes what this load created.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { digestHex, sha256 } from '../content/store.ts';
import { BerthError, invalid } from '../core/errors.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, ImageRecord } from '../core/types.ts';
import { tarHeader } from '../snapshot/diff.ts';
import { selfRef } from '../kernel/process.ts';
import { crashPoint } from '../util/crash.ts';
import { randomHex } from '../util/random.ts';
import { blobCompression, layerBlobs, uncompressedLayer } from './distribution.ts';
import { hostPlatform, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, MEDIA_TYPES, parseImageConfig, parseManifest, selectManifest } from './manifest.ts';
import { familiarReference, familiarRepository, formatReference, parseReference } from './reference.ts';
import { MEDIA, type ImageStore } from './store.ts';
import { TarParser, type TarEntry, type TarHandler } from './tar.ts';

const createHash = (alg: string) => process.getBuiltinModule('node:crypto').createHash(alg);

// ---------------------------------------------------------------- save

function member(name: string, size: number, dir = false): Buffer {
  return tarHeader({ name: dir ? `${name}/` : name, type: dir ? '5' : '0', mode: dir ? 0o755 : 0o644, uid: 0, gid: 0, size: dir ? 0 : size, mtime: 0 });
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

function* small(name: string, data: Buffer): Generator<Buffer> {
  yield member(name, data.length);
  yield data;
  yield pad(data.length);
}

/** The size of a layer's uncompressed tar, checked against its diff id (one read when it is stored compressed). */
async function measure(images: ImageStore, diffId: string, known: Map<string, Descriptor[]>): Promise<number> {
  if (images.content.has(diffId)) return fs.statSync(images.content.path(diffId)).size;
  const hash = createHash('sha256');
  let size = 0;
  for await (const c of uncompressedLayer(images, diffId, known)) {
    hash.update(c);
    size += c.length;
  }
  if (`sha256:${hash.digest('hex')}` !== diffId) throw invalid(`stored layer blob does not match its diff id ${diffId}`);
  return size;
}

/** `names` as the user gave them: tags name the image in the archive, ids leave it unnamed. */
export async function* saveImages(images: ImageStore, names: string[]): AsyncGenerator<Buffer> {
  const chosen: Array<{ rec: ImageRecord; tags: string[] }> = [];
  for (const n of names) {
    const rec = images.resolve(n);
    // A name the user gave is the image's name in the archive; an id (or a digest) names nothing.
    let tag: string | undefined;
    try {
      const ref = parseReference(n);
      const canonical = formatReference(ref);
      if (!ref.digest && (!/^(sha256:)?[a-f0-9]{4,64}$/.test(n) || images.list().some((s) => s.names.includes(canonical)))) tag = canonical;
    } catch {}
    const prev = chosen.find((c) => c.rec.id === rec.id);
    if (prev) {
      if (tag && !prev.tags.includes(tag)) prev.tags.push(tag);
    } else chosen.push({ rec, tags: tag ? [tag] : [] });
  }
  const known = layerBlobs(images);
  const sizes = new Map<string, number>();
  for (const { rec } of chosen) for (const d of rec.layers) if (!sizes.has(d)) sizes.set(d, await measure(images, d, known));

  yield member('blobs', 0, true);
  yield member('blobs/sha256', 0, true);
  const blob = (d: string) => `blobs/sha256/${digestHex(d)}`;
  const written = new Set<string>();
  const manifestJson: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  const repositories: Record<string, Record<string, string>> = {};
  const index: ImageIndex & { mediaType: string } = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };
  for (const { rec, tags } of chosen) {
    for (const d of rec.layers) {
      if (written.has(d)) continue;
      written.add(d);
      const size = sizes.get(d)!;
      yield member(blob(d), size);
      let n = 0;
      for await (const c of uncompressedLayer(images, d, known)) {
        n += c.length;
        if (n > size) throw new BerthError('Internal', `layer ${d} changed while it was saved`);
        yield c;
      }
      if (n !== size) throw new BerthError('Internal', `layer ${d} changed while it was saved`);
      yield pad(size);
    }
    const configBytes = images.content.read(rec.id);
    if (!written.has(rec.id)) {
      written.add(rec.id);
      yield* small(blob(rec.id), configBytes);
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: rec.id, size: configBytes.length },
      layers: rec.layers.map((d) => ({ mediaType: MEDIA.ociLayerTar, digest: d, size: sizes.get(d)! })),
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = sha256(manifestBytes);
    if (!written.has(manifestDigest)) {
      written.add(manifestDigest);
      yield* small(blob(manifestDigest), manifestBytes);
    }
    const familiar = tags.map((t) => familiarReference(parseReference(t)));
    manifestJson.push({ Config: blob(rec.id), RepoTags: familiar, Layers: rec.layers.map(blob) });
    const desc = { mediaType: MEDIA.ociManifest, digest: manifestDigest, size: manifestBytes.length };
    if (!tags.length) index.manifests.push(desc);
    for (const t of tags) {
      const ref = parseReference(t);
      index.manifests.push({ ...desc, annotations: { 'io.containerd.image.name': t, 'org.opencontainers.image.ref.name': ref.tag! } });
      (repositories[familiarRepository(ref)] ??= {})[ref.tag!] = digestHex(rec.layers.at(-1) ?? rec.id);
    }
  }
  yield* small('index.json', Buffer.from(JSON.stringify(index)));
  yield* small('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
  yield* small('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  if (Object.keys(repositories).length) yield* small('repositories', Buffer.from(JSON.stringify(repositories)));
  yield Buffer.alloc(1024);
}

// ---------------------------------------------------------------- load

const MAX_MEMBERS = 100_000;
const MAX_LINK_HOPS = 16;

type Member = { file: string; size: number } | { link: string };

/** Archive-relative name: no absolute paths, no `..`; '.' and empty components dropped. */
function memberName(name: string, what: string): string {
  if (name.includes('\0')) throw invalid(`invalid archive: ${what} has an invalid name`);
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '..') throw invalid(`invalid archive: ${what} ${JSON.stringify(name)} leaves the archive`);
    if (c && c !== '.') out.push(c);
  }
  if (name.startsWith('/')) throw invalid(`invalid archive: ${what} ${JSON.stringify(name)} is an absolute path`);
  return out.join('/');
}

/** The archive's regular files, each staged to a file named by its position; names only in the table. */
class Staging implements TarHandler {
  readonly dir: string;
  readonly members = new Map<string, Member>();
  private fd = -1;
  private current?: { name: string; file: string; size: number };
  private count = 0;

  constructor(dir: string) {
    this.dir = dir;
  }

  entry(e: TarEntry): void {
    if (++this.count > MAX_MEMBERS) throw invalid(`invalid archive: more than ${MAX_MEMBERS} members`);
    const name = memberName(e.path, 'member');
    if (e.type === 'symlink' || e.type === 'hardlink') {
      // A symlink's target is relative to its directory, a hardlink's to the archive root.
      const target = e.type === 'symlink' ? (e.linkname.startsWith('/') ? e.linkname : path.posix.join(path.posix.dirname(name), e.linkname)) : e.linkname;
      this.members.set(name, { link: memberName(target, `link ${JSON.stringify(name)}`) });
      return;
    }
    if (e.type !== 'file') {
      this.members.delete(name);
      return;
    }
    const file = path.join(this.dir, String(this.count));
    this.fd = fs.openSync(file, 'wx', 0o600);
    this.current = { name, file, size: e.size };
  }

  data(chunk: Buffer): void {
    if (this.fd >= 0) fs.writeSync(this.fd, chunk);
  }

  endEntry(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
    const c = this.current!;
    this.members.set(c.name, { file: c.file, size: c.size });
    this.current = undefined;
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** A member's staged file, links followed through the table (never on disk). */
  find(name: string, what: string): { file: string; size: number } {
    let n = memberName(name, what);
    for (let hops = 0; hops <= MAX_LINK_HOPS; hops++) {
      const m = this.members.get(n);
      if (!m) throw invalid(`invalid archive: ${what} ${JSON.stringify(name)} is not in the archive`);
      if ('file' in m) return m;
      n = m.link;
    }
    throw invalid(`invalid archive: ${what} ${JSON.stringify(name)}: too many levels of links`);
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  read(name: string, what: string, limit: number): Buffer {
    const m = this.find(name, what);
    if (m.size > limit) throw invalid(`invalid archive: ${what} is too large (${m.size} bytes)`);
    return fs.readFileSync(m.file);
  }
}

/** One image found in an archive, checked but not yet unpacked. */
interface Item {
  configBytes: Buffer;
  config: ImageConfig;
  layers: Array<{ file: string; size: number; digest?: string }>; // digest: the OCI descriptor's, verified while reading
  manifestBytes?: Buffer; // the OCI manifest, stored as is
  names: string[];
}

function jsonOf(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid(`invalid archive: ${what} is not JSON`, err);
  }
}

function configOf(bytes: Buffer, layers: number, what: string): ImageConfig {
  const config = parseImageConfig(bytes);
  if (config.rootfs.diff_ids.length !== layers) throw invalid(`invalid archive: ${what} lists ${layers} layers, its config ${config.rootfs.diff_ids.length} diff ids`);
  return config;
}

function dockerItems(st: Staging): Item[] {
  const doc = jsonOf(st.read('manifest.json', 'manifest.json', MAX_MANIFEST_BYTES), 'manifest.json');
  if (!Array.isArray(doc)) throw invalid('invalid archive: manifest.json is not a list');
  return doc.map((e: unknown, i) => {
    const what = `manifest.json entry ${i}`;
    if (typeof e !== 'object' || e === null) throw invalid(`invalid archive: ${what} is not an object`);
    const { Config, Layers, RepoTags } = e as Record<string, unknown>;
    if (typeof Config !== 'string') throw invalid(`invalid archive: ${what} has no Config`);
    if (!Array.isArray(Layers) || Layers.some((l) => typeof l !== 'string')) throw invalid(`invalid archive: ${what} has no Layers list`);
    if (RepoTags !== undefined && RepoTags !== null && (!Array.isArray(RepoTags) || RepoTags.some((t) => typeof t !== 'string'))) throw invalid(`invalid archive: ${what} has invalid RepoTags`);
    const configBytes = st.read(Config, `${what} config`, MAX_CONFIG_BYTES);
    const names = ((RepoTags as string[] | null | undefined) ?? []).map((t) => formatReference(parseReference(t)));
    return {
      configBytes,
      config: configOf(configBytes, Layers.length, what),
      layers: (Layers as string[]).map((l) => st.find(l, `${what} layer`)),
      names,
    };
  });
}

function ociItems(st: Staging): Item[] {
  const blob = (d: string, what: string, limit: number): Buffer => {
    const bytes = st.read(`blobs/sha256/${digestHex(d)}`, what, limit);
    if (sha256(bytes) !== d) throw invalid(`invalid archive: ${what} does not match its digest ${d}`);
    return bytes;
  };
  const top = parseManifest(st.read('index.json', 'index.json', MAX_MANIFEST_BYTES), MEDIA_TYPES.ociIndex);
  if (top.kind !== 'index') throw invalid('invalid archive: index.json is not an image index');
  const items: Item[] = [];
  for (const desc of top.index.manifests) {
    let parsed = parseManifest(blob(desc.digest, `manifest ${desc.digest}`, MAX_MANIFEST_BYTES));
    let manifestDigest = desc.digest;
    // A nested index (a multi-platform image): the host's platform, as a pull would choose.
    for (let depth = 0; parsed.kind === 'index'; depth++) {
      if (depth > 4) throw invalid('invalid archive: indexes nested too deep');
      const entry = selectManifest(parsed.index, hostPlatform());
      if (!entry) throw invalid(`invalid archive: no manifest for ${hostPlatform().os}/${hostPlatform().architecture} in index ${manifestDigest}`);
      manifestDigest = entry.digest;
      parsed = parseManifest(blob(entry.digest, `manifest ${entry.digest}`, MAX_MANIFEST_BYTES));
    }
    const manifest = parsed.manifest;
    const configBytes = blob(manifest.config.digest, `config ${manifest.config.digest}`, MAX_CONFIG_BYTES);
    const what = `manifest ${manifestDigest}`;
    const layers = manifest.layers.map((l) => {
      const m = st.find(`blobs/sha256/${digestHex(l.digest)}`, `${what} layer`);
      if (m.size !== l.size) throw invalid(`invalid archive: layer ${l.digest} is ${m.size} bytes, its descriptor says ${l.size}`);
      return { ...m, digest: l.digest };
    });
    // A full name where the producer gave one (docker, containerd); a bare tag names no repository.
    const a = desc.annotations ?? {};
    const name = a['io.containerd.image.name'] ?? (/[:/]/.test(a['org.opencontainers.image.ref.name'] ?? '') ? a['org.opencontainers.image.ref.name'] : undefined);
    items.push({
      configBytes,
      config: configOf(configBytes, layers.length, what),
      layers,
      manifestBytes: blob(manifestDigest, what, MAX_MANIFEST_BYTES),
      names: name ? [formatReference(parseReference(name))] : [],
    });
  }
  return items;
}

export interface LoadedImage {
  id: string;
  names: string[]; // canonical references tagged
}

/** Loads every image in a docker-archive or OCI-layout tar (plain, gzip or zstd). */
export async function loadImages(images: ImageStore, source: AsyncIterable<Buffer>): Promise<LoadedImage[]> {
  images.sweepInterrupted();
  const me = selfRef();
  const dir = path.join(images.tmpDir, `load-${me.pid}.${me.start}.${randomHex(6)}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const createdLayers: string[] = [];
  const createdBlobs: string[] = [];
  try {
    const st = new Staging(dir);
    try {
      const { decompress } = await import('./compression.ts');
      const parser = new TarParser(st);
      for await (const chunk of decompress(source)) parser.write(chunk);
      parser.end();
    } finally {
      st.close();
    }
    let items: Item[];
    if (st.has('manifest.json')) items = dockerItems(st);
    else if (st.has('index.json')) items = ociItems(st);
    else throw invalid('invalid archive: neither manifest.json (docker-archive) nor index.json (OCI image layout) found');
    if (!items.length) throw invalid('invalid archive: it holds no image');

    const loaded: LoadedImage[] = [];
    const registrations: Array<() => ImageRecord> = [];
    for (const item of items) {
      const layerSizes: number[] = [];
      const descs: Descriptor[] = [];
      for (const [i, layer] of item.layers.entries()) {
        const diffId = item.config.rootfs.diff_ids[i];
        const r = await loadLayer(images, layer, diffId, createdLayers, createdBlobs);
        layerSizes.push(r.size);
        descs.push(r.desc);
      }
      const manifestBytes =
        item.manifestBytes ??
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MEDIA.ociManifest,
            config: { mediaType: MEDIA.ociConfig, digest: sha256(item.configBytes), size: item.configBytes.length },
            layers: descs,
          } satisfies ImageManifest),
        );
      registrations.push(() => images.registerLoaded({ configBytes: item.configBytes, config: item.config, manifestBytes, layerSizes, names: item.names }));
    }
    crashPoint('load:layers-stored');
    // Images become visible only once every layer of every image is in place.
    for (const [i, reg] of registrations.entries()) loaded.push({ id: reg().id, names: items[i].names });
    return loaded;
  } catch (err) {
    for (const d of createdLayers) if (!images.records().some((r) => r.layers.includes(d))) images.layers.remove(d);
    for (const b of createdBlobs) images.content.remove(b);
    throw err;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One layer from its staged file: the bytes go to the content store (checked against the OCI
 * descriptor's digest when there is one) and, decompressed, through the safe apply into the
 * layer store, published only if the tar's digest is the config's diff id.
 */
async function loadLayer(images: ImageStore, layer: { file: string; size: number; digest?: string }, diffId: string, createdLayers: string[], createdBlobs: string[]): Promise<{ size: number; desc: Descriptor }> {
  const have = images.layers.has(diffId);
  const w = images.content.writer();
  const tee = async function* (): AsyncGenerator<Buffer> {
    for await (const c of fs.createReadStream(layer.file, { highWaterMark: 1 << 20 })) {
      w.write(c as Buffer);
      yield c as Buffer;
    }
  };
  let size: number;
  try {
    const { decompress } = await import('./compression.ts');
    if (have) {
      // The layer is here already; its bytes must still be what the archive claims.
      const hash = createHash('sha256');
      size = 0;
      for await (const c of decompress(tee())) {
        hash.update(c);
        size += c.length;
      }
      if (`sha256:${hash.digest('hex')}` !== diffId) throw invalid(`invalid archive: a layer does not match its diff id ${diffId}`);
    } else {
      const res = await images.layers.unpack(decompress(tee()), {
        verify: (r) => {
          if (r.diffId !== diffId) throw invalid(`invalid archive: a layer does not match its diff id ${diffId} (it is ${r.diffId})`);
          if (layer.digest && w.digest() !== layer.digest) throw invalid(`invalid archive: layer blob does not match its digest ${layer.digest}`);
        },
      });
      size = res.size;
      createdLayers.push(diffId);
    }
    if (layer.digest && w.digest() !== layer.digest) throw invalid(`invalid archive: layer blob does not match its digest ${layer.digest}`);
    const digest = w.digest();
    if (!images.content.has(digest)) {
      w.commit(digest);
      createdBlobs.push(digest);
    } else w.abort();
    const kind = blobCompression(images, digest);
    return { size, desc: { mediaType: kind === 'gzip' ? MEDIA.ociLayerGzip : kind === 'zstd' ? MEDIA.ociLayerZstd : MEDIA.ociLayerTar, digest, size: w.size } };
  } catch (err) {
    w.abort();
    throw err;
  }
}
