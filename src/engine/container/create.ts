// docker create: the options checked (everything that can be refused is refused before anything
// exists), the record computed from them and the image, the container made by the store.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ContainerRecord, HostConfig, MountSpec } from '../../core/container.ts';
import { invalid } from '../../core/errors.ts';
import { deviceRules, hostDevices } from '../../kernel/devices.ts';
import { cgroupParentScope } from '../../kernel/cgroup-parent.ts';
import { parseSignal } from '../../kernel/signals.ts';
import { runtimeCommand } from '../../runtime/runtimes.ts';
import { randomHex } from '../../util/random.ts';
import { Undo } from '../../util/undo.ts';
import { hostHosts, hostResolv, hostsFile, parseNetworkMode, resolvFile } from '../networking.ts';
import { checkSysctls, checkSystemPaths, confinement, idMapFor, seccompProgram } from '../security.ts';
import { cacheDir, emit, type Ctx } from './context.ts';
import { checkNamespaceModes, volumesFrom } from '../namespaces.ts';
import { get } from './reconcile.ts';
import { checkLogConfig } from './logfile.ts';
import { checkNetwork, linkName } from './network.ts';
import { normalizeLinks } from '../links.ts';
import { checkCpuLimit } from '../limits.ts';
import type { CreateOptions } from './types.ts';

export async function create(ctx: Ctx, opts: CreateOptions): Promise<ContainerRecord> {
  const image = ctx.images.resolve(opts.image);
  const host: HostConfig = {
    AutoRemove: false, Memory: 0, MemorySwap: 0, NanoCpus: 0, CpuShares: 0, PidsLimit: 0,
    CapAdd: null, CapDrop: null, Privileged: false, ReadonlyRootfs: false, SecurityOpt: null, Mounts: [],
    ...opts.host,
  };
  if (host.VolumesFrom?.length) host.Mounts = volumesFrom(host.VolumesFrom, host.Mounts, (ref) => get(ctx, ref).record.HostConfig.Mounts);
  const targets = new Set<string>();
  for (const m of host.Mounts) {
    if (targets.has(m.Target)) throw invalid(`Duplicate mount point: ${m.Target}`);
    targets.add(m.Target);
  }
  const conf = confinement(host); // bad capabilities or security options fail here, before anything exists
  checkSysctls(host.Sysctls ?? {});
  checkSystemPaths(host);
  checkLogConfig(host.LogConfig);
  cgroupParentScope(host.CgroupParent); // a bad parent fails now
  checkNamespaceModes(host, (ref) => get(ctx, ref).record.Id);
  host.IdMap = idMapFor(host);
  if (host.Runtime === '' || host.Runtime === 'berth') delete host.Runtime;
  if (host.Runtime) {
    runtimeCommand(host.Runtime); // an unknown runtime fails now
    if (host.IdMap) throw invalid(`--userns remap is not supported with --runtime ${host.Runtime}`);
  }
  // A device that is not there, or not a device, fails now; the nodes are read again at start.
  if (host.Devices?.length || host.DeviceCgroupRules?.length) deviceRules(hostDevices(host.Devices ?? []), host.DeviceCgroupRules ?? []);
  checkCpuLimit(host);
  if (host.OomScoreAdj !== undefined && (host.OomScoreAdj < -1000 || host.OomScoreAdj > 1000)) throw invalid(`Invalid value ${host.OomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  if (typeof conf.seccomp === 'object') {
    await seccompProgram(conf, cacheDir(ctx)); // compiles: a bad profile fails now
    // The profile as it is now is the container's (docker keeps the JSON, not the path).
    const profile = conf.seccomp.profile;
    host.SecurityOpt = (host.SecurityOpt ?? []).map((o) => (/^seccomp[=:]/.test(o) ? `seccomp=${profile}` : o));
  }
  const ic = image.config.config ?? {};
  const entrypoint = opts.entrypoint ?? ic.Entrypoint ?? null;
  const cmd = opts.cmd.length ? opts.cmd : opts.entrypoint ? [] : (ic.Cmd ?? []);
  if ((entrypoint ?? []).length + cmd.length === 0) throw invalid('No command specified');
  if (opts.stopSignal !== undefined) parseSignal(opts.stopSignal);
  const id = randomHex(32);
  const endpoints = await checkNetwork(ctx, host, opts);
  const mode = parseNetworkMode(host.NetworkMode);
  const utsOf = host.UTSMode?.startsWith('container:') ? get(ctx, host.UTSMode.slice(10)).record : undefined;
  if (utsOf && opts.hostname !== undefined) throw invalid('conflicting options: hostname and the UTS mode');
  const hostname = opts.hostname ?? utsOf?.Config.Hostname ?? (mode.kind === 'host' || host.UTSMode === 'host' ? os.hostname() : id.slice(0, 12));
  if (opts.hostname !== undefined && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(opts.hostname)) throw invalid(`invalid hostname: "${opts.hostname}"`);
  const record: ContainerRecord = {
    Id: id,
    Name: '',
    Created: ctx.host.now().toISOString(),
    Image: image.id,
    ImageName: opts.image,
    Config: {
      Hostname: hostname,
      User: opts.user ?? ic.User ?? '',
      Env: mergeEnv(ic.Env ?? [], opts.env ?? [], opts.resolveEnv === false ? null : process.env),
      Cmd: cmd,
      Entrypoint: entrypoint,
      WorkingDir: opts.workdir ?? ic.WorkingDir ?? '',
      Labels: { ...(ic.Labels ?? {}), ...opts.labels },
      ...(ic.ExposedPorts || opts.expose?.length ? { ExposedPorts: { ...ic.ExposedPorts, ...Object.fromEntries((opts.expose ?? []).map((k) => [k, {}])) } } : {}),
      StopSignal: opts.stopSignal ?? ic.StopSignal,
      ...(opts.stopTimeout !== undefined ? { StopTimeout: opts.stopTimeout } : {}),
      // Flags refine the image's check: timings alone keep its test.
      Healthcheck: opts.healthcheck ? { ...ic.Healthcheck, ...opts.healthcheck } : ic.Healthcheck,
      Tty: opts.tty === true,
      ...(opts.openStdin ? { OpenStdin: true, StdinOnce: opts.stdinOnce === true } : {}),
    },
    HostConfig: host,
    Layers: image.layers,
    ...(opts.run ? { Owner: ctx.host.self() } : {}),
    ...(endpoints ? { Endpoints: endpoints } : {}),
  };
  const undo = new Undo();
  await undo.guard(() => ctx.store.create(record, opts.name, record.Owner ?? ctx.host.self(), (tmp) => {
    for (const d of ['upper', 'work', 'rootfs']) fs.mkdirSync(path.join(tmp, d), { mode: 0o755 });
    fs.writeFileSync(path.join(tmp, 'hostname'), hostname + '\n');
    fs.writeFileSync(path.join(tmp, 'hosts'), hostsFile({ base: mode.kind === 'host' ? hostHosts() : undefined, extra: host.ExtraHosts }));
    fs.writeFileSync(path.join(tmp, 'resolv.conf'), resolvFile(hostResolv(), { keepLoopback: mode.kind === 'host', dns: host.Dns, search: host.DnsSearch, options: host.DnsOptions }));
    if (host.Links?.length) host.Links = normalizeLinks(host.Links, record.Name, (ref) => linkName(ctx, ref));
    host.Mounts = prepareMounts(ctx, host.Mounts, undo);
  }));
  emit(ctx, 'create', record);
  return record;
}

/** Named volumes are created on first use, anonymous ones get a name; -v creates a missing host directory. */
function prepareMounts(ctx: Ctx, mounts: MountSpec[], undo: Undo): MountSpec[] {
  return mounts.map((m) => {
    if (m.Type === 'volume') {
      const name = ctx.volumes.create(m.Source || undefined, { anonymous: m.Anonymous }).Name;
      if (m.Anonymous) undo.push('volume', () => ctx.volumes.remove(name, () => undefined));
      return { ...m, Source: name };
    }
    if (m.Type === 'bind' && !fs.existsSync(m.Source)) fs.mkdirSync(m.Source, { recursive: true });
    return m;
  });
}

/**
 * Image env, then the user's: later keys win. "KEY" alone takes the value from `lookup` (the
 * CLI's environment: `-e KEY`), and is dropped when it has none there; without a lookup (the
 * API: the client already looked) it stays "KEY", as docker keeps it.
 */
export function mergeEnv(base: string[], extra: string[], lookup: Record<string, string | undefined> | null = process.env): string[] {
  const out = new Map<string, string>();
  for (const e of base) out.set(e.split('=', 1)[0], e);
  for (const e of extra) {
    const eq = e.indexOf('=');
    if (eq === 0) throw invalid(`invalid environment variable: ${e}`);
    if (eq < 0) {
      if (!lookup) out.set(e, e);
      else if (lookup[e] !== undefined) out.set(e, `${e}=${lookup[e]}`);
      continue;
    }
    out.set(e.slice(0, eq), e);
  }
  return [...out.values()];
}
