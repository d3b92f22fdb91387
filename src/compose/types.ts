// The canonical compose model: what the loader produces and `berth compose config` prints, in
// the spec's own key names (docker compose v2's canonical forms: long syntax for ports and
// volumes, environment and labels as maps, networks and depends_on as maps).

export interface PortConfig {
  mode: string; // "ingress" (the default) or "host"
  host_ip?: string;
  target: number;
  published?: string; // "8080", "8000-8010", or absent (a random host port)
  protocol: string;
  name?: string;
  app_protocol?: string;
}

export interface ServiceVolume {
  type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | 'image';
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: { propagation?: string; create_host_path?: boolean; selinux?: string };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: number | string; mode?: number | string };
}

export interface Dependency {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  required: boolean;
  restart?: boolean;
}

export interface ServiceNetwork {
  aliases?: string[];
  ipv4_address?: string;
  ipv6_address?: string;
  mac_address?: string;
  priority?: number;
}

export interface FileReference {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number | string;
}

export interface Healthcheck {
  test?: string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
  start_interval?: string;
  disable?: boolean;
}

/** A service: known attributes typed, the rest carried as the file gave them (normalised). */
export interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string; args?: Record<string, string | null>; target?: string; [k: string]: unknown };
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  labels?: Record<string, string>;
  ports?: PortConfig[];
  expose?: string[];
  volumes?: ServiceVolume[];
  tmpfs?: string[];
  networks?: Record<string, ServiceNetwork | null>;
  network_mode?: string;
  depends_on?: Record<string, Dependency>;
  healthcheck?: Healthcheck;
  deploy?: { replicas?: number; resources?: { limits?: Record<string, unknown>; reservations?: Record<string, unknown> }; restart_policy?: Record<string, unknown>; [k: string]: unknown } | null;
  scale?: number;
  profiles?: string[];
  secrets?: FileReference[];
  configs?: FileReference[];
  container_name?: string;
  extends?: { service: string; file?: string };
  [key: string]: unknown;
}

export interface NetworkConfig {
  name: string;
  external?: boolean;
  driver?: string;
  internal?: boolean;
  ipam?: { driver?: string; config?: Array<{ subnet?: string; gateway?: string; ip_range?: string; aux_addresses?: Record<string, string> }> };
  labels?: Record<string, string>;
  [key: string]: unknown;
}

export interface VolumeConfig {
  name: string;
  external?: boolean;
  driver?: string;
  labels?: Record<string, string>;
  [key: string]: unknown;
}

export interface FileObjectConfig {
  name: string;
  file?: string;
  environment?: string;
  content?: string;
  external?: boolean;
  [key: string]: unknown;
}

export interface Project {
  name: string;
  /** The project directory: relative paths in the files are relative to it. */
  workingDir: string;
  /** Absolute paths of the files loaded, in order (-f order; includes not listed). */
  configFiles: string[];
  services: Record<string, Service>;
  /** Services left out by profiles (kept so that down and orphan checks know them). */
  disabled: Record<string, Service>;
  networks: Record<string, NetworkConfig>;
  volumes: Record<string, VolumeConfig>;
  secrets: Record<string, FileObjectConfig>;
  configs: Record<string, FileObjectConfig>;
  /** Variables interpolation saw (the environment over .env). */
  environment: Record<string, string>;
  warnings: string[];
}
