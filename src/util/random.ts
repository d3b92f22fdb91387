// Random ids without loading node:crypto (a few ms of start-up on the container start path):
// the kernel's generator, read directly.
import * as fs from 'node:fs';

export function randomBytes(n: number): Buffer {
  const buf = Buffer.allocUnsafe(n);
  const fd = fs.openSync('/dev/urandom', 'r');
  try {
    fs.readSync(fd, buf, 0, n, null);
  } finally {
    fs.closeSync(fd);
  }
  return buf;
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** Uniform in [0, n) for small n. */
export function randomIndex(n: number): number {
  return randomBytes(4).readUInt32LE(0) % n;
}
