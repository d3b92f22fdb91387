// `berth daemon`: serves the Docker Engine API until SIGINT/SIGTERM. Containers outlive it.
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
    { name: 'help', type: 'bool' },
  ]);
  // Resource views off for every container this daemon starts (and the commands it runs).
  if (flags.get('proc-views') === false) process.env.BERTH_PROC_VIEWS = '0';
  if (flags.get('help')) {
    ctx.out(`Usage:  berth daemon [-H unix:///run/berth/berth.sock] [-H tcp://HOST:PORT [--tlsverify --tlscacert CA --tlscert CERT --tlskey KEY]]\n\nServe the Docker Engine API (DOCKER_HOST=unix:///run/berth/berth.sock docker ...)\n`);
    return 0;
  }
  if (positionals.length) throw invalid(`"berth daemon" accepts no arguments`);
  const hosts = (flags.get('host') as string[] | undefined) ?? [DEFAULT_SOCKET];
  const tls = tlsFiles(flags);
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
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
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
