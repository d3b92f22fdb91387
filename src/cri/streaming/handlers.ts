// The CRI's Exec, Attach and PortForward: each checks its request and answers the streaming
// server's URL for it (the streams themselves are the server's: server.ts). Unless the context
// already has one, the streaming server starts with the handlers, on the configured address, and
// closes with the CRI server.
import { isUp } from '../../core/container.ts';
import type { Container } from '../../engine/container/types.ts';
import { BerthError, conflict, invalid, notFound } from '../../core/errors.ts';
import type { Engine } from '../../engine/engine.ts';
import type { CriContext, Handlers } from '../context.ts';
import type { AttachRequest } from './attach.ts';
import type { ExecRequest } from './exec.ts';
import type { PortForwardRequest } from './portforward.ts';
import { EngineStreamRuntime } from './runtime.ts';
import { StreamingServer } from './server.ts';

const KIND = 'io.berth.cri.kind';

/** A CRI container or sandbox by id: berth containers that are not of that kind are not found. */
function criObject(engine: Engine, id: unknown, kind: 'container' | 'sandbox'): Container {
  const what = kind === 'sandbox' ? 'pod sandbox' : 'container';
  if (typeof id !== 'string' || !id) throw invalid(`${what} id is required`);
  let c: Container;
  try {
    c = engine.containers.get(id);
  } catch (err) {
    if (err instanceof BerthError && err.code === 'NotFound') throw notFound(`${what} "${id}" not found`);
    throw err;
  }
  if (c.record.Config.Labels?.[KIND] !== kind) throw notFound(`${what} "${id}" not found`);
  return c;
}

function running(c: Container, what: string): void {
  if (!isUp(c.state.Status) || c.state.Status === 'paused') throw conflict(`${what} ${c.record.Id} is not running`);
}

/** The context's streaming server, or a new one over the engine (ports through the pod's netns). */
function streamingOf(ctx: CriContext): Promise<NonNullable<CriContext['streaming']>> {
  if (ctx.streaming) return Promise.resolve(ctx.streaming);
  const server = new StreamingServer(new EngineStreamRuntime(ctx.engine, (podId) => ctx.podNetworks?.get(podId)?.netns), ctx.config.streamAddress);
  ctx.streaming = server;
  ctx.onClose.push(() => server.close());
  const started = server.start().then(() => server, (err: Error) => {
    throw new BerthError('Unavailable', `the streaming server cannot listen on ${ctx.config.streamAddress}: ${err.message}`);
  });
  started.catch(() => {}); // reported to each call
  return started;
}

/** The stdio a request asks for, checked as the kubelet's streaming server checks it. */
function stdio(req: Record<string, unknown>) {
  const s = { tty: req.tty === true, stdin: req.stdin === true, stdout: req.stdout === true, stderr: req.stderr === true };
  if (!s.stdin && !s.stdout && !s.stderr) throw invalid('one of stdin, stdout, or stderr must be set');
  if (s.tty && s.stderr) throw invalid('tty and stderr cannot both be true');
  return s;
}

export function handlers(ctx: CriContext): Handlers {
  const ready = streamingOf(ctx);
  const url = async (kind: 'exec' | 'attach' | 'portforward', req: object) => ({ url: (await ready).url(kind, req) });
  return {
    async Exec(req: any) {
      const cmd = req.cmd;
      if (!Array.isArray(cmd) || !cmd.length || cmd.some((a: unknown) => typeof a !== 'string')) throw invalid('cmd must be a non-empty list of strings');
      const c = criObject(ctx.engine, req.container_id, 'container');
      running(c, 'container');
      const r: ExecRequest = { container_id: c.record.Id, cmd, ...stdio(req) };
      return url('exec', r);
    },
    async Attach(req: any) {
      const c = criObject(ctx.engine, req.container_id, 'container');
      running(c, 'container');
      const r: AttachRequest = { container_id: c.record.Id, ...stdio(req) };
      return url('attach', r);
    },
    async PortForward(req: any) {
      const c = criObject(ctx.engine, req.pod_sandbox_id, 'sandbox');
      if (!isUp(c.state.Status)) throw conflict(`pod sandbox ${c.record.Id} is not ready`);
      const ports = (Array.isArray(req.port) ? req.port : []).map(Number);
      if (ports.some((p: number) => !(Number.isInteger(p) && p >= 1 && p <= 65535))) throw invalid(`invalid port in ${JSON.stringify(req.port)}`);
      const r: PortForwardRequest = { pod_sandbox_id: c.record.Id, port: ports };
      return url('portforward', r);
    },
  };
}
