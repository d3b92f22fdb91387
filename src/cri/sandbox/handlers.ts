// The pod sandbox calls of the CRI's RuntimeService (src/cri/server.ts merges them).
import { PodNetworks } from '../../network/pod-network.ts';
import type { Handlers } from '../context.ts';
import type { CriContext } from '../container/cri-types.ts';
import { listPodSandbox, podSandboxStatus } from './read.ts';
import { stopCutShort } from './recover.ts';
import { runPodSandbox } from './run.ts';
import { removePodSandbox, stopPodSandbox } from './stop.ts';

export function handlers(ctx: CriContext): Handlers {
  // The pod network lives with the sandboxes; the runtime's Status reads it from the context too.
  ctx.podNetworks ??= new PodNetworks(ctx.engine.root, { confDir: ctx.config.cniConfDir, binDirs: ctx.config.cniBinDirs });
  stopCutShort(ctx);
  return {
    RunPodSandbox: (req) => runPodSandbox(ctx, req),
    StopPodSandbox: (req) => stopPodSandbox(ctx, req),
    RemovePodSandbox: (req) => removePodSandbox(ctx, req),
    PodSandboxStatus: (req) => podSandboxStatus(ctx, req),
    ListPodSandbox: (req) => listPodSandbox(ctx, req),
  };
}
