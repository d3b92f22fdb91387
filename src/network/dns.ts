// The embedded DNS responder's wire format: just enough of RFC 1035 to read a query's question and
// answer it with A or AAAA records (or an empty answer) for container names. Pure.
import { parseIp6 } from './cidr6.ts';

export interface Question {
  id: number;
  name: string; // lower case, no trailing dot
  type: number; // 1 A, 28 AAAA, ...
  /** The question section as received (echoed in the answer). */
  raw: Buffer;
  rd: boolean;
}

export const TYPE_A = 1;
export const TYPE_AAAA = 28;

/** The first question of a standard query, or undefined for anything else (responses, other opcodes, compression in a question). */
export function parseQuery(msg: Buffer): Question | undefined {
  if (msg.length < 12) return undefined;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000 || ((flags >> 11) & 0xf) !== 0 || msg.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off];
    if (len === 0) break;
    if (len > 63 || off + 1 + len > msg.length) return undefined;
    labels.push(msg.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  if (off + 5 > msg.length) return undefined;
  const type = msg.readUInt16BE(off + 1);
  return { id: msg.readUInt16BE(0), name: labels.join('.').toLowerCase(), type, raw: msg.subarray(12, off + 5), rd: (flags & 0x0100) !== 0 };
}

/** An authoritative answer: A (or, for IPv6 addresses, AAAA) records for `ips` (none: NOERROR with no data), or an error code. */
export function buildAnswer(q: Question, ips: string[], rcode = 0): Buffer {
  const answers = ips.map((ip) => {
    const v6 = ip.includes(':');
    const rr = Buffer.alloc(v6 ? 28 : 16);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(v6 ? TYPE_AAAA : TYPE_A, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(600, 6); // docker's TTL for container names
    rr.writeUInt16BE(v6 ? 16 : 4, 10);
    if (v6) {
      const n = parseIp6(ip);
      for (let i = 0; i < 16; i++) rr.writeUInt8(Number((n >> BigInt(120 - 8 * i)) & 0xffn), 12 + i);
    } else ip.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
    return rr;
  });
  const head = Buffer.alloc(12);
  head.writeUInt16BE(q.id, 0);
  head.writeUInt16BE(0x8000 | 0x0400 | (q.rd ? 0x0100 : 0) | 0x0080 | (rcode & 0xf), 2); // QR AA RD RA rcode
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(answers.length, 6);
  return Buffer.concat([head, q.raw, ...answers]);
}

/** The nameservers of a resolv.conf. */
export function nameservers(text: string): string[] {
  return text.split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((s): s is string => !!s && /^[\d.]+$/.test(s));
}
