// Container routes beyond the lifecycle: update (resources and restart policy), the removal of a
// legacy link, and the registry's view of an image (distribution inspect).
import { invalid, notFound } from '../core/errors.ts';
import type { HostConfig } from '../core/container.ts';
import type { Engine } from '../engine/engine.ts';
import { parseLink } from '../engine/links.ts';
import { updateContainer, type ResourceUpdate } from '../engine/update.ts';
import { flag, readJson, type Router } from './http.ts';
import { asDockerd, registryAuth } from './images.ts';

export function containerAdminRoutes(r: Router, engine: Engine): void {
  r.on('POST', '/containers/{id}/update', async (call) => {
    const body = await readJson(call.req);
    const n = (k: string): number | undefined => {
      const v = body[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${k} must be a number`);
      return v;
    };
    const s = (k: string): string | undefined => (typeof body[k] === 'string' && body[k] !== '' ? (body[k] as string) : undefined);
    const rp = body.RestartPolicy as { Name?: string; MaximumRetryCount?: number } | null | undefined;
    if (rp?.Name && !['no', 'always', 'on-failure', 'unless-stopped'].includes(rp.Name)) throw invalid(`invalid restart policy '${rp.Name}'`);
    const u: ResourceUpdate = {
      Memory: n('Memory'), MemorySwap: n('MemorySwap'), NanoCpus: n('NanoCpus'), CpuShares: n('CpuShares'), CpuQuota: n('CpuQuota'),
      CpuPeriod: n('CpuPeriod'), PidsLimit: n('PidsLimit'), CpusetCpus: s('CpusetCpus'), CpusetMems: s('CpusetMems'),
      BlkioWeight: n('BlkioWeight'), MemoryReservation: n('MemoryReservation'), CpuRealtimeRuntime: n('CpuRealtimeRuntime'), CpuRealtimePeriod: n('CpuRealtimePeriod'),
      RestartPolicy: rp?.Name ? { Name: rp.Name as NonNullable<HostConfig['RestartPolicy']>['Name'], MaximumRetryCount: rp.MaximumRetryCount ?? 0 } : undefined,
    };
    updateContainer(engine.containers, call.params.id, u);
    return { status: 200, body: { Warnings: [] } };
  });

  // `DELETE /containers/PARENT/ALIAS?link=1` removes a legacy link (docker rm --link). Without
  // the flag it names a container "PARENT/ALIAS", which no container is (docker's answer too).
  r.on('DELETE', '/containers/{parent}/{alias}', async (call) => {
    const missing = notFound(`No such container: ${call.params.parent}/${call.params.alias}`);
    if (!flag(call.query, 'link')) throw missing;
    const parent = engine.containers.get(call.params.parent);
    const links = parent.record.HostConfig.Links ?? [];
    const kept = links.filter((l) => parseLink(l).alias !== call.params.alias);
    if (kept.length === links.length) throw missing;
    parent.record.HostConfig.Links = kept.length ? kept : null;
    engine.containers.saveRecord(parent.record);
    return { status: 204 };
  });

  r.on('GET', '/distribution/{name*}/json', async (call) => ({
    status: 200,
    body: await engine.distribution(call.params.name, registryAuth(call.req.headers['x-registry-auth'])).catch((err) => {
      throw asDockerd(err);
    }),
  }));
}
