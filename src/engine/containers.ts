// The container service: one facade over the verb families in engine/container/ (store, status
// and reconcile, create, start, stop, remove, network, archive, commit, exec, top, health). Its
// methods are what the CLI, the API, build and compose call; each is a line into the module that
// does the work, so a newcomer finds a verb by its file name. The verbs that create, start, exec,
// copy and commit (with the plan, process, namespace and tar code under them: ~30 modules) are
// imported when first called: `ps` and `inspect` start a process each and never need them.
import * as path from 'node:path';
import { isUp, type ContainerRecord, type ContainerState, type EndpointSpec } from '../core/container.ts';
import type { ImageRecord } from '../core/types.ts';
import type { ImageStore } from '../image/store.ts';
import type { CgroupDriver } from '../kernel/cgroups.ts';
import type { SandboxRecord, Sandboxes } from '../network/sandbox.ts';
import type { PortMapping } from '../network/ports.ts';
import type { ShimExit } from '../runtime/shim.ts';
import type { Change } from '../snapshot/diff.ts';
import { readJsonFile } from '../util/atomic.ts';
import type { CommitOptions } from './container/commit.ts';
import { emit, type Ctx } from './container/context.ts';
import { health } from './container/health-status.ts';
import { realHost, type Host } from './container/host.ts';
import { logFileOf, reopenLog } from './container/logfile.ts';
import { cgroupsOf } from './container/cgroup-parent.ts';
import * as net from './container/network.ts';
import { get, newestFirst, reconcileAll, sweepOrphans } from './container/reconcile.ts';
import { prune, remove, rename } from './container/remove.ts';
import { resize } from './container/resize.ts';
import { kill, killAndWait, stop, wait } from './container/stop.ts';
import { pause, unpause } from './container/pause.ts';
import { ContainerStore } from './container/store.ts';
import { stats, top } from './container/top.ts';
import { publishRestartPolicy } from './container/restart-policy.ts';
import type { Container, ContainerStreams, CreateOptions, ExecOptions, NetworkView } from './container/types.ts';
import type { PathStat } from './copy.ts';
import { Events } from './events.ts';
import type { StateRoot } from '../core/root.ts';
import { Volumes } from './volumes.ts';

export type { Container, ContainerStreams, CreateOptions, ExecOptions, NetworkView } from './container/types.ts';

const archive = () => import('./container/archive.ts');

export class Containers {
  readonly volumes: Volumes;
  readonly events: Events;
  /** The verbs' shared context: stores, events, and the machine they act on. */
  readonly ctx: Ctx;
  private _sandboxes?: Promise<Sandboxes>;

  constructor(root: StateRoot, images: ImageStore, cgroups: (parent?: string) => CgroupDriver, events = new Events(root.dir), host?: Host) {
    this.events = events;
    this.volumes = new Volumes(root.dir);
    const h = host ?? realHost(cgroups, () => this.sandboxes());
    this.ctx = { root, images, store: new ContainerStore(root.dir, (ref) => h.isAlive(ref)), volumes: this.volumes, events, host: h };
  }

  /** Networks and sandboxes of this root (loaded on first use: `--network none` never needs the CNI code). */
  sandboxes(): Promise<Sandboxes> {
    return (this._sandboxes ??= (async () => {
      const [{ Sandboxes }, { Networks }] = await Promise.all([import('../network/sandbox.ts'), import('../network/store.ts')]);
      const root = this.ctx.root;
      return new Sandboxes(root, new Networks(root), (id) => path.join(this.ctx.store.cdir(id), 'hosts'));
    })());
  }

  // Records and reading.
  async create(opts: CreateOptions): Promise<ContainerRecord> { return (await import('./container/create.ts')).create(this.ctx, opts); }
  /** A container as it is now; reading changes nothing (reconcile() applies what it implies). */
  get(nameOrId: string): Container { return get(this.ctx, nameOrId); }
  list(all: boolean): Container[] {
    const cs = newestFirst(this.reconcile());
    return all ? cs : cs.filter((c) => isUp(c.state.Status));
  }
  /** Reconciles every container (clean-up and events of dead runs) and sweeps what killed creators left. */
  reconcile(): Container[] { return reconcileAll(this.ctx); }
  /** What `run` and `create` sweep instead of a full reconcile: half-created containers (one listing). */
  sweepCreates(): void { this.ctx.store.sweepCreates(); }
  /** Containers whose monitor died with the CLI (found by their empty cgroups). */
  sweepOrphans(): void { sweepOrphans(this.ctx); }
  /** Frees names whose container is gone; `live` (containers just reconciled) spares reading their names. */
  sweepNames(live: Container[] = []): void { this.ctx.store.sweepNames(new Map(live.map((c) => [c.record.Name, c.record.Id]))); }
  rename(nameOrId: string, newName: string): void { rename(this.ctx, nameOrId, newName); }
  remove(nameOrId: string, force: boolean, volumes = false): Promise<string> { return remove(this.ctx, nameOrId, force, volumes); }
  prune(labels: string[] = [], accept?: (c: Container) => boolean): Promise<string[]> { return prune(this.ctx, labels, accept); }
  event(action: string, record: ContainerRecord, extra: Record<string, string> = {}): void { emit(this.ctx, action, record, extra); }
  /** The file its output goes to: json-file's under its directory, or a CRI log's own path. */
  logPath(id: string): string { return logFileOf(this.ctx, id); }
  /** The cgroup driver that holds the container's cgroup (its CgroupParent's, or the root's scope). */
  cgroupsOf(record: ContainerRecord): CgroupDriver { return cgroupsOf(this.ctx, record); }
  /** Makes a running container's monitor reopen its log file (the CRI's ReopenContainerLog, after the kubelet renamed it). */
  reopenLog(nameOrId: string): Promise<void> { return reopenLog(this.ctx, nameOrId); }

  /** For rmi: which container (in any state) uses an image, and whether it runs. */
  imageUsers(): (imageId: string) => { id: string; running: boolean } | undefined {
    const all = this.reconcile();
    return (imageId) => {
      // A running user decides (its image can never go), whatever order the directory lists them in.
      const users = all.filter((x) => x.record.Image === imageId);
      const c = users.find((x) => isUp(x.state.Status)) ?? users[0];
      return c && { id: c.record.Id, running: isUp(c.state.Status) };
    };
  }

  /** Which container uses a volume (for volume rm). */
  volumeUser(name: string): string | undefined {
    return this.reconcile().find((c) => c.record.HostConfig.Mounts.some((m) => m.Type === 'volume' && m.Source === name))?.record.Name;
  }

  async inspect(nameOrId: string): Promise<object> {
    const { inspectContainer } = await import('./inspect.ts');
    const c = this.get(nameOrId);
    const dir = this.ctx.store.cdir(c.record.Id);
    const layers = [...c.record.Layers].reverse().map((d) => this.ctx.images.layers.dir(d));
    const volumePath = (name: string) => {
      try {
        return this.volumes.get(name).Mountpoint;
      } catch {
        return '';
      }
    };
    const restarts = readJsonFile<{ restarts: number }>(path.join(dir, 'pid.json'))?.restarts ?? 0;
    return inspectContainer(c, { dir, log: this.logPath(c.record.Id), layers, volumePath, restarts, health: this.health(c.record), network: this.networkView(c) });
  }
  health(record: ContainerRecord): { Status: string; FailingStreak: number; Log: object[] } | undefined { return health(this.ctx, record); }

  // Running.
  async start(record: ContainerRecord, opts: { attach?: { stdin: boolean }; size?: { rows: number; cols: number } } = {}): Promise<ShimExit | undefined> { return (await import('./container/start.ts')).start(this.ctx, record, opts); }
  async startStreams(record: ContainerRecord, opts: { stdin: boolean; size?: { rows: number; cols: number } }): Promise<ContainerStreams | undefined> { return (await import('./container/start.ts')).startStreams(this.ctx, record, opts); }
  stop(nameOrId: string, timeoutSec?: number): Promise<string> { return stop(this.ctx, nameOrId, timeoutSec); }
  kill(nameOrId: string, signal = 'KILL'): string { return kill(this.ctx, nameOrId, signal); }
  killAndWait(nameOrId: string, signal = 'KILL'): Promise<string> { return killAndWait(this.ctx, nameOrId, signal); }
  wait(nameOrId: string): Promise<number> { return wait(this.ctx, nameOrId); }
  pause(nameOrId: string): Promise<string> { return pause(this.ctx, nameOrId); }
  unpause(nameOrId: string): Promise<string> { return unpause(this.ctx, nameOrId); }
  async exec(nameOrId: string, x: ExecOptions & { attach?: { stdin: boolean } }): Promise<ShimExit | undefined> { return (await import('./container/exec.ts')).exec(this.ctx, nameOrId, x); }
  async execStreams(nameOrId: string, x: ExecOptions & { stdin: boolean; execId: string }): Promise<ContainerStreams> { return (await import('./container/exec.ts')).execStreams(this.ctx, nameOrId, x); }
  async attach(nameOrId: string, write: (stream: 'stdout' | 'stderr', data: Buffer) => void, signal?: AbortSignal, stdin?: import('node:stream').Readable | null): Promise<number> { return (await import('./container/exec.ts')).attach(this.ctx, nameOrId, write, signal, stdin); }
  /** Where an API client's terminal size goes before the monitor is sent SIGWINCH. */
  winsizeFile(id: string, execId?: string): string { return this.ctx.store.winsizeFile(id, execId); }
  resize(monitorPid: number, file: string, rows: number, cols: number): void { resize(this.ctx, monitorPid, file, rows, cols); }
  top(nameOrId: string): { Titles: string[]; Processes: string[][] } { return top(this.ctx, nameOrId); }
  stats(nameOrId: string): ReturnType<typeof stats> { return stats(this.ctx, nameOrId); }

  // The filesystem.
  // Loaded on first use (tar, diff and commit code): listing and inspecting never need it.
  async diff(nameOrId: string): Promise<Change[]> { return (await archive()).diff(this.ctx, nameOrId); }
  async copy(nameOrId: string, op: { out: string; to: string } | { in: string; to: string }): Promise<void> { return (await archive()).copy(this.ctx, nameOrId, op); }
  async pathStat(nameOrId: string, ctrPath: string): Promise<PathStat> { return (await archive()).pathStat(this.ctx, nameOrId, ctrPath); }
  async archiveOut(nameOrId: string, ctrPath: string): Promise<{ stat: PathStat; tar: AsyncGenerator<Buffer> }> { return (await archive()).archiveOut(this.ctx, nameOrId, ctrPath); }
  async archiveIn(nameOrId: string, ctrPath: string, tar: AsyncIterable<Buffer>): Promise<void> { return (await archive()).archiveIn(this.ctx, nameOrId, ctrPath, tar); }
  async *export(nameOrId: string): AsyncGenerator<Buffer> { yield* (await archive()).exportFs(this.ctx, nameOrId); }
  async commit(nameOrId: string, opts: CommitOptions): Promise<ImageRecord> { return (await import('./container/commit.ts')).commit(this.ctx, nameOrId, opts); }

  // The network.
  peerNames(record: ContainerRecord): string[] { return net.peerNames(record); }
  /** Writes a changed record (network connect, docker update). */
  saveRecord(record: ContainerRecord): void { this.ctx.store.saveRecord(record); }
  /** docker update --restart: a running container's monitor follows it from its next exit. */
  publishRestartPolicy(record: ContainerRecord, state: ContainerState): void { publishRestartPolicy(this.ctx, record, state); }
  /** network connect/disconnect: the networks joined at the next start. */
  setEndpoints(record: ContainerRecord, endpoints: Record<string, EndpointSpec>): void {
    record.Endpoints = endpoints;
    this.ctx.store.saveRecord(record);
  }
  writeNetworkView(record: ContainerRecord, sb: SandboxRecord, sandboxes: Sandboxes): void { net.writeNetworkView(this.ctx, record, sb, sandboxes); }
  networkView(c: Container): NetworkView | undefined { return net.networkView(this.ctx, c); }
  /** docker port: the published ports of a running container. */
  ports(nameOrId: string): PortMapping[] { return this.networkView(this.get(nameOrId))?.Ports ?? []; }
}
