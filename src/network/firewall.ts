// Per-network forwarding rules, in one iptables chain per state root (BERTH-<root key>) jumped to
// first from FORWARD: traffic stays inside a network or leaves for the outside world, never
// reaches another berth network; an internal network talks only to itself (and the host).
// Per network, not per container, so attaching a container adds no rule here.
import { execFile } from 'node:child_process';
import { BerthError } from '../core/errors.ts';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function iptables(args: string[]): Promise<{ ok: boolean; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile('iptables', ['-w', '5', ...args], { env: { PATH } }, (e, out, err) => {
      if (e && (e as NodeJS.ErrnoException).code === 'ENOENT') resolve({ ok: false, out: '', err: 'iptables is not installed' });
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

/** Idempotent: creates the chain and its jump if missing, then the network's rules if missing. */
export async function addBridgeRules(rootKey: string, bridge: string, internal: boolean): Promise<void> {
  const chain = chainName(rootKey);
  if (!(await iptables(['-S', chain])).ok) {
    const r = await iptables(['-N', chain]);
    if (!r.ok && !/exists/i.test(r.err)) throw new BerthError('Unavailable', `iptables -N ${chain}: ${r.err.trim()}`);
  }
  if (!(await iptables(['-C', 'FORWARD', '-j', chain])).ok) {
    const r = await iptables(['-I', 'FORWARD', '1', '-j', chain]);
    if (!r.ok) throw new BerthError('Unavailable', `iptables -I FORWARD: ${r.err.trim()}`);
  }
  const rules = bridgeRules(bridge, internal);
  if ((await iptables(['-C', chain, ...rules[0]])).ok) return;
  for (const rule of rules) {
    const r = await iptables(['-A', chain, ...rule]);
    if (!r.ok) throw new BerthError('Unavailable', `iptables -A ${chain} ${rule.join(' ')}: ${r.err.trim()}`);
  }
}

/** Removes the network's rules; the chain and its jump go with the root's last network. */
export async function removeBridgeRules(rootKey: string, bridge: string, internal: boolean): Promise<void> {
  const chain = chainName(rootKey);
  for (const rule of bridgeRules(bridge, internal)) while ((await iptables(['-D', chain, ...rule])).ok) {}
  const left = await iptables(['-S', chain]);
  if (left.ok && left.out.trim().split('\n').filter((l) => l.startsWith('-A ')).length === 0) {
    while ((await iptables(['-D', 'FORWARD', '-j', chain])).ok) {}
    await iptables(['-X', chain]);
  }
}
