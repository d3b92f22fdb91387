// berth volume create|ls|inspect|rm|prune
import { invalid } from '../../core/errors.ts';
import { labels, parseArgs } from '../args.ts';
import { VOLUME_LIST, volumeContext } from '../contexts.ts';
import type { Context } from '../context.ts';
import { formatInspect, formatList } from '../template.ts';

const USAGE = `Usage:  berth volume COMMAND

Manage volumes

Commands:
  create      Create a volume
  inspect     Display detailed information on one or more volumes
  ls          List volumes
  prune       Remove unused local volumes
  rm          Remove one or more volumes
`;

export async function volume(ctx: Context, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const containers = () => ctx.engine().containers;
  switch (sub) {
    case 'create': {
      const { flags, positionals } = parseArgs(rest, [
        { name: 'name', type: 'string' }, { name: 'label', short: 'l', type: 'list' },
        { name: 'driver', short: 'd', type: 'string' }, { name: 'opt', short: 'o', type: 'list' },
      ]);
      const driver = flags.get('driver') as string | undefined;
      if (driver && driver !== 'local') throw invalid(`volume driver "${driver}" is not available: only "local"`);
      if ((flags.get('opt') as string[] | undefined)?.length) throw invalid('volume options (-o) are not supported by the local driver yet');
      const v = containers().volumes.create((flags.get('name') as string | undefined) ?? positionals[0], { labels: labels(flags.get('label') as string[] | undefined) });
      ctx.out(v.Name + '\n');
      return 0;
    }
    case 'ls': case 'list': {
      const { flags } = parseArgs(rest, [{ name: 'quiet', short: 'q', type: 'bool' }, { name: 'format', type: 'string' }, { name: 'filter', short: 'f', type: 'list' }]);
      const vols = containers().volumes.list().sort((a, b) => a.Name.localeCompare(b.Name));
      ctx.out(formatList(flags.get('format') as string | undefined, vols.map((v) => volumeContext(v)), VOLUME_LIST, { quiet: flags.get('quiet') === true }));
      return 0;
    }
    case 'inspect': {
      const { flags, positionals } = parseArgs(rest, [{ name: 'format', short: 'f', type: 'string' }]);
      if (!positionals.length) throw invalid('"berth volume inspect" requires at least 1 argument.');
      const out: object[] = [];
      let failed = false;
      for (const n of positionals) {
        try {
          const { Anonymous: _, ...v } = containers().volumes.get(n);
          out.push(v);
        } catch (err) {
          failed = true;
          ctx.err(`Error response from daemon: ${(err as Error).message}\n`);
        }
      }
      const shown = formatInspect(flags.get('format') as string | undefined, out);
      ctx.out(shown.out);
      for (const e of shown.errors) ctx.err(`${e}\n`);
      return failed || shown.errors.length ? 1 : 0;
    }
    case 'rm': case 'remove': {
      const { flags, positionals } = parseArgs(rest, [{ name: 'force', short: 'f', type: 'bool' }]);
      if (!positionals.length) throw invalid('"berth volume rm" requires at least 1 argument.');
      const cs = containers();
      let failed = false;
      for (const n of positionals) {
        try {
          cs.volumes.remove(n, (v) => cs.volumeUser(v), flags.get('force') === true);
          ctx.out(n + '\n');
        } catch (err) {
          failed = true;
          ctx.err(`Error response from daemon: ${(err as Error).message}\n`);
        }
      }
      return failed ? 1 : 0;
    }
    case 'prune': {
      const { flags } = parseArgs(rest, [{ name: 'force', short: 'f', type: 'bool' }, { name: 'all', short: 'a', type: 'bool' }]);
      if (!flags.get('force')) throw invalid('volume prune asks for confirmation: pass -f');
      const cs = containers();
      const removed: string[] = [];
      for (const v of cs.volumes.list()) {
        // docker prunes only anonymous volumes unless --all.
        if (!flags.get('all') && !v.Anonymous) continue;
        if (cs.volumeUser(v.Name)) continue;
        cs.volumes.remove(v.Name, () => undefined);
        removed.push(v.Name);
      }
      ctx.out(removed.length ? `Deleted Volumes:\n${removed.join('\n')}\n\n` : '');
      ctx.out(`Total reclaimed space: 0B\n`);
      return 0;
    }
    default:
      ctx.out(USAGE);
      return sub === undefined || sub === '--help' ? 0 : 125;
  }
}
