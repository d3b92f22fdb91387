// Manifests, indexes and configs as registries send them (OCI and Docker schema 2). Everything
// here is hostile input: parsed from bytes, checked field by field, never trusted by shape.
import { invalid } from '../core/errors.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from '../core/types.ts';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** What a pull accepts, best first (the registry converts or picks by this order). */
export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];

export const MAX_MANIFEST_BYTES = 4 << 20;
/** Configs are small JSON too; the bound keeps a hostile registry from filling memory. */
export const MAX_CONFIG_BYTES = 8 << 20;

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: unknown): s is string {
  return typeof s === 'string' && DIGEST.test(s);
}

export type ParsedManifest = { kind: 'index'; index: ImageIndex; mediaType: string } | { kind: 'manifest'; manifest: ImageManifest; mediaType: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function descriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v)) throw invalid(`invalid manifest: ${what} is not a descriptor`);
  if (!isDigest(v.digest)) throw invalid(`invalid manifest: ${what} has an invalid digest ${JSON.stringify(v.digest)}`);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) throw invalid(`invalid manifest: ${what} has an invalid size`);
  if (v.mediaType !== undefined && typeof v.mediaType !== 'string') throw invalid(`invalid manifest: ${what} has an invalid media type`);
  const d: Descriptor = { mediaType: (v.mediaType as string | undefined) ?? '', digest: v.digest, size: v.size };
  if (isObject(v.platform)) {
    const p = v.platform;
    if (typeof p.os === 'string' && typeof p.architecture === 'string') {
      d.platform = { os: p.os, architecture: p.architecture };
      if (typeof p.variant === 'string') d.platform.variant = p.variant;
    }
  }
  if (isObject(v.annotations)) {
    const a = Object.entries(v.annotations).filter((e): e is [string, string] => typeof e[1] === 'string');
    if (a.length) d.annotations = Object.fromEntries(a);
  }
  if (Array.isArray(v.urls)) d.urls = v.urls.filter((u): u is string => typeof u === 'string');
  return d;
}

/**
 * Parses a manifest or an index. The kind comes from the document's mediaType, else the response's
 * Content-Type, else its shape; a document that is both (CVE-2021-41190) is refused, since two
 * clients could otherwise read it as two different images.
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw invalid('invalid manifest: not JSON', err);
  }
  if (!isObject(doc)) throw invalid('invalid manifest: not a JSON object');
  if (doc.manifests !== undefined && doc.layers !== undefined) throw invalid('invalid manifest: it has both "manifests" and "layers"; refusing an ambiguous document');
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const ct = contentType?.split(';')[0].trim().toLowerCase();
  const mediaType = declared ?? (ct && ct !== 'application/json' && ct !== 'text/plain' ? ct : undefined);
  if (mediaType === MEDIA_TYPES.dockerSchema1 || mediaType === MEDIA_TYPES.dockerSchema1Signed || doc.schemaVersion === 1)
    throw invalid('Docker Image Format v1 and Docker Image manifest version 2, schema 1 are not supported: push the image again with a current client');
  if (doc.schemaVersion !== 2) throw invalid(`invalid manifest: unsupported schemaVersion ${JSON.stringify(doc.schemaVersion)}`);
  const isIndex = mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList || (mediaType === undefined && doc.manifests !== undefined);
  const isManifest = mediaType === MEDIA_TYPES.ociManifest || mediaType === MEDIA_TYPES.dockerManifest || (mediaType === undefined && doc.config !== undefined);
  if (isIndex) {
    if (!Array.isArray(doc.manifests)) throw invalid('invalid manifest: index without a "manifests" list');
    const manifests = doc.manifests.map((m, i) => descriptor(m, `manifests[${i}]`));
    return { kind: 'index', index: { schemaVersion: 2, mediaType, manifests }, mediaType: mediaType ?? MEDIA_TYPES.ociIndex };
  }
  if (isManifest) {
    if (doc.manifests !== undefined) throw invalid('invalid manifest: an image manifest must not have "manifests"');
    const config = descriptor(doc.config, 'config');
    if (!Array.isArray(doc.layers)) throw invalid('invalid manifest: no "layers" list');
    const layers = doc.layers.map((l, i) => descriptor(l, `layers[${i}]`));
    return { kind: 'manifest', manifest: { schemaVersion: 2, mediaType: mediaType ?? MEDIA_TYPES.ociManifest, config, layers }, mediaType: mediaType ?? MEDIA_TYPES.ociManifest };
  }
  throw invalid(`unsupported manifest media type ${JSON.stringify(mediaType)}`);
}

/** An image config; only the fields a container needs are checked, the rest is kept as sent. */
export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw invalid('invalid image config: not JSON', err);
  }
  if (!isObject(doc)) throw invalid('invalid image config: not a JSON object');
  const rootfs = doc.rootfs;
  if (!isObject(rootfs) || !Array.isArray(rootfs.diff_ids)) throw invalid('invalid image config: no rootfs.diff_ids');
  for (const d of rootfs.diff_ids) if (!isDigest(d)) throw invalid(`invalid image config: invalid diff id ${JSON.stringify(d)}`);
  if (doc.config !== undefined && doc.config !== null && !isObject(doc.config)) throw invalid('invalid image config: "config" is not an object');
  return doc as unknown as ImageConfig;
}

// Go's GOARCH names, which images use, for Node's process.arch.
const ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function hostPlatform(): Platform {
  return { os: 'linux', architecture: ARCH[process.arch] ?? process.arch };
}

/** "os/arch[/variant]" as docker's --platform takes it. */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) throw invalid(`invalid platform "${s}": expected os/arch[/variant]`);
  const [os, arch, variant] = parts;
  const architecture = arch === 'x86_64' || arch === 'x86-64' ? 'amd64' : arch === 'aarch64' ? 'arm64' : arch;
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? '/' + p.variant : ''}`;
}

// The variant an entry without one is taken to have (containerd's normalisation).
const defaultVariant = (p: Platform) => p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined);

export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have || have.os !== want.os || have.architecture !== want.architecture) return false;
  return want.variant === undefined || defaultVariant(want) === defaultVariant(have);
}

/** The entry for a platform: an exact variant first, else the first os/arch match. */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor | undefined {
  const candidates = index.manifests.filter((d) => platformMatches(want, d.platform));
  return candidates.find((d) => defaultVariant(d.platform!) === defaultVariant(want)) ?? candidates[0];
}
