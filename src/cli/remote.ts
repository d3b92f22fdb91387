// `berth` through a daemon (BERTH_HOST, -H, or a user who cannot use the state root while a daemon
// listens): the command runs in the daemon as the same CLI code on the daemon's state root, so it
// behaves exactly as in-process; this side carries its stdio over the API. The daemon's
// /berth/cli creates it, /exec/{id}/start (the 101 hijack) carries the streams (raw with a
// terminal, docker's multiplexed frames without), /exec/{id}/resize follows the terminal,
// /berth/cli/{id}/kill forwards our signals, /exec/{id}/json has the exit status.
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { FORWARDED_SIGNALS, parseSignal } from '../kernel/signals.ts';
import { parseArgs, type FlagSpec } from './args.ts';
import { clientEnvEntry } from '../util/client-env.ts';
import { composeStreams, CREATE_FLAGS, EXEC_FLAGS, START_FLAGS } from './flags.ts';
import { deframer } from '../util/frames.ts';

interface Target {
  socketPath?: string;
  host?: string;
  port?: number;
}

/** The forms `berth daemon -H` listens on: unix:///path (or a bare /path), tcp://HOST:PORT (IPv6 in brackets). */
export function target(address: string): Target | undefined {
  if (address.startsWith('unix://')) return { socketPath: address.slice(7) };
  if (address.startsWith('/')) return { socketPath: address };
  const m = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d+)\/?$/.exec(address);
  return m ? { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) } : undefined;
}

/** What a command does with a terminal and stdin, read with its own flag table (as the docker CLI decides from -i and -t). */
export function streamsOf(argv: string[]): { stdin: boolean; tty: boolean } {
  const [verb, ...rest] = argv;
  const sub = verb === 'image' || verb === 'container' ? rest[0] : verb;
  const args = sub === verb ? rest : rest.slice(1);
  const flags = (specs: FlagSpec[]) => {
    try {
      return parseArgs(args, specs, { stopAtPositional: true });
    } catch {
      return undefined; // a bad command line: the command itself will say so
    }
  };
  switch (sub) {
    case 'run': case 'exec': {
      const f = flags(sub === 'run' ? CREATE_FLAGS : EXEC_FLAGS);
      // Detached, a command never reads the client's stdin (docker's behaviour).
      return { stdin: f?.flags.get('interactive') === true && f.flags.get('detach') !== true, tty: f?.flags.get('tty') === true };
    }
    case 'start': {
      const f = flags(START_FLAGS);
      return { stdin: f?.flags.get('interactive') === true, tty: false };
    }
    case 'attach': return { stdin: !args.includes('--no-stdin'), tty: false };
    case 'compose': return composeStreams(args, process.stdin.isTTY === true);
    case 'load': return { stdin: !args.some((a) => a === '-i' || a === '--input' || a.startsWith('--input=')), tty: false };
    case 'import': return { stdin: args.includes('-'), tty: false };
    // build reads stdin for a context "-" or a Dockerfile "-f -" (also written -f- or --file=-).
    case 'build': return { stdin: args.includes('-') || args.includes('-f-') || args.includes('--file=-'), tty: false };
    case 'login': return { stdin: args.includes('--password-stdin') || !args.some((a) => a === '-p' || a === '--password' || a.startsWith('--password=')), tty: false };
    default: return { stdin: false, tty: false };
  }
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
    // A daemon that stopped answering is an error, not a hang.
    req.setTimeout(30_000, () => req.destroy(new Error('the daemon did not answer within 30 s')));
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

// Signals the client dies of when they killed the command (so does a shell loop around it).
const DEADLY = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGKILL', 'SIGPIPE'] as const;

/** Runs `argv` (a berth command and its arguments) in the daemon at `address`; resolves with its exit status. */
export async function remote(address: string, argv: string[]): Promise<number> {
  const t = target(address);
  if (!t) {
    process.stderr.write(`berth: invalid daemon address "${address}": use unix:///path or tcp://HOST:PORT\n`);
    return 125;
  }
  // A terminal when our stdin and stdout are one and stderr too (where in-process they would all
  // be the same device), or when the command asks for one (-t: its stderr then shares it, as
  // with docker); otherwise pipes, stdout and stderr apart.
  const wants = streamsOf(argv);
  const terminal = !!process.stdin.isTTY && !!process.stdout.isTTY;
  const tty = terminal && (!!process.stderr.isTTY || wants.tty);
  // On a terminal our keys go over (^C reaches the command through its terminal, as it would
  // in-process); otherwise only to a command that reads its stdin, so that a script's loop keeps
  // the rest of its input.
  const attachStdin = tty || wants.stdin;
  const env = ['TERM', 'LANG', 'LC_ALL', 'NO_COLOR', 'BERTH_TRACE'].filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`);
  // compose interpolates its files from the user's environment: ours goes along.
  const user = argv[0] === 'compose' ? clientEnvEntry() : undefined;
  if (user) env.push(user);
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
  socket.setKeepAlive(true, 10_000);
  // A signal goes to the command; a second one (or one the daemon cannot take) ends us here.
  let signalled = 0;
  const local = (sig: NodeJS.Signals) => {
    if (tty) process.stdin.setRawMode(false);
    socket.destroy();
    process.exit(128 + parseSignal(sig));
  };
  const signal = (sig: NodeJS.Signals) => {
    if (++signalled > 1) return local(sig);
    // 409: it is ending already; its output and status are still to come.
    request(t, 'POST', `/berth/cli/${id}/kill?signal=${sig}`).then((r) => r.status >= 300 && r.status !== 409 && local(sig), () => local(sig));
  };
  const resize = () => void request(t, 'POST', `/exec/${id}/resize?h=${process.stdout.rows}&w=${process.stdout.columns}`).catch(() => {});
  for (const s of FORWARDED_SIGNALS) process.on(s, signal);
  if (tty) {
    process.stdin.setRawMode(true);
    process.on('SIGWINCH', resize);
  }
  // End of our input ends the command's (the daemon reads the half-close); pipe() keeps a slow
  // command from making us buffer all of it.
  if (attachStdin) process.stdin.pipe(socket);
  else socket.end();
  await new Promise<void>((resolve) => {
    // Without a terminal, stdout and stderr come in docker's frames.
    const onData = tty ? (d: Buffer) => void process.stdout.write(d) : deframer((stream, body) => void process[stream].write(body));
    if (head.length) onData(head);
    socket.on('data', onData);
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
  if (tty) process.stdin.setRawMode(false);
  process.stdin.unpipe(socket);
  process.stdin.pause();
  for (const s of FORWARDED_SIGNALS) process.off(s, signal);
  process.off('SIGWINCH', resize);
  // The stream ends with the command; its status is the exec's, set as its monitor reports it.
  for (let i = 0; i < 500; i++) {
    const r = await request(t, 'GET', `/exec/${id}/json`).catch(() => undefined);
    if (r?.status === 200 && !r.json.Running && r.json.ExitCode !== null) {
      // Killed by a signal: so are we (a shell loop around us stops at ^C, as it would in-process).
      const sig = DEADLY.find((s) => parseSignal(s) === r.json.Signal);
      if (sig) {
        process.removeAllListeners(sig);
        process.kill(process.pid, sig);
      }
      return r.json.ExitCode as number;
    }
    await new Promise((res) => setTimeout(res, 10));
  }
  process.stderr.write('berth: the daemon did not report the command\'s exit\n');
  return 125;
}
