// `berth daemon`: serves the Docker Engine API until SIGINT/SIGTERM. Containers outlive it.
import { invalid } from '../../core/errors.ts';
import { parseArgs } from '../args.ts';
import type { Context } from '../main.ts';
import { DEFAULT_SOCKET } from '../../util/paths.ts';

export async function daemon(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'host', short: 'H', type: 'list' },
    { name: 'proc-views', type: 'bool' },
    { name: 'help', type: 'bool' },
  ]);
  // Resource views off for every container this daemon starts (and the commands it runs).
  if (flags.get('proc-views') === false) process.env.BERTH_PROC_VIEWS = '0';
  if (flags.get('help')) {
    ctx.out(`Usage:  berth daemon [-H unix:///run/berth/berth.sock] [-H tcp://127.0.0.1:PORT]\n\nServe the Docker Engine API (DOCKER_HOST=unix:///run/berth/berth.sock docker ...)\n`);
    return 0;
  }
  if (positionals.length) throw invalid(`"berth daemon" accepts no arguments`);
  const hosts = (flags.get('host') as string[] | undefined) ?? [DEFAULT_SOCKET];
  const [{ ApiServer }, { endOrphanCommands }] = await Promise.all([import('../../api/server.ts'), import('../../api/cli-proxy.ts')]);
  const engine = ctx.engine();
  engine.containers.reconcile(); // what a crash left, before serving
  endOrphanCommands(engine.root.dir);
  const server = new ApiServer(engine);
  for (const h of hosts) ctx.err(`berth daemon: API listening on ${await server.listen(h)}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}
