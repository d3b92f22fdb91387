// The pool of prepared network sandboxes (sandbox.ts makes and releases them). Namespace creation and CNI ADD are most of a bridge start's network time, so a few
// sandboxes on the default network are prepared ahead (BERTH_NETNS_POOL, default 2; 0 turns it
// off) and a plain start (default network, no published ports, no fixed address) takes one. The
// releaser of such a container's sandbox tops the pool up after its DEL, in the same detached
// process, so the preparing happens after the user has the answer and costs no extra process.
// A pooled record says so (pooled: when it was made); it is taken under its lock, and a reconcile
// releases one that has waited POOL_TTL_MS. A preparer killed half-way leaves a record with a dead
// owner and no pooled mark: reconcile releases it like any other.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlive, refOf, selfRef, type ProcessRef } from '../kernel/process.ts';
import { readJsonFile, writeFileAtomic } from '../util/atomic.ts';
import { DEFAULT_PATH } from '../util/paths.ts';
import type { StateRoot } from '../core/root.ts';
import type { PortBindings } from './ports.ts';
import { takeable, type Endpoint, type SandboxRecord } from './sandbox-types.ts';
import { DEFAULT_NETWORK, type NetworkRecord, type Networks } from './store.ts';
import { expireArgv, inUse, POOL_TTL_MS, poolSize } from './sweep.ts';

/** What the pool needs of the sandboxes (sandbox.ts's Sandboxes). */
export interface PoolHost {
  readonly root: StateRoot;
  /** Where the records, their locks, the pool's index and its timer are. */
  readonly dir: string;
  readonly networks: Networks;
  get(id: string): SandboxRecord | undefined;
  save(sb: SandboxRecord): void;
  list(): SandboxRecord[];
  /** Takes a sandbox's (or the pool's) lock; false while another live process has it. */
  lock(id: string): boolean;
  unlock(id: string): void;
  make(container: string, endpoints: Endpoint[], bindings: PortBindings): Promise<SandboxRecord>;
  release(id: string, onlyIf?: (sb: SandboxRecord) => boolean): Promise<void>;
}

export class SandboxPool {
  private readonly boxes: PoolHost;
  constructor(boxes: PoolHost) {
    this.boxes = boxes;
  }

  // The pool's index: an empty file per pooled sandbox, so that taking one reads a short directory
  // rather than every sandbox record. The record's pooled mark is what counts; the index only
  // points at candidates (a stale entry is dropped when found).
  private poolDir(): string {
    return path.join(this.boxes.dir, 'pool');
  }

  private pooledIds(): string[] {
    try {
      return fs.readdirSync(this.poolDir()).filter((n) => /^[a-f0-9]{64}$/.test(n));
    } catch {
      return [];
    }
  }

  /** A sandbox from the pool, now the container's; undefined when none is ready. */
  take(container: string, net: NetworkRecord): SandboxRecord | undefined {
    for (const id of this.pooledIds()) {
      const sb = this.boxes.get(id);
      if (!sb || !takeable(sb, net)) {
        if (!sb || sb.pooled === undefined) fs.rmSync(path.join(this.poolDir(), id), { force: true });
        continue;
      }
      if (!this.boxes.lock(id)) continue;
      try {
        const fresh = this.boxes.get(id); // another process may have taken it before our lock
        if (!fresh || !takeable(fresh, net) || !fs.existsSync(fresh.netns)) continue;
        fresh.container = container;
        fresh.owner = selfRef();
        delete fresh.pooled;
        this.boxes.save(fresh);
        fs.rmSync(path.join(this.poolDir(), id), { force: true });
        return fresh;
      } finally {
        this.boxes.unlock(id);
      }
    }
    return undefined;
  }

  /**
   * Prepares sandboxes on the default network until the pool holds poolSize() (one preparer per
   * root at a time; another one running makes this a no-op).
   */
  async fillPool(size = poolSize()): Promise<number> {
    if (!size) return 0;
    fs.mkdirSync(this.boxes.dir, { recursive: true, mode: 0o700 });
    if (!this.boxes.lock('pool')) return 0;
    let made = 0;
    try {
      const net = await this.boxes.networks.get(DEFAULT_NETWORK);
      // Pooled sandboxes whose namespace is gone (a reboot) are of no use: released, not counted.
      for (const id of this.pooledIds()) await this.boxes.release(id, (now) => now.pooled !== undefined && !fs.existsSync(now.netns)).catch(() => undefined);
      const ready = this.pooledIds().map((id) => this.boxes.get(id)).filter((sb) => sb && takeable(sb, net)).length;
      fs.mkdirSync(this.poolDir(), { recursive: true, mode: 0o700 });
      for (let i = ready; i < size; i++) {
        const sb = await this.boxes.make('', [{ net, aliases: [], names: [] }], {});
        sb.pooled = Date.now();
        this.boxes.save(sb);
        fs.writeFileSync(path.join(this.poolDir(), sb.id), '');
        made++;
      }
    } finally {
      this.boxes.unlock('pool');
    }
    return made;
  }

  /** Releases pooled sandboxes that have waited their time; returns when the next one is due (ms), if any is left. */
  async expirePool(): Promise<number | undefined> {
    let next: number | undefined;
    for (const sb of this.boxes.list()) {
      if (sb.pooled === undefined) continue;
      const left = sb.pooled + POOL_TTL_MS - Date.now();
      if (left <= 0) await this.boxes.release(sb.id, (now) => now.pooled !== undefined && !inUse(now)).catch(() => undefined);
      else next = Math.min(next ?? left, left);
    }
    return next;
  }

  /**
   * One timer per root (`pool.timer`): a detached `sh -c 'sleep N; exec release-main.ts --expire'`
   * (a shell and a sleep, not a Node process, wait), so that a pool expires on a machine where no
   * other berth command runs. A live timer is left alone: when it fires it re-arms for what is left.
   */
  armPoolTimer(delayMs: number): void {
    const file = this.timerFile();
    if (isAlive(readJsonFile<ProcessRef>(file))) return;
    const secs = Math.ceil(delayMs / 1000) + 1;
    const child = spawn('/bin/sh', ['-c', `sleep ${secs}; exec "$0" "$@"`, ...expireArgv(this.boxes.root)],
      { detached: true, stdio: 'ignore', env: { PATH: DEFAULT_PATH } });
    child.unref();
    if (child.pid) writeFileAtomic(file, JSON.stringify(refOf(child.pid)));
  }

  /**
   * What the timer runs (release-main.ts --expire): the expired go, and a timer is armed for the
   * rest. When this process is the timer (the shell exec'd it, same pid), its record goes first;
   * run by hand, a waiting timer is left as it is.
   */
  async expiryDue(): Promise<void> {
    if (readJsonFile<ProcessRef>(this.timerFile())?.pid === process.pid) fs.rmSync(this.timerFile(), { force: true });
    const next = await this.expirePool();
    if (next !== undefined) this.armPoolTimer(next);
  }

  private timerFile(): string {
    return path.join(this.boxes.dir, 'pool.timer');
  }

  /** Releases every pooled sandbox (before the default network goes, or to leave nothing idle). */
  async drainPool(): Promise<void> {
    if (!fs.existsSync(this.boxes.dir)) return; // no sandbox was ever made here
    // A preparer at work first finishes (its lock), so that nothing it makes outlives the drain.
    for (const end = Date.now() + 60_000; !this.boxes.lock('pool') && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    try {
      for (const sb of this.boxes.list()) if (sb.pooled !== undefined) await this.boxes.release(sb.id).catch(() => undefined);
      fs.rmSync(this.poolDir(), { recursive: true, force: true });
      // Nothing left to expire: the timer (a shell and its sleep, one process group of ours) goes.
      const timer = readJsonFile<ProcessRef>(this.timerFile());
      if (timer && isAlive(timer)) process.kill(-timer.pid, 'SIGTERM');
      fs.rmSync(this.timerFile(), { force: true });
    } finally {
      this.boxes.unlock('pool');
    }
  }

  /** The pool's index entry of a sandbox goes with it. */
  unindex(id: string): void {
    fs.rmSync(path.join(this.poolDir(), id), { force: true });
  }
}
