// What the streaming server asks of the containers: exec, attach and port-forward over plain
// streams. EngineStreamRuntime does them with berth's engine: an exec's stdio as the Docker
// API's exec has them, attach through the container's monitor, and a pod's port through a tiny
// helper that connects from inside the pod's network namespace.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { Duplex, Readable, Writable } from 'node:stream';
import { isUp } from '../../core/container.ts';
import { BerthError, conflict, notFound } from '../../core/errors.ts';
import type { Engine } from '../../engine/engine.ts';
import { SHIM_PATH } from '../../runtime/shim.ts';

export interface TermSize {
  width: number;
  height: number;
}

export interface Stdio {
  stdin: Readable | null;
  stdout: Writable | null;
  stderr: Writable | null;
}

export interface StreamRuntime {
  /** Runs cmd in a running container; resolves with its exit code. `gone`: the client left (the command is then killed, as containerd does). */
  exec(containerId: string, cmd: string[], tty: boolean, stdio: Stdio, resize: AsyncIterable<TermSize> | null, gone?: AbortSignal): Promise<number>;
  /** Follows a running container's output until it ends or the client leaves. */
  attach(containerId: string, tty: boolean, stdio: Stdio, resize: AsyncIterable<TermSize> | null, gone?: AbortSignal): Promise<void>;
  /** Connects stream to 127.0.0.1:port in the pod's network namespace until either side ends. */
  portForward(podId: string, port: number, stream: Duplex): Promise<void>;
}

/** The port-forward helper (native/nsconnect.c), built beside the shim. */
export const NSCONNECT_PATH = process.env.BERTH_NSCONNECT ?? path.join(path.dirname(SHIM_PATH), 'berth-nsconnect');

/** How long an exec with a terminal waits for the client's size before it starts with 24x80. */
const FIRST_SIZE_WAIT_MS = 500;

/** Copies from into to (without ending to); resolves when from ends or to goes away. */
function pump(from: Readable, to: Writable | null): Promise<void> {
  return new Promise((resolve) => {
    from.once('end', resolve).once('error', resolve).once('close', resolve);
    if (!to) return void from.resume();
    from.pipe(to, { end: false });
    to.once('close', () => {
      from.unpipe(to);
      from.resume(); // the client's end is gone: the output is dropped, never blocks the command
    });
  });
}

export class EngineStreamRuntime implements StreamRuntime {
  private readonly engine: Engine;
  private readonly netnsOf: (podId: string) => string | undefined;

  /** netnsOf: the pod's network namespace path when the pod network knows it (PodNetworks.get). */
  constructor(engine: Engine, netnsOf: (podId: string) => string | undefined = () => undefined) {
    this.engine = engine;
    this.netnsOf = netnsOf;
  }

  async exec(containerId: string, cmd: string[], tty: boolean, stdio: Stdio, resize: AsyncIterable<TermSize> | null, gone?: AbortSignal): Promise<number> {
    const containers = this.engine.containers;
    const execId = randomBytes(16).toString('hex');
    // A client with a terminal sends its size first thing: the command starts with it (a
    // `stty size` run at once sees the client's), unless it is slow to come.
    const sizes = tty && resize ? resize[Symbol.asyncIterator]() : undefined;
    const pending = sizes?.next();
    const first = pending && (await Promise.race([pending, new Promise<undefined>((r) => void setTimeout(() => r(undefined), FIRST_SIZE_WAIT_MS).unref())]));
    const size = first && !first.done ? { rows: first.value.height, cols: first.value.width } : { rows: 24, cols: 80 };
    const streams = await containers.execStreams(containerId, { args: cmd, tty: tty ? size : undefined, stdin: stdio.stdin !== null, execId });
    let exited = false;
    if (stdio.stdin && streams.stdin) {
      const into = streams.stdin;
      into.on('error', () => {}); // the command closed its input or ended
      stdio.stdin.pipe(into);
    }
    if (sizes) {
      const file = containers.winsizeFile(containerId, execId);
      (async () => {
        // The size the command started with is not applied twice; a late first one is.
        let s = first ? (first.done ? first : await sizes.next()) : await pending!;
        for (; !s.done; s = await sizes.next()) if (!exited) containers.resize(streams.monitorPid, file, s.value.height, s.value.width);
      })().catch(() => {});
    }
    // The client left before the command ended: hang up on it, then make sure it goes.
    const onGone = () => {
      const hit = (sig: NodeJS.Signals) => {
        try {
          if (!exited) process.kill(streams.monitorPid, sig);
        } catch {}
      };
      hit('SIGHUP');
      hit('SIGTERM');
      setTimeout(() => hit('SIGKILL'), 2000).unref();
    };
    gone?.addEventListener('abort', onGone, { once: true });
    try {
      const [exit] = await Promise.all([streams.exited, pump(streams.stdout, stdio.stdout), pump(streams.stderr, tty ? stdio.stdout : stdio.stderr)]);
      return exit.signal ? 128 + exit.signal : exit.exit;
    } finally {
      exited = true;
      gone?.removeEventListener('abort', onGone);
      if (stdio.stdin && streams.stdin) stdio.stdin.unpipe(streams.stdin);
    }
  }

  async attach(containerId: string, tty: boolean, stdio: Stdio, resize: AsyncIterable<TermSize> | null, gone?: AbortSignal): Promise<void> {
    const containers = this.engine.containers;
    const c = containers.get(containerId);
    if (!isUp(c.state.Status) || !c.state.Monitor) throw conflict(`container ${c.record.Id} is not running`);
    const monitorPid = c.state.Monitor.pid;
    if (tty && resize) {
      const file = containers.winsizeFile(c.record.Id);
      (async () => {
        for await (const s of resize) containers.resize(monitorPid, file, s.height, s.width);
      })().catch(() => {});
    }
    await containers.attach(c.record.Id, (stream, data) => {
      const to = stream === 'stderr' && !tty ? stdio.stderr : stdio.stdout;
      if (to && !to.destroyed) to.write(data);
    }, gone, stdio.stdin).catch((err) => {
      if (!gone?.aborted) throw err;
    });
  }

  async portForward(podId: string, port: number, stream: Duplex): Promise<void> {
    const netns = this.netnsOf(podId) ?? this.sandboxNetns(podId);
    const child = spawn(NSCONNECT_PATH, [netns, String(port)], { stdio: ['pipe', 'pipe', 'pipe'], env: {} });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.on('error', () => {});
    stream.pipe(child.stdin);
    child.stdout.pipe(stream, { end: true });
    // The client's stream going away (reset, connection gone, or both ends done while the
    // helper is still finishing) ends the helper: not a failure.
    let ended = false;
    stream.once('close', () => {
      ended = true;
      child.kill('SIGKILL');
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', (e) => reject(new BerthError('Unavailable', `cannot run ${NSCONNECT_PATH}: ${e.message}`)));
      child.once('close', (c) => resolve(c));
    });
    if (code !== 0 && !(code === null && ended)) throw new BerthError('Unavailable', err.trim() || `port-forward helper exited with ${code}`);
  }

  /** The sandbox's network namespace through its running init. */
  private sandboxNetns(podId: string): string {
    const c = this.engine.containers.get(podId);
    if (!isUp(c.state.Status) || !c.state.Pid) throw notFound(`pod sandbox ${podId} is not running`);
    return `/proc/${c.state.Pid}/ns/net`;
  }
}
