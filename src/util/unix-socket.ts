// Who may reach a daemon's unix socket: the Docker API and the CRI are both root on this machine,
// so their sockets are root's and a `berth` group's (docker's convention with its docker group).
// A socket file left by a daemon that was killed is replaced; one that still answers is not.
import * as fs from 'node:fs';
import * as net from 'node:net';

/** The gid of the `berth` group from /etc/group, if the host has one. */
export function berthGroup(groupFile = '/etc/group'): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === 'berth' && /^\d+$/.test(gid ?? '')) return Number(gid);
  }
  return undefined;
}

/** A unix socket just bound: 0660, owned by root and the berth group when there is one. */
export function secureSocket(file: string): void {
  fs.chmodSync(file, 0o660);
  const gid = berthGroup();
  if (process.getuid?.() === 0) fs.chownSync(file, 0, gid ?? 0); // a daemon that is not root keeps its own
}

/** Whether a process accepts connections on a unix socket (a live daemon), or it is a stale file. */
export function socketAnswers(file: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ path: file });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Makes `file`'s directory and removes a stale socket there; false when a daemon still answers on it. */
export async function prepareSocketPath(file: string): Promise<boolean> {
  fs.mkdirSync(file.slice(0, file.lastIndexOf('/')) || '/', { recursive: true, mode: 0o755 });
  if (!fs.existsSync(file)) return true;
  if (await socketAnswers(file)) return false;
  fs.rmSync(file, { force: true });
  return true;
}
