// RUN --mount=type=ssh: the client's SSH agent, reachable from the RUN container at
// /run/buildkit/ssh_agent.N (or the mount's target), with SSH_AUTH_SOCK pointing at the first.
// The agent's own socket is never put in the container: a socket of the build's (in its scratch
// space) takes its place, with the mount's owner and mode (root, 0600 unless told), and each
// connection to it is passed through to the agent, as BuildKit forwards it through its session.
// `berth build --ssh default|<id>[=<socket>|<key file>,...]` names the agents; key files (without
// a passphrase, as BuildKit takes them) are loaded into an ssh-agent of the RUN's own. Through
// the Engine API there is no session to carry one, so a step that needs an agent fails there
// unless it says required=false.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { BerthError, invalid } from '../core/errors.ts';
import type { Expand } from './state.ts';
import type { RunMount } from './types.ts';

/** An agent to forward: a running agent's socket, or key files to load into one of the build's. */
export type SshAgent = { id: string; socket: string } | { id: string; keys: string[] };

/** `--ssh default`, `--ssh default=$SSH_AUTH_SOCK`, `--ssh <id>=<socket>`, `--ssh <id>=<key>[,<key>]`. */
export function parseSshSpec(spec: string, env: NodeJS.ProcessEnv = process.env): SshAgent {
  const eq = spec.indexOf('=');
  const id = (eq < 0 ? spec : spec.slice(0, eq)).trim();
  if (!id) throw invalid(`invalid --ssh ${JSON.stringify(spec)}: an id is required (default, or <id>=<agent socket or key files>)`);
  const paths = eq < 0 ? [] : spec.slice(eq + 1).split(',').filter(Boolean);
  if (!paths.length) {
    if (!env.SSH_AUTH_SOCK) throw invalid(`--ssh ${id}: no agent socket given and SSH_AUTH_SOCK is not set`);
    paths.push(env.SSH_AUTH_SOCK);
  }
  const stats = paths.map((p) => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) throw invalid(`--ssh ${id}: ${p} does not exist`);
    if (!st.isSocket() && !st.isFile()) throw invalid(`--ssh ${id}: ${p} is neither an SSH agent socket nor a key file`);
    return st;
  });
  if (stats.length === 1 && stats[0].isSocket()) return { id, socket: path.resolve(paths[0]) };
  if (stats.some((st) => st.isSocket())) throw invalid(`--ssh ${id}: one agent socket, or key files, not both`);
  return { id, keys: paths.map((p) => path.resolve(p)) };
}

/** The agent sockets opened for one RUN, by mount; closed once the step is over. */
export interface RunAgents {
  socket(m: RunMount): string | undefined;
  /** SSH_AUTH_SOCK for the command (the first ssh mount's target), if the RUN has ssh mounts. */
  env?: string;
  close(): Promise<void>;
}

/** The container path of the ssh mount at `index` among the RUN's ssh mounts. */
export function sshTarget(m: RunMount, index: number, x: Expand, workdir: string): string {
  if (m.target === undefined) return `/run/buildkit/ssh_agent.${index}`;
  const t = x.word(m.target);
  return t.startsWith('/') ? t : path.posix.join(workdir || '/', t);
}

/**
 * Opens a forwarding socket in scratch space for each ssh mount whose agent was given. `agents`
 * undefined means the build has no client session (the Engine API): only `required=false` mounts
 * may then go without; with a session, a missing id is an error only for `required=true` mounts.
 */
export async function openAgents(mounts: RunMount[], x: Expand, agents: SshAgent[] | undefined, scratch: () => string, workdir: string): Promise<RunAgents> {
  const ssh = mounts.filter((m) => m.type === 'ssh');
  const opened = new Map<RunMount, string>();
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    await Promise.all(closers.map((c) => c()));
  };
  try {
    for (const m of ssh) {
      const id = m.id !== undefined ? x.word(m.id) || 'default' : 'default';
      const agent = agents?.find((a) => a.id === id);
      if (!agent) {
        if (!agents && m.required !== false)
          throw invalid(`RUN --mount=type=ssh,id=${id}: no SSH agent can be forwarded through the Engine API (it carries no BuildKit session): use berth build --ssh ${id}, or mark the mount required=false`);
        if (m.required === true) throw invalid(`RUN --mount=type=ssh: no SSH agent "${id}" forwarded from the client (berth build --ssh ${id}[=<socket>])`);
        continue;
      }
      const dir = scratch();
      let socket: string;
      if ('socket' in agent) socket = agent.socket;
      else {
        const own = await keyAgent(agent.id, agent.keys, dir);
        closers.push(own.close);
        socket = own.socket;
      }
      const at = path.join(dir, 'ssh-agent.sock');
      const mode = m.mode !== undefined ? parseInt(x.word(m.mode), 8) : 0o600;
      const owner = { uid: Number(m.uid !== undefined ? x.word(m.uid) : 0), gid: Number(m.gid !== undefined ? x.word(m.gid) : 0) };
      closers.push(await forward(socket, at, mode, owner));
      opened.set(m, at);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { socket: (m) => opened.get(m), env: ssh.length ? sshTarget(ssh[0], 0, x, workdir) : undefined, close };
}

/** Listens at `at`, passing each connection through to the agent's socket. */
async function forward(agent: string, at: string, mode: number, owner: { uid: number; gid: number }): Promise<() => Promise<void>> {
  const live = new Set<net.Socket>();
  const server = net.createServer((conn) => {
    const up = net.connect(agent);
    live.add(conn).add(up);
    const end = () => {
      conn.destroy();
      up.destroy();
      live.delete(conn);
      live.delete(up);
    };
    conn.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    conn.pipe(up);
    up.pipe(conn);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at, () => resolve());
  });
  fs.chmodSync(at, mode);
  fs.chownSync(at, owner.uid, owner.gid);
  return () =>
    new Promise<void>((resolve) => {
      for (const s of live) s.destroy();
      server.close(() => resolve());
    });
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('error', reject).once('exit', (code) => resolve(code ?? 1));
  });
}

/**
 * An ssh-agent of this RUN's holding the key files, closed with the step. It must also go when this
 * process is killed: ssh-agent is setgid, so a parent-death signal would not survive its exec.
 * Instead it runs a command (`cat` on a pipe from us) and, as ssh-agent does for a command, exits
 * once that command is gone; the command ends when the pipe closes, whichever way we end.
 */
async function keyAgent(id: string, keys: string[], dir: string): Promise<{ socket: string; close: () => Promise<void> }> {
  const socket = path.join(dir, 'key-agent.sock');
  const holder = spawn('ssh-agent', ['-a', socket, 'sh', '-c', 'echo "$SSH_AGENT_PID"; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const gone = exited(holder).catch(() => 1);
  let agentPid = 0;
  holder.stdout!.once('data', (d) => (agentPid = Number(String(d).trim())));
  const close = async () => {
    if (agentPid > 0) {
      try {
        process.kill(agentPid, 'SIGTERM'); // the agent this call started (its pid, as it told us)
      } catch {}
    }
    holder.stdin!.end();
    await gone;
  };
  try {
    for (const end = Date.now() + 10_000; !(agentPid > 0 && fs.existsSync(socket)); ) {
      if (holder.exitCode !== null || Date.now() > end) throw new BerthError('Unavailable', `--ssh ${id}: ssh-agent did not start (is openssh-client installed?)`);
      await new Promise((r) => setTimeout(r, 10));
    }
    // Its own session too: no controlling terminal to ask a passphrase on; no askpass either.
    const add = spawn('ssh-add', ['-q', ...keys], { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH, SSH_AUTH_SOCK: socket, SSH_ASKPASS_REQUIRE: 'never' }, timeout: 10_000 });
    let err = '';
    add.stderr!.on('data', (d) => (err += d));
    if ((await exited(add)) !== 0) throw invalid(`--ssh ${id}: cannot load ${keys.join(', ')} (key files with a passphrase are not supported: add them to an agent): ${err.trim()}`);
    return { socket, close };
  } catch (err) {
    await close();
    throw err;
  }
}
