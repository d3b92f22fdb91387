// The CRI's messages (gRPC runtime.v1) as handlers see them: pod sandboxes: their configuration, status and port forwarding; generated from runtime-v1.proto by
// scripts/cri-types.ts (do not edit: change the proto and run it). Requests arrive with every
// field present (scalars at their zero value, lists empty, a missing message null); replies may
// leave fields out (Reply<T>), which the client then reads as their zero value.

import type { Int64 } from './int64.ts';
import type { LinuxContainerResources, PodSandboxConfig, PodSandboxMetadata } from './images.ts';
import type { ContainerStatus, PodSandboxState, PodSandboxStatus } from './runtime.ts';

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

export interface PortForwardRequest {
  pod_sandbox_id: string;
  port: number[];
}

export interface PortForwardResponse {
  url: string;
}
