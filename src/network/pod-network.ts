// A Kubernetes pod's network, as the kubelet's runtimes make it: a persistent network namespace
// (an nsfs file under berth's netns directory, named as the engine's sandboxes are, so the same
// sweeps and leak checks see it), lo up, and the conf directory's network (cni-conf.ts) added
// with ifname eth0, the pod's CNI_ARGS and capability arguments (pod-cni-args.ts).
//
// Lifecycle, with no daemon needed: a record is written (in the root, and a copy in the machine's
// run directory naming the root, sweep.ts) before anything is made, and again with the ADD result
// before setUp answers. tearDown works from the record alone: after a kill -9 of the daemon, from
// a new process, with the namespace already gone (CNI DEL still runs: the plugins free addresses
// and rules outside it). A pod's network lives until tearDown; nothing releases it on its own
// but for a root that is removed (pod-release-main.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, isCode } from '../core/errors.ts';
import type { StateRoot } from '../core/root.ts';
import { claimWait } from '../kernel/claim.ts';
import { namespaceType } from '../kernel/netns.ts';
import { selfRef, type ProcessRef } from '../kernel/process.ts';
import { SHIM_PATH, shimStartFailure } from '../runtime/shim.ts';
import { readJsonFile, writeFileAtomic } from '../util/atomic.ts';
import { DEFAULT_PATH } from '../util/paths.ts';
import { Undo } from '../util/undo.ts';
import { cniAdd, cniDel, type CniResult, type NetConfList, type RuntimeConf } from './cni.ts';
import { loadConf } from './cni-conf.ts';
import { capabilityArgs, cniArgs, podAddresses, type PodNetwork, type PodNetworkParams } from './pod-cni-args.ts';
import { deleteNetns, forgetPodRoot, NETNS_DIR, netnsPath, notePodRoot, POD_RUN_DIR, podDir } from './sweep.ts';

export type { PodNetwork, PodNetworkParams } from './pod-cni-args.ts';

const IFNAME = 'eth0';

/** What is kept of one pod's network: enough for its DEL, by any process, at any time. */
export interface PodNetRecord {
  id: string;
  /** The state root's directory (the machine-wide copy's way back to it) and key. */
  root: string;
  key: string;
  netns: string;
  owner: ProcessRef;
  conflist: NetConfList;
  rt: RuntimeConf;
  binDirs: string[];
  /** The ADD result, once ADD has completed. */
  result?: CniResult;
}

export interface PodNetworkStatus {
  ready: boolean;
  reason?: string;
  message?: string;
}

export class PodNetworks {
  readonly root: StateRoot;
  private readonly confDir: string;
  private readonly binDirs: string[];
  /** setUp and tearDown of one pod in this process, one after the other. */
  private readonly busy = new Map<string, Promise<unknown>>();
  constructor(root: StateRoot, opts: { confDir: string; binDirs: string[] }) {
    this.root = root;
    this.confDir = opts.confDir;
    this.binDirs = opts.binDirs;
  }

  /** Ready iff the conf directory holds a usable network (its plugins installed); the kubelet shows the message. */
  status(): PodNetworkStatus {
    const conf = loadConf(this.confDir, this.binDirs);
    return conf.list ? { ready: true } : { ready: false, reason: 'NetworkPluginNotReady', message: conf.message };
  }

  get(podId: string): PodNetwork | undefined {
    const rec = readRecord(this.root, podId);
    return rec?.result ? view(rec) : undefined;
  }

  /** The pods of this root with a network set up (or being set up, or torn down half way). */
  ids(): string[] {
    try {
      return fs.readdirSync(podDir(this.root)).filter((n) => /^[a-f0-9]{64}\.json$/.test(n)).map((n) => n.slice(0, 64));
    } catch {
      return [];
    }
  }

  /** The pods whose set-up has not completed: being set up now, or cut short by a kill. */
  unfinished(): string[] {
    return this.ids().filter((id) => !readRecord(this.root, id)?.result);
  }

  /**
   * The pod's namespace, attached to the network (CNI ADD). A pod set up already answers as it
   * is; one whose set-up was cut short (a kill) is torn down and made again. On a failure,
   * whatever was made is undone before the error is thrown.
   *
   * `alongside(netns)` runs once the namespace exists, while the ADD chain runs (the sandbox's
   * start: the plugins and the container's start are other processes, so the two overlap); setUp
   * answers once both are done. If either fails, the network is torn down after both have
   * settled and the first failure is thrown; what `alongside` made is its caller's to undo.
   */
  setUp(podId: string, p: PodNetworkParams, opts: { alongside?: (netns: string) => Promise<unknown> } = {}): Promise<PodNetwork> {
    return this.serial(podId, async () => {
      if (!/^[a-f0-9]{64}$/.test(podId)) throw new BerthError('InvalidArgument', `invalid pod id "${podId}"`);
      const conf = loadConf(this.confDir, this.binDirs);
      if (!conf.list) throw new BerthError('FailedPrecondition', `the pod network is not ready: ${conf.message}`);
      const list = conf.list;
      const unlock = await lockPod(this.root.key, podId);
      try {
        const had = readRecord(this.root, podId);
        if (had?.result) return view(had);
        const netns = netnsPath(this.root, podId);
        if (had) await teardownRecord(had);
        else if (fs.existsSync(netns)) deleteNetns(netns); // one a crash left without its record would refuse the name
        const rec: PodNetRecord = {
          id: podId, root: this.root.dir, key: this.root.key, netns, owner: selfRef(), conflist: list, binDirs: this.binDirs,
          rt: { containerId: podId, netns, ifname: IFNAME, capabilityArgs: capabilityArgs(p), args: cniArgs(podId, p) },
        };
        const undo = new Undo();
        return await undo.guard(async () => {
          saveRecord(rec); // first: whatever follows can be undone from it
          // A chain that fails half way is DELeted whole (CNI: DEL of what never got added is
          // no error), then the namespace and the record go; a DEL that fails keeps the record
          // for the kubelet's tear-down to try again.
          undo.push('network', () => teardownRecord(rec));
          fs.mkdirSync(NETNS_DIR, { recursive: true });
          // The shim's `netns add` brings lo up (as containerd's own loopback network does), so
          // the conf needs no loopback plugin.
          const made = spawnShim(['netns', 'add', netns]);
          if (made.status !== 0) throw new BerthError('Unavailable', `cannot create the pod's network namespace: ${made.stderr?.trim() || (made.error ? shimStartFailure(made.error) : '')}`);
          const along = opts.alongside && Promise.resolve(netns).then(opts.alongside);
          const [added, joined] = await Promise.allSettled([cniAdd(list, rec.rt, this.binDirs), along]);
          if (added.status === 'fulfilled') rec.result = added.value; // the undo's DEL gets it
          else throw added.reason;
          if (joined.status === 'rejected') throw joined.reason;
          const v = view(rec);
          if (!v.ip) throw new BerthError('Unavailable', `network ${list.name}: the plugins gave the pod no address on ${IFNAME}`);
          saveRecord(rec, true);
          return v;
        });
      } finally {
        unlock();
      }
    });
  }

  /** DEL in reverse with the cached result, then the namespace and the record. Idempotent. */
  tearDown(podId: string): Promise<void> {
    return this.serial(podId, async () => {
      const unlock = await lockPod(this.root.key, podId);
      try {
        const rec = readRecord(this.root, podId);
        if (rec) await teardownRecord(rec);
        else if (fs.existsSync(netnsPath(this.root, podId))) deleteNetns(netnsPath(this.root, podId)); // a namespace whose record was never written
      } finally {
        unlock();
      }
    });
  }

  private serial<T>(podId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.busy.get(podId) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.busy.set(podId, settled);
    void settled.then(() => {
      if (this.busy.get(podId) === settled) this.busy.delete(podId);
    });
    return run;
  }
}

function view(rec: PodNetRecord): PodNetwork {
  return { netns: rec.netns, ...podAddresses(rec.result ?? { cniVersion: '' }, rec.rt.ifname) };
}

function spawnShim(args: string[]) {
  return process.getBuiltinModule('node:child_process').spawnSync(SHIM_PATH, args, { encoding: 'utf8', env: {} });
}

function rootFile(rootDir: string, id: string): string {
  return path.join(rootDir, 'networks', 'pods', `${id}.json`);
}

function runFile(key: string, id: string): string {
  return path.join(POD_RUN_DIR, `${key}-${id}.json`);
}

/** The root's copy (it survives a reboot), else the machine's (the root's was never written). */
function readRecord(root: StateRoot, id: string): PodNetRecord | undefined {
  return readJsonFile<PodNetRecord>(rootFile(root.dir, id)) ?? readJsonFile<PodNetRecord>(runFile(root.key, id));
}

function saveRecord(rec: PodNetRecord, durable = false): void {
  const text = JSON.stringify(rec);
  fs.mkdirSync(path.dirname(rootFile(rec.root, rec.id)), { recursive: true, mode: 0o700 });
  writeFileAtomic(rootFile(rec.root, rec.id), text, { durable });
  fs.mkdirSync(POD_RUN_DIR, { recursive: true, mode: 0o700 });
  notePodRoot({ dir: rec.root, key: rec.key });
  writeFileAtomic(runFile(rec.key, rec.id), text);
}

function removeRecord(rec: PodNetRecord): void {
  fs.rmSync(rootFile(rec.root, rec.id), { force: true });
  fs.rmSync(runFile(rec.key, rec.id), { force: true });
  forgetPodRoot(rec.key);
}

/**
 * CNI DEL of the whole chain with the cached result (while the namespace exists: the plugins
 * remove the pod's interfaces there; when it is gone, with no namespace, as CNI says, so they
 * still free addresses and rules), then the namespace, then the record. A DEL that fails keeps
 * the record and the namespace, for the kubelet's next try. The caller holds the pod's lock.
 */
export async function teardownRecord(rec: PodNetRecord): Promise<void> {
  const alive = namespaceType(rec.netns) === 'net';
  const stub = alive ? undefined : stubNamespace(rec);
  try {
    await cniDel(rec.conflist, { ...rec.rt, netns: alive ? rec.netns : (stub ?? '') }, rec.result, rec.binDirs);
  } catch (e) {
    // A plugin that is not installed (any more) made nothing in an ADD that never completed.
    if (rec.result || !isCode(e, 'FailedPrecondition')) throw e;
  } finally {
    if (stub) deleteNetns(stub);
  }
  const del = deleteNetns(rec.netns);
  if (del.status !== 0) throw new BerthError('Unavailable', `removing the pod's network namespace: ${del.stderr?.trim() || (del.error ? shimStartFailure(del.error) : '')}`);
  removeRecord(rec);
}

/**
 * For a DEL after the pod's namespace is gone: a new one (same name) holding an interface
 * with the pod's recorded addresses. The bridge plugin (1.1) finds the addresses whose
 * masquerading rules it removes on the interface itself, not in the cached result: with no
 * namespace those rules would stay forever. (A veth pair, both ends inside: the dummy driver is
 * not always there.) Undefined when there is nothing to stand in for.
 */
function stubNamespace(rec: PodNetRecord): string | undefined {
  const ifaces = rec.result?.interfaces ?? [];
  const addrs = (rec.result?.ips ?? []).filter((a) => a.interface === undefined || ifaces[a.interface]?.name === rec.rt.ifname).map((a) => a.address);
  if (!addrs.length) return undefined;
  if (spawnShim(['netns', 'add', rec.netns]).status !== 0) return undefined;
  const cp = process.getBuiltinModule('node:child_process');
  const ip = (args: string[]) => cp.spawnSync('nsenter', [`--net=${rec.netns}`, 'ip', ...args], { env: { PATH: DEFAULT_PATH }, stdio: 'ignore' }).status === 0;
  if (ip(['link', 'add', rec.rt.ifname, 'type', 'veth', 'peer', 'name', 'berthstub']) && addrs.every((a) => ip(['addr', 'add', a, 'dev', rec.rt.ifname]))) return rec.netns;
  deleteNetns(rec.netns);
  return undefined;
}

/**
 * The pod's lock, machine-wide (kernel/claim.ts; a root that is gone is swept by another root's
 * process): waited for while another live process holds it.
 */
export function lockPod(key: string, id: string): Promise<() => void> {
  return claimWait(POD_RUN_DIR, `${key}-${id}.lock`, `the network of pod ${id.slice(0, 12)}`, 60_000);
}
