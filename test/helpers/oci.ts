// Builds OCI image layouts (blobs/ + index.json) by hand, so tests know every digest in advance
// and can push them to a registry with skopeo, an independent implementation.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface LayerSpec {
  tar: Buffer;
  compression: 'gzip' | 'zstd' | 'none';
}

export interface ImageSpec {
  layers: LayerSpec[];
  os?: string;
  architecture?: string;
  variant?: string;
  cmd?: string[];
  env?: string[];
  /** The config's User ("1002", "www-data:www-data"). */
  user?: string;
  /** Replaces the config's diff ids (for images that lie about their layers). */
  diffIds?: string[];
  /** More of the image config's `config` (User, Entrypoint, ExposedPorts...), over Cmd and Env. */
  config?: Record<string, unknown>;
}

export interface BuiltImage {
  manifest: Desc;
  config: Desc;
  layers: Desc[];
  diffIds: string[];
}

const LAYER_MEDIA = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  none: 'application/vnd.oci.image.layer.v1.tar',
};

export const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

export class OciLayout {
  readonly dir: string;
  private readonly refs: Desc[] = [];
  constructor(dir: string) {
    this.dir = dir;
    fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    this.save();
  }

  blob(bytes: Buffer, mediaType: string): Desc {
    const digest = sha(bytes);
    fs.writeFileSync(path.join(this.dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  image(spec: ImageSpec): BuiltImage {
    const layers: Desc[] = [];
    const diffIds: string[] = [];
    for (const l of spec.layers) {
      const data = l.compression === 'gzip' ? zlib.gzipSync(l.tar) : l.compression === 'zstd' ? zlib.zstdCompressSync(l.tar) : l.tar;
      layers.push(this.blob(data, LAYER_MEDIA[l.compression]));
      diffIds.push(sha(l.tar));
    }
    const cfg = {
      created: '2024-01-02T03:04:05Z',
      architecture: spec.architecture ?? 'amd64',
      os: spec.os ?? 'linux',
      ...(spec.variant ? { variant: spec.variant } : {}),
      config: { Cmd: spec.cmd ?? ['sh'], Env: spec.env ?? ['PATH=/bin'], ...(spec.user ? { User: spec.user } : {}), ...spec.config },
      rootfs: { type: 'layers', diff_ids: spec.diffIds ?? diffIds },
      history: spec.layers.map(() => ({ created: '2024-01-02T03:04:05Z', created_by: 'test' })),
    };
    const config = this.blob(Buffer.from(JSON.stringify(cfg)), 'application/vnd.oci.image.config.v1+json');
    const manifest = this.blob(
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers })),
      'application/vnd.oci.image.manifest.v1+json',
    );
    return { manifest, config, layers, diffIds };
  }

  index(entries: Array<{ manifest: Desc; platform: { os: string; architecture: string; variant?: string } }>): Desc {
    const manifests = entries.map((e) => ({ ...e.manifest, platform: e.platform }));
    return this.blob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests })), 'application/vnd.oci.image.index.v1+json');
  }

  /** Names a manifest or index in index.json, as `oci:DIR:NAME` refers to it. */
  tag(name: string, desc: Desc): void {
    this.refs.push({ mediaType: desc.mediaType, digest: desc.digest, size: desc.size, annotations: { 'org.opencontainers.image.ref.name': name } });
    this.save();
  }

  private save(): void {
    fs.writeFileSync(path.join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: this.refs }));
  }
}
