// The CRI's messages (gRPC runtime.v1) as handlers see them; generated from runtime-v1.proto by
// scripts/cri-types.ts (do not edit: change the proto and run it). Requests arrive with every
// field present (scalars at their zero value, lists empty, a missing message null); replies may
// leave fields out (Reply<T>), which the client then reads as their zero value.

/** A 64-bit integer: requests carry it as a decimal string; a reply may give a number. */
export type Int64 = string | number;

/** A reply: any field may be left out. */
export type Reply<T> = T extends Buffer ? T : T extends Array<infer U> ? Array<Reply<U>> : T extends object ? { [K in keyof T]?: Reply<T[K]> | null } : T;

export interface VersionRequest {
  version: string;
}

export interface VersionResponse {
  version: string;
  runtime_name: string;
  runtime_version: string;
  runtime_api_version: string;
}

export interface NetworkConfig {
  pod_cidr: string;
}

export interface RuntimeConfig {
  network_config: NetworkConfig | null;
}

export interface UpdateRuntimeConfigRequest {
  runtime_config: RuntimeConfig | null;
}

export interface UpdateRuntimeConfigResponse {
}

export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface RuntimeStatus {
  conditions: RuntimeCondition[];
}

export interface StatusRequest {
  verbose: boolean;
}

export interface RuntimeHandlerFeatures {
  recursive_read_only_mounts: boolean;
  user_namespaces: boolean;
}

export interface RuntimeHandler {
  name: string;
  features: RuntimeHandlerFeatures | null;
}

export interface RuntimeFeatures {
  supplemental_groups_policy: boolean;
  user_namespaces_host_network: boolean;
}

export interface StatusResponse {
  status: RuntimeStatus | null;
  info: Record<string, string>;
  runtime_handlers: RuntimeHandler[];
  features: RuntimeFeatures | null;
}

export interface RuntimeConfigRequest {
}

export interface RuntimeConfigResponse {
  linux: LinuxRuntimeConfiguration | null;
}

export interface LinuxRuntimeConfiguration {
  cgroup_driver: CgroupDriver;
}

export type CgroupDriver = 'SYSTEMD' | 'CGROUPFS';

export interface CheckpointContainerRequest {
  container_id: string;
  location: string;
  timeout: Int64;
}

export interface CheckpointContainerResponse {
}

export interface DNSConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface PortMapping {
  protocol: Protocol;
  container_port: number;
  host_port: number;
  host_ip: string;
}

export type MountPropagation = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';

export interface Mount {
  container_path: string;
  host_path: string;
  readonly: boolean;
  selinux_relabel: boolean;
  propagation: MountPropagation;
  uidMappings: IDMapping[];
  gidMappings: IDMapping[];
  recursive_read_only: boolean;
  image: ImageSpec | null;
  image_sub_path: string;
}

export interface IDMapping {
  host_id: number;
  container_id: number;
  length: number;
}

export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

export interface UserNamespace {
  mode: NamespaceMode;
  uids: IDMapping[];
  gids: IDMapping[];
}

export interface NamespaceOption {
  network: NamespaceMode;
  pid: NamespaceMode;
  ipc: NamespaceMode;
  target_id: string;
  userns_options: UserNamespace | null;
}

export type SupplementalGroupsPolicy = 'Merge' | 'Strict';

export interface Int64Value {
  value: Int64;
}

export interface UInt64Value {
  value: Int64;
}

export interface SecurityProfile {
  profile_type: SecurityProfile_ProfileType;
  localhost_ref: string;
}

export type SecurityProfile_ProfileType = 'RuntimeDefault' | 'Unconfined' | 'Localhost';

export interface SELinuxOption {
  user: string;
  role: string;
  type: string;
  level: string;
}

export interface Capability {
  add_capabilities: string[];
  drop_capabilities: string[];
  add_ambient_capabilities: string[];
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface ImageSpec {
  image: string;
  annotations: Record<string, string>;
  user_specified_image: string;
  runtime_handler: string;
  image_ref: string;
}

export interface LinuxSandboxSecurityContext {
  namespace_options: NamespaceOption | null;
  selinux_options: SELinuxOption | null;
  run_as_user: Int64Value | null;
  readonly_rootfs: boolean;
  supplemental_groups: Int64[];
  privileged: boolean;
  seccomp_profile_path: string;
  run_as_group: Int64Value | null;
  seccomp: SecurityProfile | null;
  apparmor: SecurityProfile | null;
  supplemental_groups_policy: SupplementalGroupsPolicy;
}

export interface LinuxPodSandboxConfig {
  cgroup_parent: string;
  security_context: LinuxSandboxSecurityContext | null;
  sysctls: Record<string, string>;
  overhead: LinuxContainerResources | null;
  resources: LinuxContainerResources | null;
}

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata | null;
  hostname: string;
  log_directory: string;
  dns_config: DNSConfig | null;
  port_mappings: PortMapping[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: LinuxPodSandboxConfig | null;
  windows: WindowsPodSandboxConfig | null;
}

export interface RunPodSandboxRequest {
  config: PodSandboxConfig | null;
  runtime_handler: string;
}

export interface RunPodSandboxResponse {
  pod_sandbox_id: string;
}

export interface StopPodSandboxRequest {
  pod_sandbox_id: string;
}

export interface StopPodSandboxResponse {
}

export interface RemovePodSandboxRequest {
  pod_sandbox_id: string;
}

export interface RemovePodSandboxResponse {
}

export interface PodSandboxStatusRequest {
  pod_sandbox_id: string;
  verbose: boolean;
}

export interface PodIP {
  ip: string;
}

export interface PodSandboxNetworkStatus {
  ip: string;
  additional_ips: PodIP[];
}

export interface Namespace {
  options: NamespaceOption | null;
}

export interface LinuxPodSandboxStatus {
  namespaces: Namespace | null;
}

export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata | null;
  state: PodSandboxState;
  created_at: Int64;
  network: PodSandboxNetworkStatus | null;
  linux: LinuxPodSandboxStatus | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtime_handler: string;
}

export interface PodSandboxStatusResponse {
  status: PodSandboxStatus | null;
  info: Record<string, string>;
  containers_statuses: ContainerStatus[];
  timestamp: Int64;
}

export interface PodSandboxStateValue {
  state: PodSandboxState;
}

export interface PodSandboxFilter {
  id: string;
  state: PodSandboxStateValue | null;
  label_selector: Record<string, string>;
}

export interface ListPodSandboxRequest {
  filter: PodSandboxFilter | null;
}

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata | null;
  state: PodSandboxState;
  created_at: Int64;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtime_handler: string;
}

export interface ListPodSandboxResponse {
  items: PodSandbox[];
}

export interface StreamPodSandboxesRequest {
  filter: PodSandboxFilter | null;
}

export interface StreamPodSandboxesResponse {
  pod_sandboxes: PodSandbox[];
}

export interface UpdatePodSandboxResourcesRequest {
  pod_sandbox_id: string;
  overhead: LinuxContainerResources | null;
  resources: LinuxContainerResources | null;
}

export interface UpdatePodSandboxResourcesResponse {
}

export interface WindowsNamespaceOption {
  network: NamespaceMode;
}

export interface WindowsSandboxSecurityContext {
  run_as_username: string;
  credential_spec: string;
  host_process: boolean;
  namespace_options: WindowsNamespaceOption | null;
}

export interface WindowsPodSandboxConfig {
  security_context: WindowsSandboxSecurityContext | null;
}

export interface WindowsContainerSecurityContext {
  run_as_username: string;
  credential_spec: string;
  host_process: boolean;
}

export interface WindowsContainerConfig {
  resources: WindowsContainerResources | null;
  security_context: WindowsContainerSecurityContext | null;
}

export interface WindowsContainerResources {
  cpu_shares: Int64;
  cpu_count: Int64;
  cpu_maximum: Int64;
  memory_limit_in_bytes: Int64;
  rootfs_size_in_bytes: Int64;
  affinity_cpus: WindowsCpuGroupAffinity[];
}

export interface WindowsCpuGroupAffinity {
  cpu_mask: Int64;
  cpu_group: number;
}

export interface LinuxContainerResources {
  cpu_period: Int64;
  cpu_quota: Int64;
  cpu_shares: Int64;
  memory_limit_in_bytes: Int64;
  oom_score_adj: Int64;
  cpuset_cpus: string;
  cpuset_mems: string;
  hugepage_limits: HugepageLimit[];
  unified: Record<string, string>;
  memory_swap_limit_in_bytes: Int64;
}

export interface HugepageLimit {
  page_size: string;
  limit: Int64;
}

export interface LinuxContainerSecurityContext {
  capabilities: Capability | null;
  privileged: boolean;
  namespace_options: NamespaceOption | null;
  selinux_options: SELinuxOption | null;
  run_as_user: Int64Value | null;
  run_as_username: string;
  readonly_rootfs: boolean;
  supplemental_groups: Int64[];
  apparmor_profile: string;
  seccomp_profile_path: string;
  no_new_privs: boolean;
  run_as_group: Int64Value | null;
  masked_paths: string[];
  readonly_paths: string[];
  seccomp: SecurityProfile | null;
  apparmor: SecurityProfile | null;
  supplemental_groups_policy: SupplementalGroupsPolicy;
}

export interface LinuxContainerConfig {
  resources: LinuxContainerResources | null;
  security_context: LinuxContainerSecurityContext | null;
}

export interface LinuxContainerUser {
  uid: Int64;
  gid: Int64;
  supplemental_groups: Int64[];
}

export interface ContainerUser {
  linux: LinuxContainerUser | null;
}

export interface ContainerMetadata {
  name: string;
  attempt: number;
}

export interface Device {
  container_path: string;
  host_path: string;
  permissions: string;
}

export interface CDIDevice {
  name: string;
}

export type Signal = 'RUNTIME_DEFAULT' | 'SIGABRT' | 'SIGALRM' | 'SIGBUS' | 'SIGCHLD' | 'SIGCLD' | 'SIGCONT' | 'SIGFPE' | 'SIGHUP' | 'SIGILL' | 'SIGINT' | 'SIGIO' | 'SIGIOT' | 'SIGKILL' | 'SIGPIPE' | 'SIGPOLL' | 'SIGPROF' | 'SIGPWR' | 'SIGQUIT' | 'SIGSEGV' | 'SIGSTKFLT' | 'SIGSTOP' | 'SIGSYS' | 'SIGTERM' | 'SIGTRAP' | 'SIGTSTP' | 'SIGTTIN' | 'SIGTTOU' | 'SIGURG' | 'SIGUSR1' | 'SIGUSR2' | 'SIGVTALRM' | 'SIGWINCH' | 'SIGXCPU' | 'SIGXFSZ' | 'SIGRTMIN' | 'SIGRTMINPLUS1' | 'SIGRTMINPLUS2' | 'SIGRTMINPLUS3' | 'SIGRTMINPLUS4' | 'SIGRTMINPLUS5' | 'SIGRTMINPLUS6' | 'SIGRTMINPLUS7' | 'SIGRTMINPLUS8' | 'SIGRTMINPLUS9' | 'SIGRTMINPLUS10' | 'SIGRTMINPLUS11' | 'SIGRTMINPLUS12' | 'SIGRTMINPLUS13' | 'SIGRTMINPLUS14' | 'SIGRTMINPLUS15' | 'SIGRTMAXMINUS14' | 'SIGRTMAXMINUS13' | 'SIGRTMAXMINUS12' | 'SIGRTMAXMINUS11' | 'SIGRTMAXMINUS10' | 'SIGRTMAXMINUS9' | 'SIGRTMAXMINUS8' | 'SIGRTMAXMINUS7' | 'SIGRTMAXMINUS6' | 'SIGRTMAXMINUS5' | 'SIGRTMAXMINUS4' | 'SIGRTMAXMINUS3' | 'SIGRTMAXMINUS2' | 'SIGRTMAXMINUS1' | 'SIGRTMAX';

export interface ContainerConfig {
  metadata: ContainerMetadata | null;
  image: ImageSpec | null;
  command: string[];
  args: string[];
  working_dir: string;
  envs: KeyValue[];
  mounts: Mount[];
  devices: Device[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  log_path: string;
  stdin: boolean;
  stdin_once: boolean;
  tty: boolean;
  linux: LinuxContainerConfig | null;
  windows: WindowsContainerConfig | null;
  CDI_devices: CDIDevice[];
  stop_signal: Signal;
}

export interface CreateContainerRequest {
  pod_sandbox_id: string;
  config: ContainerConfig | null;
  sandbox_config: PodSandboxConfig | null;
}

export interface CreateContainerResponse {
  container_id: string;
}

export interface StartContainerRequest {
  container_id: string;
}

export interface StartContainerResponse {
}

export interface StopContainerRequest {
  container_id: string;
  timeout: Int64;
}

export interface StopContainerResponse {
}

export interface RemoveContainerRequest {
  container_id: string;
}

export interface RemoveContainerResponse {
}

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface ContainerStateValue {
  state: ContainerState;
}

export interface ContainerFilter {
  id: string;
  state: ContainerStateValue | null;
  pod_sandbox_id: string;
  label_selector: Record<string, string>;
}

export interface ListContainersRequest {
  filter: ContainerFilter | null;
}

export interface Container {
  id: string;
  pod_sandbox_id: string;
  metadata: ContainerMetadata | null;
  image: ImageSpec | null;
  image_ref: string;
  state: ContainerState;
  created_at: Int64;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  image_id: string;
}

export interface ListContainersResponse {
  containers: Container[];
}

export interface StreamContainersRequest {
  filter: ContainerFilter | null;
}

export interface StreamContainersResponse {
  containers: Container[];
}

export interface ContainerStatusRequest {
  container_id: string;
  verbose: boolean;
}

export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata | null;
  state: ContainerState;
  created_at: Int64;
  started_at: Int64;
  finished_at: Int64;
  exit_code: number;
  image: ImageSpec | null;
  image_ref: string;
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  mounts: Mount[];
  log_path: string;
  resources: ContainerResources | null;
  image_id: string;
  user: ContainerUser | null;
  stop_signal: Signal;
}

export interface ContainerStatusResponse {
  status: ContainerStatus | null;
  info: Record<string, string>;
}

export interface ContainerResources {
  linux: LinuxContainerResources | null;
  windows: WindowsContainerResources | null;
}

export interface UpdateContainerResourcesRequest {
  container_id: string;
  linux: LinuxContainerResources | null;
  windows: WindowsContainerResources | null;
  annotations: Record<string, string>;
}

export interface UpdateContainerResourcesResponse {
}

export interface ReopenContainerLogRequest {
  container_id: string;
}

export interface ReopenContainerLogResponse {
}

export interface ExecSyncRequest {
  container_id: string;
  cmd: string[];
  timeout: Int64;
}

export interface ExecSyncResponse {
  stdout: Buffer;
  stderr: Buffer;
  exit_code: number;
}

export interface ExecRequest {
  container_id: string;
  cmd: string[];
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  audit_request_id: string;
}

export interface ExecResponse {
  url: string;
}

export interface AttachRequest {
  container_id: string;
  stdin: boolean;
  tty: boolean;
  stdout: boolean;
  stderr: boolean;
  audit_request_id: string;
}

export interface AttachResponse {
  url: string;
}

export interface PortForwardRequest {
  pod_sandbox_id: string;
  port: number[];
}

export interface PortForwardResponse {
  url: string;
}

export interface GetEventsRequest {
}

export type ContainerEventType = 'CONTAINER_CREATED_EVENT' | 'CONTAINER_STARTED_EVENT' | 'CONTAINER_STOPPED_EVENT' | 'CONTAINER_DELETED_EVENT';

export interface ContainerEventResponse {
  container_id: string;
  container_event_type: ContainerEventType;
  created_at: Int64;
  pod_sandbox_status: PodSandboxStatus | null;
  containers_statuses: ContainerStatus[];
}

export interface ImageFilter {
  image: ImageSpec | null;
}

export interface ListImagesRequest {
  filter: ImageFilter | null;
}

export interface Image {
  id: string;
  repo_tags: string[];
  repo_digests: string[];
  size: Int64;
  uid: Int64Value | null;
  username: string;
  spec: ImageSpec | null;
  pinned: boolean;
}

export interface ListImagesResponse {
  images: Image[];
}

export interface StreamImagesRequest {
  filter: ImageFilter | null;
}

export interface StreamImagesResponse {
  images: Image[];
}

export interface ImageStatusRequest {
  image: ImageSpec | null;
  verbose: boolean;
}

export interface ImageStatusResponse {
  image: Image | null;
  info: Record<string, string>;
}

export interface AuthConfig {
  username: string;
  password: string;
  auth: string;
  server_address: string;
  identity_token: string;
  registry_token: string;
}

export interface PullImageRequest {
  image: ImageSpec | null;
  auth: AuthConfig | null;
  sandbox_config: PodSandboxConfig | null;
}

export interface PullImageResponse {
  image_ref: string;
}

export interface RemoveImageRequest {
  image: ImageSpec | null;
}

export interface RemoveImageResponse {
}

export interface ImageFsInfoRequest {
}

export interface FilesystemIdentifier {
  mountpoint: string;
}

export interface FilesystemUsage {
  timestamp: Int64;
  fs_id: FilesystemIdentifier | null;
  used_bytes: UInt64Value | null;
  inodes_used: UInt64Value | null;
}

export interface WindowsFilesystemUsage {
  timestamp: Int64;
  fs_id: FilesystemIdentifier | null;
  used_bytes: UInt64Value | null;
}

export interface ImageFsInfoResponse {
  image_filesystems: FilesystemUsage[];
  container_filesystems: FilesystemUsage[];
}

export interface ContainerStatsRequest {
  container_id: string;
}

export interface ContainerStatsResponse {
  stats: ContainerStats | null;
}

export interface ContainerStatsFilter {
  id: string;
  pod_sandbox_id: string;
  label_selector: Record<string, string>;
}

export interface ListContainerStatsRequest {
  filter: ContainerStatsFilter | null;
}

export interface ListContainerStatsResponse {
  stats: ContainerStats[];
}

export interface StreamContainerStatsRequest {
  filter: ContainerStatsFilter | null;
}

export interface StreamContainerStatsResponse {
  container_stats: ContainerStats[];
}

export interface ContainerAttributes {
  id: string;
  metadata: ContainerMetadata | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerStats {
  attributes: ContainerAttributes | null;
  cpu: CpuUsage | null;
  memory: MemoryUsage | null;
  writable_layer: FilesystemUsage | null;
  swap: SwapUsage | null;
  io: IoUsage | null;
}

export interface WindowsContainerStats {
  attributes: ContainerAttributes | null;
  cpu: WindowsCpuUsage | null;
  memory: WindowsMemoryUsage | null;
  writable_layer: WindowsFilesystemUsage | null;
}

export interface PodSandboxStatsRequest {
  pod_sandbox_id: string;
}

export interface PodSandboxStatsResponse {
  stats: PodSandboxStats | null;
}

export interface PodSandboxStatsFilter {
  id: string;
  label_selector: Record<string, string>;
}

export interface ListPodSandboxStatsRequest {
  filter: PodSandboxStatsFilter | null;
}

export interface ListPodSandboxStatsResponse {
  stats: PodSandboxStats[];
}

export interface StreamPodSandboxStatsRequest {
  filter: PodSandboxStatsFilter | null;
}

export interface StreamPodSandboxStatsResponse {
  pod_sandbox_stats: PodSandboxStats[];
}

export interface PodSandboxAttributes {
  id: string;
  metadata: PodSandboxMetadata | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodSandboxStats {
  attributes: PodSandboxAttributes | null;
  linux: LinuxPodSandboxStats | null;
  windows: WindowsPodSandboxStats | null;
}

export interface LinuxPodSandboxStats {
  cpu: CpuUsage | null;
  memory: MemoryUsage | null;
  network: NetworkUsage | null;
  process: ProcessUsage | null;
  containers: ContainerStats[];
  io: IoUsage | null;
}

export interface WindowsPodSandboxStats {
  cpu: WindowsCpuUsage | null;
  memory: WindowsMemoryUsage | null;
  network: WindowsNetworkUsage | null;
  process: WindowsProcessUsage | null;
  containers: WindowsContainerStats[];
}

export interface NetworkUsage {
  timestamp: Int64;
  default_interface: NetworkInterfaceUsage | null;
  interfaces: NetworkInterfaceUsage[];
}

export interface WindowsNetworkUsage {
  timestamp: Int64;
  default_interface: WindowsNetworkInterfaceUsage | null;
  interfaces: WindowsNetworkInterfaceUsage[];
}

export interface NetworkInterfaceUsage {
  name: string;
  rx_bytes: UInt64Value | null;
  rx_errors: UInt64Value | null;
  tx_bytes: UInt64Value | null;
  tx_errors: UInt64Value | null;
}

export interface WindowsNetworkInterfaceUsage {
  name: string;
  rx_bytes: UInt64Value | null;
  rx_packets_dropped: UInt64Value | null;
  tx_bytes: UInt64Value | null;
  tx_packets_dropped: UInt64Value | null;
}

export interface ProcessUsage {
  timestamp: Int64;
  process_count: UInt64Value | null;
}

export interface WindowsProcessUsage {
  timestamp: Int64;
  process_count: UInt64Value | null;
}

export interface PsiStats {
  Full: PsiData | null;
  Some: PsiData | null;
}

export interface PsiData {
  Total: Int64;
  Avg10: number;
  Avg60: number;
  Avg300: number;
}

export interface CpuUsage {
  timestamp: Int64;
  usage_core_nano_seconds: UInt64Value | null;
  usage_nano_cores: UInt64Value | null;
  psi: PsiStats | null;
}

export interface WindowsCpuUsage {
  timestamp: Int64;
  usage_core_nano_seconds: UInt64Value | null;
  usage_nano_cores: UInt64Value | null;
}

export interface MemoryUsage {
  timestamp: Int64;
  working_set_bytes: UInt64Value | null;
  available_bytes: UInt64Value | null;
  usage_bytes: UInt64Value | null;
  rss_bytes: UInt64Value | null;
  page_faults: UInt64Value | null;
  major_page_faults: UInt64Value | null;
  psi: PsiStats | null;
}

export interface IoUsage {
  timestamp: Int64;
  psi: PsiStats | null;
}

export interface SwapUsage {
  timestamp: Int64;
  swap_available_bytes: UInt64Value | null;
  swap_usage_bytes: UInt64Value | null;
}

export interface WindowsMemoryUsage {
  timestamp: Int64;
  working_set_bytes: UInt64Value | null;
  available_bytes: UInt64Value | null;
  page_faults: UInt64Value | null;
  commit_memory_bytes: UInt64Value | null;
}

export interface ListMetricDescriptorsRequest {
}

export interface ListMetricDescriptorsResponse {
  descriptors: MetricDescriptor[];
}

export interface MetricDescriptor {
  name: string;
  help: string;
  label_keys: string[];
}

export interface ListPodSandboxMetricsRequest {
}

export interface ListPodSandboxMetricsResponse {
  pod_metrics: PodSandboxMetrics[];
}

export interface StreamPodSandboxMetricsRequest {
}

export interface StreamPodSandboxMetricsResponse {
  pod_sandbox_metrics: PodSandboxMetrics[];
}

export interface PodSandboxMetrics {
  pod_sandbox_id: string;
  metrics: Metric[];
  container_metrics: ContainerMetrics[];
}

export interface ContainerMetrics {
  container_id: string;
  metrics: Metric[];
}

export type MetricType = 'COUNTER' | 'GAUGE';

export interface Metric {
  name: string;
  timestamp: Int64;
  metric_type: MetricType;
  label_values: string[];
  value: UInt64Value | null;
}

export interface RuntimeServiceCalls {
  Version: { request: VersionRequest; reply: VersionResponse; stream: false };
  RunPodSandbox: { request: RunPodSandboxRequest; reply: RunPodSandboxResponse; stream: false };
  StopPodSandbox: { request: StopPodSandboxRequest; reply: StopPodSandboxResponse; stream: false };
  RemovePodSandbox: { request: RemovePodSandboxRequest; reply: RemovePodSandboxResponse; stream: false };
  PodSandboxStatus: { request: PodSandboxStatusRequest; reply: PodSandboxStatusResponse; stream: false };
  ListPodSandbox: { request: ListPodSandboxRequest; reply: ListPodSandboxResponse; stream: false };
  StreamPodSandboxes: { request: StreamPodSandboxesRequest; reply: StreamPodSandboxesResponse; stream: true };
  CreateContainer: { request: CreateContainerRequest; reply: CreateContainerResponse; stream: false };
  StartContainer: { request: StartContainerRequest; reply: StartContainerResponse; stream: false };
  StopContainer: { request: StopContainerRequest; reply: StopContainerResponse; stream: false };
  RemoveContainer: { request: RemoveContainerRequest; reply: RemoveContainerResponse; stream: false };
  ListContainers: { request: ListContainersRequest; reply: ListContainersResponse; stream: false };
  StreamContainers: { request: StreamContainersRequest; reply: StreamContainersResponse; stream: true };
  ContainerStatus: { request: ContainerStatusRequest; reply: ContainerStatusResponse; stream: false };
  UpdateContainerResources: { request: UpdateContainerResourcesRequest; reply: UpdateContainerResourcesResponse; stream: false };
  ReopenContainerLog: { request: ReopenContainerLogRequest; reply: ReopenContainerLogResponse; stream: false };
  ExecSync: { request: ExecSyncRequest; reply: ExecSyncResponse; stream: false };
  Exec: { request: ExecRequest; reply: ExecResponse; stream: false };
  Attach: { request: AttachRequest; reply: AttachResponse; stream: false };
  PortForward: { request: PortForwardRequest; reply: PortForwardResponse; stream: false };
  ContainerStats: { request: ContainerStatsRequest; reply: ContainerStatsResponse; stream: false };
  ListContainerStats: { request: ListContainerStatsRequest; reply: ListContainerStatsResponse; stream: false };
  StreamContainerStats: { request: StreamContainerStatsRequest; reply: StreamContainerStatsResponse; stream: true };
  PodSandboxStats: { request: PodSandboxStatsRequest; reply: PodSandboxStatsResponse; stream: false };
  ListPodSandboxStats: { request: ListPodSandboxStatsRequest; reply: ListPodSandboxStatsResponse; stream: false };
  StreamPodSandboxStats: { request: StreamPodSandboxStatsRequest; reply: StreamPodSandboxStatsResponse; stream: true };
  UpdateRuntimeConfig: { request: UpdateRuntimeConfigRequest; reply: UpdateRuntimeConfigResponse; stream: false };
  Status: { request: StatusRequest; reply: StatusResponse; stream: false };
  CheckpointContainer: { request: CheckpointContainerRequest; reply: CheckpointContainerResponse; stream: false };
  GetContainerEvents: { request: GetEventsRequest; reply: ContainerEventResponse; stream: true };
  ListMetricDescriptors: { request: ListMetricDescriptorsRequest; reply: ListMetricDescriptorsResponse; stream: false };
  ListPodSandboxMetrics: { request: ListPodSandboxMetricsRequest; reply: ListPodSandboxMetricsResponse; stream: false };
  StreamPodSandboxMetrics: { request: StreamPodSandboxMetricsRequest; reply: StreamPodSandboxMetricsResponse; stream: true };
  RuntimeConfig: { request: RuntimeConfigRequest; reply: RuntimeConfigResponse; stream: false };
  UpdatePodSandboxResources: { request: UpdatePodSandboxResourcesRequest; reply: UpdatePodSandboxResourcesResponse; stream: false };
}

export interface ImageServiceCalls {
  ListImages: { request: ListImagesRequest; reply: ListImagesResponse; stream: false };
  StreamImages: { request: StreamImagesRequest; reply: StreamImagesResponse; stream: true };
  ImageStatus: { request: ImageStatusRequest; reply: ImageStatusResponse; stream: false };
  PullImage: { request: PullImageRequest; reply: PullImageResponse; stream: false };
  RemoveImage: { request: RemoveImageRequest; reply: RemoveImageResponse; stream: false };
  ImageFsInfo: { request: ImageFsInfoRequest; reply: ImageFsInfoResponse; stream: false };
}
