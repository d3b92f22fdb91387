// Content-addressed blob store (sha256). A blob becomes visible only after its bytes were
// verified against the digest: written to ingest/, fsynced, then renamed into blobs/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, invalid } from '../core/errors.ts';

import { isAlive, selfRef } from '../kernel/process.ts';
import { randomHex } from '../util/random.ts';

// node:crypto costs milliseconds to load; commands that only look blobs up never need it.
const createHash = (alg: string) => process.getBuiltinModule('node:crypto').createHash(alg);

const DIGEST = /^sha256:([a-f0-9]{64})$/;

export function digestHex(digest: string): string {
  const m = DIGEST.exec(digest);
  if (!m) throw invalid(`invalid digest: "${digest}"`);
  return m[1];
}

export function sha256(data: string | Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export class ContentStore {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  path(digest: string): string {
    return path.join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  has(digest: string): boolean {
    return fs.existsSync(this.path(digest));
  }

  read(digest: string): Buffer {
    try {
      return fs.readFileSync(this.path(digest));
    } catch (err) {
      throw new BerthError('NotFound', `content ${digest} not found`, { cause: err });
    }
  }

  put(data: string | Uint8Array): { digest: string; size: number } {
    const digest = sha256(data);
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    if (!this.has(digest)) {
      const w = this.writer();
      w.write(typeof data === 'string' ? Buffer.from(data) : data);
      w.commit(digest);
    }
    return { digest, size };
  }

  /** A streaming writer: feed bytes, then commit with the expected digest (verified) or abort. */
  writer(): BlobWriter {
    const dir = path.join(this.root, 'ingest');
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(path.join(this.root, 'blobs', 'sha256'), { recursive: true });
    // Named by the writing process (pid + start time), so what a killed one left can be swept.
    const me = selfRef();
    return new BlobWriter(this, path.join(dir, `${me.pid}.${me.start}.${randomHex(8)}`));
  }

  /** Ingest files of writers that died (kill -9 in the middle of a pull or load). */
  sweepIngest(): void {
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.join(this.root, 'ingest'));
    } catch {}
    for (const n of names) {
      const m = /^(\d+)\.(\d+)\./.exec(n);
      if (!m || !isAlive({ pid: Number(m[1]), start: Number(m[2]) })) fs.rmSync(path.join(this.root, 'ingest', n), { recursive: true, force: true });
    }
  }

  /** Every published blob's digest. */
  digests(): string[] {
    try {
      return fs.readdirSync(path.join(this.root, 'blobs', 'sha256')).filter((h) => /^[a-f0-9]{64}$/.test(h)).map((h) => 'sha256:' + h);
    } catch {
      return [];
    }
  }

  remove(digest: string): void {
    fs.rmSync(this.path(digest), { force: true });
  }
}

export class BlobWriter {
  private readonly store: ContentStore;
  private readonly tmp: string;
  private readonly fd: number;
  private readonly hash = createHash('sha256');
  private final?: string;
  size = 0;
  constructor(store: ContentStore, tmp: string) {
    this.store = store;
    this.tmp = tmp;
    this.fd = fs.openSync(tmp, 'wx', 0o644);
  }

  write(chunk: Uint8Array): void {
    this.hash.update(chunk);
    fs.writeFileSync(this.fd, chunk);
    this.size += chunk.byteLength;
  }

  /** The digest of everything written; nothing may be written after asking. */
  digest(): string {
    return (this.final ??= 'sha256:' + this.hash.digest('hex'));
  }

  /** Verifies and publishes; returns the digest. Throws (and discards) on mismatch. */
  commit(expected?: string): string {
    const actual = this.digest();
    if (expected && expected !== actual) {
      this.abort();
      throw invalid(`content verification failed: expected ${expected}, got ${actual}`);
    }
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    fs.renameSync(this.tmp, this.store.path(actual));
    return actual;
  }

  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {}
    fs.rmSync(this.tmp, { force: true });
  }
}
