// `berth` through a daemon (BERTH_HOST, -H, or a user who cannot use the state root while a daemon
// listens): the command runs in the daemon as the same CLI code on the daemon's state root, so it
// behaves exactly as in-process; this side carries its stdio over the API. The daemon's
// /berth/cli creates it, /exec/{id}/start (the 101 hijack) carries the streams (raw with a
// terminal, docker's multiplexed frames without), /exec/{id}/resize follows the terminal,
// /berth/cli/{id}/kill forwards our signals, /exec/{id}/json has the exit status.
import * as http from 'node:http';
import type { Socket } from 'node:net';

interface Target {
  socketPath?: string;
  host?: string;
  port?: number;
}

function target(address: string): Target {
  if (address.startsWith('unix://')) return { socketPath: address.slice(7) };
  const m = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(address);
  if (m) return { host: m[1], port: Number(m[2]) };
  throw new Error(`invalid daemon address "${address}": use unix:///path or tcp://HOST:PORT`);
}

function request(t: Target, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...t, method, path, headers: body === undefined ? {} : { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => {
        let json: any;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = { message: text };
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** POST with the 101 upgrade: the connection itself becomes the stream. */
function upgrade(t: Target, path: string, body: unknown): Promise<{ socket: Socket; head: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...t, method: 'POST', path, headers: { 'Content-Type': 'application/json', Connection: 'Upgrade', Upgrade: 'tcp' } });
    req.on('upgrade', (_res, socket: Socket, head: Buffer) => resolve({ socket, head }));
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => reject(new Error(safeMessage(text) || `the daemon answered ${res.statusCode}`)));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function safeMessage(text: string): string {
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    return text;
  }
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/** Runs `argv` (a berth command and its arguments) in the daemon at `address`; resolves with its exit status. */
export async function remote(address: string, argv: string[]): Promise<number> {
  const t = target(address);
  const tty = !!process.stdin.isTTY && !!process.stdout.isTTY;
  // Our stdin goes over when it is a terminal we hand over or data piped in (`load`, `import -`,
  // `run -i`); a terminal we keep (output redirected) stays ours, as with the docker CLI.
  const attachStdin = tty || !process.stdin.isTTY;
  const env = ['TERM', 'LANG', 'LC_ALL', 'NO_COLOR', 'BERTH_TRACE'].filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`);
  let created;
  try {
    created = await request(t, 'POST', '/berth/cli', { Cmd: argv, Env: env, WorkingDir: process.cwd(), Tty: tty, AttachStdin: attachStdin });
  } catch (err) {
    process.stderr.write(`berth: cannot reach the daemon at ${address}: ${(err as Error).message}\n`);
    return 125;
  }
  if (created.status !== 201) {
    process.stderr.write(`berth: ${created.json?.message ?? `the daemon answered ${created.status}`}\n`);
    return 125;
  }
  const id = created.json.Id as string;
  const size = tty ? [process.stdout.rows, process.stdout.columns] : undefined;
  let stream: { socket: Socket; head: Buffer };
  try {
    stream = await upgrade(t, `/exec/${id}/start`, { Detach: false, Tty: tty, ConsoleSize: size });
  } catch (err) {
    process.stderr.write(`berth: ${(err as Error).message}\n`);
    return 125;
  }
  const { socket, head } = stream;
  const signal = (sig: NodeJS.Signals) => void request(t, 'POST', `/berth/cli/${id}/kill?signal=${sig}`).catch(() => {});
  const resize = () => void request(t, 'POST', `/exec/${id}/resize?h=${process.stdout.rows}&w=${process.stdout.columns}`).catch(() => {});
  for (const s of FORWARDED) process.on(s, signal);
  if (tty) {
    process.stdin.setRawMode(true);
    process.on('SIGWINCH', resize);
  }
  if (attachStdin) {
    process.stdin.on('data', (d: Buffer) => socket.write(d));
    // End of our input ends the command's (the daemon reads the half-close).
    process.stdin.on('end', () => socket.end());
  }
  await new Promise<void>((resolve) => {
    let pending: Buffer = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      if (tty) {
        process.stdout.write(d);
        return;
      }
      // docker's frames: stream (1 stdout, 2 stderr), three zero bytes, big-endian length.
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      while (pending.length >= 8) {
        const len = pending.readUInt32BE(4);
        if (pending.length < 8 + len) break;
        const body = pending.subarray(8, 8 + len);
        (pending[0] === 2 ? process.stderr : process.stdout).write(body);
        pending = pending.subarray(8 + len);
      }
    };
    if (head.length) onData(head);
    socket.on('data', onData);
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
  if (tty) process.stdin.setRawMode(false);
  process.stdin.pause();
  for (const s of FORWARDED) process.off(s, signal);
  process.off('SIGWINCH', resize);
  // The stream ends with the command; its status is the exec's, set as its monitor reports it.
  for (let i = 0; i < 500; i++) {
    const r = await request(t, 'GET', `/exec/${id}/json`).catch(() => undefined);
    if (r?.status === 200 && !r.json.Running && r.json.ExitCode !== null) return r.json.ExitCode as number;
    await new Promise((res) => setTimeout(res, 10));
  }
  process.stderr.write('berth: the daemon did not report the command\'s exit\n');
  return 125;
}
