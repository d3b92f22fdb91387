// /exec/* and docker's exec create: commands run in a running container, and (berth's own
// /berth/cli routes) a remote client's berth command run here, both carried as exec instances.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { isUp } from '../core/container.ts';
import { conflict, invalid, notFound } from '../core/errors.ts';
import { parseSignal } from '../kernel/signals.ts';
import type { ContainerStreams } from '../engine/containers.ts';
import type { Engine } from '../engine/engine.ts';
import { cliStreams, cliWinsizeFile } from './cli-proxy.ts';
import { DEFAULT_DETACH_KEYS, DetachScanner, parseDetachKeys } from './detach.ts';
import { execFailure } from './exec-failure.ts';
import { frame, hidePaths, hijack, readJson, terminalSize, type Call, type Router } from './http.ts';

interface Exec {
  id: string;
  container: string; // '' for a berth command run for a remote client
  cli?: boolean;
  args: string[];
  env: string[];
  user?: string;
  cwd?: string;
  tty: boolean;
  stdin: boolean;
  privileged?: boolean;
  /** Its detach keys (exec create's DetachKeys, docker's default otherwise), read from a terminal's input. */
  detachKeys?: Buffer;
  running: boolean;
  exitCode: number | null;
  /** The signal that ended it, if one did (for a berth command's client to die of it too). */
  signal?: number;
  pid: number;
  monitorPid: number;
}

export class ExecApi {
  private readonly engine: Engine;
  private readonly execs = new Map<string, Exec>();

  constructor(engine: Engine) {
    this.engine = engine;
  }

  private get containers() {
    return this.engine.containers;
  }

  routes(r: Router): void {
    r.on('POST', '/containers/{id}/exec', (c) => this.execCreate(c))
      .on('POST', '/exec/{id}/start', (c) => this.execStart(c))
      .on('POST', '/exec/{id}/resize', (c) => this.execResize(c))
      .on('GET', '/exec/{id}/json', (c) => this.execInspect(c))
      // berth's own: the berth CLI run here for a remote client, then started, resized and
      // inspected as an exec; signals go to it through its monitor.
      .on('POST', '/berth/cli', (c) => this.cliCreate(c))
      .on('POST', '/berth/cli/{id}/kill', (c) => this.cliKill(c));
  }

  private async execCreate(call: Call) {
    const body = await readJson(call.req);
    const cmd = body.Cmd;
    // dockerd checks the command before it looks the container up.
    if (!Array.isArray(cmd) || !cmd.length || cmd.some((x) => typeof x !== 'string')) throw invalid('No exec command specified');
    const c = this.containers.get(call.params.id);
    if (!isUp(c.state.Status)) throw conflict(`Container ${c.record.Id} is not running`);
    if (c.state.Status === 'paused') throw conflict(`Container ${c.record.Id} is paused, unpause the container before exec`);
    // docker-py sends `detachKeys` (dockerd reads JSON keys without regard to case).
    const keys = body.DetachKeys ?? body.detachKeys;
    const detachKeys = parseDetachKeys(typeof keys === 'string' && keys ? keys : DEFAULT_DETACH_KEYS); // a bad one is a 400
    const id = randomBytes(32).toString('hex');
    this.forgetUnstarted(id);
    this.execs.set(id, {
      id, container: c.record.Id, detachKeys, args: cmd as string[], env: (body.Env as string[] | null) ?? [],
      user: (body.User as string) || undefined, cwd: (body.WorkingDir as string) || undefined,
      tty: body.Tty === true, stdin: body.AttachStdin === true, privileged: body.Privileged === true, running: false, exitCode: null, pid: 0, monitorPid: 0,
    });
    this.containers.event(`exec_create: ${execLine(cmd as string[])}`, c.record, { execID: id });
    return { status: 201, body: { Id: id } };
  }

  /** An ended exec stays inspectable a while (clients read its exit code), then is forgotten. */
  private forgetLater(id: string): void {
    setTimeout(() => this.execs.delete(id), 10 * 60_000).unref();
  }

  /** An exec never started (a client that died in between, or never meant to): forgotten after a while. */
  private forgetUnstarted(id: string): void {
    setTimeout(() => {
      const x = this.execs.get(id);
      if (x && !x.running && x.exitCode === null) this.execs.delete(id);
    }, 10 * 60_000).unref();
  }

  private async cliCreate(call: Call) {
    const body = await readJson(call.req);
    const cmd = body.Cmd;
    if (!Array.isArray(cmd) || !cmd.length || cmd.some((x) => typeof x !== 'string')) throw invalid('Cmd: a berth command and its arguments are required');
    // A command, not global flags (the state root is the daemon's), and not another daemon.
    if (cmd[0].startsWith('-')) throw invalid(`Cmd must start with a berth command, not "${cmd[0]}"`);
    if (cmd[0] === 'daemon') throw invalid('berth daemon cannot be run through a daemon');
    const cwd = typeof body.WorkingDir === 'string' ? body.WorkingDir : '';
    if (!cwd.startsWith('/') || !fs.statSync(cwd, { throwIfNoEntry: false })?.isDirectory()) throw invalid(`working directory "${cwd}" does not exist on the daemon's host`);
    const id = randomBytes(32).toString('hex');
    this.forgetUnstarted(id);
    this.execs.set(id, {
      id, container: '', cli: true, args: cmd as string[], env: (body.Env as string[] | null) ?? [], cwd,
      tty: body.Tty === true, stdin: body.AttachStdin === true, running: false, exitCode: null, pid: 0, monitorPid: 0,
    });
    return { status: 201, body: { Id: id } };
  }

  private async cliKill(call: Call) {
    const x = this.exec(call.params.id);
    if (!x.cli) throw notFound(`No such berth command: ${x.id}`);
    if (!x.running) throw conflict(`berth command ${x.id} is not running`);
    process.kill(x.monitorPid, parseSignal(call.query.get('signal') ?? 'TERM'));
    return { status: 204 };
  }

  private exec(id: string): Exec {
    const x = this.execs.get(id);
    if (!x) throw notFound(`No such exec instance: ${id}`);
    return x;
  }

  private async execStart(call: Call) {
    const x = this.exec(call.params.id);
    const body = await readJson(call.req);
    if (x.running || x.exitCode !== null) throw conflict(`Exec instance ${x.id} has already been started`);
    const detach = body.Detach === true;
    // The terminal is the exec's (its create); the stream is raw only when the start asks for a
    // tty, as dockerd frames it: an exec made with a tty and started without one (docker-py's
    // exec_start(tty=False)) sends its terminal's output in stdout frames.
    const tty = x.cli ? body.Tty === true || x.tty : x.tty;
    const raw = x.cli ? tty : body.Tty === true;
    const size = Array.isArray(body.ConsoleSize) && body.ConsoleSize.length === 2 ? { rows: Number(body.ConsoleSize[0]), cols: Number(body.ConsoleSize[1]) } : { rows: 24, cols: 80 };
    // dockerd's exec events: start (also of a command that then fails to run) and die with its code.
    const event = (action: string, extra: Record<string, string> = {}) => {
      if (x.cli) return;
      try {
        this.containers.event(action, this.containers.get(x.container).record, { execID: x.id, ...extra });
      } catch {} // the container went meanwhile
    };
    event(`exec_start: ${execLine(x.args)}`);
    let streams: ContainerStreams;
    try {
      streams = x.cli
        ? await cliStreams(this.engine.root.dir, { args: x.args, env: x.env, cwd: x.cwd ?? '/', tty: tty ? size : undefined, stdin: x.stdin && !detach, execId: x.id })
        : await this.containers.execStreams(x.container, {
          args: x.args, env: x.env, user: x.user, cwd: x.cwd, tty: tty ? size : undefined, stdin: x.stdin && !detach, execId: x.id, privileged: x.privileged,
        });
    } catch (err) {
      // A process that cannot be started is the exec's outcome (exec-failure.ts).
      const failed = execFailure(err, call.version);
      if (!failed) throw err;
      x.exitCode = failed.exitCode;
      this.forgetLater(x.id);
      if (detach) return { status: 200 };
      const conduit = hijack(call, !raw);
      const msg = Buffer.from(`${hidePaths(failed.message)}\r\n`);
      conduit.write(raw ? msg : frame(1, msg));
      conduit.end();
      return;
    }
    x.running = true;
    x.monitorPid = streams.monitorPid;
    streams.exited.then((e) => ((x.exitCode = e.exit), (x.signal = e.signal)), () => (x.exitCode = 126)).finally(() => {
      x.running = false;
      event('exec_die', { exitCode: String(x.exitCode) });
      this.forgetLater(x.id);
    });
    if (detach) {
      streams.stdout.resume();
      streams.stderr.resume();
      return { status: 200 };
    }
    const conduit = hijack(call, !raw);
    let open = 2;
    const done = () => --open === 0 && conduit.end();
    // Backpressure both ways: a slow client pauses the output, a slow command the input.
    const out = (stream: 1 | 2, d: Buffer) => {
      if (!conduit.write(raw ? d : frame(stream, d))) {
        streams.stdout.pause();
        streams.stderr.pause();
      }
    };
    conduit.onDrain(() => {
      streams.stdout.resume();
      streams.stderr.resume();
    });
    streams.stdout.on('data', (d: Buffer) => out(1, d)).on('end', done);
    streams.stderr.on('data', (d: Buffer) => out(2, d)).on('end', done);
    const stdin = streams.stdin;
    // Input paused for a slow command resumes when it drains, or when it is gone (its input is
    // then dropped): a paused socket would never see its client leave.
    stdin?.on('error', () => conduit.resumeInput());
    stdin?.on('close', () => conduit.resumeInput());
    stdin?.on('drain', () => conduit.resumeInput());
    // Detach keys end the client's stream, the command running on (a terminal's input only).
    const scanner = x.tty && x.detachKeys ? new DetachScanner(x.detachKeys) : undefined;
    let detached = false;
    conduit.onInput((d) => {
      if (!stdin || stdin.destroyed || detached) return;
      if (d === null) return void stdin.end();
      const scan = scanner?.feed(d) ?? { pass: d, detach: false };
      if (scan.pass.length && !stdin.write(scan.pass)) conduit.pauseInput();
      if (scan.detach) {
        detached = true;
        conduit.end();
      }
    });
    // A berth command lives for its client: when the client goes away, it hangs up (SIGHUP, as a
    // closed terminal would), its output pipes break, and it is killed if it is still there
    // 10 s later. A container's exec, as docker's, runs on, its output (never paused again:
    // writes to a closed connection report no backpressure) dropped.
    conduit.onClose(() => {
      streams.stdout.resume();
      streams.stderr.resume();
      if (x.cli) {
        streams.stdout.destroy();
        streams.stderr.destroy();
        const hangUp = (sig: NodeJS.Signals) => {
          try {
            if (x.running) process.kill(x.monitorPid, sig);
          } catch {}
        };
        hangUp('SIGHUP');
        setTimeout(() => hangUp('SIGTERM'), 1000).unref();
        setTimeout(() => hangUp('SIGKILL'), 10_000).unref();
      }
    });
  }

  private async execResize(call: Call) {
    const [h, w] = terminalSize(call.query);
    const x = this.exec(call.params.id);
    if (!x.running) throw conflict(`Exec instance ${x.id} is not running`);
    if (x.tty) this.containers.resize(x.monitorPid, x.cli ? cliWinsizeFile(this.engine.root.dir, x.id) : this.containers.winsizeFile(x.container, x.id), h, w);
    return { status: 201 };
  }

  private async execInspect(call: Call) {
    const x = this.exec(call.params.id);
    return {
      status: 200,
      body: {
        ID: x.id, Running: x.running, ExitCode: x.exitCode, ...(x.cli ? { Signal: x.signal ?? 0 } : {}), ProcessConfig: { tty: x.tty, entrypoint: x.args[0], arguments: x.args.slice(1), privileged: x.privileged === true, user: x.user ?? '' },
        OpenStdin: x.stdin, OpenStderr: true, OpenStdout: true, CanRemove: false, ContainerID: x.container, DetachKeys: '', Pid: x.pid,
      },
    };
  }
}

/** An exec's command as dockerd's events spell it: entrypoint, a space, the arguments. */
function execLine(cmd: string[]): string {
  return `${cmd[0]} ${cmd.slice(1).join(' ')}`;
}
