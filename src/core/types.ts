// Types shared across layers. No logic here.

/** The runnable part of an OCI image config (and of docker's container Config). */
export interface RunConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ExposedPorts?: Record<string, object>;
  /** docker's HEALTHCHECK: Test is ["CMD", ...], ["CMD-SHELL", "cmd"] or ["NONE"]; durations in ns. */
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number };
  Volumes?: Record<string, object>;
  /** Dockerfile SHELL: the shell RUN/CMD/ENTRYPOINT shell forms run with. */
  Shell?: string[];
  /** Dockerfile ONBUILD: triggers a build FROM this image runs first. */
  OnBuild?: string[] | null;
}

/** OCI image config (application/vnd.oci.image.config.v1+json). */
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: RunConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; comment?: string; empty_layer?: boolean }>;
  /** berth build: the cache key of each history entry, so the image can serve as --cache-from. */
  'berth.build.cache'?: string[];
  /** A committed image: the container's id and config (docker's v1 image config has both). */
  container?: string;
  container_config?: RunConfig & { Image?: string };
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** OCI image index or Docker manifest list: one manifest per platform. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

/** What the engine keeps per image. The id is the config digest, as in docker. */
export interface ImageRecord {
  id: string;
  manifest: string; // digest of the manifest blob
  config: ImageConfig;
  layers: string[]; // diff ids, bottom first
  size: number; // bytes of uncompressed layer content
  created: string;
  layerSizes?: number[]; // uncompressed bytes per layer, as `layers`
  repoDigests?: string[]; // canonical "repo@digest" of every registry manifest this image was pulled by
  parent?: string; // the local image a commit was made on (docker's Parent; never a pulled image's)
}

/** A filesystem mount: what a snapshotter produces and the runtime consumes. */
export interface Mount {
  type: string;
  source: string;
  target: string;
  options: string[];
}

/**
 * A process as recorded in state (a container's monitor, a create's owner): its pid and its start
 * time (field 22 of /proc/PID/stat), which together survive pid reuse (kernel/process.ts reads them).
 */
export interface ProcessRef {
  pid: number;
  start: number;
}
