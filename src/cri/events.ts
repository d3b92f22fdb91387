// GetContainerEvents: the stream the kubelet's evented PLEG follows, fed by the engine's event
// journal (so what another process did to a pod's containers shows too). A container that exits
// under its monitor becomes a `die` event when someone looks: while a client follows, the
// containers are reconciled every second, as the Docker API's /events does.
import type * as grpc from '@grpc/grpc-js';
import type { EngineEvent } from '../engine/events.ts';
import type { Container } from '../engine/container/types.ts';
import type { Handlers } from './context.ts';
import type { CriContext } from './container/cri-types.ts';
import { containerStatus } from './container/status.ts';
import { allOfKind, podContainers } from './sandbox/lookup.ts';
import { KIND, SANDBOX } from './sandbox/meta.ts';
import { sandboxStatus } from './sandbox/status.ts';

const TYPES: Record<string, string> = {
  create: 'CONTAINER_CREATED_EVENT',
  start: 'CONTAINER_STARTED_EVENT',
  die: 'CONTAINER_STOPPED_EVENT',
  destroy: 'CONTAINER_DELETED_EVENT',
};

/** The CRI event type of an engine event about a pod's container or sandbox, if it is one. */
export function eventType(e: EngineEvent): string | undefined {
  if (e.Type !== 'container') return undefined;
  const kind = e.Actor.Attributes[KIND];
  if (kind !== 'container' && kind !== 'sandbox') return undefined;
  return TYPES[e.Action];
}

export function handlers(ctx: CriContext): Handlers {
  const engine = ctx.engine;
  return {
    GetContainerEvents: (_req, c) => {
      const call = c as grpc.ServerWritableStream<object, object> | undefined;
      if (!call) return;
      const send = (e: EngineEvent) => {
        const type = eventType(e);
        if (!type) return;
        const sandboxId = e.Actor.Attributes[KIND] === 'sandbox' ? e.Actor.ID : e.Actor.Attributes[SANDBOX];
        let sb: Container | undefined;
        let all: Container[] = [];
        try {
          all = allOfKind(engine, 'container');
          sb = allOfKind(engine, 'sandbox').find((c) => c.record.Id === sandboxId);
        } catch {}
        call.write({
          container_id: e.Actor.ID,
          container_event_type: type,
          created_at: String(e.timeNano),
          pod_sandbox_status: sb ? sandboxStatus(sb, ctx.podNetworks?.get(sb.record.Id)) : null,
          containers_statuses: sb ? podContainers(engine, sb.record.Id, all).map(containerStatus) : [],
        });
      };
      const unsubscribe = engine.events.subscribe(send);
      const look = setInterval(() => {
        try {
          engine.containers.reconcile();
        } catch {}
      }, 1000);
      let stopped = false;
      const stop = () => {
        if (stopped) return;
        stopped = true;
        unsubscribe();
        clearInterval(look);
      };
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
    },
  };
}
