// `berth daemon` on a test root for integration tests: a private socket and state root, started
// with extra arguments and environment when a test needs them (a broken shim, TLS flags), with
// raw requests, the real docker CLI (plain or on a terminal) and berth itself as its clients.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { BERTH, collect, isRoot, TestRoot, type Result } from './berth.ts';

export const DOCKER = '/usr/local/bin/docker';
export const skip = !isRoot ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : false;

export class TestDaemon {
  readonly root: TestRoot;
  readonly socket: string;
  private child?: ChildProcess;
  /** wrap: a command the daemon runs under (`unshare ... sh -c '...; exec "$@"' sh`). */
  private readonly opts: { env?: NodeJS.ProcessEnv; args?: string[]; socket?: string; wrap?: string[] };
  log = '';

  /** `socket`: another name in the root, for a second daemon on it. */
  constructor(root: TestRoot, opts: { env?: NodeJS.ProcessEnv; args?: string[]; socket?: string; wrap?: string[] } = {}) {
    this.root = root;
    this.opts = opts;
    this.socket = path.join(root.dir, opts.socket ?? 'd.sock');
  }

  /** Starts it; resolves once `ready` holds (default: the unix socket answers /_ping). */
  async start(ready: () => Promise<boolean> = () => this.ping()): Promise<void> {
    const args = ['daemon', '-H', `unix://${this.socket}`, ...(this.opts.args ?? [])];
    const [cmd, ...pre] = [...(this.opts.wrap ?? []), BERTH];
    const child = spawn(cmd, [...pre, ...args], { env: { ...this.root.env(), ...this.opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (this.log += d));
    child.stderr!.on('data', (d) => (this.log += d));
    this.child = child;
    const end = Date.now() + 15_000;
    while (!(await ready())) {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`daemon did not come up: ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  /** Once it is gone: the signal that ended it (null when it exited by itself). */
  async gone(): Promise<NodeJS.Signals | null> {
    const child = this.child;
    if (!child) return null;
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
    return child.signalCode;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await gone;
  }

  ping(): Promise<boolean> {
    return this.request('GET', '/_ping').then((r) => r.status === 200, () => false);
  }

  /** A raw API request on the daemon's socket. */
  request(method: string, p: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socket, path: p, method, headers: body !== undefined ? { 'Content-Type': 'application/json', ...headers } : headers }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** The docker CLI's environment: this daemon (or `host`), a private config directory. */
  private dockerEnv(opts: { host?: string; env?: NodeJS.ProcessEnv }): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: opts.host ?? `unix://${this.socket}`, DOCKER_CONFIG: path.join(this.root.dir, 'docker-config'), ...opts.env };
  }

  docker(args: string[], opts: { input?: string; timeoutMs?: number; host?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
    const child = spawn(DOCKER, args, { env: this.dockerEnv(opts), stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    return collect(child, opts.timeoutMs ?? 60_000);
  }

  /** The docker CLI on a terminal (util-linux script gives it a pty of the given size). */
  dockerTty(args: string[], rows: number, cols: number): Promise<Result> {
    const cmd = `stty rows ${rows} cols ${cols}; exec ${DOCKER} ${args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}`;
    const child = spawn('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env: this.dockerEnv({}), stdio: ['pipe', 'pipe', 'pipe'] });
    return collect(child, 60_000);
  }

  /** berth itself through this daemon. */
  berth(args: string[], timeoutMs = 30_000): Promise<Result> {
    const env: NodeJS.ProcessEnv = { ...process.env, BERTH_HOST: `unix://${this.socket}` };
    delete env.BERTH_ROOT;
    return collect(spawn(BERTH, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
  }
}

/** A suite's root with busybox imported and a daemon on it, stopped and cleaned up after. */
export function daemonWithBusybox(set: (root: TestRoot, d: TestDaemon) => void): void {
  let root: TestRoot | undefined;
  let d: TestDaemon | undefined;
  before(async () => {
    root = await TestRoot.withBusybox();
    d = new TestDaemon(root);
    set(root, d);
    await d.start();
  });
  after(async () => {
    await d?.stop();
    await root?.cleanup();
  });
}

/** A daemon on a suite's own root (made by its outer before), started for the enclosing describe. */
export function daemonFor(root: () => TestRoot): () => TestDaemon {
  let d: TestDaemon | undefined;
  before(async () => {
    d = new TestDaemon(root());
    await d.start();
  });
  after(() => d?.stop());
  return () => d!;
}
