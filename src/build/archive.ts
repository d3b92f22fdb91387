// ADD's local archives: a tar, plain or compressed with gzip, bzip2, xz or zstd, is unpacked at
// the destination instead of copied. gzip and zstd are node's own; bzip2 and xz go through the
// system's tools (as docker's builder also shells out for xz).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { invalid } from '../core/errors.ts';
import { decompress, sniff } from '../image/compression.ts';

function head(file: string, n: number): Buffer {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(n);
    const got = fs.readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/** The file's bytes uncompressed (whatever compression its first bytes name). */
export async function* uncompressed(file: string): AsyncGenerator<Buffer> {
  const kind = sniff(head(file, 6));
  if (kind !== 'bzip2' && kind !== 'xz') {
    yield* decompress(fs.createReadStream(file));
    return;
  }
  const child = spawn(kind === 'bzip2' ? 'bzip2' : 'xz', ['-dc'], { stdio: [fs.openSync(file, 'r'), 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<number>((resolve, reject) => child.once('error', reject).once('close', (code) => resolve(code ?? 1)));
  try {
    for await (const chunk of child.stdout as Readable) yield chunk as Buffer;
  } finally {
    if (child.exitCode === null) child.kill();
  }
  if ((await done) !== 0) throw invalid(`cannot decompress ${kind} archive: ${err.trim()}`);
}

/** Whether a file is a tar archive (possibly compressed): its first header's checksum is right. */
export async function isArchive(file: string): Promise<boolean> {
  let first = Buffer.alloc(0);
  try {
    for await (const chunk of uncompressed(file)) {
      first = Buffer.concat([first, chunk]);
      if (first.length >= 512) break;
    }
  } catch {
    return false;
  }
  if (first.length < 512) return false;
  const stored = parseInt(first.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : first[i];
  return sum === stored;
}
