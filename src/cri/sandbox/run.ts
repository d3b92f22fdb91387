// RunPodSandbox: the pause container created, its pod network's namespace made, then the CNI ADD
// chain and the pause's start in that namespace at once (neither needs the other: the pod's
// containers, the only users of the network, come after the answer); anything failing gives
// back what was acquired, newest first.
import { invalid } from '../../core/errors.ts';
import { Undo } from '../../util/undo.ts';
import type { CriContext, PodSandboxConfig } from '../container/cri-types.ts';
import { isHostNetwork, podMetadata, sandboxOptions } from './options.ts';
import { pauseImage } from './pause.ts';

const HANDLERS = new Set(['', 'berth', 'runc']);

export async function runPodSandbox(ctx: CriContext, req: { config: PodSandboxConfig | null; runtime_handler?: string }): Promise<{ pod_sandbox_id: string }> {
  const config = req.config;
  if (!config) throw invalid('sandbox config must be set');
  const handler = req.runtime_handler ?? '';
  if (!HANDLERS.has(handler)) throw invalid(`no runtime for "${handler}" is configured`);
  const engine = ctx.engine;
  const pause = await pauseImage(engine);
  const undo = new Undo();
  return undo.guard(async () => {
    // Created with no network: its id names the pod network, which it joins before it starts.
    const record = await engine.containers.create(sandboxOptions(config, { image: pause.image, cmd: pause.cmd, runtimeHandler: handler }));
    undo.push('sandbox', () => engine.containers.remove(record.Id, true));
    if (!isHostNetwork(config) && ctx.podNetworks) {
      const m = podMetadata(config);
      const dns = config.dns_config;
      undo.push('network', () => ctx.podNetworks!.tearDown(record.Id));
      await ctx.podNetworks.setUp(record.Id, {
        name: m.name, namespace: m.namespace, uid: m.uid,
        portMappings: (config.port_mappings ?? []).filter((p) => (p.host_port ?? 0) > 0).map((p) => ({
          hostPort: p.host_port!, containerPort: p.container_port ?? 0, protocol: (p.protocol ?? 'TCP').toLowerCase() as 'tcp' | 'udp' | 'sctp',
          ...(p.host_ip ? { hostIP: p.host_ip } : {}),
        })),
        ...(dns ? { dns: { servers: dns.servers ?? [], searches: dns.searches ?? [], options: dns.options ?? [] } } : {}),
      }, {
        alongside: async (netns) => {
          record.HostConfig.NetworkMode = `ns:${netns}`;
          engine.containers.saveRecord(record);
          await engine.containers.start(record);
        },
      });
    } else await engine.containers.start(record);
    return { pod_sandbox_id: record.Id };
  });
}
