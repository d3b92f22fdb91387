// `berth daemon`: serves the Docker Engine API until SIGINT/SIGTERM. Containers outlive it.
import { invalid } from '../../core/errors.ts';
import { parseArgs } from '../args.ts';
import type { Context } from '../context.ts';
import { DEFAULT_SOCKET } from '../../util/paths.ts';

export async function daemon(ctx: Context, argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, [
    { name: 'host', short: 'H', type: 'list' },
    { name: 'help', type: 'bool' },
  ]);
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
