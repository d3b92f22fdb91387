// The CRI's messages (gRPC runtime.v1) as handlers see them: containers: configuration, status, resources, exec and attach; generated from runtime-v1.proto by
// scripts/cri-types.ts (do not edit: change the proto and run it). Requests arrive with every
// field present (scalars at their zero value, lists empty, a missing message null); replies may
// leave fields out (Reply<T>), which the client then reads as their zero value.

import type { Int64 } from './int64.ts';
import type { ImageSpec, Int64Value, LinuxContainerResources, NamespaceOption, PodSandboxConfig, SELinuxOption, SecurityProfile, SupplementalGroupsPolicy } from './images.ts';
import type { ContainerMetadata, ContainerState, ContainerStatus, Mount, Signal, WindowsContainerResources } from './runtime.ts';

export interface CheckpointContainerRequest {
  container_id: string;
  location: string;
  timeout: Int64;
}

export interface CheckpointContainerResponse {
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

export interface WindowsContainerSecurityContext {
  run_as_username: string;
  credential_spec: string;
  host_process: boolean;
}

export interface WindowsContainerConfig {
  resources: WindowsContainerResources | null;
  security_context: WindowsContainerSecurityContext | null;
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

export interface Device {
  container_path: string;
  host_path: string;
  permissions: string;
}

export interface CDIDevice {
  name: string;
}

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

export interface ContainerStatusResponse {
  status: ContainerStatus | null;
  info: Record<string, string>;
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
