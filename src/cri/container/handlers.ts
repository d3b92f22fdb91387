// The container calls of the CRI's RuntimeService (src/cri/server.ts merges them), with the
// stats and the container event stream.
import { handlers as eventHandlers } from '../events.ts';
import { handlers as statsHandlers } from '../stats.ts';
import { createContainer } from './create.ts';
import type { Handlers } from '../context.ts';
import type { CriContext } from './cri-types.ts';
import { execSync } from './exec.ts';
import { removeContainer, startContainer, stopContainer } from './lifecycle.ts';
import { containerStatusCall, listContainers } from './read.ts';
import { reopenContainerLog, updateContainerResources } from './update.ts';

export function handlers(ctx: CriContext): Handlers {
  return {
    CreateContainer: (req) => createContainer(ctx, req),
    StartContainer: (req) => startContainer(ctx, req),
    StopContainer: (req) => stopContainer(ctx, req),
    RemoveContainer: (req) => removeContainer(ctx, req),
    ListContainers: (req) => listContainers(ctx, req),
    ContainerStatus: (req) => containerStatusCall(ctx, req),
    UpdateContainerResources: (req) => updateContainerResources(ctx, req),
    ReopenContainerLog: (req) => reopenContainerLog(ctx, req),
    ExecSync: (req) => execSync(ctx, req),
    ...statsHandlers(ctx),
    ...eventHandlers(ctx),
  };
}
