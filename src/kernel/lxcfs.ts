// Resource views: /proc and /sys files that show a container its own limits (memory, CPUs) and its
// own uptime instead of the host's, served by LXCFS (a FUSE filesystem) as LXD and Incus do.
//
// One lxcfs per machine, under the run directory (<run>/lxcfs): `mnt/` is its mount, `lxcfs.pid`
// its pid (ours: lxcfs removes the pid file it is given when it exits, so it gets one of its own),
// `views-<pid>-<start>/` its view files as containers bind them (native/views.c: bound once per
// instance, so that a start asks lxcfs nothing: the kernel keeps lxcfs's lookups for 0.5 s only,
// and binding from its mount cost a FUSE round trip per file and start),
// `users/<root key>-<container id>/` one directory per container whose mount namespace has its
// files bound in, `holders/<same name>` the process that keeps that user alive ("pid start": the
// starter, then the container's monitor, with the container's directory). A start adds its container's directory and makes sure lxcfs runs; the
// container's monitor removes it at its end and, if it was the last, stops lxcfs after a grace
// period (BERTH_LXCFS_LINGER seconds, default 30) in which no container started (the shell
// script below). So lxcfs lives while a container of any state root uses it, and a little
// longer: back-to-back `run --rm`s do not pay for starting it each time.
//
// A user whose holder died without giving it back (a monitor killed with SIGKILL), or whose
// container's directory is gone (a state root removed under its running containers), counts for
// nothing: the stopper checks each user's holder and
// drops the dead ones, so that one crash does not keep lxcfs up for good.
//
// Two processes must not start two, nor stop one that a start just counted on: `lock` (created
// exclusively, holding its holder's pid) serialises starting and stopping. `lxcfs.pid` holds the
// instance's pid and start time, or the word `stopping` while a stopper decides: a stopper
// first writes that word, then looks for users; a start first adds its user, then reads the
// file. Whichever order they meet in, either the stopper sees the new user (and writes the pid
// back) or the start sees `stopping` (or no file) and takes the lock, waits, and starts a new one.
//
// Whether lxcfs serves is read from its process (alive, the same start time) and its views' `ready`
// file, never from its mount: the kernel answers stat() on a FUSE mount from cached attributes for a while after its
// daemon died, so a mount that looked alive could be bound dead into a new container. A new
// instance first ends any earlier one still exiting (which would otherwise unmount, by path, the
// new mount at its exit) and detaches what they left mounted. The views of an instance that died
// stay until the stopper detaches them all (a start that read its pid a moment before may still
// be binding from them: its container gets dead views, as if it had started first, not an error).
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';
import { mountTable } from './mounts.ts';
import { isAlive, processStart, refOf, selfRef, type ProcessRef } from './process.ts';

/** The files LXCFS virtualises, where a container sees them (LXD's list). */
export const VIEW_FILES = [
  '/proc/cpuinfo', '/proc/diskstats', '/proc/loadavg', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime',
  '/sys/devices/system/cpu/online',
];

export function lxcfsDir(): string {
  return path.join(process.env.BERTH_RUN_DIR ?? '/run/berth', 'lxcfs');
}

/** Pure: the read-only bind mounts of the views from an instance's prepared files (`from`, its views directory). */
export function viewMounts(from: string): Array<{ source: string; target: string }> {
  return VIEW_FILES.map((f) => ({ source: path.join(from, f), target: f }));
}

/**
 * A container's use of the views: the directory its view files are bound from; its user
 * directory, which its monitor removes at its end (at once, so that nothing of the container is
 * left when its end is reported); then the program the monitor starts detached, which stops
 * lxcfs if it was the last.
 */
export interface ViewLease {
  from: string;
  user: string;
  release: string[];
}

/**
 * Binds the VIEW_FILES of the lxcfs mounted at `mnt` under `views` (a tmpfs of their own, with a
 * `ready` file once whole: native/views.c); throws why not. The shim does it: Node cannot mount.
 */
export type ViewBinder = (mnt: string, views: string, files: string[]) => void;

// Run by the container's monitor at its end (detached; sh, because a node start costs ~40 ms of
// CPU per container exit): drops the user, and stops lxcfs if that was the last and none came
// in the grace period (users/ changes with every start and end: only the releaser that saw the
// last change goes on). A lock held by someone else means a start (which is a user) or another
// stopper (which decides): leave it.
//
// busy: some user is live. A user is live while its holder (pid and start time, stat's field 22)
// runs and its container's directory (if named) is there, or while it has no holder; the others
// are dropped, and holders without a user swept.
const RELEASE = `d=$1
[ -n "$2" ] && rmdir "$d/users/$2" 2>/dev/null && rm -f "$d/holders/$2"
live() {
  if read hp hs hc < "$d/holders/$1" 2>/dev/null; then
    [ -z "$hc" ] || [ -d "$hc" ] || return 1
    { read -r st < "/proc/$hp/stat"; } 2>/dev/null || return 1
    set -- \${st##*) }
    [ "$1" != Z ] && [ "$1" != X ] && [ "\${20}" = "$hs" ]
  fi
  # no holder: a start between its user's mkdir and its holder's write, or a user made before
  # holders were (whose liveness cannot be told): it counts
}
busy() {
  for u in "$d"/users/*; do
    [ -e "$u" ] || continue
    n=\${u##*/}
    live "$n" && return 0
    rm -rf "$u" && rm -f "$d/holders/$n"
  done
  for h in "$d"/holders/*; do
    case $h in *.tmp) continue;; esac
    [ -e "$h" ] && ! [ -e "$d/users/\${h##*/}" ] && rm -f "$h"
  done
  return 1
}
busy && exit 0
sleep "$3"
busy && exit 0
[ $(($(date +%s) - $(stat -c %Y "$d/users" 2>/dev/null || echo 0))) -ge "$3" ] || exit 0
set -C
{ echo $$ > "$d/lock"; } 2>/dev/null || exit 0
set +C
put() { echo "$1" > "$d/lxcfs.pid.$$" && mv -f "$d/lxcfs.pid.$$" "$d/lxcfs.pid"; }
if read p s < "$d/lxcfs.pid" 2>/dev/null && [ "$p" != stopping ]; then
  put stopping
  busy && { put "$p $s"; rm -f "$d/lock"; exit 0; }
  rm -f "$d/lxcfs.pid"
  if [ "$(cat /proc/$p/comm 2>/dev/null)" = lxcfs ] && { [ -z "$s" ] || [ "$(cut -d' ' -f22 /proc/$p/stat 2>/dev/null)" = "$s" ]; }; then kill "$p"
  else umount -l "$d/mnt" 2>/dev/null; fi
fi
for v in "$d"/views-*; do
  [ -d "$v" ] || continue
  umount -l "$v" 2>/dev/null
  rmdir "$v" 2>/dev/null
done
rm -f "$d/lock"
`;

/** The command a monitor runs when the container `user` no longer needs the views. */
export function releaseArgv(dir: string, user: string): string[] {
  const linger = Number(process.env.BERTH_LXCFS_LINGER ?? 30);
  return [RELEASE_SHELL, '-c', RELEASE, 'berth-lxcfs-release', dir, user, String(Number.isFinite(linger) && linger >= 0 ? linger : 30)];
}

/**
 * Registers `user` (a container about to start) and makes sure lxcfs serves the views. A string
 * is the reason there are none (lxcfs missing, or it would not start): the user is dropped again
 * and the container starts without them.
 */
export async function acquireViews(user: string, bind: ViewBinder, dir = lxcfsDir()): Promise<ViewLease | string> {
  const users = path.join(dir, 'users');
  const mine = path.join(users, user);
  try {
    fs.mkdirSync(mine);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fs.mkdirSync(mine, { recursive: true, mode: 0o755 });
    else if (code !== 'EEXIST') throw err;
  }
  writeHolder(dir, user, selfRef(), '', false);
  const from = serving(dir) ?? await locked(dir, () => serving(dir) ?? bringUp(dir, bind));
  if (typeof from === 'string') return { from, user: mine, release: releaseArgv(dir, '') };
  fs.rmSync(mine, { recursive: true, force: true });
  fs.rmSync(path.join(dir, 'holders', user), { force: true });
  return from.problem;
}

/**
 * `holder` keeps the user `user` alive from now on (the monitor, once spawned): the user counts
 * while that process runs. A user given back meanwhile gets no holder.
 */
export function holdViews(user: string, holder: ProcessRef, containerDir = '', dir = lxcfsDir()): void {
  if (fs.existsSync(path.join(dir, 'users', user))) writeHolder(dir, user, holder, containerDir, true);
}

/**
 * The holder's line (sh's read wants its newline; a container directory with a space is left
 * out). A new holder (a start's) is one exclusive create and write: a reader meets no file, an
 * empty one (holderless: it counts) or the whole line, never a part of it, and the start saves a
 * rename; an existing one (a start's, for its monitor) is replaced atomically.
 */
function writeHolder(dir: string, user: string, holder: ProcessRef, containerDir: string, replace: boolean): void {
  const file = path.join(dir, 'holders', user);
  const line = `${holder.pid} ${holder.start}${/\s/.test(containerDir) ? '' : ` ${containerDir}`}\n`;
  try {
    if (replace) writeFileAtomic(file, line);
    else fs.writeFileSync(file, line, { flag: 'wx' });
  } catch (err) {
    // A start's holder left by an earlier start of the same container that was killed.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return writeHolder(dir, user, holder, containerDir, true);
    // Not written (a full disk): the user counts as holderless, and its monitor ends it.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return;
    // The first user ever (holders/ is made on demand: a start where it exists pays nothing for it).
    fs.mkdirSync(path.join(dir, 'holders'), { recursive: true, mode: 0o755 });
    try {
      writeFileAtomic(file, line);
    } catch {}
  }
}

/**
 * The running lxcfs recorded in `lxcfs.pid` (nobody is stopping it): its process lives, with its
 * recorded start time.
 */
function instance(dir: string): ProcessRef | undefined {
  let rec: string;
  try {
    rec = fs.readFileSync(path.join(dir, 'lxcfs.pid'), 'latin1');
  } catch {
    return undefined;
  }
  const [pid, start] = rec.trim().split(' ').map(Number);
  return pid > 0 && isAlive({ pid, start }) ? { pid, start } : undefined;
}

function viewsDir(dir: string, lxcfs: ProcessRef): string {
  return path.join(dir, `views-${lxcfs.pid}-${lxcfs.start}`);
}

/**
 * lxcfs is up and its view files are ready: where they are. The one probe of the start path
 * (three small reads and a lookup, none through FUSE).
 */
function serving(dir: string): string | undefined {
  const lxcfs = instance(dir);
  const views = lxcfs && viewsDir(dir, lxcfs);
  return views && fs.existsSync(path.join(views, 'ready')) ? views : undefined;
}

/**
 * Under the lock: lxcfs started if none runs, and its view files prepared if they are not (an
 * instance started by an older berth has none). Their directory, or why there are no views.
 */
async function bringUp(dir: string, bind: ViewBinder): Promise<string | { problem: string }> {
  let lxcfs = instance(dir);
  const started = lxcfs ? undefined : await startLxcfs(dir);
  if (typeof started === 'string') return { problem: started };
  lxcfs ??= started!;
  const views = viewsDir(dir, lxcfs);
  let problem: string | undefined;
  try {
    detach(views); // half made by a binder killed midway
    bind(path.join(dir, 'mnt'), views, VIEW_FILES);
  } catch (err) {
    problem = `the resource views could not be prepared (${(err as Error).message}): containers see the host's /proc files`;
  }
  // Recorded once its views are ready (or could not be): a start that reads the record without
  // the lock finds them whole. Recorded all the same if they failed, so that a stopper ends it.
  if (started) writeFileAtomic(path.join(dir, 'lxcfs.pid'), `${lxcfs.pid} ${lxcfs.start}\n`); // a line: sh's read wants its newline
  return problem ? { problem } : views;
}

/** Detaches whatever is mounted on `target` (a dead FUSE mount, a half made views tree). */
function detach(target: string): void {
  while (mountTable().some((m) => m.mountPoint === target)) {
    try {
      execFileSync('umount', ['--lazy', target], { stdio: 'ignore' });
    } catch {
      break;
    }
  }
}

/** Whether mnt has a mount of its own (used only while a new lxcfs comes up: a fresh mount's attributes are its own). */
function mounted(dir: string): boolean {
  try {
    return fs.statSync(path.join(dir, 'mnt')).dev !== fs.statSync(dir).dev;
  } catch {
    return false;
  }
}

/** lxcfs, found in the usual places; BERTH_LXCFS names another (the tests name a missing one). */
function findLxcfs(): string | undefined {
  const named = process.env.BERTH_LXCFS;
  for (const f of named ? [named] : ['/usr/local/bin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/sbin', '/sbin'].map((d) => path.join(d, 'lxcfs'))) {
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {}
  }
  return undefined;
}

/** Starts lxcfs on <dir>/mnt (detached, in a session of its own): it, or a string that says why it did not start. */
async function startLxcfs(dir: string): Promise<ProcessRef | string> {
  const bin = findLxcfs();
  if (!bin) return 'lxcfs is not installed: containers see the host\'s /proc/meminfo, /proc/cpuinfo and uptime (install lxcfs, or turn the views off with --proc-views=false)';
  const mnt = path.join(dir, 'mnt');
  await endEarlier(dir);
  // What a killed or dying lxcfs left (a dead FUSE mount answers ENOTCONN): detached, so that the
  // new one mounts on the directory itself. Containers that bound it keep their (dead) views.
  detach(mnt);
  fs.mkdirSync(mnt, { recursive: true });
  const log = fs.openSync(path.join(dir, 'lxcfs.log'), 'w', 0o600);
  // -l: /proc/loadavg per container; --enable-cfs: CPU counts from the CFS quota (--cpus), not
  // only the cpuset; --enable-pidfd: processes tracked safely against pid reuse. Its own pid
  // file (removed by it at its exit), so that it never removes a successor's.
  const own = path.join(dir, `lxcfs.${process.pid}.pid`);
  const child = spawn(bin, ['-f', '-l', '--enable-cfs', '--enable-pidfd', '-p', own, mnt], { detached: true, stdio: ['ignore', log, log], cwd: '/' });
  fs.closeSync(log);
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', () => (exited = true));
  child.unref();
  for (let i = 0; i < 1500 && !exited && !mounted(dir); i++) await new Promise((r) => setTimeout(r, 2));
  if (exited || !mounted(dir) || !child.pid) {
    if (!exited && child.pid) try { process.kill(child.pid, 'SIGKILL'); } catch {}
    const why = fs.readFileSync(path.join(dir, 'lxcfs.log'), 'utf8').trim().split('\n').slice(-1)[0] ?? '';
    return `lxcfs would not start (${why || 'no mount'}): containers see the host's /proc files`;
  }
  return refOf(child.pid);
}

/**
 * Each lxcfs gets a pid file of its own (lxcfs locks it, and one still exiting would hold a shared
 * one). Before a new one starts (under the lock): any earlier one still there, stopped or dying,
 * is killed and waited for (SIGKILL: no unmount by path of its successor's mount at its exit),
 * and the files of those gone are swept.
 */
async function endEarlier(dir: string): Promise<void> {
  for (const n of fs.readdirSync(dir)) {
    if (!/^lxcfs\.\d+\.pid$/.test(n)) continue;
    let pid = 0;
    try {
      pid = Number(fs.readFileSync(path.join(dir, n), 'utf8').trim());
    } catch {}
    if (pid > 0 && lxcfsProcess(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
      for (let i = 0; i < 2500 && processStart(pid) !== undefined; i++) await new Promise((r) => setTimeout(r, 2));
    }
    fs.rmSync(path.join(dir, n), { force: true });
  }
}

function lxcfsProcess(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'lxcfs';
  } catch {
    return false;
  }
}

/** Runs fn holding <dir>/lock; a lock whose holder died is taken over. */
async function locked<T>(dir: string, fn: () => Promise<T> | T): Promise<T> {
  const lock = path.join(dir, 'lock');
  for (let i = 0; ; i++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = 0;
    let age = 0;
    try {
      holder = Number(fs.readFileSync(lock, 'utf8').trim());
      age = Date.now() - fs.statSync(lock).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    // A holder that is gone (or never wrote its pid) left it: taken over.
    if ((holder > 0 && !fs.existsSync(`/proc/${holder}`)) || (!holder && age > 2000) || i > 2500) fs.rmSync(lock, { force: true });
    else await new Promise((r) => setTimeout(r, 4));
  }
  try {
    return await fn();
  } finally {
    try {
      if (fs.readFileSync(lock, 'utf8').trim() === String(process.pid)) fs.rmSync(lock);
    } catch {}
  }
}

/**
 * What a container's monitor would have done at its end, for one that died first (the engine's
 * cleanup of a dead run): its user dropped, lxcfs stopped if it was the last.
 */
export function releaseViews(user: string, dir = lxcfsDir()): void {
  const mine = path.join(dir, 'users', user);
  if (!fs.existsSync(mine)) return;
  fs.rmSync(mine, { recursive: true, force: true }); // at once; only the stop waits its grace period
  fs.rmSync(path.join(dir, 'holders', user), { force: true });
  const [cmd, ...args] = releaseArgv(dir, '');
  spawn(cmd, args, { detached: true, stdio: 'ignore' }).unref();
}
const RELEASE_SHELL = '/bin/sh';
