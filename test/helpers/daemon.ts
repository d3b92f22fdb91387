// The API daemon for integration tests: `berth daemon` on a private socket and state root, with
// raw requests and the real docker CLI as its clients.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { BERTH, collect, isRoot, TestRoot, type Result } from './berth.ts';

export const DOCKER = '/usr/local/bin/docker';
export const skip = !isRoot ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : false;

export class Daemon {
  readonly root: TestRoot;
  readonly socket: string;
  private child?: ChildProcess;
  log = '';

  constructor(root: TestRoot) {
    this.root = root;
    this.socket = path.join(root.dir, 'd.sock');
  }

  async start(): Promise<void> {
    const child = spawn(BERTH, ['daemon', '-H', `unix://${this.socket}`], { env: this.root.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (this.log += d));
    child.stderr!.on('data', (d) => (this.log += d));
    this.child = child;
    const end = Date.now() + 15_000;
    while (!(await this.ping())) {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`daemon did not come up: ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  get pid(): number {
    return this.child?.pid ?? 0;
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

  docker(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Result> {
    const child = spawn(DOCKER, args, { env: { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: path.join(this.root.dir, 'docker-config') }, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    return collect(child, opts.timeoutMs ?? 60_000);
  }

  /** The docker CLI on a terminal (util-linux script gives it a pty of the given size). */
  dockerTty(args: string[], rows: number, cols: number): Promise<Result> {
    const cmd = `stty rows ${rows} cols ${cols}; exec ${DOCKER} ${args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}`;
    const child = spawn('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: path.join(this.root.dir, 'docker-config') }, stdio: ['pipe', 'pipe', 'pipe'] });
    return collect(child, 60_000);
  }
}

/** A suite's root with busybox imported and a daemon on it, stopped and cleaned up after. */
export function daemonWithBusybox(set: (root: TestRoot, d: Daemon) => void): void {
  let root: TestRoot | undefined;
  let d: Daemon | undefined;
  before(async () => {
    root = await TestRoot.withBusybox();
    d = new Daemon(root);
    set(root, d);
    await d.start();
  });
  after(async () => {
    await d?.stop();
    await root?.cleanup();
  });
}

