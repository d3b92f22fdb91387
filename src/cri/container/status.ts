// Engine containers -> the CRI's answers about containers (pure): state, times in nanoseconds,
// exit code and reason, and the labels and annotations as the kubelet gave them.
import type { Container } from '../../engine/container/types.ts';
import { annotationsOf, extraOf, givenLabels, metadataOf, nanos, sandboxOf, type ContainerExtra } from '../sandbox/meta.ts';

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export function stateOf(c: Container): ContainerState {
  switch (c.state.Status) {
    case 'created':
      return 'CONTAINER_CREATED';
    case 'running':
    case 'paused':
    case 'restarting':
      return 'CONTAINER_RUNNING';
    case 'exited':
      return 'CONTAINER_EXITED';
    default:
      return 'CONTAINER_UNKNOWN';
  }
}

/** containerd's reasons: OOMKilled, Completed (exit 0), Error. */
export function reasonOf(c: Container): string {
  if (stateOf(c) !== 'CONTAINER_EXITED') return '';
  if (c.state.OOMKilled) return 'OOMKilled';
  return c.state.ExitCode === 0 ? 'Completed' : 'Error';
}

/** The image id as the CRI names it (sha256:...). */
export function imageRef(c: Container): string {
  return c.record.Image.startsWith('sha256:') ? c.record.Image : `sha256:${c.record.Image}`;
}

/** The list view (ListContainers). */
export function containerView(c: Container): object {
  const x = extraOf<ContainerExtra>(c.record);
  return {
    id: c.record.Id,
    pod_sandbox_id: sandboxOf(c.record),
    metadata: metadataOf(c.record),
    image: { image: x.image ?? c.record.ImageName },
    image_ref: imageRef(c),
    state: stateOf(c),
    created_at: nanos(c.record.Created),
    labels: givenLabels(c.record),
    annotations: annotationsOf(c.record),
  };
}

/** ContainerStatus's status. */
export function containerStatus(c: Container): object {
  const x = extraOf<ContainerExtra>(c.record);
  const state = stateOf(c);
  return {
    ...containerView(c),
    started_at: state === 'CONTAINER_CREATED' ? '0' : nanos(c.state.StartedAt),
    finished_at: state === 'CONTAINER_EXITED' ? nanos(c.state.FinishedAt) : '0',
    exit_code: state === 'CONTAINER_EXITED' ? c.state.ExitCode : 0,
    reason: reasonOf(c),
    message: state === 'CONTAINER_EXITED' ? c.state.Error : '',
    mounts: x.mounts ?? [],
    log_path: x.logPath ?? '',
  };
}

/** The verbose info map: a JSON "info" like containerd's (pid, sandbox, the engine's config). */
export function containerInfo(c: Container): Record<string, string> {
  return {
    info: JSON.stringify({
      sandboxID: sandboxOf(c.record),
      pid: c.state.Pid,
      removing: c.state.Status === 'removing',
      snapshotKey: c.record.Id,
      snapshotter: 'overlayfs',
      runtimeType: 'io.berth.v1',
      runtimeOptions: null,
      config: { metadata: metadataOf(c.record), image: { image: extraOf<ContainerExtra>(c.record).image }, labels: givenLabels(c.record), annotations: annotationsOf(c.record) },
      runtimeSpec: { hostConfig: c.record.HostConfig, process: { args: [...(c.record.Config.Entrypoint ?? []), ...c.record.Config.Cmd], env: c.record.Config.Env, cwd: c.record.Config.WorkingDir || '/', user: c.record.Config.User } },
    }),
  };
}
