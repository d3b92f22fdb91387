// The CRI's messages (gRPC runtime.v1) as handlers see them: statistics and metrics of containers and pods; generated from runtime-v1.proto by
// scripts/cri-types.ts (do not edit: change the proto and run it). Requests arrive with every
// field present (scalars at their zero value, lists empty, a missing message null); replies may
// leave fields out (Reply<T>), which the client then reads as their zero value.

import type { Int64 } from './int64.ts';
import type { FilesystemIdentifier, FilesystemUsage, PodSandboxMetadata, UInt64Value } from './images.ts';
import type { ContainerMetadata } from './runtime.ts';

export interface WindowsFilesystemUsage {
  timestamp: Int64;
  fs_id: FilesystemIdentifier | null;
  used_bytes: UInt64Value | null;
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
