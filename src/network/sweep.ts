// The part of sandbox handling every reconcile runs, kept apart so that commands load it without
// the CNI code: find sandboxes nothing uses any more and hand each to a detached releaser, and
// unmount namespace files of the root that have no record. Synchronous and cheap.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dropIf, holderDead, owner, sweepGuards } from '../kernel/claim.ts';
import { isAlive, type ProcessRef } from '../kernel/process.ts';
import type { StateRoot } from '../core/root.ts';
import { SHIM_PATH } from '../runtime/shim.ts';
import { readJsonFile, readTextFile, sweepTemps, writeFileAtomic } from '../util/atomic.ts';
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
const CARRIED = ['BERTH_RUN_DIR', 'BERTH_CNI_PATH', 'BERTH_SHIM', 'BERTH_IPTABLES'];

function releaseMain(script = 'network/release-main.ts'): string[] {
  const env = CARRIED.filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`);
  return [...(env.length ? ['/usr/bin/env', ...env] : []), process.execPath, '--disable-warning=ExperimentalWarning', path.join(SRC, script)];
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
  sweepGonePods();
  const names = namespacesOf(root.key);
  const prefix = `berth-${root.key}-`;
  const orphans = (known: string[]) => {
    const set = new Set(known.map((id) => id.slice(0, 12)));
    return names.filter((n) => !set.has(n.slice(prefix.length)));
  };
  // A pod's namespace (pod-network.ts) has a record of its own, not a sandbox's.
  if (!orphans([...ids, ...podIds(root)]).length) return;
  // Records listed again, after the namespaces: a sandbox or pod network made meanwhile (a
  // start, the pool's preparer, a pod's set-up) wrote its record before its namespace, so it is
  // in this second listing.
  deleteNamespaces(orphans([...sandboxIds(root), ...podIds(root)]));
}

// Pod networks (pod-network.ts) live until the kubelet stops their pod, whoever made them: no
// reconcile of their root releases them. But a root can be removed with its pods' networks set
// up; a copy of each record under the machine's run directory names its root, so the pods of a
// root that is gone are torn down (CNI DEL: addresses, port rules; the namespace) by whichever
// berth process sweeps next.

/** Machine-wide copies of pod network records, `<root key>-<pod id>.json`, and their locks. */
export const POD_RUN_DIR = process.env.BERTH_RUN_DIR ? path.join(process.env.BERTH_RUN_DIR, 'pods') : '/run/berth/pods';

/** A root's pod network records (the copies that survive a reboot). */
export function podDir(root: StateRoot): string {
  return path.join(root.dir, 'networks', 'pods');
}

/** The pods of a root with a network record, in the root or in the machine's run directory. */
export function podIds(root: StateRoot): string[] {
  const ids = new Set<string>();
  try {
    for (const n of fs.readdirSync(podDir(root))) if (/^[a-f0-9]{64}\.json$/.test(n)) ids.add(n.slice(0, 64));
  } catch {}
  for (const n of podRunNames()) if (n.startsWith(`${root.key}-`)) ids.add(n.slice(13, 77));
  return [...ids];
}

function podRunNames(): string[] {
  try {
    return fs.readdirSync(POD_RUN_DIR).filter((n) => /^[a-f0-9]{12}-[a-f0-9]{64}\.json$/.test(n));
  } catch {
    return [];
  }
}

/**
 * `<key>.root` names the root of the records `<key>-*.json` (written with each of them, removed
 * with the root's last one): a sweep reads one small file per root, not every record, to find
 * the roots that are gone. A record whose root file a tear-down removed meanwhile names its root
 * too.
 */
export function notePodRoot(root: StateRoot): void {
  writeFileAtomic(path.join(POD_RUN_DIR, `${root.key}.root`), root.dir);
}

/** After a root's pod record is removed: its root file too, if that was its last. */
export function forgetPodRoot(key: string): void {
  if (!podRunNames().some((n) => n.startsWith(`${key}-`))) fs.rmSync(path.join(POD_RUN_DIR, `${key}.root`), { force: true });
}

/** The machine-wide records (file names) of pods whose root is gone and that no live process holds. */
export function gonePods(): string[] {
  const roots = new Map<string, string | undefined>();
  const rootOf = (n: string) => {
    const key = n.slice(0, 12);
    if (!roots.has(key)) roots.set(key, readTextFile(path.join(POD_RUN_DIR, `${key}.root`)));
    let dir = roots.get(key);
    if (dir === undefined) {
      try {
        dir = readJsonFile<{ root?: string }>(path.join(POD_RUN_DIR, n))?.root;
      } catch {} // written atomically: only a file put there by hand is not JSON
    }
    return dir;
  };
  return podRunNames().filter((n) => {
    const dir = rootOf(n);
    return dir !== undefined && !fs.existsSync(dir) && holderDead(owner(POD_RUN_DIR, n.replace(/\.json$/, '.lock')) ?? '');
  });
}

/** Hands the pods of removed roots to a detached releaser (pod-release-main.ts); cheap when there are none. */
export function sweepGonePods(): void {
  if (!gonePods().length) return;
  const [cmd, ...args] = releaseMain('network/pod-release-main.ts');
  childProcess().spawn(cmd, args, { detached: true, stdio: 'ignore', env: {} }).unref();
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
