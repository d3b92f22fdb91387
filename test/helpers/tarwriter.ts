// A minimal tar writer for building test archives, including malformed ones: ustar headers, PAX
// records with binary values, GNU long names and base-256 numbers.

export interface TEntry {
  path: string;
  type?: string; // the typeflag character; '0' by default
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  body?: Buffer | string;
  size?: number; // the header's size field, when it should disagree with the body
  pax?: Record<string, string | Buffer>; // written as an 'x' header before the entry
  gnu?: boolean; // long names through GNU 'L'/'K' headers rather than PAX
  format?: 'ustar' | 'gnu' | 'v7';
}

const enc = (s: string | Buffer) => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s);

function num(b: Buffer, off: number, len: number, v: number): void {
  if (v >= 0 && v < 8 ** (len - 1)) {
    b.write(v.toString(8).padStart(len - 1, '0') + '\0', off, 'latin1');
    return;
  }
  // GNU base-256: big-endian two's complement with the top bit of the first byte set.
  let x = BigInt(v);
  for (let i = off + len - 1; i >= off; i--) {
    b[i] = Number(BigInt.asUintN(8, x));
    x >>= 8n;
  }
  b[off] = (b[off] & 0x7f) | 0x80;
}

export function header(e: TEntry, size: number): Buffer {
  const b = Buffer.alloc(512);
  const name = enc(e.path);
  const format = e.format ?? 'ustar';
  let prefix: Buffer = Buffer.alloc(0);
  let short: Buffer = name;
  if (name.length > 100 && format === 'ustar') {
    const cut = name.lastIndexOf(0x2f, 155);
    if (cut > 0 && name.length - cut - 1 <= 100) {
      prefix = name.subarray(0, cut);
      short = name.subarray(cut + 1);
    }
  }
  short.copy(b, 0, 0, 100);
  num(b, 100, 8, e.mode ?? 0o644);
  num(b, 108, 8, e.uid ?? 0);
  num(b, 116, 8, e.gid ?? 0);
  num(b, 124, 12, size);
  num(b, 136, 12, e.mtime ?? 0);
  b.write(e.type ?? '0', 156, 'latin1');
  enc(e.linkname ?? '').copy(b, 157, 0, 100);
  if (format === 'ustar') b.write('ustar\x0000', 257, 'latin1');
  if (format === 'gnu') b.write('ustar  \0', 257, 'latin1');
  if (format !== 'v7') {
    num(b, 329, 8, e.devmajor ?? 0);
    num(b, 337, 8, e.devminor ?? 0);
  }
  prefix.copy(b, 345);
  checksum(b);
  return b;
}

export function checksum(b: Buffer): void {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i];
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

export function paxBody(records: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(records)) {
    const rest = Buffer.concat([Buffer.from(` ${k}=`), enc(v), Buffer.from('\n')]);
    let len = rest.length + 1;
    while (String(len).length + rest.length !== len) len++;
    parts.push(Buffer.from(String(len)), rest);
  }
  return Buffer.concat(parts);
}

function meta(type: string, body: Buffer): Buffer {
  const name = type === 'L' || type === 'K' ? '././@LongLink' : 'PaxHeaders/x';
  return Buffer.concat([header({ path: name, type, format: type === 'L' || type === 'K' ? 'gnu' : 'ustar' }, body.length), body, pad(body.length)]);
}

export function globalPax(records: Record<string, string | Buffer>): Buffer {
  return meta('g', paxBody(records));
}

export function entry(e: TEntry): Buffer {
  const body = enc(e.body ?? '');
  const out: Buffer[] = [];
  const pax = { ...e.pax };
  let h = e;
  if (e.mtime !== undefined && !Number.isInteger(e.mtime)) {
    pax.mtime ??= String(e.mtime);
    h = { ...h, mtime: Math.floor(e.mtime) };
  }
  if (Buffer.byteLength(e.path) > 100 && e.gnu) {
    out.push(meta('L', Buffer.concat([enc(e.path), Buffer.alloc(1)])));
    h = { ...h, path: e.path.slice(0, 100) };
  } else if (Buffer.byteLength(e.path) > 255) {
    pax.path = e.path;
  }
  if (e.linkname && Buffer.byteLength(e.linkname) > 100) {
    if (e.gnu) out.push(meta('K', Buffer.concat([enc(e.linkname), Buffer.alloc(1)])));
    else pax.linkpath = e.linkname;
  }
  if (Object.keys(pax).length) out.push(meta('x', paxBody(pax)));
  out.push(header(h, e.size ?? body.length), body, pad(body.length));
  return Buffer.concat(out);
}

export const END = Buffer.alloc(1024);

/** A whole archive; raw Buffers are spliced in as they are. */
export function tar(entries: (TEntry | Buffer)[], end = true): Buffer {
  return Buffer.concat([...entries.map((e) => (Buffer.isBuffer(e) ? e : entry(e))), end ? END : Buffer.alloc(0)]);
}
