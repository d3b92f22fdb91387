// Who may reach the daemon: the API is root on this machine, so its unix socket is root's and a
// `berth` group's (docker's convention with its docker group), TCP is only opened when asked
// for, and then either with TLS client certificates (--tlsverify, as dockerd) or with a warning.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { invalid } from '../core/errors.ts';

export { berthGroup, secureSocket } from '../util/unix-socket.ts';

export interface TlsFiles {
  /** --tlsverify: clients must present a certificate signed by `ca`. */
  verify: boolean;
  ca?: string;
  cert: string;
  key: string;
}

/**
 * The listen backlog: the host's limit (net.core.somaxconn), not Node's 511, so that a burst of
 * clients connecting at once is queued rather than refused.
 */
export function listenBacklog(): number {
  try {
    const n = Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
    if (Number.isInteger(n) && n > 0) return n;
  } catch {}
  return 511;
}

/** The server for a TCP address: HTTPS with the given files, else plain HTTP. */
export function tcpServer(tls: TlsFiles | undefined, handler: http.RequestListener): http.Server {
  if (!tls) return http.createServer({ keepAlive: true }, handler);
  const read = (what: string, file: string | undefined) => {
    if (!file) throw invalid(`--${what} is required with --tlsverify`);
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw invalid(`could not read ${what} "${file}": ${(err as Error).message}`);
    }
  };
  return https.createServer({
    keepAlive: true,
    // The docker CLI half-closes a hijacked stream when its input ends (over TLS, a close_notify);
    // the output must still flow back, as over plain HTTP (whose server sockets are half-open).
    allowHalfOpen: true,
    cert: read('tlscert', tls.cert),
    key: read('tlskey', tls.key),
    ...(tls.verify ? { ca: read('tlscacert', tls.ca), requestCert: true, rejectUnauthorized: true } : {}),
    minVersion: 'TLSv1.2',
  }, handler);
}

/** What to say when opening a TCP address; undefined when nothing needs saying. */
export function tcpWarning(address: string, tls: TlsFiles | undefined): string | undefined {
  if (tls?.verify) return undefined;
  const who = tls ? 'any client that can reach it (no client certificates are checked)' : 'any process on this machine, unencrypted and unauthenticated';
  return [
    '',
    `WARNING: the API on ${address} is open to ${who}.`,
    'Access to the API is equivalent to root on this machine: it can run privileged containers',
    'with the host\'s file system mounted. Use the unix socket, or --tlsverify with client certificates',
    '(--tlscacert, --tlscert, --tlskey) as with dockerd.',
    '',
  ].join('\n');
}
