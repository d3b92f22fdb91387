// `berth daemon`: serves the Docker Engine API (and with --cri the Kubernetes CRI beside it, over
// the same engine) until SIGINT/SIGTERM. Containers outlive it.
import { invalid } from '../../core/errors.ts';
import { parseArgs } from '../args.ts';
import type { Context } from '../context.ts';
import { DEFAULT_SOCKET } from '../../util/paths.ts';
import type { TlsFiles } from '../../api/listen.ts';

export async function daemon(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'host', short: 'H', type: 'list' },
    { name: 'tls', type: 'bool' },
    { name: 'tlsverify', type: 'bool' },
    { name: 'tlscacert', type: 'string' },
    { name: 'tlscert', type: 'string' },
    { name: 'tlskey', type: 'string' },
    { name: 'proc-views', type: 'bool' },
    { name: 'cri', type: 'string' },
    { name: 'cni-conf-dir', type: 'string' },
    { name: 'cni-bin-dir', type: 'list' },
    { name: 'registry-config', type: 'string' },
    { name: 'stream-address', type: 'string' },
    { name: 'help', type: 'bool' },
  ]);
  // Resource views off for every container this daemon starts (and the commands it runs).
  if (flags.get('proc-views') === false) process.env.BERTH_PROC_VIEWS = '0';
  if (flags.get('help')) {
    ctx.out(`Usage:  berth daemon [-H unix:///run/berth/berth.sock] [-H tcp://HOST:PORT [--tlsverify --tlscacert CA --tlscert CERT --tlskey KEY]]
                     [--registry-config DIR] [--cri unix:///run/berth/cri.sock [--cni-conf-dir DIR] [--cni-bin-dir DIR[:DIR]]... [--stream-address HOST:PORT]]

Serve the Docker Engine API (DOCKER_HOST=unix:///run/berth/berth.sock docker ...)
and, with --cri, the Kubernetes CRI (kubelet --container-runtime-endpoint unix:///run/berth/cri.sock)

CRI options:
  --cri ADDRESS             Serve the CRI (gRPC runtime.v1) on this unix socket
  --cni-conf-dir DIR        CNI configurations (default /etc/cni/net.d)
  --cni-bin-dir DIR         CNI plugins; repeatable or a colon list (default /opt/cni/bin:/usr/lib/cni)
  --registry-config DIR     Registry hosts' settings, DIR/HOST/hosts.toml (default /etc/berth/certs.d)
  --stream-address H:P      The streaming server's address for exec/attach/port-forward (default 127.0.0.1:0)
`);
    return 0;
  }
  if (positionals.length) throw invalid(`"berth daemon" accepts no arguments`);
  const hosts = (flags.get('host') as string[] | undefined) ?? [DEFAULT_SOCKET];
  const tls = tlsFiles(flags);
  const cri = criOptions(flags);
  // Every pull the daemon makes (Docker API, CRI, proxied commands) reads the registry hosts
  // there: a setting of the daemon, not of the CRI alone.
  const registryConfig = flags.get('registry-config') as string | undefined;
  if (registryConfig) process.env.BERTH_REGISTRY_CONFIG = registryConfig;
  const [{ ApiServer }, { endOrphanCommands }] = await Promise.all([import('../../api/server.ts'), import('../../api/cli-proxy.ts')]);
  const engine = ctx.engine();
  engine.containers.reconcile(); // what a crash left, before serving
  endOrphanCommands(engine.root.dir);
  const server = new ApiServer(engine);
  for (const h of hosts) {
    const warning = await server.listen(h, tls);
    if (warning) ctx.err(warning);
    ctx.err(`berth daemon: API listening on ${h}${tls && !h.startsWith('unix:') && !h.startsWith('/') ? ` (TLS${tls.verify ? ', client certificates verified' : ''})` : ''}\n`);
  }
  let criServer: import('../../cri/server.ts').CriServer | undefined;
  if (cri) {
    const { CriServer } = await import('../../cri/server.ts');
    criServer = new CriServer(engine, cri.config);
    try {
      await criServer.listen(cri.address);
    } catch (err) {
      await Promise.all([server.close(), criServer.close()]);
      throw err;
    }
    ctx.err(`berth daemon: CRI listening on ${cri.address}\n`);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await Promise.all([server.close(), criServer?.close()]);
  return 0;
}

/** --cri and its settings (containerd's CRI plugin's conf_dir, bin_dir, config_path, stream address). */
function criOptions(flags: Map<string, string | boolean | string[]>): { address: string; config: Partial<import('../../cri/context.ts').CriConfig> } | undefined {
  const address = flags.get('cri') as string | undefined;
  const names = ['cni-conf-dir', 'cni-bin-dir', 'stream-address'];
  if (!address) {
    const given = names.find((n) => flags.has(n));
    if (given) throw invalid(`--${given} needs --cri`);
    return undefined;
  }
  if (!/^(unix:\/\/)?\//.test(address)) throw invalid(`invalid --cri address "${address}": use unix:///path`);
  const config: Partial<import('../../cri/context.ts').CriConfig> = {};
  const confDir = flags.get('cni-conf-dir') as string | undefined;
  if (confDir) config.cniConfDir = confDir;
  const binDirs = (flags.get('cni-bin-dir') as string[] | undefined)?.flatMap((d) => d.split(':')).filter(Boolean);
  if (binDirs?.length) config.cniBinDirs = binDirs;
  const registry = flags.get('registry-config') as string | undefined;
  if (registry) config.registryConfigDir = registry;
  const stream = flags.get('stream-address') as string | undefined;
  if (stream !== undefined) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(stream)) throw invalid(`invalid --stream-address "${stream}": use HOST:PORT`);
    config.streamAddress = stream;
  }
  return { address, config };
}

/** dockerd's TLS flags: --tlsverify (implies --tls) needs the CA; either needs a certificate and key. */
function tlsFiles(flags: Map<string, string | boolean | string[]>): TlsFiles | undefined {
  const verify = flags.get('tlsverify') === true;
  if (!verify && flags.get('tls') !== true) {
    if (flags.has('tlscert') || flags.has('tlskey') || flags.has('tlscacert')) throw invalid('--tlscert, --tlskey and --tlscacert need --tls or --tlsverify');
    return undefined;
  }
  const cert = flags.get('tlscert') as string | undefined;
  const key = flags.get('tlskey') as string | undefined;
  const ca = flags.get('tlscacert') as string | undefined;
  if (!cert || !key) throw invalid('--tls and --tlsverify need --tlscert and --tlskey');
  if (verify && !ca) throw invalid('--tlsverify needs --tlscacert (the CA that signs client certificates)');
  return { verify, cert, key, ca };
}
