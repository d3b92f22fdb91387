// A throwaway Docker daemon for side-by-side numbers: its own data root, socket and cgroup parent
// (under berth/), no iptables rules, stopped and removed afterwards. No bridge by default; with
// `bridge`, its default network is that Linux bridge (created by the caller, named berth*).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Dockerd {
  host: string;
  /** dockerd's own pid (for its CPU time: /proc/PID/stat). */
  pid: number;
  stop(): Promise<void>;
}

export async function dockerd(work: string, opts: { bridge?: string } = {}): Promise<Dockerd> {
  if (spawnSync('sh', ['-c', 'command -v dockerd']).status !== 0) throw new Error('dockerd is not installed (apt-get install docker.io)');
  const dir = path.join(work, 'dockerd');
  fs.mkdirSync(dir, { recursive: true });
  const sock = path.join(dir, 'docker.sock');
  const log = fs.openSync(path.join(dir, 'log'), 'w');
  const d = spawn('dockerd', [
    '--host', `unix://${sock}`, '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'),
    '--pidfile', path.join(dir, 'pid'), '--bridge', opts.bridge ?? 'none', '--iptables=false', '--ip6tables=false',
    '--cgroup-parent', '/berth/docker-bench', '--storage-driver', 'overlay2',
  ], { stdio: ['ignore', log, log] });
  const host = `unix://${sock}`;
  const deadline = Date.now() + 30_000;
  while (spawnSync('docker', ['-H', host, 'version'], { stdio: 'ignore' }).status !== 0) {
    if (d.exitCode !== null || Date.now() > deadline) {
      d.kill('SIGKILL');
      throw new Error(`dockerd did not start: ${fs.readFileSync(path.join(dir, 'log'), 'utf8').split('\n').slice(-3).join(' ')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    host,
    pid: d.pid ?? 0,
    async stop() {
      d.kill('SIGTERM');
      await new Promise((r) => d.once('exit', r));
      // dockerd leaves its containerd's mounts under its roots; unmount before removal.
      spawnSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
    },
  };
}
