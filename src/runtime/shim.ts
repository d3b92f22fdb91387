// Client side of the shim protocol: spawn `berth-shim run` with the plan on fd 3 and read its
// JSON-line reports from the same socket; and `berth-shim fsops` for layer file operations.
import type { StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import * as path from 'node:path';
import { BerthError } from '../core/errors.ts';
import type { SpecialFs, SpecialOp } from '../image/apply.ts';
import type { LayerMounts } from '../snapshot/layers.ts';
import { encodePlan, encodeRecords, type Step } from './plan.ts';
import { stepSays } from './steps.ts';
import { shimCrashEnv } from '../util/crash.ts';
import { errnoText } from '../util/errno.ts';
import { REPO } from '../util/paths.ts';

// node:child_process (with net and dgram) loads on first use: commands that only read state
// (ps, inspect) never start a process and should not pay ~3 ms to load it.
const childProcess = () => process.getBuiltinModule('node:child_process');

export const SHIM_PATH = process.env.BERTH_SHIM ?? path.join(REPO, 'native/build/berth-shim');

/** Why the shim could not be run, naming it without its path (where berth is installed is the host's business). */
export function shimStartFailure(err: NodeJS.ErrnoException): string {
  return `cannot start the shim (${path.basename(SHIM_PATH)}): ${errnoText(err)} (run the setup to build it)`;
}

export interface ShimError {
  step: string;
  arg: string;
  errno: number;
  message: string;
}

export interface ShimExit {
  exit: number;
  signal: number;
  oom: boolean;
  /** The client detached (Ctrl-P Ctrl-Q): the container still runs under its monitor. */
  detached?: boolean;
}

export interface ShimHandle {
  shimPid: number;
  /** Resolves with the container init's host pid once it is in its cgroup. */
  started: Promise<number>;
  /** Resolves when the container exited (or setup failed: rejects with a BerthError). */
  exited: Promise<ShimExit>;
  /** Resolves when the shim process itself is gone (teardown done). */
  gone: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  /** Closes the report socket: the shim then runs its teardown and exits. */
  close(): void;
  /** Lets this process exit while the shim carries on as the container's monitor. */
  detach(): void;
  /** With 'pipe' stdio: the container's (or its monitor's) stdin, stdout and stderr. */
  stdio: { stdin: Writable | null; stdout: Readable | null; stderr: Readable | null };
}

/** inherit: our own stdio (the CLI in the foreground); pipe: streams for us to carry (the API). */
export type ShimStdio = { stdin: 'inherit' | 'ignore' | 'pipe'; output: 'inherit' | 'ignore' | 'pipe' };

export function errorFromShim(e: ShimError, args: string[]): BerthError {
  if (e.step === 'exec') {
    const cmd = args[0] ?? '';
    if (e.errno === 2) return new BerthError('CommandNotFound', `exec: "${cmd}": executable file not found in $PATH`);
    return new BerthError('CannotInvoke', `exec: "${cmd}": ${e.message.toLowerCase()}`);
  }
  const doing = stepSays(e.step);
  return new BerthError('Internal', `container setup failed: ${e.arg ? `${doing} ${e.arg}` : doing}: ${e.message}`);
}

export function runShim(steps: Step[], stdio: ShimStdio): ShimHandle {
  const execStep = steps.find((s) => s[0] === 'exec') ?? [];
  const io: StdioOptions = [stdio.stdin, stdio.output, stdio.output, 'pipe'];
  // detached: the shim gets its own session, so a terminal's ^C reaches the container once (we
  // forward it), and a hangup of our terminal does not take the monitor down.
  const child = childProcess().spawn(SHIM_PATH, ['run'], { stdio: io, env: shimCrashEnv(), detached: true });
  const sock = child.stdio[3] as unknown as Socket;
  sock.write(encodePlan(steps));

  let onStart!: (pid: number) => void, onStartErr!: (e: unknown) => void;
  let onExit!: (e: ShimExit) => void, onExitErr!: (e: unknown) => void;
  const started = new Promise<number>((res, rej) => ((onStart = res), (onStartErr = rej)));
  const exited = new Promise<ShimExit>((res, rej) => ((onExit = res), (onExitErr = rej)));
  // Callers await one or the other; neither rejection may go unhandled.
  started.catch(() => {});
  exited.catch(() => {});
  let pid = 0;
  let settled = false;
  const fail = (err: unknown) => {
    if (settled) return;
    settled = true;
    onStartErr(err);
    onExitErr(err);
  };
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let msg: { pid?: number; started?: boolean; created?: boolean; exit?: number; signal?: number; oom?: boolean; detached?: boolean; error?: ShimError };
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if (msg.pid !== undefined) pid = msg.pid;
      // created: an OCI create's init waits at its exec fifo, set up; for the caller that is started.
      else if (msg.started || msg.created) onStart(pid);
      else if (msg.error) fail(errorFromShim(msg.error, execStep.slice(1)));
      else if (msg.detached && !settled) {
        settled = true;
        onExit({ exit: 0, signal: 0, oom: false, detached: true });
      }
      else if (msg.exit !== undefined && !settled) {
        settled = true;
        onStart(pid);
        onExit({ exit: msg.exit, signal: msg.signal ?? 0, oom: msg.oom ?? false });
      }
    }
  });
  sock.on('error', () => {});
  // The shim's exit can be seen before its last reports are read (the exit and the socket are
  // separate events): it counts as unreported only once the report socket is closed too.
  let exitStatus: string | undefined;
  let sockClosed = false;
  const unreported = () => {
    if (exitStatus !== undefined && sockClosed) fail(new BerthError('Internal', `the shim ${exitStatus} without reporting the container's exit`));
  };
  sock.on('close', () => {
    sockClosed = true;
    unreported();
  });
  const gone = new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      fail(new BerthError('Unavailable', shimStartFailure(err), { cause: err }));
      resolve(null);
    });
    child.on('exit', (code, signal) => {
      exitStatus = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      unreported();
      resolve(code);
    });
  });
  return {
    get shimPid() {
      return child.pid ?? 0;
    },
    started,
    exited,
    gone,
    kill: (signal) => {
      child.kill(signal);
    },
    close: () => sock.destroy(),
    detach: () => {
      sock.destroy();
      child.unref();
    },
    stdio: { stdin: child.stdin, stdout: child.stdout, stderr: child.stderr },
  };
}

/** mknod and setxattr through the shim, for layer unpacking. */
export const shimSpecialFs: SpecialFs = {
  run(dir: string, ops: SpecialOp[]): Promise<void> {
    const child = childProcess().spawn(SHIM_PATH, ['fsops', dir], { stdio: ['pipe', 'ignore', 'pipe'], env: {} });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const records = ops.map((op) => op.op === 'mknod'
      ? ['mknod', op.path, String(modeBits(op.type) | op.mode), String(op.major), String(op.minor), String(op.uid), String(op.gid),
        String(Math.floor(op.mtime)), String(Math.round((op.mtime % 1) * 1e9))]
      : ['xattr', op.path, op.name, op.value.toString('hex')]);
    child.stdin!.end(encodeRecords(records));
    return new Promise((resolve, reject) => {
      child.on('error', (err) => reject(new BerthError('Unavailable', shimStartFailure(err), { cause: err })));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new BerthError('InvalidArgument', `applying layer: ${stderr.trim() || `fsops exited ${code}`}`))));
    });
  },
};

/** Layer images mounted on (or unmounted from) their directories, through the shim: Node cannot mount. */
export const shimLayerMounts: LayerMounts = {
  mount(pairs) {
    layerOp(['mount', ...pairs.flat()]);
  },
  unmount(dirs) {
    layerOp(['umount', ...dirs]);
  },
};

function layerOp(args: string[]): void {
  const r = childProcess().spawnSync(SHIM_PATH, ['layer', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: {}, encoding: 'utf8' });
  if (r.status !== 0) throw new BerthError('Internal', `${args[0] === 'mount' ? 'mounting' : 'unmounting'} image layers: ${r.stderr?.trim() || (r.error ? shimStartFailure(r.error) : `exit ${r.status}`)}`);
}

/** The resource views' files of the lxcfs at `mnt`, bound under `views` for containers to bind from (native/views.c). */
export function bindViews(mnt: string, views: string, files: string[]): void {
  const r = childProcess().spawnSync(SHIM_PATH, ['views', mnt, views, ...files], { stdio: ['ignore', 'ignore', 'pipe'], env: {}, encoding: 'utf8' });
  if (r.status !== 0) throw new BerthError('Internal', r.stderr?.trim() || r.error?.message || `exit ${r.status}`);
}

function modeBits(type: 'char' | 'block' | 'fifo'): number {
  return type === 'char' ? 0o020000 : type === 'block' ? 0o060000 : 0o010000;
}

/** Every extended attribute under dir (paths relative to it), through the shim: Node has no getxattr. */
export function readXattrs(dir: string): Promise<Map<string, Map<string, Buffer>>> {
  const child = childProcess().spawn(SHIM_PATH, ['xattrs', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: {} });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', (err) => reject(new BerthError('Unavailable', shimStartFailure(err), { cause: err })));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new BerthError('Internal', `reading extended attributes: ${stderr.trim() || `exit ${code}`}`));
      const result = new Map<string, Map<string, Buffer>>();
      // Records: fields "=" + value + NUL, a lone NUL ends each record.
      let fields: string[] = [];
      for (const f of Buffer.concat(out).toString('latin1').split('\0')) {
        if (f === '') {
          if (fields.length === 3) {
            const [p, name, hex] = fields;
            const path = Buffer.from(p, 'latin1').toString('utf8');
            if (!result.has(path)) result.set(path, new Map());
            result.get(path)!.set(Buffer.from(name, 'latin1').toString('utf8'), Buffer.from(hex, 'hex'));
          }
          fields = [];
        } else fields.push(f.slice(1));
      }
      resolve(result);
    });
  });
}

/**
 * Resolves once the peer of a unix stream socket has read everything sent on it so far (its
 * send queue is empty), or after `ms`, with true; false at once if that cannot be known (not a
 * unix socket, no shim). Node cannot ask the kernel (SIOCOUTQ); the shim asks on a duplicate
 * of the socket.
 */
export function peerHasRead(socket: Socket, ms: number): Promise<boolean> {
  // The descriptor, not the socket: node stops reading a stream it hands to a child as stdio,
  // and this socket's input is still ours to read.
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    let child;
    try {
      child = childProcess().spawn(SHIM_PATH, ['peerread', String(ms)], { stdio: [fd, 'ignore', 'ignore'], env: {} });
    } catch {
      return resolve(false);
    }
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0 || code === 1));
  });
}
