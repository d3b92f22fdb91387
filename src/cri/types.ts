// The CRI's messages (gRPC runtime.v1) as handlers see them; generated from runtime-v1.proto by
// scripts/cri-types.ts (do not edit: change the proto and run it). Requests arrive with every
// field present (scalars at their zero value, lists empty, a missing message null); replies may
// leave fields out (Reply<T>), which the client then reads as their zero value.

export type { Int64 } from './types/int64.ts';

/** A reply: any field may be left out. */
export type Reply<T> = T extends Buffer ? T : T extends Array<infer U> ? Array<Reply<U>> : T extends object ? { [K in keyof T]?: Reply<T[K]> | null } : T;

export type * from './types/images.ts';
export type * from './types/runtime.ts';
export type * from './types/pods.ts';
export type * from './types/containers.ts';
export type * from './types/stats.ts';
import type { ImageFsInfoRequest, ImageFsInfoResponse, ImageStatusRequest, ImageStatusResponse, ListImagesRequest, ListImagesResponse, PullImageRequest, PullImageResponse, RemoveImageRequest, RemoveImageResponse, StreamImagesRequest, StreamImagesResponse } from './types/images.ts';
import type { ContainerEventResponse, GetEventsRequest, RuntimeConfigRequest, RuntimeConfigResponse, StatusRequest, StatusResponse, UpdateRuntimeConfigRequest, UpdateRuntimeConfigResponse, VersionRequest, VersionResponse } from './types/runtime.ts';
import type { ListPodSandboxRequest, ListPodSandboxResponse, PodSandboxStatusRequest, PodSandboxStatusResponse, PortForwardRequest, PortForwardResponse, RemovePodSandboxRequest, RemovePodSandboxResponse, RunPodSandboxRequest, RunPodSandboxResponse, StopPodSandboxRequest, StopPodSandboxResponse, StreamPodSandboxesRequest, StreamPodSandboxesResponse, UpdatePodSandboxResourcesRequest, UpdatePodSandboxResourcesResponse } from './types/pods.ts';
import type { AttachRequest, AttachResponse, CheckpointContainerRequest, CheckpointContainerResponse, ContainerStatusRequest, ContainerStatusResponse, CreateContainerRequest, CreateContainerResponse, ExecRequest, ExecResponse, ExecSyncRequest, ExecSyncResponse, ListContainersRequest, ListContainersResponse, RemoveContainerRequest, RemoveContainerResponse, ReopenContainerLogRequest, ReopenContainerLogResponse, StartContainerRequest, StartContainerResponse, StopContainerRequest, StopContainerResponse, StreamContainersRequest, StreamContainersResponse, UpdateContainerResourcesRequest, UpdateContainerResourcesResponse } from './types/containers.ts';
import type { ContainerStatsRequest, ContainerStatsResponse, ListContainerStatsRequest, ListContainerStatsResponse, ListMetricDescriptorsRequest, ListMetricDescriptorsResponse, ListPodSandboxMetricsRequest, ListPodSandboxMetricsResponse, ListPodSandboxStatsRequest, ListPodSandboxStatsResponse, PodSandboxStatsRequest, PodSandboxStatsResponse, StreamContainerStatsRequest, StreamContainerStatsResponse, StreamPodSandboxMetricsRequest, StreamPodSandboxMetricsResponse, StreamPodSandboxStatsRequest, StreamPodSandboxStatsResponse } from './types/stats.ts';

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
