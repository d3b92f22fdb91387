// berth network create|ls|inspect|rm|prune|connect|disconnect, and berth port.
import { invalid } from '../../core/errors.ts';
import { portLines } from '../../network/ports.ts';
import { splitPools } from '../../network/ipam-config.ts';
import { labels, parseArgs } from '../args.ts';
import { NETWORK_LIST, networkContext } from '../contexts.ts';
import type { Context } from '../context.ts';
import { formatInspect, formatList } from '../template.ts';

const USAGE = `Usage:  berth network COMMAND

Manage networks

Commands:
  connect     Connect a container to a network
  create      Create a network
  disconnect  Disconnect a container from a network
  inspect     Display detailed information on one or more networks
  ls          List networks
  prune       Remove all unused networks
  rm          Remove one or more networks
`;

/** Runs op for each name; errors are reported per name (docker's behaviour), exit 1 if any failed. */
async function each(ctx: Context, names: string[], op: (n: string) => Promise<void>): Promise<number> {
  let failed = false;
  for (const n of names) {
    try {
      await op(n);
    } catch (err) {
      failed = true;
      ctx.err(`Error response from daemon: ${(err as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

export async function network(ctx: Context, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const admin = () => ctx.engine().networks();
  switch (sub) {
    case 'create': {
      const { flags, positionals } = parseArgs(rest, [
        { name: 'subnet', type: 'list' }, { name: 'gateway', type: 'list' }, { name: 'internal', type: 'bool' },
        { name: 'label', short: 'l', type: 'list' }, { name: 'driver', short: 'd', type: 'string' }, { name: 'opt', short: 'o', type: 'list' },
        { name: 'ipv6', type: 'bool' }, { name: 'ip-range', type: 'list' }, { name: 'aux-address', type: 'list' },
      ]);
      if (positionals.length !== 1) throw invalid('"berth network create" requires exactly 1 argument.');
      const driver = flags.get('driver') as string | undefined;
      if (driver && driver !== 'bridge') throw invalid(`network driver "${driver}" is not available: only "bridge"`);
      // An IPv4 and an IPv6 pool at most; a gateway or range goes with the subnet of its family.
      const v6 = (s: string) => s.includes(':');
      const pick = (name: string, six: boolean) => ((flags.get(name) as string[] | undefined) ?? []).find((x) => v6(x) === six);
      splitPools(((flags.get('subnet') as string[] | undefined) ?? []).map((x) => ({ Subnet: x }))); // one IPv4 pool at most
      const subnet6 = pick('subnet', true);
      const net = await (await admin()).create({
        name: positionals[0], subnet: pick('subnet', false), gateway: pick('gateway', false),
        internal: flags.get('internal') === true, labels: labels(flags.get('label') as string[] | undefined),
        options: labels(flags.get('opt') as string[] | undefined),
        ipRange: pick('ip-range', false), auxAddresses: flags.get('aux-address') ? labels(flags.get('aux-address') as string[]) : undefined,
        ipamOptions: {}, // the docker CLI sends none: dockerd's inspect shows {}
        enableIPv6: flags.get('ipv6') === true,
        ipam6: subnet6 ? [{ Subnet: subnet6, ...(pick('gateway', true) ? { Gateway: pick('gateway', true) } : {}), ...(pick('ip-range', true) ? { IPRange: pick('ip-range', true) } : {}) }] : [],
      });
      ctx.out(net.Id + '\n');
      return 0;
    }
    case 'ls': case 'list': {
      const { flags } = parseArgs(rest, [{ name: 'quiet', short: 'q', type: 'bool' }, { name: 'format', type: 'string' }, { name: 'no-trunc', type: 'bool' }]);
      const nets = (await (await admin()).list()).sort((a, b) => a.Name.localeCompare(b.Name));
      const rows = nets.map((n) => networkContext(n, flags.get('no-trunc') !== true));
      ctx.out(formatList(flags.get('format') as string | undefined, rows, NETWORK_LIST, { quiet: flags.get('quiet') === true }));
      return 0;
    }
    case 'inspect': {
      const { flags, positionals } = parseArgs(rest, [{ name: 'format', short: 'f', type: 'string' }]);
      if (!positionals.length) throw invalid('"berth network inspect" requires at least 1 argument.');
      const a = await admin();
      const out: object[] = [];
      const code = await each(ctx, positionals, async (n) => {
        out.push(await a.inspect(n));
      });
      const shown = formatInspect(flags.get('format') as string | undefined, out);
      ctx.out(shown.out);
      for (const e of shown.errors) ctx.err(`${e}\n`);
      return shown.errors.length ? 1 : code;
    }
    case 'rm': case 'remove': {
      const { positionals } = parseArgs(rest, [{ name: 'force', short: 'f', type: 'bool' }]);
      if (!positionals.length) throw invalid('"berth network rm" requires at least 1 argument.');
      const a = await admin();
      return each(ctx, positionals, async (n) => {
        await a.remove(n);
        ctx.out(n + '\n');
      });
    }
    case 'prune': {
      const { flags } = parseArgs(rest, [{ name: 'force', short: 'f', type: 'bool' }]);
      if (!flags.get('force')) throw invalid('network prune asks for confirmation: pass -f');
      const removed = await (await admin()).prune();
      ctx.out(removed.length ? `Deleted Networks:\n${removed.join('\n')}\n` : '');
      return 0;
    }
    case 'connect': {
      const { flags, positionals } = parseArgs(rest, [{ name: 'alias', type: 'list' }, { name: 'ip', type: 'string' }, { name: 'ip6', type: 'string' }]);
      if (positionals.length !== 2) throw invalid('"berth network connect" requires exactly 2 arguments.');
      await (await admin()).connect(positionals[0], positionals[1], { aliases: flags.get('alias') as string[] | undefined, ip: flags.get('ip') as string | undefined, ip6: flags.get('ip6') as string | undefined });
      return 0;
    }
    case 'disconnect': {
      const { positionals } = parseArgs(rest, [{ name: 'force', short: 'f', type: 'bool' }]);
      if (positionals.length !== 2) throw invalid('"berth network disconnect" requires exactly 2 arguments.');
      await (await admin()).disconnect(positionals[0], positionals[1]);
      return 0;
    }
    default:
      ctx.out(USAGE);
      return sub === undefined || sub === '--help' ? 0 : 125;
  }
}

/** berth port CONTAINER [PRIVATE_PORT[/PROTO]] */
export async function port(ctx: Context, argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, []);
  if (positionals.length < 1 || positionals.length > 2) throw invalid('"berth port" requires 1 or 2 arguments.\nUsage:  berth port CONTAINER [PRIVATE_PORT[/PROTO]]');
  const lines = portLines(ctx.engine().containers.ports(positionals[0]), positionals[1]);
  if (positionals[1] && !lines.length) throw invalid(`No public port '${positionals[1].includes('/') ? positionals[1] : `${positionals[1]}/tcp`}' published for ${positionals[0]}`);
  ctx.out(lines.map((l) => l + '\n').join(''));
  return 0;
}
