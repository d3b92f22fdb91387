// Per-network forwarding rules, in one iptables chain per state root (BERTH-<root key>) jumped to
// first from FORWARD: traffic stays inside a network or leaves for the outside world, never
// reaches another berth network; an internal network talks only to itself (and the host).
// Outbound NAT is one MASQUERADE rule per network too (docker's shape), not the bridge plugin's
// ipMasq, which makes a chain and rules per container: four iptables runs on every ADD and DEL.
// Per network, not per container, so attaching a container adds no rule here. A network with an
// IPv6 half gets the same rules from ip6tables (its own BERTH-<root key> chain in that table).
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { BerthError } from '../core/errors.ts';
import { claimWait } from '../kernel/claim.ts';
import { DEFAULT_PATH } from '../util/paths.ts';

const PATH = DEFAULT_PATH;
/** iptables, found on PATH; BERTH_IPTABLES names another (the tests name a missing one). */
const IPTABLES = process.env.BERTH_IPTABLES || 'iptables';
const IP6TABLES = process.env.BERTH_IP6TABLES || 'ip6tables';

export type Family = 4 | 6;
/** Each family's command, as errors name it (never its path: API errors show no host paths). */
const COMMAND: Record<Family, string> = { 4: 'iptables', 6: 'ip6tables' };
/** One lock file per root key (lockChain), machine-wide as the chains are. */
const CHAIN_LOCKS = process.env.BERTH_RUN_DIR ? path.join(process.env.BERTH_RUN_DIR, 'chains') : '/run/berth/chains';

function iptables(args: string[], family: Family = 4): Promise<{ ok: boolean; out: string; err: string }> {
  const bin = family === 6 ? IP6TABLES : IPTABLES;
  return new Promise((resolve) => {
    execFile(bin, ['-w', '5', ...args], { env: { PATH } }, (e, out, err) => {
      // The command's name, not its path (BERTH_IPTABLES may name one).
      if (e && (e as NodeJS.ErrnoException).code === 'ENOENT') resolve({ ok: false, out: '', err: `${COMMAND[family]} is not installed (install Debian's iptables)` });
      else resolve({ ok: !e, out: String(out), err: String(err) });
    });
  });
}

/** Every berth bridge is named so (berthb + 9 hex): the isolation rule matches them all, and nothing else. */
export const BRIDGE_PREFIX = 'berthb';

export function chainName(rootKey: string): string {
  return `BERTH-${rootKey}`;
}

/** The rules of one network's bridge, in order. Pure. */
export function bridgeRules(bridge: string, internal: boolean): string[][] {
  const rules = [
    ['-i', bridge, '-o', bridge, '-j', 'ACCEPT'],
    ['-i', bridge, '-o', `${BRIDGE_PREFIX}+`, '-j', 'DROP'],
  ];
  if (internal) rules.push(['-i', bridge, '-j', 'DROP'], ['-o', bridge, '-j', 'DROP']);
  else rules.push(['-o', bridge, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'ACCEPT'], ['-i', bridge, '-j', 'ACCEPT']);
  return rules;
}

/** What the rules of one network depend on. */
export interface BridgeNet {
  Bridge: string;
  Subnet: string;
  Internal: boolean;
  /** The IPv6 subnet, for a network with an IPv6 half: its rules go to ip6tables too. */
  Subnet6?: string;
}

/**
 * The network's outbound NAT (nat table, POSTROUTING), or none for an internal network. Pure. The
 * comment names the network as CNI does (berth-<root key>-<network>), so it can be found again.
 */
export function natRule(net: BridgeNet, comment: string, family: Family = 4): string[] | undefined {
  if (net.Internal || (family === 6 && !net.Subnet6)) return undefined;
  const [subnet, multicast] = family === 6 ? [net.Subnet6!, 'ff00::/8'] : [net.Subnet, '224.0.0.0/4'];
  return ['-s', subnet, '!', '-o', net.Bridge, '!', '-d', multicast, '-m', 'comment', '--comment', comment, '-j', 'MASQUERADE'];
}

/** The address families a network's rules are made in. */
function families(net: BridgeNet): Family[] {
  return net.Subnet6 ? [4, 6] : [4];
}

/**
 * The root's chain is shared by its networks and by every process of the root (daemon, CLI,
 * releasers): a create that finds it must not see it dropped, with its jump, by the removal of
 * the root's last network before its own rules are in. So making the chain and its jump, adding
 * or removing a network's rules, and the check "no rule left, drop the chain" all run under one
 * machine-wide lock per root (kernel/claim.ts).
 */
function lockChain(rootKey: string): Promise<() => void> {
  return claimWait(CHAIN_LOCKS, `${rootKey}.lock`, `the iptables chain ${chainName(rootKey)}`, 30_000);
}

/** Idempotent: creates the chain, then its jump, if missing, then the network's rules if missing (per family). */
export async function addBridgeRules(rootKey: string, net: BridgeNet, comment: string): Promise<void> {
  for (const family of families(net)) await addFamilyRules(rootKey, net, comment, family);
}

async function addFamilyRules(rootKey: string, net: BridgeNet, comment: string, family: Family): Promise<void> {
  const { Bridge: bridge, Internal: internal } = net;
  const cmd = COMMAND[family];
  const ipt = (args: string[]) => iptables(args, family);
  const nat = natRule(net, comment, family);
  if (nat && !(await ipt(['-t', 'nat', '-C', 'POSTROUTING', ...nat])).ok) {
    // First in the chain (as docker's): a host's own earlier RETURN or ACCEPT must not shadow it.
    const r = await ipt(['-t', 'nat', '-I', 'POSTROUTING', '1', ...nat]);
    if (!r.ok) throw new BerthError('Unavailable', `${cmd} -t nat -I POSTROUTING: ${r.err.trim()}`);
  }
  const chain = chainName(rootKey);
  const unlock = await lockChain(rootKey);
  try {
    const made = await ipt(['-N', chain]);
    if (!made.ok && !/exists/i.test(made.err)) throw new BerthError('Unavailable', `${cmd} -N ${chain}: ${made.err.trim()}`);
    if (!(await ipt(['-C', 'FORWARD', '-j', chain])).ok) {
      const r = await ipt(['-I', 'FORWARD', '1', '-j', chain]);
      if (!r.ok) throw new BerthError('Unavailable', `${cmd} -I FORWARD: ${r.err.trim()}`);
    }
    const rules = bridgeRules(bridge, internal);
    if ((await ipt(['-C', chain, ...rules[0]])).ok) return;
    for (const rule of rules) {
      const r = await ipt(['-A', chain, ...rule]);
      if (!r.ok) throw new BerthError('Unavailable', `${cmd} -A ${chain} ${rule.join(' ')}: ${r.err.trim()}`);
    }
  } finally {
    unlock();
  }
}

/** Removes the network's rules; the chain and its jump go with the root's last rules (under the same lock as adds). */
export async function removeBridgeRules(rootKey: string, net: BridgeNet, comment: string): Promise<void> {
  for (const family of families(net)) await removeFamilyRules(rootKey, net, comment, family);
}

async function removeFamilyRules(rootKey: string, net: BridgeNet, comment: string, family: Family): Promise<void> {
  const { Bridge: bridge, Internal: internal } = net;
  const ipt = (args: string[]) => iptables(args, family);
  const chain = chainName(rootKey);
  const nat = natRule(net, comment, family);
  if (nat) while ((await ipt(['-t', 'nat', '-D', 'POSTROUTING', ...nat])).ok) {}
  const unlock = await lockChain(rootKey);
  try {
    for (const rule of bridgeRules(bridge, internal)) while ((await ipt(['-D', chain, ...rule])).ok) {}
    const left = await ipt(['-S', chain]);
    if (left.ok && left.out.trim().split('\n').filter((l) => l.startsWith('-A ')).length === 0) {
      while ((await ipt(['-D', 'FORWARD', '-j', chain])).ok) {}
      await ipt(['-X', chain]);
    }
  } finally {
    unlock();
  }
}
