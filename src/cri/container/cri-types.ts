// FALLBACK until cri-api's src/cri/types.ts lands on main: the few runtime.v1 messages the pod
// and container calls read, as @grpc/proto-loader hands them over (snake_case fields, enum names,
// int64 as decimal strings, absent messages null). Switch the imports to ../types.ts then.
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export interface Int64Value { value: string | number }
export interface NamespaceOption { network?: NamespaceMode; pid?: NamespaceMode; ipc?: NamespaceMode; target_id?: string }
export interface SecurityProfile { profile_type?: 'RuntimeDefault' | 'Unconfined' | 'Localhost'; localhost_ref?: string }
export interface PodSandboxMetadata { name: string; uid: string; namespace: string; attempt: number }
export interface ContainerMetadata { name: string; attempt: number }
export interface DNSConfig { servers?: string[]; searches?: string[]; options?: string[] }
export interface PortMapping { protocol?: 'TCP' | 'UDP' | 'SCTP'; container_port: number; host_port: number; host_ip?: string }
export interface LinuxSandboxSecurityContext {
  namespace_options?: NamespaceOption | null; run_as_user?: Int64Value | null; run_as_group?: Int64Value | null;
  readonly_rootfs?: boolean; supplemental_groups?: Array<string | number>; privileged?: boolean;
  seccomp_profile_path?: string; seccomp?: SecurityProfile | null;
}
export interface LinuxPodSandboxConfig { cgroup_parent?: string; security_context?: LinuxSandboxSecurityContext | null; sysctls?: Record<string, string> }
export interface PodSandboxConfig {
  metadata: PodSandboxMetadata | null; hostname?: string; log_directory?: string; dns_config?: DNSConfig | null;
  port_mappings?: PortMapping[]; labels?: Record<string, string>; annotations?: Record<string, string>; linux?: LinuxPodSandboxConfig | null;
}
export interface KeyValue { key: string; value: string }
export interface Mount { container_path: string; host_path: string; readonly?: boolean; selinux_relabel?: boolean; propagation?: 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL' }
export interface Device { container_path: string; host_path: string; permissions?: string }
export interface HugepageLimit { page_size: string; limit: string | number }
export interface LinuxContainerResources {
  cpu_period?: string | number; cpu_quota?: string | number; cpu_shares?: string | number; memory_limit_in_bytes?: string | number;
  oom_score_adj?: string | number; cpuset_cpus?: string; cpuset_mems?: string; hugepage_limits?: HugepageLimit[];
  unified?: Record<string, string>; memory_swap_limit_in_bytes?: string | number;
}
export interface Capability { add_capabilities?: string[]; drop_capabilities?: string[] }
export interface LinuxContainerSecurityContext {
  capabilities?: Capability | null; privileged?: boolean; namespace_options?: NamespaceOption | null;
  run_as_user?: Int64Value | null; run_as_group?: Int64Value | null; run_as_username?: string; readonly_rootfs?: boolean;
  supplemental_groups?: Array<string | number>; seccomp_profile_path?: string; no_new_privs?: boolean;
  masked_paths?: string[]; readonly_paths?: string[]; seccomp?: SecurityProfile | null;
}
export interface LinuxContainerConfig { resources?: LinuxContainerResources | null; security_context?: LinuxContainerSecurityContext | null }
export interface ImageSpec { image: string; annotations?: Record<string, string> }
export interface ContainerConfig {
  metadata: ContainerMetadata | null; image: ImageSpec | null; command?: string[]; args?: string[]; working_dir?: string;
  envs?: KeyValue[]; mounts?: Mount[]; devices?: Device[]; labels?: Record<string, string>; annotations?: Record<string, string>;
  log_path?: string; stdin?: boolean; stdin_once?: boolean; tty?: boolean; linux?: LinuxContainerConfig | null;
}

/** FALLBACK until cri-api's src/cri/context.ts lands: the part of CriContext these calls use. */
export interface PodsContext {
  engine: import('../../engine/engine.ts').Engine;
  podNetworks?: {
    setUp(podId: string, p: {
      name: string; namespace: string; uid: string;
      portMappings: Array<{ hostPort: number; containerPort: number; protocol: 'tcp' | 'udp' | 'sctp'; hostIP?: string }>;
      dns?: { servers: string[]; searches: string[]; options: string[] };
    }): Promise<{ netns: string; ip: string; additionalIps: string[] }>;
    tearDown(podId: string): Promise<void>;
    get(podId: string): { netns: string; ip: string; additionalIps: string[] } | undefined;
  };
}
