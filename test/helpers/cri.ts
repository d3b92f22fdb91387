// The CRI for integration tests: `berth daemon --cri` on a test root (a private socket and CNI
// configuration directory, the Docker API beside it as always), a typed gRPC client made from
// berth's own proto (promisified unary calls, server streams as async iterables), and crictl
// when it is there (BERTH_CRICTL names it; tests skip that part, saying so, when it is absent).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { spawn } from 'node:child_process';
import { LOADER_OPTIONS, PROTO_FILE } from '../../src/cri/server.ts';
import type { ImageServiceCalls, Reply, RuntimeServiceCalls } from '../../src/cri/types.ts';
import { collect, type Result, type TestRoot } from './berth.ts';
import { TestDaemon } from './daemon.ts';

export const CRICTL = process.env.BERTH_CRICTL ?? '/tmp/crirt/crictl';
export const hasCrictl = fs.existsSync(CRICTL);

type Calls = RuntimeServiceCalls & ImageServiceCalls;
type Unary = { [M in keyof Calls]: Calls[M]['stream'] extends false ? M : never }[keyof Calls];
type Streamed = Exclude<keyof Calls, Unary>;

/** A gRPC failure as the client sees it: the status code and its details. */
export interface CallError extends Error {
  code: grpc.status;
  details: string;
}

export class CriClient {
  private readonly runtime: grpc.Client & Record<string, Function>;
  private readonly image: grpc.Client & Record<string, Function>;
  private readonly imageMethods: Set<string>;

  constructor(socket: string) {
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_FILE, LOADER_OPTIONS)) as any;
    const address = `unix://${socket}`;
    const opts = { 'grpc.max_receive_message_length': 16 * 1024 * 1024 };
    this.runtime = new pkg.runtime.v1.RuntimeService(address, grpc.credentials.createInsecure(), opts);
    this.image = new pkg.runtime.v1.ImageService(address, grpc.credentials.createInsecure(), opts);
    this.imageMethods = new Set(Object.keys(pkg.runtime.v1.ImageService.service));
  }

  private service(method: string) {
    return this.imageMethods.has(method) ? this.image : this.runtime;
  }

  /** A unary call; rejects with a CallError (code, details). */
  call<M extends Unary>(method: M, req: Reply<Calls[M]['request']> = {} as Reply<Calls[M]['request']>, timeoutMs = 60_000): Promise<Calls[M]['reply']> {
    const svc = this.service(method);
    return new Promise((resolve, reject) => {
      svc[method](req, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, reply: Calls[M]['reply']) => (err ? reject(err) : resolve(reply)));
    });
  }

  /** A server stream's messages as they come; ends with the stream, throws its error status. */
  stream<M extends Streamed>(method: M, req: Reply<Calls[M]['request']> = {} as Reply<Calls[M]['request']>): grpc.ClientReadableStream<Calls[M]['reply']> & AsyncIterable<Calls[M]['reply']> {
    return this.service(method)[method](req);
  }

  close(): void {
    this.runtime.close();
    this.image.close();
  }
}

/** A CNI configuration of the kind the CRI tests use: bridge (berthcri*), host-local, portmap, loopback. */
export function writeCniConf(dir: string, stateDir: string): { bridge: string; subnet: string } {
  const r = randomBytes(3);
  const bridge = `berthcri${r.toString('hex').slice(0, 4)}`;
  const subnet = `10.${200 + (r[2] % 50)}.${r[0]}.0/24`;
  fs.mkdirSync(dir, { recursive: true });
  const conf = {
    cniVersion: '1.0.0',
    name: `berth-test-${bridge}`,
    plugins: [
      { type: 'bridge', bridge, isGateway: true, ipMasq: false, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(stateDir, 'cni-ipam') } },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'loopback' },
    ],
  };
  fs.writeFileSync(path.join(dir, '10-berth-test.conflist'), JSON.stringify(conf, null, 2));
  return { bridge, subnet };
}

export interface CriDaemonOptions {
  /** Write a working CNI configuration into the private conf dir (else it stays empty: NetworkReady false). */
  cni?: boolean;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

/** `berth daemon -H <docker socket> --cri <cri socket> --cni-conf-dir <private dir>` on a test root. */
export class CriDaemon extends TestDaemon {
  readonly criSocket: string;
  readonly cniConfDir: string;
  bridge?: string;
  private clients: CriClient[] = [];

  constructor(root: TestRoot, opts: CriDaemonOptions = {}) {
    const criSocket = path.join(root.dir, 'cri.sock');
    const cniConfDir = path.join(root.dir, 'cni-conf');
    super(root, { env: opts.env, args: ['--cri', `unix://${criSocket}`, '--cni-conf-dir', cniConfDir, '--cni-bin-dir', '/opt/cni/bin:/usr/lib/cni', ...(opts.args ?? [])] });
    this.criSocket = criSocket;
    this.cniConfDir = cniConfDir;
    fs.mkdirSync(cniConfDir, { recursive: true });
    if (opts.cni) this.bridge = writeCniConf(cniConfDir, root.dir).bridge;
  }

  /** Starts it; ready once both the Docker API and the CRI answer. */
  override async start(): Promise<void> {
    await super.start(async () => (await this.ping()) && (await this.criReady()));
  }

  private async criReady(): Promise<boolean> {
    if (!fs.existsSync(this.criSocket)) return false;
    const c = new CriClient(this.criSocket);
    try {
      await c.call('Version', { version: 'v1' }, 2000);
      return true;
    } catch {
      return false;
    } finally {
      c.close();
    }
  }

  /** A client on this daemon's CRI socket (closed when the daemon stops). */
  client(): CriClient {
    const c = new CriClient(this.criSocket);
    this.clients.push(c);
    return c;
  }

  override async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    for (const c of this.clients.splice(0)) c.close();
    await super.stop(signal);
  }

  /** Removes the test bridge the CNI configuration made (the engine never owns it). */
  removeBridge(): void {
    if (this.bridge && fs.existsSync(`/sys/class/net/${this.bridge}`)) spawn('ip', ['link', 'del', this.bridge], { stdio: 'ignore' });
  }

  /** crictl on this daemon's CRI socket (callers check hasCrictl first). */
  crictl(args: string[], timeoutMs = 60_000): Promise<Result> {
    const endpoint = `unix://${this.criSocket}`;
    const child = spawn(CRICTL, ['--runtime-endpoint', endpoint, '--image-endpoint', endpoint, '--timeout', `${Math.ceil(timeoutMs / 1000)}s`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    return collect(child, timeoutMs + 5000);
  }
}
