// Port-forward over the streaming server. SPDY (portforward.k8s.io): the client opens a pair of
// streams per connection, `streamtype` error and data, with the same `port` and `requestid`.
// WebSocket (channel.k8s.io framing): the ports come in the query; port i has channels 2i (data)
// and 2i+1 (error), and the first message we send on each starts with the port (uint16, little
// endian), as the kubelet's server does.
import { Duplex, PassThrough } from 'node:stream';
import type { SpdyStream } from './spdy.ts';
import type { StreamRuntime } from './runtime.ts';
import type { WsConnection } from './websocket.ts';

export interface PortForwardRequest {
  pod_sandbox_id: string;
  port: number[];
}

export const PORTFORWARD_SPDY_PROTOCOLS = ['portforward.k8s.io'];
export const PORTFORWARD_WS_PROTOCOLS = ['v4.channel.k8s.io', 'channel.k8s.io', 'v4.base64.channel.k8s.io', 'base64.channel.k8s.io'];

/** A port from a header or query value; undefined unless 1-65535. */
export function parsePort(v: string | undefined): number | undefined {
  if (!v || !/^\d{1,5}$/.test(v)) return undefined;
  const n = Number(v);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Pairs the client's streams and forwards each pair; returns the connection's stream handler. */
export function spdyPortForward(rt: StreamRuntime, req: PortForwardRequest): (s: SpdyStream) => void {
  const pairs = new Map<string, { error?: SpdyStream; data?: SpdyStream }>();
  return (s) => {
    const type = s.header('streamtype');
    const port = parsePort(s.header('port'));
    if ((type !== 'data' && type !== 'error') || port === undefined) {
      s.destroy();
      return;
    }
    // Old clients send no request id: a data stream follows its error stream (ids two apart).
    const id = s.header('requestid') ?? String(type === 'data' ? s.id - 2 : s.id);
    const pair = pairs.get(id) ?? {};
    if (pair[type]) {
      s.destroy();
      return;
    }
    pair[type] = s;
    pairs.set(id, pair);
    if (type === 'error') s.resume();
    if (!pair.error || !pair.data) return;
    pairs.delete(id);
    const { error, data } = pair;
    rt.portForward(req.pod_sandbox_id, port, data).catch((err: Error) => {
      error.write(`error forwarding port ${port} to pod ${req.pod_sandbox_id}: ${err.message}`);
    }).finally(() => {
      error.end();
      if (!data.writableEnded) data.end();
    });
  };
}

export function wsPortForward(rt: StreamRuntime, req: PortForwardRequest, ports: number[], ws: WsConnection, protocol: string): void {
  const base64 = protocol.includes('base64');
  const send = (ch: number, body: Buffer) => ws.send(base64 ? String.fromCharCode(48 + ch) + body.toString('base64') : Buffer.concat([Buffer.from([ch]), body]), !base64);
  const portBytes = (p: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(p);
    return b;
  };
  const inputs = ports.map(() => new PassThrough());
  ws.onMessage = (msg, binary) => {
    if (!msg.length) return;
    const ch = base64 && !binary ? msg[0] - 48 : msg[0];
    const body = base64 && !binary ? Buffer.from(msg.subarray(1).toString(), 'base64') : msg.subarray(1);
    const input = ch % 2 === 0 ? inputs[ch / 2] : undefined;
    if (input && !input.writableEnded) input.write(body);
  };
  ws.done.then(() => inputs.forEach((i) => i.end()));
  const each = ports.map(async (port, i) => {
    send(2 * i, portBytes(port));
    send(2 * i + 1, portBytes(port));
    // The pod's side of port i: what it sends goes out on channel 2i, as it comes.
    const stream = new Duplex({
      read() {
        inputs[i].resume();
      },
      write(chunk: Buffer, _enc, cb) {
        send(2 * i, chunk);
        ws.drained().then(() => cb());
      },
    });
    inputs[i].on('data', (d: Buffer) => stream.push(d)).on('end', () => stream.push(null));
    try {
      await rt.portForward(req.pod_sandbox_id, port, stream);
    } catch (err) {
      send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${req.pod_sandbox_id}: ${(err as Error).message}`));
    }
  });
  Promise.all(each).finally(() => ws.close());
}
