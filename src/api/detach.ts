// docker's detach keys (`detachKeys`, default ctrl-p,ctrl-q): a sequence in an attached client's
// input that ends the attachment, the container running on. Pure: parsed and scanned here.
import { invalid } from '../core/errors.ts';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** "ctrl-p,ctrl-q", "a,ctrl-@"... into bytes; docker's message for anything else. */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const key of spec.split(',')) {
    const k = key.trim().toLowerCase();
    if (k.length === 1) out.push(key.trim().charCodeAt(0));
    else if (/^ctrl-[a-z]$/.test(k)) out.push(k.charCodeAt(5) - 96);
    else if (/^ctrl-[@[\\\]^_]$/.test(k)) out.push('@[\\]^_'.indexOf(k[5]) === 0 ? 0 : 27 + '[\\]^_'.indexOf(k[5]));
    else throw invalid(`Invalid detach keys (${spec}) provided`);
  }
  return Buffer.from(out);
}

/**
 * Scans input for the sequence: bytes that may start it are held back until it is complete
 * (detach: they are dropped) or broken (they pass on).
 */
export class DetachScanner {
  private readonly keys: Buffer;
  private matched = 0;
  constructor(keys: Buffer) {
    this.keys = keys;
  }

  feed(data: Buffer): { pass: Buffer; detach: boolean } {
    const pass: number[] = [];
    for (const b of data) {
      if (b === this.keys[this.matched]) {
        if (++this.matched === this.keys.length) return { pass: Buffer.from(pass), detach: true };
        continue;
      }
      // Broken: what was held goes through; this byte may start the sequence again.
      for (let i = 0; i < this.matched; i++) pass.push(this.keys[i]);
      this.matched = b === this.keys[0] ? 1 : 0;
      if (!this.matched) pass.push(b);
    }
    return { pass: Buffer.from(pass), detach: false };
  }
}
