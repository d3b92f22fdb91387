// The DNS responder of one user network: listens on the network's gateway address (UDP 53),
// answers the names of the containers attached to it (name, short id, hostname, aliases) from
// the root's sandbox records, and forwards every other query to the host's resolvers. Started by
// the first container that joins the network (sandbox.ts), it exits by itself once no live
// container is attached. Only queries from the network's own subnet are answered.
// Usage: dns-main.ts ROOT NETWORK_ID
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openRoot } from '../core/root.ts';
import { isAlive, selfRef } from '../kernel/process.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { contains, parseIp, parseSubnet } from './cidr.ts';
import { buildAnswer, nameservers, parseQuery, TYPE_A, TYPE_AAAA } from './dns.ts';
import type { SandboxRecord } from './sandbox.ts';
import type { NetworkRecord } from './store.ts';

const [rootDir, netId] = process.argv.slice(2);
if (!rootDir || !/^[a-f0-9]{64}$/.test(netId ?? '')) {
  process.stderr.write('usage: dns-main.ts ROOT NETWORK_ID\n');
  process.exit(2);
}
const root = openRoot(rootDir);
const net = JSON.parse(fs.readFileSync(path.join(root.dir, 'networks', `${netId}.json`), 'utf8')) as NetworkRecord;
const subnet = parseSubnet(net.Subnet);
const sandboxDir = path.join(root.dir, 'networks', 'sandboxes');
const pidFile = path.join(root.dir, 'networks', 'dns', `${netId}.json`);

/** Name -> its IPv4 and IPv6 addresses on this network. */
let table = new Map<string, { v4: string[]; v6: string[] }>();
let tableStamp = -1;
let members = 0;
/** Each linking container's address on this network -> its link aliases -> the linked container's name. */
let linkAliases = new Map<string, Map<string, string>>();

/** Names on this network from the live sandboxes; re-read when the sandbox directory changes. */
function refresh(): void {
  let stamp = 0;
  try {
    stamp = fs.statSync(sandboxDir).mtimeMs;
  } catch {}
  if (stamp === tableStamp) return;
  tableStamp = stamp;
  const next = new Map<string, { v4: string[]; v6: string[] }>();
  const nextLinks = new Map<string, Map<string, string>>();
  let live = 0;
  let files: string[] = [];
  try {
    files = fs.readdirSync(sandboxDir).filter((f) => f.endsWith('.json'));
  } catch {}
  for (const f of files) {
    let sb: SandboxRecord;
    try {
      sb = JSON.parse(fs.readFileSync(path.join(sandboxDir, f), 'utf8'));
    } catch {
      continue;
    }
    if (!(sb.monitor ? isAlive(sb.monitor) : isAlive(sb.owner))) continue;
    for (const a of sb.attachments) {
      if (a.network !== netId) continue;
      live++;
      // Told apart by family (sandbox-types.ts's attachmentIp, not imported: this process stays small).
      const ip = a.result?.ips?.find((x) => !x.address.includes(':'))?.address.split('/')[0];
      if (!ip) continue;
      const ip6 = a.result?.ips?.find((x) => x.address.includes(':'))?.address.split('/')[0];
      for (const n of a.names ?? []) {
        const e = next.get(n.toLowerCase()) ?? { v4: [], v6: [] };
        e.v4.push(ip);
        if (ip6) e.v6.push(ip6);
        next.set(n.toLowerCase(), e);
      }
      if (a.links?.length) nextLinks.set(ip, new Map(a.links.map((l) => [l.alias.toLowerCase(), l.name.toLowerCase()])));
    }
  }
  table = next;
  linkAliases = nextLinks;
  members = live;
}

function upstreams(): string[] {
  try {
    return nameservers(fs.readFileSync('/etc/resolv.conf', 'utf8'));
  } catch {
    return [];
  }
}

/** Relays a query to the host's resolvers, one after the other, 2 s each. */
function forward(msg: Buffer, reply: (b: Buffer) => void, servers: string[]): void {
  const server = servers[0];
  if (!server) {
    const q = parseQuery(msg);
    if (q) reply(buildAnswer(q, [], 2)); // SERVFAIL
    return;
  }
  const s = dgram.createSocket('udp4');
  const timer = setTimeout(() => {
    s.close();
    forward(msg, reply, servers.slice(1));
  }, 2000);
  s.on('message', (m) => {
    clearTimeout(timer);
    s.close();
    reply(m);
  });
  s.on('error', () => {
    clearTimeout(timer);
    s.close();
    forward(msg, reply, servers.slice(1));
  });
  s.send(msg, 53, server);
}

const sock = dgram.createSocket({ type: 'udp4', reuseAddr: false });
sock.on('message', (msg, rinfo) => {
  if (!contains(subnet, parseIp(rinfo.address))) return;
  const reply = (b: Buffer) => sock.send(b, rinfo.port, rinfo.address);
  const q = parseQuery(msg);
  if (!q) return forward(msg, reply, upstreams());
  refresh();
  // A link alias of the asking container names the linked container (docker's: before other names).
  const linked = linkAliases.get(rinfo.address)?.get(q.name);
  const ips = (linked !== undefined ? table.get(linked) : undefined) ?? table.get(q.name);
  if (ips) return reply(buildAnswer(q, q.type === TYPE_A ? ips.v4 : q.type === TYPE_AAAA ? ips.v6 : []));
  // A bare name that is no container's: docker answers NXDOMAIN rather than asking the world.
  if (!q.name.includes('.')) return reply(buildAnswer(q, [], 3));
  forward(msg, reply, upstreams());
});
sock.on('error', (err) => {
  process.stderr.write(`berth dns ${net.Name}: ${err.message}\n`);
  process.exit(1);
});
sock.bind(53, net.Gateway, () => {
  fs.mkdirSync(path.dirname(pidFile), { recursive: true });
  writeFileAtomic(pidFile, JSON.stringify(selfRef()));
  // Ends itself once nobody is attached (checked every 2 s, after a grace period).
  let idle = 0;
  setInterval(() => {
    tableStamp = -1;
    refresh();
    idle = members === 0 ? idle + 1 : 0;
    if (idle >= 3) {
      try {
        if (JSON.parse(fs.readFileSync(pidFile, 'utf8')).pid === process.pid) fs.rmSync(pidFile, { force: true });
      } catch {}
      process.exit(0);
    }
  }, 2000);
});
