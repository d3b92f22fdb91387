// The CRI peers berth is measured against and beside: Debian's containerd 1.6 (CRI built in)
// with runc, run privately (its own root, state, socket, runc root and config; never
// /etc/containerd; only its shims' sockets go to /run/containerd/s, which 1.6 does not move), and a CNI configuration of our own (a bridge named berthcri*, host-local
// IPAM with its state in our directory, portmap) that both runtimes read.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { freePort } from './registry.ts';

export const CONTAINERD = '/usr/bin/containerd';
export const CNI_BIN_DIR = '/usr/lib/cni';

/** A conflist with a berthcri* bridge; returns the directory to give a runtime as its CNI conf dir. */
export function writeCniConf(dir: string, opts: { bridge: string; subnet: string }): string {
  if (!/^berthcri\w{0,7}$/.test(opts.bridge)) throw new Error(`bridge ${opts.bridge}: our bridges are named berthcri*`);
  const confDir = path.join(dir, 'net.d');
  fs.mkdirSync(confDir, { recursive: true });
  const conf = {
    cniVersion: '0.4.0',
    name: opts.bridge,
    plugins: [
      {
        type: 'bridge',
        bridge: opts.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', dataDir: path.join(dir, 'ipam'), ranges: [[{ subnet: opts.subnet }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  fs.writeFileSync(path.join(confDir, '10-berthcri.conflist'), JSON.stringify(conf, null, 2));
  return confDir;
}

/** Waits until a unix socket accepts connections (or the process that should serve it ends). */
export async function waitForSocket(socket: string, child: ChildProcess, what: string, log: () => string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited: ${log().slice(-2000)}`);
    const up = await new Promise<boolean>((resolve) => {
      const c = net.connect(socket, () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > end) throw new Error(`${what} did not come up: ${log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class PrivateContainerd {
  readonly dir: string;
  readonly socket: string;
  private child?: ChildProcess;
  log = '';

  private constructor(dir: string) {
    this.dir = dir;
    this.socket = path.join(dir, 'containerd.sock');
  }

  /**
   * Starts containerd in `dir` with the CRI reading `certsDir` (hosts.toml per registry host) and
   * `cniConfDir`, its pods' sandbox image `sandboxImage`; `runtimeBinary` replaces runc as the
   * runc shim's OCI runtime (its BinaryName), as a node plugs in crun or berth-runtime.
   */
  static async start(dir: string, opts: { certsDir: string; cniConfDir: string; sandboxImage: string; runtimeBinary?: string }): Promise<PrivateContainerd> {
    fs.mkdirSync(dir, { recursive: true });
    const c = new PrivateContainerd(dir);
    const streamPort = await freePort();
    const q = JSON.stringify;
    const config = `version = 2
root = ${q(path.join(dir, 'root'))}
state = ${q(path.join(dir, 'state'))}
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${q(c.socket)}

[ttrpc]
  address = ${q(path.join(dir, 'containerd.sock.ttrpc'))}

[debug]
  level = "warn"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(opts.sandboxImage)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "${streamPort}"
  # Root here may not lower an oom_score_adj (no CAP_SYS_RESOURCE in this VM's sandbox): the pods'
  # -998 is then refused and runc fails every sandbox. This keeps it at containerd's own or above.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = ${q(path.join(dir, 'runc'))}${opts.runtimeBinary ? `\n        BinaryName = ${q(opts.runtimeBinary)}` : ''}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(CNI_BIN_DIR)}
    conf_dir = ${q(opts.cniConfDir)}
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ${q(opts.certsDir)}
`;
    fs.writeFileSync(path.join(dir, 'config.toml'), config);
    const child = spawn(CONTAINERD, ['--config', path.join(dir, 'config.toml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.child = child;
    child.stdout!.on('data', (d) => (c.log += d));
    child.stderr!.on('data', (d) => (c.log += d));
    await waitForSocket(c.socket, child, 'containerd', () => c.log);
    return c;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  /** Stops containerd (its pid only); shims of pods still running stay, as after any containerd stop. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}

/** Unmounts whatever is still mounted under `dir` (deepest first), so it can be removed. */
export function unmountUnder(dir: string): void {
  const real = fs.realpathSync(dir);
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === real || m.startsWith(real + '/')))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
}
