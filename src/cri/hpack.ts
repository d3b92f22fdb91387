// Just enough HPACK (RFC 7541) to rewrite a client's request headers: a decoder that follows the
// client's dynamic table, and an encoder that writes every field as a plain literal never added
// to a table (so the receiving decoder's table stays empty and nothing needs to agree with it).
import { HUFFMAN_CODES, STATIC_TABLE } from './hpack-tables.ts';

export type HeaderField = [name: string, value: string];

export class HpackError extends Error {}

/** The Huffman code as a binary tree: node i's children at tree[2i], tree[2i+1]; leaves are -1 - symbol. */
let tree: Int32Array | undefined;
function huffmanTree(): Int32Array {
  if (tree) return tree;
  const t: number[] = [0, 0];
  let nodes = 1;
  HUFFMAN_CODES.forEach(({ code, bits }, sym) => {
    let node = 0;
    for (let b = bits - 1; b >= 0; b--) {
      const slot = 2 * node + ((code >>> b) & 1);
      if (b === 0) t[slot] = -1 - sym;
      else {
        if (t[slot] === 0) {
          t[slot] = nodes++;
          t.push(0, 0);
        }
        node = t[slot];
      }
    }
  });
  return (tree = Int32Array.from(t));
}

export function huffmanDecode(buf: Uint8Array): Buffer {
  const t = huffmanTree();
  const out: number[] = [];
  let node = 0;
  let depth = 0; // bits since the last symbol: padding is fewer than 8 one-bits (a prefix of EOS)
  let ones = true;
  for (const byte of buf) {
    for (let b = 7; b >= 0; b--) {
      const bit = (byte >> b) & 1;
      const next = t[2 * node + bit];
      depth++;
      ones &&= bit === 1;
      if (next < 0) {
        out.push(-1 - next);
        node = 0;
        depth = 0;
        ones = true;
      } else if (next === 0) throw new HpackError('invalid Huffman code');
      else node = next;
    }
  }
  if (depth > 7 || !ones) throw new HpackError('invalid Huffman padding');
  return Buffer.from(out);
}

const ENTRY_OVERHEAD = 32;

export class HpackDecoder {
  private table: HeaderField[] = []; // newest first
  private size = 0;
  private max: number;
  private readonly limit: number;

  /** `limit`: the table size the receiver announced (SETTINGS_HEADER_TABLE_SIZE; 4096 unless changed). */
  constructor(limit = 4096) {
    this.limit = limit;
    this.max = limit;
  }

  decode(block: Uint8Array): HeaderField[] {
    const fields: HeaderField[] = [];
    let pos = 0;
    const int = (prefix: number): number => {
      const mask = (1 << prefix) - 1;
      let v = block[pos++] & mask;
      if (v < mask) return v;
      for (let shift = 0; ; shift += 7) {
        if (pos >= block.length || shift > 28) throw new HpackError('bad integer');
        const b = block[pos++];
        v += (b & 0x7f) * 2 ** shift;
        if (!(b & 0x80)) return v;
      }
    };
    const str = (): string => {
      if (pos >= block.length) throw new HpackError('truncated string');
      const huffman = (block[pos] & 0x80) !== 0;
      const len = int(7);
      if (pos + len > block.length) throw new HpackError('truncated string');
      const raw = block.subarray(pos, pos + len);
      pos += len;
      return (huffman ? huffmanDecode(raw) : Buffer.from(raw)).toString('latin1');
    };
    const entry = (index: number): HeaderField => {
      if (index >= 1 && index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1] as HeaderField;
      const e = this.table[index - STATIC_TABLE.length - 1];
      if (!e) throw new HpackError(`bad table index ${index}`);
      return e;
    };
    while (pos < block.length) {
      const b = block[pos];
      if (b & 0x80) {
        fields.push(entry(int(7)));
      } else if ((b & 0xe0) === 0x20) {
        const max = int(5);
        if (max > this.limit) throw new HpackError('table size over the limit');
        this.max = max;
        this.evict(0);
      } else {
        const indexed = (b & 0xc0) === 0x40; // with incremental indexing: 6-bit name index; else 4-bit
        const nameIndex = int(indexed ? 6 : 4);
        const name = nameIndex ? entry(nameIndex)[0] : str();
        const field: HeaderField = [name, str()];
        fields.push(field);
        if (indexed) this.add(field);
      }
    }
    return fields;
  }

  private add(f: HeaderField): void {
    const size = f[0].length + f[1].length + ENTRY_OVERHEAD;
    this.evict(size);
    if (size > this.max) return; // larger than the table: it empties it and is not kept
    this.table.unshift(f);
    this.size += size;
  }

  private evict(room: number): void {
    while (this.table.length && this.size + room > this.max) {
      const [n, v] = this.table.pop()!;
      this.size -= n.length + v.length + ENTRY_OVERHEAD;
    }
  }
}

/** Fields as literals without indexing, with literal names and no Huffman coding. */
export function encodeLiterals(fields: HeaderField[]): Buffer {
  const parts: Buffer[] = [];
  const int = (v: number, prefix: number, first: number) => {
    const mask = (1 << prefix) - 1;
    if (v < mask) return parts.push(Buffer.from([first | v]));
    const bytes = [first | mask];
    v -= mask;
    while (v >= 0x80) {
      bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    bytes.push(v);
    parts.push(Buffer.from(bytes));
  };
  const str = (s: string) => {
    const b = Buffer.from(s, 'latin1');
    int(b.length, 7, 0);
    parts.push(b);
  };
  for (const [n, v] of fields) {
    parts.push(Buffer.from([0]));
    str(n);
    str(v);
  }
  return Buffer.concat(parts);
}
