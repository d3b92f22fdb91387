import { invalid, isCode } from '../../core/errors.ts';
import type { HostConfig } from '../../core/container.ts';
import type { CreateOptions } from '../../engine/containers.ts';
import { parseUlimit } from '../../engine/security.ts';
import { parseDeviceFlag } from '../../kernel/devices.ts';
import { parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from '../../engine/volumes.ts';
import { labels, parseArgs } from '../args.ts';
import { CREATE_FLAGS } from '../flags.ts';
import { resourceFlags } from '../resources.ts';
import { parsePublish, type PortBindings } from '../../network/ports.ts';
import { mark } from '../../util/trace.ts';
import { terminalSize, withTerminal } from '../terminal.ts';
import type { Context } from '../context.ts';
import { parseBytes, parseCpus, parseDuration, parseMemory } from '../../core/units.ts';

const USAGE = `Usage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]

Create and run a new container from an image

Options:
  -d, --detach             Run container in background and print container ID
      --rm                 Automatically remove the container when it exits
  -i, --interactive        Keep STDIN open
  -t, --tty                Allocate a pseudo-TTY (detach with Ctrl-P Ctrl-Q)
  -e, --env list           Set environment variables
  -w, --workdir string     Working directory inside the container
  -u, --user string        Username or UID (format: <name|uid>[:<group|gid>])
  -h, --hostname string    Container host name
      --name string        Assign a name to the container
      --entrypoint string  Overwrite the default ENTRYPOINT of the image
  -m, --memory bytes       Memory limit
      --memory-swap bytes  Memory plus swap limit (-1: unlimited swap)
      --cpus decimal       Number of CPUs
  -c, --cpu-shares int     CPU shares (relative weight)
      --pids-limit int     Tune container pids limit (-1 for unlimited)
      --network string     Connect a container to a network: bridge (default), none, host,
                           container:NAME|ID, or a network's name
  -p, --publish list       Publish a container's port(s) to the host ([ip:][hostPort:]port[/proto])
  -P, --publish-all        Publish all exposed ports to random ports
      --expose list        Expose a port or a range of ports
      --dns list           Set custom DNS servers
      --dns-search list    Set custom DNS search domains
      --dns-option list    Set DNS options
      --add-host list      Add a custom host-to-IP mapping (host:ip)
      --ip string          IPv4 address (user networks only)
      --mac-address string Container MAC address (e.g., 92:d0:c6:0a:29:33)
      --network-alias list Add network-scoped alias for the container
      --stop-signal string Signal to stop the container (default SIGTERM)
      --pull string        Pull image before running ("always", "missing", "never") (default "missing")
      --platform string    Set platform if server is multi-platform capable
      --cap-add list       Add Linux capabilities (or ALL)
      --cap-drop list      Drop Linux capabilities (or ALL)
      --security-opt list  seccomp=FILE|unconfined, no-new-privileges[=true]
      --privileged         All capabilities, no seccomp, no masked paths
      --read-only          Mount the container's root filesystem as read only
  -v, --volume list        Bind mount a volume (/host:/ctr[:ro], name:/ctr, /ctr)
      --mount mount        type=bind|volume|tmpfs,source=..,target=..[,readonly]
      --tmpfs list         Mount a tmpfs directory (/run[:size=64m,mode=1777])
  -l, --label list         Set meta data on a container (key=value)
      --restart string     Restart policy: no, always, unless-stopped, on-failure[:max-retries]
      --log-driver string  json-file (default), or cri: the CRI's log format in the file --log-opt path=FILE names
      --log-opt list       json-file options: max-size=10m, max-file=3
      --health-cmd string  Command to run to check health (and --health-interval/-timeout/-retries/-start-period)
      --no-healthcheck     Disable any container-specified HEALTHCHECK
      --ulimit list        Ulimit options (nofile=1024:2048)
      --oom-score-adj int  Tune host's OOM preferences (-1000 to 1000)
      --blkio-weight int   Block IO weight (10-1000); --blkio-weight-device PATH:WEIGHT per device
      --device-read-bps list   Limit read rate from a device (/dev/sdb:10mb); --device-write-bps likewise
      --device-read-iops list  Limit read operations per second (/dev/sdb:100); --device-write-iops likewise
      --cpuset-cpus string CPUs in which to allow execution (0-3, 0,1); --cpuset-mems: memory nodes
      --cpu-period int     CFS period (µs), with --cpu-quota int: CFS quota (µs per period)
      --cpu-rt-runtime int Realtime runtime (µs per --cpu-rt-period)
      --memory-reservation bytes  Memory soft limit
      --memory-swappiness int     Swappiness 0-100 (-1: the kernel's default)
      --oom-kill-disable   Disable the OOM killer
      --shm-size bytes     Size of /dev/shm (default 64m)
      --proc-views         /proc/meminfo, cpuinfo, stat, uptime... show the container's limits (default
                           true, through lxcfs; --proc-views=false: the host's, as docker shows them)
      --sysctl list        Namespaced kernel parameters (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)
      --group-add list     Additional groups to join
      --pid string         PID namespace: host, or container:NAME|ID (default: its own)
      --ipc string         IPC namespace: private, shareable, host, none, or container:NAME|ID
      --uts string         UTS namespace: host, or container:NAME|ID (default: its own)
      --cgroup-parent string  Parent cgroup: a path (/kubepods/pod1) or a systemd slice (a-b.slice)
      --device list        Add a host device (HOST[:CONTAINER][:rwm]; a directory adds the devices below it)
      --device-cgroup-rule list  Add a rule to the container's allowed devices ("c 42:* rmw")
      --userns string      User namespace: "remap" (container root is an unprivileged host id) or "host"
                           (default: remap when BERTH_USERNS_REMAP is set, e.g. to "default" or 100000:65536)
`;

function int(flag: string, v: string): number {
  if (!/^-?\d+$/.test(v)) throw invalid(`invalid argument "${v}" for "--${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** docker's --restart: no | always | unless-stopped | on-failure[:N]; not with --rm. */
export function restartPolicy(value: string | undefined, rm: boolean): HostConfig['RestartPolicy'] {
  if (value === undefined || value === 'no') return { Name: 'no', MaximumRetryCount: 0 };
  if (rm) throw invalid('Conflicting options: --restart and --rm');
  const m = /^(always|unless-stopped|on-failure)(?::(\d+))?$/.exec(value);
  if (!m || (m[2] !== undefined && m[1] !== 'on-failure')) throw invalid(`invalid restart policy format: "${value}"`);
  return { Name: m[1] as 'always' | 'unless-stopped' | 'on-failure', MaximumRetryCount: Number(m[2] ?? 0) };
}

/** --log-driver json-file and its --log-opt max-size / max-file; cri with --log-opt path=FILE (the CRI's format). */
function logConfig(driver: string | undefined, opts: string[]): HostConfig['LogConfig'] {
  if (driver === 'cri') return { Type: 'cri', Config: Object.fromEntries(opts.map((o) => [o.split('=', 1)[0], o.slice(o.indexOf('=') + 1)])) };
  if (driver !== undefined && driver !== 'json-file') throw invalid(`logging driver "${driver}" is not available: only "json-file" and "cri"`);
  const config: Record<string, string> = {};
  for (const o of opts) {
    const eq = o.indexOf('=');
    const [k, v] = eq < 0 ? [o, ''] : [o.slice(0, eq), o.slice(eq + 1)];
    if (k === 'max-size') parseBytes(v);
    else if (k === 'max-file') {
      if (!/^[1-9]\d*$/.test(v)) throw invalid(`invalid value for max-file: ${v}`);
    } else throw invalid(`unknown log opt '${k}' for json-file log driver`);
    config[k] = v;
  }
  if (config['max-file'] && !config['max-size']) throw invalid('max-file cannot be set without max-size');
  return { Type: 'json-file', Config: config };
}

/** --health-* flags over the image's HEALTHCHECK; --no-healthcheck turns it off. */
function healthcheck(flags: Map<string, string | boolean | string[]>): CreateOptions['healthcheck'] {
  const str = (k: string) => flags.get(k) as string | undefined;
  if (flags.get('no-healthcheck')) {
    if (str('health-cmd')) throw invalid('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  const cmd = str('health-cmd');
  const timing = ['health-interval', 'health-timeout', 'health-retries', 'health-start-period'].some((k) => str(k) !== undefined);
  if (!cmd && !timing) return undefined;
  const retries = str('health-retries');
  if (retries !== undefined && !/^\d+$/.test(retries)) throw invalid(`invalid argument "${retries}" for "--health-retries" flag`);
  return {
    ...(cmd ? { Test: ['CMD-SHELL', cmd] } : {}),
    ...(str('health-interval') ? { Interval: parseDuration(str('health-interval')!) } : {}),
    ...(str('health-timeout') ? { Timeout: parseDuration(str('health-timeout')!) } : {}),
    ...(retries ? { Retries: Number(retries) } : {}),
    ...(str('health-start-period') ? { StartPeriod: parseDuration(str('health-start-period')!) } : {}),
  };
}

/** Flags shared by `run` and `create`, turned into the engine's create options. */
export function createOptions(flags: Map<string, string | boolean | string[]>, positionals: string[], verb: string): CreateOptions {
  const str = (k: string) => flags.get(k) as string | undefined;
  const list = (k: string) => (flags.get(k) as string[] | undefined) ?? [];
  const bindings: PortBindings = {};
  for (const p of list('publish')) parsePublish(p, bindings);
  const exposed = list('expose').map((e) => parsePublish(e, {}));
  for (const e of exposed) for (const k of Object.keys(e)) bindings[k] ??= [];
  if (!positionals.length) throw invalid(`"berth ${verb}" requires at least 1 argument.\nUsage:  berth ${verb} [OPTIONS] IMAGE [COMMAND] [ARG...]`);
  const [image, ...cmd] = positionals;
  const memory = str('memory') !== undefined ? parseMemory(str('memory')!) : 0;
  const swapFlag = str('memory-swap');
  const memorySwap = swapFlag === undefined ? 0 : swapFlag === '-1' ? -1 : parseBytes(swapFlag);
  if (memorySwap > 0 && memory === 0) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage.');
  if (memorySwap > 0 && memorySwap < memory) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage.');
  const pids = str('pids-limit') !== undefined ? int('pids-limit', str('pids-limit')!) : 0;
  const shares = str('cpu-shares') !== undefined ? int('cpu-shares', str('cpu-shares')!) : 0;
  if (shares < 0) throw invalid('invalid CPU shares: must be a positive number');
  const entrypoint = str('entrypoint');
  return {
    image,
    cmd,
    entrypoint: entrypoint === undefined ? undefined : entrypoint === '' ? [] : [entrypoint],
    env: (flags.get('env') as string[] | undefined) ?? [],
    workdir: str('workdir'),
    user: str('user'),
    hostname: str('hostname'),
    name: str('name'),
    stopSignal: str('stop-signal'),
    tty: flags.get('tty') === true,
    healthcheck: healthcheck(flags),
    run: verb === 'run',
    expose: Object.keys(bindings),
    endpoint: { Aliases: list('network-alias'), IPv4Address: str('ip'), IPv6Address: str('ip6'), MacAddress: str('mac-address') },
    labels: labels(flags.get('label') as string[] | undefined),
    host: {
      AutoRemove: flags.get('rm') === true,
      Memory: memory,
      MemorySwap: memorySwap,
      NanoCpus: str('cpus') !== undefined ? parseCpus(str('cpus')!) * 1e4 : 0,
      CpuShares: shares,
      PidsLimit: pids,
      CapAdd: (flags.get('cap-add') as string[] | undefined) ?? null,
      CapDrop: (flags.get('cap-drop') as string[] | undefined) ?? null,
      Privileged: flags.get('privileged') === true,
      Runtime: str('runtime'),
      ReadonlyRootfs: flags.get('read-only') === true,
      // docker's CLI turns systempaths=unconfined into empty MaskedPaths and ReadonlyPaths.
      SecurityOpt: list('security-opt').length ? list('security-opt').filter((o) => o !== 'systempaths=unconfined') : null,
      ...(list('security-opt').includes('systempaths=unconfined') ? { MaskedPaths: [], ReadonlyPaths: [] } : {}),
      RestartPolicy: restartPolicy(str('restart'), flags.get('rm') === true),
      Ulimits: ((flags.get('ulimit') as string[] | undefined) ?? []).map(parseUlimit),
      OomScoreAdj: str('oom-score-adj') !== undefined ? int('oom-score-adj', str('oom-score-adj')!) : undefined,
      ...(flags.get('proc-views') === false ? { ProcViews: false } : {}),
      ...resourceFlags(flags, (m) => process.stderr.write(`WARNING: ${m}\n`)),
      Sysctls: Object.fromEntries(((flags.get('sysctl') as string[] | undefined) ?? []).map((kv) => {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw invalid(`invalid argument "${kv}" for "--sysctl" flag: expected key=value`);
        return [kv.slice(0, eq), kv.slice(eq + 1)];
      })),
      GroupAdd: (flags.get('group-add') as string[] | undefined) ?? [],
      ...(str('pid') !== undefined ? { PidMode: str('pid') } : {}),
      ...(str('ipc') !== undefined ? { IpcMode: str('ipc') } : {}),
      ...(str('uts') !== undefined ? { UTSMode: str('uts') } : {}),
      ...(str('cgroup-parent') ? { CgroupParent: str('cgroup-parent') } : {}),
      Devices: list('device').map(parseDeviceFlag),
      UsernsMode: str('userns') ?? '',
      DeviceCgroupRules: list('device-cgroup-rule'),
      NetworkMode: str('network') ?? str('net') ?? 'bridge',
      PortBindings: Object.fromEntries(Object.entries(bindings).filter(([, v]) => v.length)),
      PublishAllPorts: flags.get('publish-all') === true,
      Dns: list('dns'),
      DnsSearch: list('dns-search'),
      DnsOptions: list('dns-option'),
      ExtraHosts: list('add-host'),
      LogConfig: logConfig(str('log-driver'), (flags.get('log-opt') as string[] | undefined) ?? []),
      Mounts: [
        ...((flags.get('volume') as string[] | undefined) ?? []).map(parseVolumeFlag),
        ...((flags.get('mount') as string[] | undefined) ?? []).map(parseMountFlag),
        ...((flags.get('tmpfs') as string[] | undefined) ?? []).map(parseTmpfsFlag),
      ],
    },
  };
}

/** docker's --pull: "missing" (the default) pulls an image that is not here, "always" pulls anyway. */
async function pullPolicy(ctx: Context, image: string, flags: Map<string, string | boolean | string[]>): Promise<void> {
  const policy = (flags.get('pull') as string | undefined) ?? 'missing';
  if (policy !== 'missing' && policy !== 'always' && policy !== 'never') throw invalid(`invalid pull option: '${policy}': must be one of "always", "missing" or "never"`);
  if (policy === 'never') return;
  const platform = flags.get('platform') as string | undefined;
  if (policy === 'missing') {
    try {
      ctx.engine().images.resolve(image);
      return; // the common case stays off the registry code entirely
    } catch (err) {
      if (!isCode(err, 'NotFound')) throw err;
    }
  }
  const { pullMissing, pullImage } = await import('./pull.ts');
  if (policy === 'missing') await pullMissing(ctx, image, platform);
  else await pullImage(ctx.engine(), image, { platform, write: ctx.err, tty: process.stderr.isTTY === true, canonical: false });
}

export async function run(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, CREATE_FLAGS, { stopAtPositional: true });
  if (flags.get('help')) {
    ctx.out(USAGE);
    return 0;
  }
  const opts = createOptions(flags, positionals, 'run');
  const detach = flags.get('detach') === true;
  const containers = ctx.engine().containers;
  containers.sweepCreates();
  containers.sweepOrphans();
  mark('swept');
  await pullPolicy(ctx, opts.image, flags);
  const record = await containers.create(opts);
  try {
    if (detach) {
      await containers.start(record);
      ctx.out(record.Id + '\n');
      return 0;
    }
    const stdin = flags.get('interactive') === true;
    const exit = await withTerminal(opts.tty === true, stdin, () => containers.start(record, { attach: { stdin }, size: opts.tty ? terminalSize() : undefined }));
    return exit?.exit ?? 0;
  } catch (err) {
    // The container never ran: an --rm one must not outlive the failure.
    if (record.HostConfig.AutoRemove) {
      try {
        await containers.remove(record.Id, true);
      } catch {}
    }
    throw err;
  }
}
