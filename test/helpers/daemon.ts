// `berth daemon` on a test root, started with extra arguments and environment (a broken shim, TLS
// flags), with the docker CLI and raw requests as clients.
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { BERTH, collect, type Result, type TestRoot } from './berth.ts';

export const DOCKER = '/usr/local/bin/docker';

export class TestDaemon {
  readonly root: TestRoot;
  readonly socket: string;
  private child?: ChildProcess;
  private readonly opts: { env?: NodeJS.ProcessEnv; args?: string[] };
  log = '';

  constructor(root: TestRoot, opts: { env?: NodeJS.ProcessEnv; args?: string[] } = {}) {
    this.root = root;
    this.opts = opts;
    this.socket = path.join(root.dir, 'd.sock');
  }

  /** Starts it; resolves once `ready` holds (default: the unix socket answers /_ping). */
  async start(ready: () => Promise<boolean> = () => this.ping()): Promise<void> {
    const args = ['daemon', '-H', `unix://${this.socket}`, ...(this.opts.args ?? [])];
    const child = spawn(BERTH, args, { env: { ...this.root.env(), ...this.opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

  request(method: string, p: string, body?: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socket, path: p, method, headers: body !== undefined ? { 'Content-Type': 'application/json' } : {} }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  docker(args: string[], opts: { timeoutMs?: number; host?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
    const env = { ...process.env, DOCKER_HOST: opts.host ?? `unix://${this.socket}`, DOCKER_CONFIG: path.join(this.root.dir, 'docker-config'), ...opts.env };
    return collect(spawn(DOCKER, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }), opts.timeoutMs ?? 60_000);
  }

  /** berth itself through this daemon. */
  berth(args: string[], timeoutMs = 30_000): Promise<Result> {
    const env: NodeJS.ProcessEnv = { ...process.env, BERTH_HOST: `unix://${this.socket}` };
    delete env.BERTH_ROOT;
    return collect(spawn(BERTH, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
  }
}
