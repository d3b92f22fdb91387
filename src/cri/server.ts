// The CRI server: gRPC runtime.v1 (RuntimeService and ImageService) on a unix socket, served
// from the handler modules' tables merged into one. A call no module handles answers
// UNIMPLEMENTED; a thrown error becomes a status in errors.ts only. The Stream* calls (the
// kubelet's paged lists) are served from their List* call when no module serves them itself.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { invalid } from '../core/errors.ts';
import type { Engine } from '../engine/engine.ts';
import { PodNetworks } from '../network/pod-network.ts';
import { SRC } from '../util/paths.ts';
import { prepareSocketPath, secureSocket } from '../util/unix-socket.ts';
import { CRI_DEFAULTS, type CriConfig, type CriContext, type Handler, type Handlers } from './context.ts';
import { toStatus, unimplemented } from './errors.ts';
import { rewritingConnection } from './uds-authority.ts';
import { handlers as images } from './images.ts';
import { handlers as runtimeInfo } from './runtime-info.ts';
import { handlers as streams } from './streaming/handlers.ts';
import { handlers as sandboxes } from './sandbox/handlers.ts';
import { handlers as containers } from './container/handlers.ts';

/** The handler modules, merged in this order (a later one may not take a method an earlier one has). */
const MODULES: Array<(ctx: CriContext) => Handlers> = [runtimeInfo, images, streams, sandboxes, containers];

export const PROTO_FILE = path.join(SRC, 'cri', 'runtime-v1.proto');
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

/** The kubelet's message limit (and containerd's): lists of many pods exceed gRPC's 4 MiB default. */
const MAX_MESSAGE = 16 * 1024 * 1024;

/** Stream* call -> the List* call it pages, and the two replies' list fields. */
const STREAMED: Record<string, { list: string; from: string; to: string }> = {
  StreamPodSandboxes: { list: 'ListPodSandbox', from: 'items', to: 'pod_sandboxes' },
  StreamContainers: { list: 'ListContainers', from: 'containers', to: 'containers' },
  StreamContainerStats: { list: 'ListContainerStats', from: 'stats', to: 'container_stats' },
  StreamPodSandboxStats: { list: 'ListPodSandboxStats', from: 'stats', to: 'pod_sandbox_stats' },
  StreamPodSandboxMetrics: { list: 'ListPodSandboxMetrics', from: 'pod_metrics', to: 'pod_sandbox_metrics' },
  StreamImages: { list: 'ListImages', from: 'images', to: 'images' },
};
const PAGE = 500;

let services: { runtime: grpc.ServiceDefinition; image: grpc.ServiceDefinition } | undefined;

/** The two services' definitions, loaded once from the proto. */
export function serviceDefinitions(): { runtime: grpc.ServiceDefinition; image: grpc.ServiceDefinition } {
  if (!services) {
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_FILE, LOADER_OPTIONS)) as any;
    services = { runtime: pkg.runtime.v1.RuntimeService.service, image: pkg.runtime.v1.ImageService.service };
  }
  return services;
}

/** Every module's handlers in one table; two modules claiming one method is a programming error. */
export function mergeHandlers(ctx: CriContext, modules = MODULES): Handlers {
  const all: Handlers = {};
  for (const m of modules) {
    for (const [name, h] of Object.entries(m(ctx))) {
      if (!h) continue;
      if (all[name]) throw new Error(`CRI method ${name} has two handlers`);
      all[name] = h;
    }
  }
  return all;
}

export class CriServer {
  readonly ctx: CriContext;
  private readonly server: grpc.Server;
  private listener?: net.Server;
  private injector?: grpc.ConnectionInjector;
  private readonly connections = new Set<net.Socket>();
  private socket?: string;
  private closed = false;

  constructor(engine: Engine, config: Partial<CriConfig> = {}) {
    const full = { ...CRI_DEFAULTS, ...config };
    const podNetworks = new PodNetworks(engine.root, { confDir: full.cniConfDir, binDirs: full.cniBinDirs });
    this.ctx = { engine, config: full, podNetworks, onClose: [] };
    this.server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE, 'grpc.max_send_message_length': MAX_MESSAGE });
    const table = mergeHandlers(this.ctx);
    const defs = serviceDefinitions();
    for (const def of [defs.runtime, defs.image]) this.server.addService(def, implementation(def, table));
  }

  /** Listens on `unix:///path` (or a plain absolute path): 0660, root and the berth group. */
  async listen(address: string): Promise<void> {
    const file = address.startsWith('unix://') ? address.slice(7) : address;
    if (!file.startsWith('/')) throw invalid(`invalid CRI address "${address}": use unix:///path`);
    if (!(await prepareSocketPath(file))) throw invalid(`another daemon is listening on ${file}`);
    // Connections are accepted here and handed to gRPC through the authority filter (uds-authority.ts).
    const injector = (this.injector = this.server.createConnectionInjector(grpc.ServerCredentials.createInsecure()));
    const listener = (this.listener = net.createServer((conn) => {
      this.connections.add(conn);
      conn.once('close', () => this.connections.delete(conn));
      injector.injectConnection(rewritingConnection(conn));
    }));
    await new Promise<void>((resolve, reject) => listener.once('error', reject).listen(file, () => resolve()));
    secureSocket(file);
    this.socket = file;
  }

  /** Stops taking calls, lets running ones finish for a moment, then ends them and the modules' parts. */
  async close(graceMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stopped = new Promise<void>((resolve) => (this.listener ? this.listener.close(() => resolve()) : resolve()));
    // GOAWAY to every client; calls still running get the grace time, then every connection ends.
    this.injector?.drain(graceMs);
    const end = Date.now() + graceMs;
    while (this.connections.size && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    this.injector?.destroy();
    for (const c of this.connections) c.destroy();
    this.server.forceShutdown();
    await stopped;
    for (const fn of this.ctx.onClose.reverse()) {
      try {
        await fn();
      } catch {}
    }
    if (this.socket) fs.rmSync(this.socket, { force: true });
  }
}

/** A service's implementation: each method to its handler, or UNIMPLEMENTED. */
function implementation(def: grpc.ServiceDefinition, table: Handlers): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(def)) {
    const h = table[name];
    if (method.responseStream) impl[name] = streaming(name, h ?? pagedList(name, table));
    else impl[name] = unary(name, h);
  }
  return impl;
}

const trace = process.env.BERTH_CRI_DEBUG ? (line: string) => process.stderr.write(`cri: ${line}\n`) : undefined;

function unary(name: string, h: Handler | undefined): grpc.handleUnaryCall<any, any> {
  return (call, callback) => {
    const t0 = trace && performance.now();
    Promise.resolve()
      .then(() => {
        if (!h) throw unimplemented(name);
        return h(call.request, call);
      })
      .then(
        (reply) => {
          trace?.(`${name} ok ${(performance.now() - t0!).toFixed(1)} ms`);
          callback(null, reply ?? {});
        },
        (err) => {
          const s = toStatus(err);
          trace?.(`${name} ${grpc.status[s.code!]} ${s.details} ${JSON.stringify(call.request)}`);
          callback(s);
        },
      );
  };
}

function streaming(name: string, h: Handler | undefined): grpc.handleServerStreamingCall<any, any> {
  return (call) => {
    Promise.resolve()
      .then(() => {
        if (!h) throw unimplemented(name);
        return h(call.request, call);
      })
      .catch((err) => {
        const s = toStatus(err);
        trace?.(`${name} ${grpc.status[s.code!]} ${s.details}`);
        call.emit('error', s); // grpc-js ends the stream with this status
      });
  };
}

/** A Stream* call served from its List* handler: the list in pages, then the end of the stream. */
function pagedList(name: string, table: Handlers): Handler | undefined {
  const s = STREAMED[name];
  const list = s && table[s.list];
  if (!s || !list) return undefined;
  return async (req, call) => {
    const stream = call as grpc.ServerWritableStream<any, any>;
    const reply = (await list(req)) as Record<string, unknown[]> | undefined;
    const items = reply?.[s.from] ?? [];
    for (let i = 0; i < items.length; i += PAGE) stream.write({ [s.to]: items.slice(i, i + PAGE) });
    stream.end();
  };
}
