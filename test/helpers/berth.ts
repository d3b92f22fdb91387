// Integration-test harness: a private state root per suite, the busybox image imported into it,
// the real CLI run as a child process, and checks that nothing is left behind.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rootKey } from '../../src/core/root.ts';
import { lxcfsDir } from '../../src/kernel/lxcfs.ts';
import { mountTable } from '../../src/kernel/mounts.ts';
import { bundle, stale } from '../../scripts/bundle.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BERTH = path.join(REPO, 'bin/berth');
// bin/berth runs the bundle (scripts/bundle.ts): test what src/ holds now, not an older build of it.
if (stale()) await bundle();
export const isRoot = process.getuid?.() === 0;

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The busybox rootfs tarball, built once per machine boot into the temp dir. */
export function busyboxTar(): string {
  const out = path.join(os.tmpdir(), `berth-test-busybox-${process.getuid?.()}.tar`);
  if (!fs.existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync(path.join(REPO, 'scripts/mkrootfs.sh'), [tmp]);
    fs.renameSync(tmp, out);
  }
  return out;
}

export class TestRoot {
  readonly dir: string;
  readonly key: string;
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-root-'));
    this.key = rootKey(fs.realpathSync(this.dir));
  }

  /** A fresh root with the busybox image imported: what most suites start from. */
  static async withBusybox(): Promise<TestRoot> {
    const root = new TestRoot();
    await root.importBusybox();
    return root;
  }

  /**
   * The pool of prepared network sandboxes is off unless a test asks for it (BERTH_NETNS_POOL):
   * with it, a root keeps namespaces and interfaces between containers, which the leak checks
   * here would rightly report. network.test.ts tests the pool itself.
   */
  env(): NodeJS.ProcessEnv {
    return { BERTH_NETNS_POOL: '0', ...process.env, BERTH_ROOT: this.dir };
  }

  run(args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<Result> {
    const child = this.spawn(args, opts.input === undefined ? 'ignore' : 'pipe');
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    return collect(child, opts.timeoutMs ?? 60_000);
  }

  spawn(args: string[], stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
    return spawn(BERTH, args, { env: this.env(), stdio: [stdin, 'pipe', 'pipe'] });
  }

  async importBusybox(name = 'busybox:latest'): Promise<void> {
    const r = await this.run(['import', '--change', 'CMD ["sh"]', busyboxTar(), name]);
    if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`);
  }

  /** Kernel objects and files this root's containers could leave behind. */
  leftovers(): string[] {
    const found: string[] = [];
    for (const base of ['/sys/fs/cgroup', ...fs.readdirSync('/sys/fs/cgroup').map((d) => `/sys/fs/cgroup/${d}`)]) {
      const scope = path.join(base, 'berth', this.key);
      try {
        for (const d of fs.readdirSync(scope, { withFileTypes: true })) if (d.isDirectory()) found.push(path.join(scope, d.name));
      } catch {}
    }
    found.push(...this.mounts());
    try {
      for (const n of fs.readdirSync(path.join(this.dir, 'containers'))) found.push(path.join(this.dir, 'containers', n));
    } catch {}
    try {
      for (const n of fs.readdirSync(path.join(this.dir, 'layers'))) if (n.startsWith('.tmp')) found.push(n);
    } catch {}
    // A container's use of the resource views (lxcfs itself is the machine's, shared by all roots).
    try {
      for (const n of fs.readdirSync(path.join(lxcfsDir(), 'users'))) if (n.startsWith(`${this.key}-`)) found.push(`lxcfs user ${n}`);
    } catch {}
    return found;
  }

  /** Mounts of this root's (mountinfo lines) but for its stored layers' images, which stay mounted, shared by their containers. */
  mounts(): string[] {
    const layers = path.join(this.dir, 'layers') + '/';
    const layerMount = (line: string) => mountTable(line).some((m) => m.fstype === 'erofs' && m.source.startsWith(layers) && fs.existsSync(m.source));
    return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(this.dir) && !layerMount(l));
  }

  /** Waits until fn() holds (for state that settles asynchronously), or returns its last value. */
  async until<T>(fn: () => T, ok: (v: T) => boolean, ms = 5000): Promise<T> {
    const end = Date.now() + ms;
    let v = fn();
    while (!ok(v) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
      v = fn();
    }
    return v;
  }

  /** until() for asynchronous probes (such as running berth itself). */
  async eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
    const end = Date.now() + ms;
    let v = await fn();
    while (!ok(v) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      v = await fn();
    }
    return v;
  }

  cgroupDirs(id: string): string[] {
    const out: string[] = [];
    for (const d of fs.readdirSync('/sys/fs/cgroup')) {
      const p = path.join('/sys/fs/cgroup', d, 'berth', this.key, id);
      if (fs.existsSync(p)) out.push(p);
    }
    const v2 = path.join('/sys/fs/cgroup/berth', this.key, id);
    if (fs.existsSync(v2)) out.push(v2);
    return out;
  }

  /**
   * What this root's networking could leave behind: sandbox records, network namespaces, CNI's
   * iptables rules (their comments name the CNI network, berth-<key>-...), address allocations,
   * interfaces enslaved to the root's bridges. Sandboxes are released asynchronously after a
   * container exits: poll this with until().
   */
  netLeftovers(): string[] {
    const found: string[] = [];
    const sandboxes = path.join(this.dir, 'networks', 'sandboxes');
    try {
      for (const n of fs.readdirSync(sandboxes)) found.push(path.join(sandboxes, n));
    } catch {}
    try {
      for (const n of fs.readdirSync('/run/berth/netns')) if (n.startsWith(`berth-${this.key}-`)) found.push(`/run/berth/netns/${n}`);
    } catch {}
    try {
      for (const l of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (l.includes(`berth-${this.key}-`)) found.push(l);
    } catch {}
    // A network's own NAT rule stays while the network does; per-container rules must all go
    // (ip6tables' too: a network with IPv6 has its rules there as well).
    const networkRules = this.networkIds().map((id) => `--comment berth-${this.key}-${id.slice(0, 12)} -j MASQUERADE`);
    for (const save of ['iptables-save', 'ip6tables-save']) {
      for (const table of ['nat', 'filter']) {
        let rules = '';
        try {
          rules = execFileSync(save, ['-t', table], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        } catch {} // no ip6tables here: no IPv6 network could have been made either
        found.push(...rules.split('\n').filter((l) => l.includes(`berth-${this.key}-`) && !networkRules.some((r) => l.endsWith(r))));
      }
    }
    const ipam = path.join(this.dir, 'networks', 'ipam');
    try {
      for (const net of fs.readdirSync(ipam)) {
        for (const f of fs.readdirSync(path.join(ipam, net))) if (/^\d+\.\d+\.\d+\.\d+$/.test(f) || /^[0-9a-f:]*:[0-9a-f:]*$/.test(f)) found.push(path.join(ipam, net, f));
      }
    } catch {}
    const dnsDir = path.join(this.dir, 'networks', 'dns');
    try {
      for (const f of fs.readdirSync(dnsDir)) {
        const ref = JSON.parse(fs.readFileSync(path.join(dnsDir, f), 'utf8')) as { pid: number };
        if (fs.existsSync(`/proc/${ref.pid}`)) found.push(`dns responder ${f} (pid ${ref.pid})`);
      }
    } catch {}
    // The pool's expiry timer (a shell sleeping, then release-main.ts --expire ROOT).
    for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      try {
        if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`--expire\0${this.dir}`)) found.push(`pool timer (pid ${pid})`);
      } catch {}
    }
    for (const b of this.bridges()) {
      let ports = '';
      try {
        ports = execFileSync('ip', ['-o', 'link', 'show', 'master', b], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      } catch {} // the engine removed it meanwhile (the network went idle): nothing is attached
      if (ports) found.push(...ports.split('\n'));
    }
    return found;
  }

  /** The ids of this root's networks. */
  networkIds(): string[] {
    try {
      return fs.readdirSync(path.join(this.dir, 'networks')).filter((n) => /^[a-f0-9]{64}\.json$/.test(n)).map((n) => n.slice(0, 64));
    } catch {
      return [];
    }
  }

  /** The Linux bridges of this root's networks. */
  bridges(): string[] {
    const dir = path.join(this.dir, 'networks');
    try {
      return fs.readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')).Bridge as string)
        .filter((b) => fs.existsSync(`/sys/class/net/${b}`));
    } catch {
      return [];
    }
  }

  /** Releases the root's pooled network sandboxes (after a preparer at work has finished). */
  async drainPool(): Promise<void> {
    const { Networks } = await import('../../src/network/store.ts');
    const { Sandboxes } = await import('../../src/network/sandbox.ts');
    const { openRoot } = await import('../../src/core/root.ts');
    const root = openRoot(this.dir);
    await new Sandboxes(root, new Networks(root), (c) => path.join(this.dir, 'containers', c, 'hosts')).drainPool();
  }

  /** Removes every network of the root (the default bridge too), once their releases are done. */
  async removeNetworks(): Promise<void> {
    await this.drainPool();
    await this.until(() => { try { return fs.readdirSync(path.join(this.dir, 'networks', 'sandboxes')).length; } catch { return 0; } }, (n) => n === 0, 30_000);
    const { Networks } = await import('../../src/network/store.ts');
    const { openRoot } = await import('../../src/core/root.ts');
    const nets = new Networks(openRoot(this.dir));
    for (const n of nets.list()) await nets.remove(n.Id, () => undefined).catch(() => undefined);
  }

  /** Unmounts the root's layer images (which stay mounted while they exist), as before deleting it. */
  async unmountLayers(): Promise<void> {
    const { Engine } = await import('../../src/engine/engine.ts');
    new Engine(this.dir).images.layers.unmountAll();
  }

  async cleanup(): Promise<void> {
    await this.run(['ps', '-a']).catch(() => {});
    const ids = fs.existsSync(path.join(this.dir, 'containers')) ? fs.readdirSync(path.join(this.dir, 'containers')).filter((n) => /^[a-f0-9]{64}$/.test(n)) : [];
    if (ids.length) await this.run(['rm', '-f', ...ids]);
    await this.removeNetworks();
    await this.unmountLayers();
    // The root's cgroup scope went with its last container (the engine's doing, not ours).
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Pids of the processes whose command line is `argv` (a test's processes, found by an unusual argument). */
export function pidsRunning(argv: string[]): string[] {
  const want = argv.map((a) => `${a}\0`).join('');
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === want;
    } catch {
      return false; // gone meanwhile
    }
  });
}

export function collect(child: ChildProcess, timeoutMs: number): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms; stdout=${stdout} stderr=${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
