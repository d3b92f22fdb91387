// Local images: records keyed by image id (the config digest), names (tags) pointing at them,
// blobs in the content store and unpacked layers in the layer store.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { digestHex, sha256, type ContentStore } from '../content/store.ts';
import { BerthError, conflict, invalid, notFound } from '../core/errors.ts';
import type { ImageConfig, ImageManifest, ImageRecord, RunConfig } from '../core/types.ts';
import { ownerDead } from '../kernel/process.ts';
import type { LayerStore } from '../snapshot/layers.ts';
import { readJsonFile, writeFileAtomic } from '../util/atomic.ts';
import { crashPoint } from '../util/crash.ts';
import { familiarReference, formatReference, parseReference, type Reference } from './reference.ts';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

export interface ImageSummary {
  record: ImageRecord;
  names: string[]; // canonical references pointing at it
}

/**
 * What happened to an image, for the engine's event journal (dockerd's image events): the
 * action, the image's id or reference (as dockerd names the actor), and the name attribute.
 */
export type ImageObserver = (action: string, actor: string, name: string, labels: Record<string, string>) => void;

export class ImageStore {
  private readonly dir: string;
  private readonly refsDir: string;
  private readonly compressedDir: string;
  /** Staging for archives being loaded (`tmp/load-<pid>.<start>.<random>`). */
  readonly tmpDir: string;
  readonly content: ContentStore;
  readonly layers: LayerStore;
  private readonly observe: ImageObserver;
  constructor(root: string, content: ContentStore, layers: LayerStore, observe: ImageObserver = () => undefined) {
    this.observe = observe;
    this.dir = path.join(root, 'images');
    this.refsDir = path.join(root, 'refs');
    this.compressedDir = path.join(root, 'compressed');
    this.tmpDir = path.join(root, 'tmp');
    this.content = content;
    this.layers = layers;
  }

  private recordPath(id: string): string {
    return path.join(this.dir, `${digestHex(id)}.json`);
  }

  private refPath(ref: Reference): string {
    return path.join(this.refsDir, encodeURIComponent(formatReference(ref)));
  }

  get(id: string): ImageRecord | undefined {
    return readJsonFile<ImageRecord>(this.recordPath(id));
  }

  /** The id `resolve` would give, or undefined where it would throw (for filters like `ancestor`). */
  idOf(nameOrId: string): string | undefined {
    try {
      return this.resolve(nameOrId).id;
    } catch {
      return undefined;
    }
  }

  /** A name (tag or digest reference), a full id, or a unique id prefix (at least 4 hex). */
  resolve(nameOrId: string): ImageRecord {
    const idLike = /^(sha256:)?([a-f0-9]{4,64})$/.exec(nameOrId);
    let ref: Reference | undefined;
    try {
      ref = parseReference(nameOrId);
    } catch (err) {
      if (!idLike) throw err;
    }
    if (ref) {
      let id: string | undefined;
      try {
        id = fs.readFileSync(this.refPath(ref), 'utf8').trim();
      } catch {}
      const rec = id ? this.get(id) : undefined;
      if (rec) return rec;
      if (ref.digest) {
        const canonical = formatReference(ref);
        const byManifest = this.records().find((r) => r.repoDigests?.includes(canonical)) ?? this.records().find((r) => r.manifest === ref.digest);
        if (byManifest) return byManifest;
      }
    }
    if (idLike) {
      const matches = this.ids().filter((hex) => hex.startsWith(idLike[2]));
      if (matches.length === 1) return this.get('sha256:' + matches[0])!;
      if (matches.length > 1) throw new BerthError('InvalidArgument', `image id prefix "${nameOrId}" is ambiguous`);
    }
    throw notFound(`No such image: ${nameOrId}`);
  }

  private ids(): string[] {
    try {
      return fs.readdirSync(this.dir).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5));
    } catch {
      return [];
    }
  }

  records(): ImageRecord[] {
    return this.ids().map((hex) => this.get('sha256:' + hex)).filter((r): r is ImageRecord => r !== undefined);
  }

  /** Every image with the names pointing at it. */
  list(): ImageSummary[] {
    const names = new Map<string, string[]>();
    let refFiles: string[] = [];
    try {
      refFiles = fs.readdirSync(this.refsDir);
    } catch {}
    for (const f of refFiles) {
      if (f.endsWith('.tmp')) continue;
      let id: string;
      try {
        id = fs.readFileSync(path.join(this.refsDir, f), 'utf8').trim();
      } catch {
        continue;
      }
      const list = names.get(id) ?? [];
      list.push(decodeURIComponent(f));
      names.set(id, list);
    }
    return this.records().map((record) => ({ record, names: (names.get(record.id) ?? []).sort() }));
  }

  /** Names an image (docker tag, an import's or a build's name): a `tag` event. */
  tag(id: string, name: string): void {
    this.writeTag(id, name);
    this.event('tag', id, familiarReference(parseReference(name)));
  }

  /** An image event with the image's labels (dockerd's attributes), by id or reference. */
  event(action: string, actor: string, name: string): void {
    let labels: Record<string, string> = {};
    try {
      labels = this.resolve(actor).config.config?.Labels ?? {};
    } catch {}
    this.observe(action, actor, name, labels);
  }

  /** Names an image without an event of its own (a pull's or a load's, which have theirs). */
  private writeTag(id: string, name: string): void {
    const ref = parseReference(name);
    if (ref.digest) throw new BerthError('InvalidArgument', `refusing to create a tag with a digest reference: ${name}`);
    // A name already on this image stays as it is: a rebuild that changed nothing writes nothing.
    try {
      if (fs.readFileSync(this.refPath(ref), 'utf8') === id) return;
    } catch {}
    fs.mkdirSync(this.refsDir, { recursive: true });
    writeFileAtomic(this.refPath(ref), id, { durable: true });
  }

  /**
   * Builds an image from a root filesystem tarball (plain, gzip or zstd), like `docker import`:
   * one layer, the tarball's files, an empty run config plus `changes`.
   */
  async importRootfs(source: AsyncIterable<Buffer>, opts: { name?: string; changes?: RunConfig; message?: string } = {}): Promise<ImageRecord> {
    const rec = await this.addLayer(source, { name: opts.name, runConfig: { ...opts.changes }, createdBy: 'berth import', comment: opts.message ?? 'Imported from tarball' });
    this.event('import', rec.id, rec.id);
    return rec;
  }

  /**
   * A new image: `parent`'s layers (none for an import) plus one layer from a tar stream, with
   * the given run config. `import` and `commit` both come through here.
   */
  async addLayer(source: AsyncIterable<Buffer>, opts: { parent?: ImageRecord; name?: string; runConfig: RunConfig; createdBy: string; comment?: string; author?: string; container?: { id: string; config: ImageConfig['container_config'] } }): Promise<ImageRecord> {
    const ref = opts.name ? parseReference(opts.name) : undefined; // reject a bad name before reading anything
    const layer = await this.storeLayer(source);
    crashPoint('image:layer-stored');
    const created = new Date().toISOString();
    const parent = opts.parent;
    const config: ImageConfig = {
      architecture: parent?.config.architecture ?? 'amd64',
      os: parent?.config.os ?? 'linux',
      created,
      ...(opts.author ? { author: opts.author } : {}),
      ...(opts.container ? { container: opts.container.id, container_config: opts.container.config } : {}),
      config: opts.runConfig,
      rootfs: { type: 'layers', diff_ids: [...(parent?.layers ?? []), layer.diffId] },
      history: [...(parent?.config.history ?? []), { created, created_by: opts.createdBy, ...(opts.comment ? { comment: opts.comment } : {}) }],
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const parentLayers = parent ? (JSON.parse(this.content.read(parent.manifest).toString()) as ImageManifest).layers : [];
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: sha256(configBytes), size: configBytes.length },
      layers: [...parentLayers, { digest: layer.diffId, size: layer.size, mediaType: MEDIA.ociLayerTar }],
    };
    const layerSizes = [...(parent?.layers.map((d) => this.layerSize(d)) ?? []), layer.size];
    const rec = this.commitImage({ config, configBytes, manifestBytes: Buffer.from(JSON.stringify(manifest)), layerSizes, ref, parent: parent?.id });
    if (ref) this.event('tag', rec.id, familiarReference(ref)); // dockerd tags an import's or a commit's name
    return rec;
  }

  /**
   * A layer from a tar stream (plain, gzip or zstd): unpacked into the layer store and kept as
   * an uncompressed blob (digest = diff id), with no image yet (the builder records one later).
   */
  async storeLayer(source: AsyncIterable<Buffer>): Promise<{ diffId: string; size: number }> {
    const blob = this.content.writer();
    try {
      const { decompress } = await import('./compression.ts'); // zlib only when importing
      const tee = async function* (): AsyncGenerator<Buffer> {
        for await (const chunk of decompress(source)) {
          blob.write(chunk);
          yield chunk;
        }
      };
      const layer = await this.layers.unpack(tee());
      await blob.commitAsync(layer.diffId);
      return layer;
    } catch (err) {
      blob.abort();
      throw err;
    }
  }

  /** The layer descriptors of an image's stored manifest (what a new image on top of it repeats). */
  layerDescriptors(rec: ImageRecord): ImageManifest['layers'] {
    return (JSON.parse(this.content.read(rec.manifest).toString()) as ImageManifest).layers;
  }

  /**
   * Records an image the builder assembled: its config (whose rootfs names layers already in the
   * layer store) and a manifest over the given layer blobs. Returns the record and whether it is
   * new (a build's scratch records are forgotten again; an existing image is left alone).
   */
  registerBuilt(p: { config: ImageConfig; layers: ImageManifest['layers']; layerSizes: number[] }): { record: ImageRecord; created: boolean } {
    const missing = p.config.rootfs.diff_ids.find((d) => !this.layers.has(d));
    if (missing) throw new BerthError('FailedPrecondition', `layer ${missing} is not in the layer store`);
    const configBytes = Buffer.from(JSON.stringify(p.config));
    const existing = this.get(sha256(configBytes));
    if (existing) return { record: existing, created: false };
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: sha256(configBytes), size: configBytes.length },
      layers: p.layers,
    };
    const record = this.commitImage({ config: p.config, configBytes, manifestBytes: Buffer.from(JSON.stringify(manifest)), layerSizes: p.layerSizes });
    return { record, created: true };
  }

  /** Drops an image record only (never its layers or blobs): a build's scratch record after its step. */
  forget(id: string): void {
    fs.rmSync(this.recordPath(id), { force: true });
  }

  /**
   * Records an image whose layers a pull has already put in the layer store. The manifest and
   * config are stored as received: their digests are the image's identity in the registry (the
   * repo digest) and here (the id). `topBytes` is the index the manifest was chosen from, if any.
   */
  registerPulled(p: { ref: Reference; repoDigest: string; manifestBytes: Uint8Array; manifest: ImageManifest; configBytes: Uint8Array; config: ImageConfig; layerSizes: number[]; topBytes?: Uint8Array }): ImageRecord {
    if (sha256(p.configBytes) !== p.manifest.config.digest) throw invalid(`image config does not match ${p.manifest.config.digest}`);
    const missing = p.config.rootfs.diff_ids.find((d) => !this.layers.has(d));
    if (missing) throw new BerthError('FailedPrecondition', `layer ${missing} of ${formatReference(p.ref)} is not in the layer store`);
    return this.commitImage({
      config: p.config,
      configBytes: p.configBytes,
      manifestBytes: p.manifestBytes,
      layerSizes: p.layerSizes,
      ref: p.ref.digest ? undefined : p.ref,
      repoDigest: p.repoDigest,
      extra: p.topBytes ? [p.topBytes] : [],
    });
  }

  /**
   * Records an image an archive held (`berth load`), its layers already in the layer store, and
   * tags it with `names`. The manifest is the archive's own (OCI layout) or one made for its blobs.
   */
  registerLoaded(p: { configBytes: Uint8Array; config: ImageConfig; manifestBytes: Uint8Array; layerSizes: number[]; names: string[] }): ImageRecord {
    const missing = p.config.rootfs.diff_ids.find((d) => !this.layers.has(d));
    if (missing) throw new BerthError('FailedPrecondition', `layer ${missing} is not in the layer store`);
    const rec = this.commitImage({ config: p.config, configBytes: p.configBytes, manifestBytes: p.manifestBytes, layerSizes: p.layerSizes });
    for (const n of p.names) this.writeTag(rec.id, n);
    this.event('load', rec.id, rec.id);
    return rec;
  }

  /** Uncompressed size of a layer, from any image that recorded it (else measured on disk). */
  layerSize(diffId: string): number {
    for (const r of this.records()) {
      const i = r.layers.indexOf(diffId);
      if (i < 0) continue;
      if (r.layerSizes?.[i] !== undefined) return r.layerSizes[i];
      if (r.layers.length === 1) return r.size;
    }
    return this.layers.usage(diffId);
  }

  /** The one path by which an image comes to exist, whether imported or pulled. */
  private commitImage(p: { config: ImageConfig; configBytes: Uint8Array; manifestBytes: Uint8Array; layerSizes: number[]; ref?: Reference; repoDigest?: string; extra?: Uint8Array[]; parent?: string }): ImageRecord {
    const cfg = this.content.put(p.configBytes);
    const man = this.content.put(p.manifestBytes);
    for (const b of p.extra ?? []) this.content.put(b);
    crashPoint('image:blobs-stored');
    const prev = this.get(cfg.digest);
    const repoDigests = [...new Set([...(prev?.repoDigests ?? []), ...(p.repoDigest ? [p.repoDigest] : [])])];
    const record: ImageRecord = {
      id: cfg.digest,
      manifest: man.digest,
      config: p.config,
      layers: p.config.rootfs.diff_ids,
      size: p.layerSizes.reduce((a, b) => a + b, 0),
      created: p.config.created ?? new Date(0).toISOString(),
      layerSizes: p.layerSizes,
    };
    if (repoDigests.length) record.repoDigests = repoDigests;
    if (p.parent) record.parent = p.parent;
    fs.mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(this.recordPath(record.id), JSON.stringify(record), { durable: true, mode: 0o600 }); // its config's Env
    crashPoint('image:recorded');
    if (p.ref) this.writeTag(record.id, formatReference(p.ref));
    return record;
  }

  /** What killed pulls, imports, loads and builds left: unpack dirs, claims, ingest files, staging. */
  sweepInterrupted(): void {
    this.layers.sweep();
    this.content.sweepIngest();
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.tmpDir);
    } catch {}
    // load-*: archives being loaded; build-*: build contexts and COPY/RUN scratch (build/context.ts).
    for (const n of names) if (ownerDead(n, 'load-') || ownerDead(n, 'build-')) fs.rmSync(path.join(this.tmpDir, n), { recursive: true, force: true });
  }

  /**
   * The compressed blob made for a layer that was stored uncompressed (import, commit, load), so
   * every push of it sends the same bytes: diff id -> blob digest, one file per layer.
   */
  compressedBlob(diffId: string): string | undefined {
    let d: string;
    try {
      d = fs.readFileSync(path.join(this.compressedDir, digestHex(diffId)), 'utf8').trim();
    } catch {
      return undefined;
    }
    return /^sha256:[a-f0-9]{64}$/.test(d) && this.content.has(d) ? d : undefined;
  }

  setCompressedBlob(diffId: string, digest: string): void {
    fs.mkdirSync(this.compressedDir, { recursive: true });
    writeFileAtomic(path.join(this.compressedDir, digestHex(diffId)), digest, { durable: true });
  }

  /** Remembers a registry manifest the image is now known by (after a push), as a pull would. */
  addRepoDigest(id: string, repoDigest: string, manifestBytes: Uint8Array): void {
    this.content.put(manifestBytes);
    const rec = this.get(id);
    if (!rec || rec.repoDigests?.includes(repoDigest)) return;
    rec.repoDigests = [...(rec.repoDigests ?? []), repoDigest];
    writeFileAtomic(this.recordPath(id), JSON.stringify(rec), { durable: true, mode: 0o600 });
  }

  /** Blobs an image holds in the content store: config, manifest, layer blobs, the indexes it was pulled by. */
  private blobsOf(rec: ImageRecord): string[] {
    const out = [rec.id, rec.manifest, ...(rec.repoDigests ?? []).map((d) => d.slice(d.indexOf('@') + 1))];
    try {
      const m = JSON.parse(this.content.read(rec.manifest).toString('utf8')) as Partial<ImageManifest>;
      for (const l of m.layers ?? []) if (typeof l?.digest === 'string') out.push(l.digest);
    } catch {}
    return out;
  }

  /**
   * Removes a name; when no name is left, the image itself (and layers no other image uses).
   * `inUse(id)` names a container using the image, if any: as docker, a stopped one's image goes
   * only with force, a running one's never; forced, the image loses its names but stays (the
   * container starts from its record). Returns docker-style lines.
   */
  remove(nameOrId: string, opts: { force?: boolean; inUse: (id: string) => { id: string; running: boolean } | undefined }): string[] {
    const rec = this.resolve(nameOrId);
    const names = this.list().find((s) => s.record.id === rec.id)?.names ?? [];
    let byName: string | undefined;
    try {
      const ref = parseReference(nameOrId);
      byName = names.find((n) => n === formatReference(ref));
    } catch {}
    const untag = (list: string[]) =>
      list.map((n) => {
        fs.rmSync(this.refPath(parseReference(n)), { force: true });
        this.event('untag', rec.id, rec.id); // dockerd names the id, not the tag
        return `Untagged: ${familiarReference(parseReference(n))}`;
      });
    if (byName && names.length > 1) return untag([byName]);
    const sid = digestHex(rec.id).slice(0, 12);
    if (!byName && names.length > 1 && !opts.force) throw conflict(`unable to delete ${sid} (must be forced) - image is referenced in multiple repositories`);
    const user = opts.inUse(rec.id);
    if (user) {
      const cid = user.id.slice(0, 12);
      if (user.running && !(opts.force && byName)) throw conflict(`unable to delete ${sid} (cannot be forced) - image is being used by running container ${cid}`);
      if (!opts.force) {
        if (byName) throw conflict(`unable to remove repository reference "${familiarReference(parseReference(byName))}" (must force) - container ${cid} is using its referenced image ${sid}`);
        throw conflict(`unable to delete ${sid} (must be forced) - image is being used by stopped container ${cid}`);
      }
      if (!names.length) throw conflict(`unable to delete ${sid} (cannot be forced) - image is being used by container ${cid}; remove the container first`);
      return untag(byName ? [byName] : names);
    }
    const out = untag(names);
    for (const d of rec.repoDigests ?? []) out.push(`Untagged: ${familiarReference(parseReference(d))}`);
    const blobs = this.blobsOf(rec);
    fs.rmSync(this.recordPath(rec.id), { force: true });
    out.push(`Deleted: ${rec.id}`); // docker's order: the image, then the layers it took along
    this.observe('delete', rec.id, rec.id, rec.config.config?.Labels ?? {});
    const others = this.records();
    const stillUsed = new Set(others.flatMap((r) => r.layers));
    for (const l of rec.layers) {
      if (stillUsed.has(l)) continue;
      this.layers.remove(l);
      this.content.remove(l);
      const gz = this.compressedBlob(l);
      if (gz) blobs.push(gz);
      fs.rmSync(path.join(this.compressedDir, digestHex(l)), { force: true });
      out.push(`Deleted: ${l}`);
    }
    const blobsUsed = new Set(others.flatMap((r) => this.blobsOf(r)));
    for (const b of blobs) {
      if (blobsUsed.has(b)) continue;
      try {
        this.content.remove(b);
      } catch {} // a digest a hostile manifest made up is not a path
    }
    return out;
  }

  /**
   * `image prune`: images no container uses, only untagged ones unless `all`; then layers and
   * blobs no image references. Returns docker's lines and the bytes of layers removed.
   */
  prune(opts: { all: boolean; used: Set<string>; keepLayers: Set<string> }): { lines: string[]; reclaimed: number } {
    this.sweepInterrupted();
    const lines: string[] = [];
    let reclaimed = 0;
    for (const { record, names } of this.list()) {
      if (opts.used.has(record.id) || (!opts.all && names.length)) continue;
      const sizes = new Map(record.layers.map((d, i) => [d, record.layerSizes?.[i] ?? this.layers.usage(d)]));
      for (const l of this.remove(record.id, { force: true, inUse: () => undefined })) {
        const deleted = /^Deleted: (sha256:[a-f0-9]{64})$/.exec(l)?.[1];
        if (deleted) reclaimed += sizes.get(deleted) ?? 0;
        lines.push(l.replace(/^Untagged:/, 'untagged:').replace(/^Deleted:/, 'deleted:'));
      }
    }
    reclaimed += this.sweepUnreferenced(opts.keepLayers);
    return { lines, reclaimed };
  }

  /**
   * Unpacked layers and content blobs that no image references (and no container, for layers),
   * such as what a killed command left published but unrecorded. Anything changed in the last
   * `graceMs` is left alone: it may belong to a pull or load still running. Returns bytes freed.
   */
  sweepUnreferenced(keepLayers: Set<string>, graceMs = 10 * 60_000): number {
    const recs = this.records();
    const layersUsed = new Set([...recs.flatMap((r) => r.layers), ...keepLayers]);
    const blobsUsed = new Set(recs.flatMap((r) => this.blobsOf(r)));
    for (const l of layersUsed) {
      blobsUsed.add(l);
      const gz = this.compressedBlob(l);
      if (gz) blobsUsed.add(gz);
    }
    const old = (p: string) => {
      try {
        return Date.now() - fs.lstatSync(p).ctimeMs > graceMs;
      } catch {
        return false;
      }
    };
    let freed = 0;
    for (const d of this.layers.list()) {
      if (layersUsed.has(d) || !old(this.layers.stored(d))) continue;
      freed += this.layers.usage(d);
      this.layers.remove(d);
      fs.rmSync(path.join(this.compressedDir, digestHex(d)), { force: true });
    }
    for (const d of this.content.digests()) {
      const p = this.content.path(d);
      if (blobsUsed.has(d) || !old(p)) continue;
      this.content.remove(d);
    }
    return freed;
  }
}

