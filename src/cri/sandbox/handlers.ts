// The pod sandbox calls of the CRI's RuntimeService (src/cri/server.ts merges them).
import type { PodsContext } from '../container/cri-types.ts';
import { listPodSandbox, podSandboxStatus } from './read.ts';
import { runPodSandbox } from './run.ts';
import { removePodSandbox, stopPodSandbox } from './stop.ts';

export function handlers(ctx: PodsContext): Record<string, (req: any) => Promise<object> | object> {
  return {
    RunPodSandbox: (req) => runPodSandbox(ctx, req),
    StopPodSandbox: (req) => stopPodSandbox(ctx, req),
    RemovePodSandbox: (req) => removePodSandbox(ctx, req),
    PodSandboxStatus: (req) => podSandboxStatus(ctx, req),
    ListPodSandbox: (req) => listPodSandbox(ctx, req),
  };
}
