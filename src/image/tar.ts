// A push parser for the tar dialects found in image layers: ustar, PAX ('x' and 'g'), GNU long
// names and base-256 numbers, old GNU and v7 headers. Archives are hostile input, so every field is
// validated and anything ambiguous is an error rather than a guess.
import { invalid } from '../core/errors.ts';

export interface TarEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
  mode: number; // permission bits incl. setuid/setgid/sticky, no type bits
  uid: number;
  gid: number;
  size: number;
  mtime: number; // seconds, may be fractional
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
}

export interface TarHandler {
  entry(e: TarEntry): void;
  data(chunk: Buffer): void; // body bytes of the current entry, in order
  endEntry(): void;
}

const BLOCK = 512;
// PAX and GNU long-name bodies are buffered whole; a bound keeps a hostile size from exhausting memory.
const MAX_META = 16 << 20;
const TYPES: Record<string, TarEntry['type'] | undefined> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};
const XATTR = ['SCHILY.xattr.', 'LIBARCHIVE.xattr.'];

const bad = (what: string) => invalid(`invalid tar: ${what}`);

/** Numeric header field: octal text, or GNU base-256 (two's complement) when the top bit is set. */
function num(b: Buffer, off: number, len: number, field: string): number {
  let v = 0;
  if (b[off] & 0x80) {
    // Go's archive/tar convention: bit 6 of the first byte is the sign, the rest is two's complement.
    const inv = b[off] & 0x40 ? 0xff : 0;
    for (let i = off; i < off + len; i++) v = v * 256 + ((b[i] ^ inv) & (i === off ? 0x7f : 0xff));
    if (v > Number.MAX_SAFE_INTEGER) throw bad(`${field} out of range`);
    return inv ? -v - 1 : v;
  }
  let i = off;
  const end = off + len;
  while (i < end && b[i] === 0x20) i++;
  for (; i < end && b[i] !== 0 && b[i] !== 0x20; i++) {
    if (b[i] < 0x30 || b[i] > 0x37) throw bad(`bad ${field} field`);
    v = v * 8 + b[i] - 0x30;
  }
  return v;
}

function str(b: Buffer, off: number, len: number): string {
  const nul = b.indexOf(0, off);
  return b.toString('utf8', off, nul >= 0 && nul < off + len ? nul : off + len);
}

function decimal(v: string, key: string, frac = false): number {
  if (!(frac ? /^-?\d+(\.\d+)?$/ : /^\d+$/).test(v)) throw bad(`bad pax ${key} "${v}"`);
  const n = Number(v);
  if (!frac && !Number.isSafeInteger(n)) throw bad(`pax ${key} out of range`);
  return n;
}

/** PAX records: "<len> <key>=<value>\n", where len counts the whole record. Values stay raw bytes. */
function parsePax(body: Buffer, into: Map<string, Buffer>, global: boolean): void {
  let i = 0;
  while (i < body.length) {
    let j = i;
    let len = 0;
    while (j < body.length && j - i < 12 && body[j] >= 0x30 && body[j] <= 0x39) len = len * 10 + body[j++] - 0x30;
    const end = i + len;
    const eq = body.indexOf(0x3d, j);
    if (j === i || body[j] !== 0x20 || end > body.length || body[end - 1] !== 0x0a || eq < 0 || eq >= end) {
      throw bad('malformed pax record');
    }
    const key = body.toString('utf8', j + 1, eq);
    const value = body.subarray(eq + 1, end - 1);
    // An empty global value deletes the keyword; xattr values may legitimately be empty.
    if (global && !value.length && !XATTR.some((p) => key.startsWith(p))) into.delete(key);
    else into.set(key, value);
    i = end;
  }
}

export class TarParser {
  private readonly handler: TarHandler;
  private readonly hdr = Buffer.alloc(BLOCK);
  private fill = 0; // bytes of a header split across writes
  private state: 'header' | 'body' | 'meta' | 'skip' | 'done' = 'header';
  private remaining = 0; // bytes left of the current body (or of padding, in 'skip')
  private pad = 0; // padding that follows the current body
  private zero = false; // saw one zero block; a second ends the archive
  private meta: Buffer = this.hdr;
  private metaType = '';
  private readonly global = new Map<string, Buffer>();
  private pax: Map<string, Buffer> | null = null;
  private longName: string | null = null;
  private longLink: string | null = null;

  constructor(handler: TarHandler) {
    this.handler = handler;
  }

  write(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && this.state !== 'done') {
      if (this.state === 'header') {
        let block: Buffer;
        if (this.fill === 0 && chunk.length - off >= BLOCK) {
          block = chunk.subarray(off, off + BLOCK);
          off += BLOCK;
        } else {
          const n = Math.min(BLOCK - this.fill, chunk.length - off);
          chunk.copy(this.hdr, this.fill, off, off + n);
          this.fill += n;
          off += n;
          if (this.fill < BLOCK) return;
          this.fill = 0;
          block = this.hdr;
        }
        this.header(block);
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - off);
      const part = chunk.subarray(off, off + n);
      if (this.state === 'body') this.handler.data(part);
      // Copied, not referenced: the caller may reuse its buffers after write() returns.
      else if (this.state === 'meta') part.copy(this.meta, this.meta.length - this.remaining);
      off += n;
      this.remaining -= n;
      if (this.remaining === 0) this.finishBody();
    }
  }

  end(): void {
    if (this.state === 'done') return;
    if (this.state !== 'header' || this.fill || this.pax || this.longName !== null || this.longLink !== null) {
      throw bad('truncated tar: the stream ended inside an entry');
    }
    this.state = 'done';
  }

  private begin(state: 'body' | 'meta' | 'skip', size: number): void {
    this.state = state;
    this.remaining = size;
    this.pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) this.finishBody();
  }

  private finishBody(): void {
    if (this.state === 'body') this.handler.endEntry();
    else if (this.state === 'meta') this.applyMeta();
    if (this.pad) {
      this.state = 'skip';
      this.remaining = this.pad;
      this.pad = 0;
    } else {
      this.state = 'header';
    }
  }

  private header(b: Buffer): void {
    let sum = 0;
    let signed = 0;
    for (let i = 0; i < BLOCK; i++) {
      sum += b[i];
      signed += (b[i] << 24) >> 24;
    }
    if (sum === 0) {
      // Like Go's archive/tar: two zero blocks end the archive, a zero block then a header is corrupt.
      if (this.pax || this.longName !== null || this.longLink !== null) throw bad('end of archive inside an entry');
      if (this.zero) this.state = 'done';
      this.zero = true;
      return;
    }
    if (this.zero) throw bad('lone zero block inside the archive');
    for (let i = 148; i < 156; i++) {
      sum += 0x20 - b[i];
      signed += 0x20 - ((b[i] << 24) >> 24);
    }
    const want = num(b, 148, 8, 'checksum');
    if (want !== sum && want !== signed) throw bad('header checksum mismatch (corrupt or not a tar archive)');

    const flag = String.fromCharCode(b[156]);
    let size = num(b, 124, 12, 'size');
    if (size < 0) throw bad('negative size');
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_META) throw bad(`${flag} header of ${size} bytes is too large`);
      this.metaType = flag;
      this.meta = Buffer.allocUnsafe(size);
      this.begin('meta', size);
      return;
    }

    const rec = (key: string): string | undefined => {
      const v = this.pax?.has(key) ? this.pax.get(key) : this.global.get(key);
      return v?.length ? v.toString('utf8') : undefined; // an empty per-entry value reverts to the header field
    };
    let path = str(b, 0, 100);
    // Only POSIX ustar has a prefix field; old GNU keeps atime/ctime there.
    if (b.toString('latin1', 257, 263) === 'ustar\0' && b[345]) path = `${str(b, 345, 155)}/${path}`;
    path = this.longName ?? rec('path') ?? path;
    let type = TYPES[flag];
    if (type === 'file' && path.endsWith('/')) type = 'dir'; // pre-POSIX tars marked directories only by the slash
    const paxSize = rec('size');
    if (paxSize !== undefined) size = decimal(paxSize, 'size');
    const xattrs = new Map<string, Buffer>();
    for (const m of [this.global, this.pax]) {
      for (const [k, v] of m ?? []) {
        if (k.startsWith(XATTR[0])) xattrs.set(k.slice(XATTR[0].length), v);
        else if (k.startsWith(XATTR[1])) xattrs.set(unescape(k.slice(XATTR[1].length)), Buffer.from(v.toString('latin1'), 'base64'));
      }
    }
    for (const k of xattrs.keys()) if (!k || k.includes('\0')) throw bad(`bad xattr name "${k}"`);
    const uid = rec('uid');
    const gid = rec('gid');
    const mtime = rec('mtime');
    const e: TarEntry = {
      path,
      type: type ?? 'file',
      mode: num(b, 100, 8, 'mode') & 0o7777,
      uid: uid !== undefined ? decimal(uid, 'uid') : num(b, 108, 8, 'uid'),
      gid: gid !== undefined ? decimal(gid, 'gid') : num(b, 116, 8, 'gid'),
      size: type === 'file' ? size : 0, // other types carry no body, whatever the size field says (as in Go)
      mtime: mtime !== undefined ? decimal(mtime, 'mtime', true) : num(b, 136, 12, 'mtime'),
      linkname: this.longLink ?? rec('linkpath') ?? str(b, 157, 100),
      devmajor: num(b, 329, 8, 'devmajor'),
      devminor: num(b, 337, 8, 'devminor'),
      xattrs,
    };
    this.pax = null;
    this.longName = null;
    this.longLink = null;
    if (!type) {
      this.begin('skip', size); // unknown types (GNU sparse, volume labels, ...) are skipped whole
      return;
    }
    if (!path) throw bad('entry with an empty name');
    this.handler.entry(e);
    this.begin('body', e.size);
  }

  private applyMeta(): void {
    const body = this.meta;
    this.meta = this.hdr;
    if (this.metaType === 'x') parsePax(body, (this.pax ??= new Map()), false);
    else if (this.metaType === 'g') parsePax(body, this.global, true);
    else {
      const nul = body.indexOf(0);
      const s = body.toString('utf8', 0, nul >= 0 ? nul : body.length);
      if (this.metaType === 'L') this.longName = s;
      else this.longLink = s;
    }
  }
}

/** libarchive percent-encodes xattr names in its PAX keywords. */
function unescape(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw bad(`bad LIBARCHIVE.xattr name "${s}"`);
  }
}
