// Wires the stores together for one state root. Parts are built on first use, so a command
// pays only for what it touches (the CLI starts a process per command).
import * as path from 'node:path';
import { ContentStore } from '../content/store.ts';
import { ImageStore } from '../image/store.ts';
import { detectCgroups, type CgroupDriver } from '../kernel/cgroups.ts';
import { cgroupParentScope } from '../kernel/cgroup-parent.ts';
import { shimLayerMounts } from '../runtime/shim.ts';
import { LAYER_MOUNTS, LayerStore, type LayerBuilder } from '../snapshot/layers.ts';
import { Containers } from './containers.ts';
import type { Container } from './container/types.ts';
import type { PullOptions, PullResult } from './pull.ts';
import type { PushEvent, PushResult } from './push.ts';
import { openRoot, type StateRoot } from '../core/root.ts';
import { Events } from './events.ts';
import type { Credentials } from '../registry/credentials.ts';

export class Engine {
  readonly root: StateRoot;
  private _events?: Events;
  private _images?: ImageStore;
  private _containers?: Containers;
  private _cgroups?: CgroupDriver;
  private readonly _parented = new Map<string, CgroupDriver>();

  constructor(rootDir: string) {
    this.root = openRoot(rootDir);
  }

  get images(): ImageStore {
    if (!this._images) {
      const content = new ContentStore(path.join(this.root.dir, 'content'));
      // Loaded when a layer is unpacked: only unpacking needs the tar code.
      const build: LayerBuilder = async (tar, fd) => (await import('../image/layer-image.ts')).buildLayerImage(tar, fd);
      const layers = new LayerStore(path.join(this.root.dir, 'layers'), shimLayerMounts, path.join(LAYER_MOUNTS, this.root.key), build);
      // Image events go to the root's journal, with dockerd's actors and attributes.
      this._images = new ImageStore(this.root.dir, content, layers, (action, actor, name, labels) => this.events.emit('image', action, actor, { ...labels, name }));
    }
    return this._images;
  }

  /** The root's event journal: what every process working on it did. */
  get events(): Events {
    return (this._events ??= new Events(this.root.dir));
  }

  get cgroups(): CgroupDriver {
    // BERTH_CGROUP_ROOT names a cgroup2 mount to use instead of what /sys/fs/cgroup holds (the
    // tests use it to run the v2 driver on a hybrid host's "unified" mount).
    return (this._cgroups ??= detectCgroups(`berth/${this.root.key}`, { root: process.env.BERTH_CGROUP_ROOT || undefined }));
  }

  /** The driver for containers under a CgroupParent (a scope that is not berth's: never removed); the root's own without one. */
  cgroupsFor(parent?: string): CgroupDriver {
    const scope = cgroupParentScope(parent);
    if (!scope) return this.cgroups;
    let d = this._parented.get(scope);
    if (!d) this._parented.set(scope, (d = detectCgroups(scope, { root: process.env.BERTH_CGROUP_ROOT || undefined, keepScope: true })));
    return d;
  }

  // Registry code (HTTP, TLS, zlib) loads only for the commands that talk to a registry.
  private async registries() {
    const [pull, creds] = await Promise.all([import('./pull.ts'), import('../registry/credentials.ts')]);
    return { pull, credentials: new creds.CredentialStore(this.root.dir) };
  }

  /** Pulls an image from its registry; progress arrives through `opts.onEvent`. */
  async pull(name: string, opts: PullOptions = {}): Promise<PullResult> {
    const r = await this.registries();
    const result = await new r.pull.Puller(this.images, r.credentials).pull(name, opts);
    const { familiarReference, familiarRepository } = await import('../image/reference.ts');
    this.images.event('pull', familiarReference(result.ref), familiarRepository(result.ref));
    return result;
  }

  /** What a registry holds under a reference (descriptor and platforms), nothing pulled. */
  async distribution(name: string, credentials?: Credentials) {
    const r = await this.registries();
    return new r.pull.Puller(this.images, r.credentials).inspect(name, credentials);
  }

  /** Pushes a tagged image to its registry; progress arrives through `opts.onEvent`. */
  async push(name: string, opts: { onEvent?: (e: PushEvent) => void; credentials?: Credentials } = {}): Promise<PushResult> {
    const [r, push] = await Promise.all([this.registries(), import('./push.ts')]);
    const result = await new push.Pusher(this.images, r.credentials).push(name, opts);
    const { familiarReference, familiarRepository } = await import('../image/reference.ts');
    this.images.event('push', familiarReference(result.ref), familiarRepository(result.ref));
    return result;
  }

  /** Verifies credentials against a registry, then keeps them (<root>/auth.json); returns the registry's key. */
  async login(registry: string, cred: Credentials): Promise<string> {
    const r = await this.registries();
    return r.pull.login(r.credentials, registry, cred);
  }

  async logout(registry: string): Promise<{ host: string; removed: boolean }> {
    const r = await this.registries();
    return r.pull.logout(r.credentials, registry);
  }

  /** Images as one tar (docker-archive and OCI layout in one); `names` are tags or ids. */
  async *save(names: string[]): AsyncGenerator<Buffer> {
    const { saveImages } = await import('../image/archive.ts');
    yield* saveImages(this.images, names);
    for (const n of names) this.images.event('save', this.images.resolve(n).id, this.images.resolve(n).id);
  }

  /** Loads a docker-archive or OCI-layout tar (plain, gzip or zstd); nothing stays of a bad one. */
  async load(source: AsyncIterable<Buffer>): Promise<Array<{ id: string; names: string[] }>> {
    const { loadImages } = await import('../image/archive.ts');
    return loadImages(this.images, source);
  }

  /** image prune: untagged (all: every) image no container uses, then what no image needs. */
  pruneImages(all: boolean): { lines: string[]; reclaimed: number } {
    const containers = this.containers.list(true);
    return this.images.prune({ all, used: new Set(containers.map((c) => c.record.Image)), keepLayers: new Set(containers.flatMap((c) => c.record.Layers)) });
  }

  /** system df: images (shared vs unique bytes), containers, volumes. */
  async diskUsage() {
    const { diskUsage } = await import('./df.ts');
    const cs = this.containers;
    return diskUsage(this.images, cs.list(true), cs.volumes.list(), path.join(this.root.dir, 'containers'));
  }

  /** SizeRw and SizeRootFs of containers (list and inspect with `size`, ps -s). */
  async containerSizes(cs: Container[]): Promise<Map<string, { rw: number; rootFs: number }>> {
    const { containerSize } = await import('./df.ts');
    const dir = path.join(this.root.dir, 'containers');
    return new Map(cs.map((c) => [c.record.Id, containerSize(this.images, c, dir)]));
  }

  /** docker's network commands (create, ls, inspect, rm, prune, connect, disconnect). */
  async networks(): Promise<import('./network-admin.ts').NetworkAdmin> {
    const { NetworkAdmin } = await import('./network-admin.ts');
    return NetworkAdmin.open(this.containers);
  }

  get containers(): Containers {
    return (this._containers ??= new Containers(this.root, this.images, (parent) => this.cgroupsFor(parent), this.events));
  }
}
