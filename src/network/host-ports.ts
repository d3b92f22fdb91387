// Published host ports, claimed machine-wide (kernel/claim.ts: one file per protocol and port,
// naming the root and sandbox), so two containers, or two roots, never publish the same host
// port; a host process already listening there is found by binding the port for a moment.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, conflict, isCode } from '../core/errors.ts';
import { claim, owner, release } from '../kernel/claim.ts';
import { clash, toMappings, type PortBindings, type PortMapping, type Proto } from './ports.ts';

const PORT_CLAIMS = process.env.BERTH_RUN_DIR ? path.join(process.env.BERTH_RUN_DIR, 'ports') : '/run/berth/ports';

/**
 * Claims the host ports of `bindings` for sandbox `id` of the root at `rootDir`. A port claimed
 * by another sandbox of this root is offered to `releaseExited` (its container may have exited
 * with its release still to run), and claimed again if that released it.
 */
export async function claimPorts(rootDir: string, id: string, bindings: PortBindings, releaseExited: (sandbox: string) => Promise<boolean>): Promise<PortMapping[]> {
  fs.mkdirSync(PORT_CLAIMS, { recursive: true, mode: 0o700 });
  const picked: Array<{ proto: Proto; port: number }> = [];
  const random = (proto: Proto, hostIP: string): number => {
    for (let i = 0; i < 200; i++) {
      const port = 32768 + Math.floor(Math.random() * (60999 - 32768));
      if (picked.some((p) => p.port === port && p.proto === proto)) continue;
      if (claimPort(rootDir, id, { hostPort: port, containerPort: 0, protocol: proto, hostIP })) {
        picked.push({ proto, port });
        return port;
      }
    }
    throw conflict('no free host port left to publish on');
  };
  const mappings = toMappings(bindings, random);
  try {
    for (const m of mappings) {
      if (picked.some((p) => p.port === m.hostPort && p.proto === m.protocol)) continue;
      if (!claimPort(rootDir, id, m) && !((await releaseHeld(rootDir, id, m, releaseExited)) && claimPort(rootDir, id, m))) throw conflict(`Bind for ${m.hostIP || '0.0.0.0'}:${m.hostPort} failed: port is already allocated`);
      picked.push({ proto: m.protocol, port: m.hostPort });
    }
    for (const m of mappings) {
      for (let tries = 0; ; tries++) {
        try {
          await hostPortFree(m);
          break;
        } catch (err) {
          // A random port a host process happens to listen on: pick another.
          const wasRandom = !(bindings[`${m.containerPort}/${m.protocol}`] ?? []).some((b) => Number(b.HostPort) === m.hostPort);
          if (!wasRandom || tries >= 20 || !isCode(err, 'Conflict')) throw err;
          unclaimPort(rootDir, m, id);
          m.hostPort = random(m.protocol, m.hostIP);
        }
      }
    }
    for (const a of mappings) for (const b of mappings) if (a !== b && clash(a, b)) throw conflict(`Bind for ${a.hostIP || '0.0.0.0'}:${a.hostPort} failed: port is already allocated`);
  } catch (err) {
    for (const m of mappings) unclaimPort(rootDir, m, id);
    throw err;
  }
  return mappings;
}

/** The port's holder, if another sandbox of this root, handed to `releaseExited`. */
async function releaseHeld(rootDir: string, id: string, m: PortMapping, releaseExited: (sandbox: string) => Promise<boolean>): Promise<boolean> {
  const [holderRoot, holder] = (owner(PORT_CLAIMS, claimName(m)) ?? '').split('\n');
  if (holderRoot !== rootDir || !holder || holder === id) return false;
  return releaseExited(holder);
}

/**
 * Whether a host port could be published now: no live claim on it (any berth root) and no host
 * process listening. For callers that check before they create anything (compose up).
 */
export async function checkPortFree(m: { protocol: Proto; hostPort: number; hostIP: string }): Promise<void> {
  const held = owner(PORT_CLAIMS, claimName(m));
  if (held !== undefined && !portClaimStale(held)) throw conflict(`Bind for ${m.hostIP || '0.0.0.0'}:${m.hostPort} failed: port is already allocated`);
  await hostPortFree({ ...m, containerPort: 0 });
}

/** A port's claim (`<root dir>\n<sandbox id>\n`) is stale once its sandbox's record is gone. */
function portClaimStale(held: string): boolean {
  const [rootDir, holder] = held.split('\n');
  return !rootDir || !holder || !fs.existsSync(path.join(rootDir, 'networks', 'sandboxes', `${holder}.json`));
}

function claimName(m: { protocol: Proto; hostPort: number }): string {
  return `${m.protocol}-${m.hostPort}`;
}

/**
 * A port's claim names the root and the sandbox; one whose sandbox record is gone is stale (a
 * crash between release steps): the record is written before ports are claimed, and removed
 * after they are released.
 */
function claimPort(rootDir: string, id: string, m: PortMapping): boolean {
  return claim(PORT_CLAIMS, claimName(m), `${rootDir}\n${id}\n`, portClaimStale) !== undefined;
}

export function unclaimPort(rootDir: string, m: PortMapping, id: string): void {
  release(PORT_CLAIMS, claimName(m), `${rootDir}\n${id}\n`);
}

/** A host process already listening on the port would be shadowed by the DNAT rule: refuse. */
async function hostPortFree(m: PortMapping): Promise<void> {
  // Loaded here: every command loads this module, few publish ports.
  const [net, dgram] = await Promise.all([import('node:net'), import('node:dgram')]);
  const where = `${m.hostIP || '0.0.0.0'}:${m.hostPort}`;
  const busy = (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE'
    ? conflict(`Bind for ${where} failed: port is already allocated (a host process listens on it)`)
    : new BerthError('Unavailable', `cannot publish ${where}: ${e.message}`));
  return new Promise((resolve, reject) => {
    if (m.protocol === 'udp') {
      const s = dgram.createSocket('udp4');
      s.once('error', (e) => { s.close(); reject(busy(e)); });
      s.bind({ port: m.hostPort, address: m.hostIP || '0.0.0.0', exclusive: true }, () => s.close(() => resolve()));
      return;
    }
    if (m.protocol === 'sctp') return resolve();
    const srv = net.createServer();
    srv.once('error', (e) => reject(busy(e)));
    srv.listen({ port: m.hostPort, host: m.hostIP || '0.0.0.0', exclusive: true }, () => srv.close(() => resolve()));
  });
}
