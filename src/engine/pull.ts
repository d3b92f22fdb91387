// Pulling an image: the reference becomes one manifest (chosen from an index by platform), the
// config is fetched and checked, every missing layer streams from the registry into the content
// store and, decompressed, into the layer store at the same time; the image is recorded only
// when all of it is verified. Progress leaves as events; only the CLI renders them.
import * as fs from 'node:fs';
import { digestHex, sha256 } from '../content/store.ts';
import { BerthError, fromSystemError, invalid, isCode, notFound } from '../core/errors.ts';
import type { Descriptor, ImageRecord, Platform } from '../core/types.ts';
import { formatPlatform, hostPlatform, MAX_CONFIG_BYTES, parseImageConfig, parseManifest, parsePlatform, selectManifest } from '../image/manifest.ts';
import { familiarReference, formatReference, parseReference, type Reference } from '../image/reference.ts';
import type { ImageStore } from '../image/store.ts';
import { BlobReader, isVerificationError, verificationFailed } from '../registry/blob.ts';
import { RegistryClient } from '../registry/client.ts';
import { normalizeRegistry, type CredentialStore, type Credentials } from '../registry/credentials.ts';
import { registryHosts } from '../registry/hosts.ts';
import { HostChain } from '../registry/mirrors.ts';
import { crashPoint } from '../util/crash.ts';
import { Limiter } from '../util/limiter.ts';

export type LayerStatus = 'waiting' | 'exists' | 'downloading' | 'retrying' | 'verifying' | 'complete';

export type PullEvent =
  /** The reference named this manifest (or index); layers follow in manifest order. */
  | { type: 'resolved'; ref: Reference; digest: string }
  /** `id` is the layer's blob digest; bytes are compressed, as the registry sends them. */
  | { type: 'layer'; id: string; status: LayerStatus; current?: number; total?: number; error?: string }
  | { type: 'done'; ref: Reference; digest: string; image: ImageRecord; upToDate: boolean };

export interface PullOptions {
  platform?: string; // "os/arch[/variant]"; the host's by default
  onEvent?: (e: PullEvent) => void;
  /** Credentials for this pull only (the API's X-Registry-Auth), instead of the stored ones. */
  credentials?: Credentials;
}

export interface PullResult {
  ref: Reference;
  digest: string; // of the manifest or index the reference named: what `Digest:` prints
  image: ImageRecord;
  upToDate: boolean;
}

type Emit = (e: PullEvent) => void;

/** Docker's default of three concurrent downloads, shared by every pull in the process. */
const limiter = new Limiter(3);

// Downloads in flight in this process, so two pulls sharing a layer fetch it once. Keyed by blob
// and diff id together: a second image claiming another diff id for the same blob checks its own.
const inflight = new Map<string, { promise: Promise<number>; listeners: Set<Emit> }>();

const PROGRESS_INTERVAL_MS = 100;

/** What pull and push share: the stores, and a client for a registry with the credentials kept for it. */
export class RegistryOp {
  protected readonly images: ImageStore;
  private readonly credentials: CredentialStore;
  private readonly env: NodeJS.ProcessEnv;
  constructor(images: ImageStore, credentials: CredentialStore, env: NodeJS.ProcessEnv = process.env) {
    this.images = images;
    this.credentials = credentials;
    this.env = env;
  }

  /**
   * The hosts serving a registry: its mirrors and then itself, as its hosts.toml says (or itself
   * alone). A mirror is asked with the credentials stored for the mirror's own host; `override`
   * (credentials for this operation only) is for the registry itself.
   */
  protected hosts(registry: string, override?: Credentials, hosts = registryHosts(registry, this.env)): HostChain {
    if (!hosts) return new HostChain(registry, [{ client: this.client(registry, override), capabilities: ['pull', 'resolve', 'push'] }]);
    return new HostChain(
      registry,
      hosts.map((h) => {
        const credentials = h.mirror ? this.credentials.get(h.url.host) : (override ?? this.credentials.get(registry));
        return { client: new RegistryClient(registry, { credentials, env: this.env, endpoint: h }), capabilities: h.capabilities };
      }),
    );
  }

  /** The registry itself (or the host its hosts.toml allows to push); `override`: credentials for this operation only. */
  protected client(registry: string, override?: Credentials): RegistryClient {
    const hosts = registryHosts(registry, this.env);
    if (hosts) return this.hosts(registry, override, hosts).pushClient();
    return new RegistryClient(registry, { credentials: override ?? this.credentials.get(registry), env: this.env });
  }
}

export class Puller extends RegistryOp {

  async pull(name: string, opts: PullOptions = {}): Promise<PullResult> {
    const ref = parseReference(name);
    this.images.sweepInterrupted();
    const want = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
    const emit: Emit = opts.onEvent ?? (() => {});
    const client = this.hosts(ref.domain, opts.credentials);
    const shown = familiarReference(ref);

    const top = await client.manifest(ref.path, ref.digest ?? ref.tag!, `manifest for ${shown}`);
    if (ref.digest && top.digest !== ref.digest) throw invalid(`manifest verification failed for digest ${ref.digest}`);
    let parsed = parseManifest(top.bytes, top.mediaType);
    let manifestBytes = top.bytes;
    let indexBytes: Buffer | undefined;
    if (parsed.kind === 'index') {
      const entry = selectManifest(parsed.index, want);
      if (!entry) throw notFound(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
      const m = await client.manifest(ref.path, entry.digest, `manifest for ${shown} (${formatPlatform(want)})`);
      if (m.digest !== entry.digest || m.bytes.length !== entry.size) throw invalid(`manifest verification failed for digest ${entry.digest}`);
      parsed = parseManifest(m.bytes, m.mediaType);
      if (parsed.kind !== 'manifest') throw invalid(`the ${formatPlatform(want)} entry of ${shown} is an index, not an image manifest`);
      indexBytes = top.bytes;
      manifestBytes = m.bytes;
    }
    const manifest = parsed.manifest;
    emit({ type: 'resolved', ref, digest: top.digest });

    // The config comes first: its diff ids decide which layers are already here and what each
    // downloaded layer must unpack to.
    const configBytes = await this.config(client, ref.path, manifest.config);
    const config = parseImageConfig(configBytes);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length)
      throw invalid(`invalid image ${shown}: the manifest has ${manifest.layers.length} layers, the config ${diffIds.length} diff ids`);
    if (opts.platform && (config.os !== want.os || config.architecture !== want.architecture))
      throw invalid(`image with reference ${shown} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${config.os}/${config.architecture}`);

    const repoDigest = `${ref.domain}/${ref.path}@${top.digest}`;
    const before = this.existing(ref);
    const tasks = manifest.layers.map((desc, i) => {
      if (this.images.layers.has(diffIds[i])) {
        emit({ type: 'layer', id: desc.digest, status: 'exists' });
        return Promise.resolve(this.images.layerSize(diffIds[i]));
      }
      emit({ type: 'layer', id: desc.digest, status: 'waiting', current: 0, total: desc.size });
      return this.layer(client, ref.path, desc, diffIds[i], emit);
    });
    // Every download runs to its end, even after one failed: what verified is kept, nothing is half-written.
    const settled = await Promise.allSettled(tasks);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const layerSizes = settled.map((s) => (s as PromiseFulfilledResult<number>).value);
    crashPoint('pull:layers-stored');

    const upToDate = before?.id === manifest.config.digest && (before.repoDigests ?? []).includes(repoDigest);
    const image = this.images.registerPulled({ ref, repoDigest, manifestBytes, manifest, configBytes, config, layerSizes, topBytes: indexBytes });
    emit({ type: 'done', ref, digest: top.digest, image, upToDate });
    return { ref, digest: top.digest, image, upToDate };
  }

  /**
   * docker's distribution inspect: what the registry says a reference is (the descriptor of its
   * manifest or index) and the platforms it has, without pulling it.
   */
  async inspect(name: string, credentials?: Credentials): Promise<{ Descriptor: Descriptor; Platforms: Platform[] }> {
    const ref = parseReference(name);
    const client = this.hosts(ref.domain, credentials);
    const top = await client.manifest(ref.path, ref.digest ?? ref.tag!, `manifest for ${familiarReference(ref)}`);
    const parsed = parseManifest(top.bytes, top.mediaType);
    const descriptor: Descriptor = { mediaType: parsed.mediaType, digest: top.digest, size: top.bytes.length };
    if (parsed.kind === 'index') return { Descriptor: descriptor, Platforms: parsed.index.manifests.flatMap((m) => (m.platform ? [m.platform] : [])) };
    const config = parseImageConfig(await this.config(client, ref.path, parsed.manifest.config));
    return { Descriptor: descriptor, Platforms: [{ architecture: config.architecture, os: config.os, ...(config.variant ? { variant: config.variant } : {}) }] };
  }

  private existing(ref: Reference): ImageRecord | undefined {
    try {
      return this.images.resolve(formatReference(ref));
    } catch (err) {
      if (isCode(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  /** The config's bytes: from the content store when an earlier pull or import left them there. */
  private async config(client: HostChain, repo: string, desc: Descriptor): Promise<Buffer> {
    if (this.images.content.has(desc.digest)) return this.images.content.read(desc.digest);
    if (desc.size > MAX_CONFIG_BYTES) throw invalid(`image config ${desc.digest} is too large: ${desc.size} bytes`);
    const parts: Buffer[] = [];
    const reader = new BlobReader(client, repo, desc, { sink: (c) => parts.push(c) });
    try {
      await limiter.run(() => reader.drain());
    } finally {
      reader.close();
    }
    const bytes = Buffer.concat(parts);
    if (sha256(bytes) !== desc.digest) throw invalid(`image config verification failed for digest ${desc.digest}`);
    return bytes;
  }

  private layer(client: HostChain, repo: string, desc: Descriptor, diffId: string, emit: Emit): Promise<number> {
    const key = `${desc.digest} ${diffId}`;
    let job = inflight.get(key);
    if (!job) {
      const listeners = new Set<Emit>();
      const fan: Emit = (e) => {
        for (const l of listeners) l(e);
      };
      const promise = limiter.run(() => this.download(client, repo, desc, diffId, fan)).finally(() => inflight.delete(key));
      job = { promise, listeners };
      inflight.set(key, job);
    }
    job.listeners.add(emit);
    return job.promise;
  }

  /**
   * One pass over the network: the compressed bytes go to a content-store writer (which hashes
   * them) and through decompression into a fresh layer directory. Both are published only after
   * the blob digest and the diff id both matched; otherwise both are discarded.
   */
  private async download(client: HostChain, repo: string, desc: Descriptor, diffId: string, emit: Emit): Promise<number> {
    const id = desc.digest;
    // Another process may have finished it while this download waited for a slot, or be
    // downloading it now: then this waits for it rather than downloading it twice.
    const release = await this.images.layers.claim(diffId);
    if (!release) {
      emit({ type: 'layer', id, status: 'exists' });
      return this.images.layerSize(diffId);
    }
    try {
      return await this.fetchLayer(client, repo, desc, diffId, emit);
    } finally {
      release();
    }
  }

  private async fetchLayer(client: HostChain, repo: string, desc: Descriptor, diffId: string, emit: Emit): Promise<number> {
    const id = desc.digest;
    // Keyed by blob and diff id, as the claim and the in-process dedup are: what a killed pull of
    // this layer left is continued from where it stopped (verified at the end all the same).
    const writer = this.images.content.resumableWriter(`${digestHex(desc.digest)}.${digestHex(diffId)}`, desc.size);
    const offset = writer.size;
    let shownAt = 0;
    const reader = new BlobReader(client, repo, desc, {
      offset,
      sink: (c) => writer.write(c),
      onProgress: (n) => {
        const now = Date.now();
        if (n !== desc.size && now - shownAt < PROGRESS_INTERVAL_MS) return;
        shownAt = now;
        emit({ type: 'layer', id, status: 'downloading', current: n, total: desc.size });
      },
      onRetry: (attempt, err) => emit({ type: 'layer', id, status: 'retrying', current: reader.received, total: desc.size, error: `attempt ${attempt + 1}: ${(err as Error).message}` }),
    });
    emit({ type: 'layer', id, status: 'downloading', current: offset, total: desc.size });
    const { decompress } = await import('../image/compression.ts'); // zlib only when pulling
    // The layer is unpacked from its first byte: the part already on disk, then the network.
    const bytes = async function* (): AsyncGenerator<Buffer> {
      if (offset) yield* fs.createReadStream(writer.tmp, { start: 0, end: offset - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
      yield* reader.chunks();
    };
    try {
      const res = await this.images.layers.unpack(decompress(bytes()), {
        verify: async (r) => {
          await reader.drain(); // bytes after the tar's end (compression trailers) are part of the blob
          emit({ type: 'layer', id, status: 'verifying', current: desc.size, total: desc.size });
          if (writer.size !== desc.size || writer.digest() !== desc.digest) throw verificationFailed(desc.digest);
          if (r.diffId !== diffId) throw verificationFailed(desc.digest, new Error(`the layer's diff id is ${r.diffId}, the image config says ${diffId}`));
        },
      });
      writer.commit(desc.digest);
      emit({ type: 'layer', id, status: 'complete', current: desc.size, total: desc.size });
      return res.size;
    } catch (err) {
      throw await this.explain(err, reader, writer, desc);
    } finally {
      reader.close();
    }
  }

  /**
   * Bytes that are not the blob usually fail as a broken gzip or tar stream first. Reading the
   * rest (bounded by the descriptor's size) tells whether the blob was wrong, which is what the
   * user needs to hear; a network failure is reported as itself.
   */
  private async explain(err: unknown, reader: BlobReader, writer: { digest(): string; abort(): void; keep(): void }, desc: Descriptor): Promise<unknown> {
    let out = fromSystemError(err);
    if (!isVerificationError(out) && !isCode(out, 'Unavailable') && !isCode(out, 'NoSpace')) {
      try {
        await reader.drain();
        if (writer.digest() !== desc.digest) out = verificationFailed(desc.digest, err);
      } catch (e) {
        if (isVerificationError(e)) out = e;
      }
    }
    // A network failure keeps what arrived for the next pull to continue; anything else
    // (bytes that are not the blob, a hostile layer, a full disk: the space goes back) discards it.
    const network = !(out instanceof BerthError) || out.code === 'Unavailable';
    if (network && !isVerificationError(out)) writer.keep();
    else writer.abort();
    return out;
  }
}

/** Checks credentials against the registry (the full challenge flow), then saves them. */
export async function login(credentials: CredentialStore, registry: string, cred: Credentials, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const host = normalizeRegistry(registry);
  if (!cred.username) throw invalid('Error: Non-null Username Required');
  if (!cred.password) throw invalid('Error: Non-null Password Required');
  // The registry itself, as its hosts.toml reaches it (scheme, TLS), when it has one.
  const server = registryHosts(host, env)?.find((h) => !h.mirror);
  await new RegistryClient(host, { credentials: cred, env, endpoint: server }).login();
  credentials.set(host, cred);
  return host;
}

/** Forgets the credentials for a registry; false when there were none. */
export function logout(credentials: CredentialStore, registry: string): { host: string; removed: boolean } {
  const host = normalizeRegistry(registry);
  return { host, removed: credentials.remove(host) };
}
