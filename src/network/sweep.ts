// The part of sandbox handling every reconcile runs, kept apart so that commands load it without
// the CNI code: find sandboxes nothing uses any more and hand each to a detached releaser, and
// unmount namespace files of the root that have no record. Synchronous and cheap.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dropIf, holderDead, owner, sweepGuards } from '../kernel/claim.ts';
import { isAlive, type ProcessRef } from '../kernel/process.ts';
import type { StateRoot } from '../core/root.ts';
import { SHIM_PATH } from '../runtime/shim.ts';
import { readJsonFile, sweepTemps } from '../util/atomic.ts';
import { SRC } from '../util/paths.ts';

// node:child_process (with net and dgram) loads on first use: commands that only read state
// (ps, inspect) never start a process and should not pay ~3 ms to load it.
const childProcess = () => process.getBuiltinModule('node:child_process');

// Our own directory, not /run/netns: `ip netns add` bind-mounts /run/netns over itself, which would
// hide namespaces mounted there before it from a later unmount.
export const NETNS_DIR = process.env.BERTH_RUN_DIR ? path.join(process.env.BERTH_RUN_DIR, 'netns') : '/run/berth/netns';

/** What the sweep needs of a sandbox record (sandbox.ts has the whole type). */
export interface SandboxOwners {
  id: string;
  container: string;
  owner: ProcessRef;
  monitor?: ProcessRef;
  pooled?: number;
}

export function sandboxDir(root: StateRoot): string {
  return path.join(root.dir, 'networks', 'sandboxes');
}

/**
 * How long a prepared sandbox may wait in the pool (sandbox.ts) before a reconcile releases it: an
 * idle machine keeps no namespaces, interfaces or addresses for long.
 */
export const POOL_TTL_MS = 10 * 60_000;

/**
 * In use while its container's monitor lives, or before there is one, its creator; a pooled
 * sandbox (ready, no container yet) until it has waited too long.
 */
export function inUse(sb: SandboxOwners): boolean {
  if (sb.pooled !== undefined) return Date.now() - sb.pooled < POOL_TTL_MS;
  return sb.monitor ? isAlive(sb.monitor) : isAlive(sb.owner);
}

/** Whether a live process holds the sandbox's lock (sandbox.ts lock(): a kernel/claim.ts claim). */
export function lockHeld(root: StateRoot, id: string): boolean {
  return !holderDead(owner(sandboxDir(root), `${id}.lock`) ?? '');
}

/** Prepared sandboxes to keep on the default network (sandbox.ts): BERTH_NETNS_POOL, default 2. */
export function poolSize(): number {
  const n = Number(process.env.BERTH_NETNS_POOL ?? 2);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 16) : 0;
}

/**
 * The command that releases one sandbox (the monitor's teardown step runs it too). It runs with
 * an empty environment, so the pool size it tops up to is an argument.
 */
export function releaseArgv(root: StateRoot, id: string, opts: { ifUnused?: boolean } = {}): string[] {
  return [...releaseMain(), ...(opts.ifUnused ? ['--if-unused'] : []), root.dir, id, String(poolSize())];
}

/** The command that releases the root's pooled sandboxes that have waited their time. */
export function expireArgv(root: StateRoot): string[] {
  return [...releaseMain(), '--expire', root.dir];
}

// A releaser runs with no environment of its own (a monitor, a reconcile or a timer starts it):
// the settings that say where things are go with it, so it finds what its starter used.
const CARRIED = ['BERTH_RUN_DIR', 'BERTH_CNI_PATH', 'BERTH_SHIM'];

function releaseMain(): string[] {
  const env = CARRIED.filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`);
  return [...(env.length ? ['/usr/bin/env', ...env] : []), process.execPath, '--disable-warning=ExperimentalWarning', path.join(SRC, 'network/release-main.ts')];
}

export function netnsPath(root: StateRoot, id: string): string {
  return path.join(NETNS_DIR, `berth-${root.key}-${id.slice(0, 12)}`);
}

export function sandboxIds(root: StateRoot, opts: { sweep?: boolean } = {}): string[] {
  try {
    const names = fs.readdirSync(sandboxDir(root));
    if (opts.sweep) {
      sweepTemps(sandboxDir(root), names); // records half-written by a killed writer
      sweepGuards(sandboxDir(root), names); // takeovers cut short by a kill
      // A releaser killed between removing a record and its lock leaves the lock alone: dropped
      // once its holder is dead (a live holder may be about to write the record).
      for (const n of names) {
        const m = /^([a-f0-9]{64})\.lock$/.exec(n);
        if (m && !names.includes(`${m[1]}.json`)) dropIf(sandboxDir(root), n, holderDead);
      }
    }
    return names.filter((n) => /^[a-f0-9]{64}\.json$/.test(n)).map((n) => n.slice(0, 64));
  } catch {
    return [];
  }
}

/**
 * Stale sandboxes are released by a detached process (a CNI DEL takes up to seconds; `ps`
 * should not wait for it); namespaces of this root without a record are removed.
 */
export function sweepSandboxes(root: StateRoot): void {
  const ids = sandboxIds(root, { sweep: true });
  for (const id of ids) {
    const sb = readJsonFile<SandboxOwners>(path.join(sandboxDir(root), `${id}.json`));
    if (!sb || inUse(sb) || lockHeld(root, id)) continue;
    // Checked again by the releaser under the sandbox's lock: it may be taken (pool) before then.
    const [cmd, ...args] = releaseArgv(root, id, { ifUnused: true });
    childProcess().spawn(cmd, args, { detached: true, stdio: 'ignore', env: {} }).unref();
  }
  const names = namespacesOf(root.key);
  const prefix = `berth-${root.key}-`;
  const orphans = (known: Set<string>) => names.filter((n) => !known.has(n.slice(prefix.length)));
  if (!orphans(new Set(ids.map((id) => id.slice(0, 12)))).length) return;
  // Records listed again, after the namespaces: a sandbox made meanwhile (a start, the pool's
  // preparer) wrote its record before its namespace, so it is in this second listing.
  deleteNamespaces(orphans(new Set(sandboxIds(root).map((id) => id.slice(0, 12)))));
}

/** Unmounts and removes a namespace file (its interfaces go with it). */
export function deleteNetns(file: string) {
  return childProcess().spawnSync(SHIM_PATH, ['netns', 'del', file], { encoding: 'utf8', env: {} });
}

/** deleteNetns for names in the namespace directory. */
export function deleteNamespaces(names: string[]): void {
  for (const n of names) deleteNetns(path.join(NETNS_DIR, n));
}

/** The namespace files of a root's sandboxes, by its key. */
export function namespacesOf(key: string): string[] {
  try {
    return fs.readdirSync(NETNS_DIR).filter((n) => n.startsWith(`berth-${key}-`));
  } catch {
    return [];
  }
}
