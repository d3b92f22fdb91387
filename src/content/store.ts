// Content-addressed blob store (sha256). A blob becomes visible only after its bytes were
// verified against the digest: written to ingest/, fsynced, then renamed into blobs/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, invalid } from '../core/errors.ts';

import { ownerDead, selfRef } from '../kernel/process.ts';
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

  /**
   * A writer whose bytes outlive its process: `ingest/<key>.partial`. A later writer with the same
   * key hashes what is there and appends, so an interrupted download resumes where it stopped (a
   * partial longer than `max` is discarded). The caller must hold the key alone (a claim).
   */
  resumableWriter(key: string, max: number): BlobWriter {
    if (!/^[a-f0-9.]+$/.test(key)) throw invalid(`invalid ingest key "${key}"`);
    fs.mkdirSync(path.join(this.root, 'ingest'), { recursive: true });
    fs.mkdirSync(path.join(this.root, 'blobs', 'sha256'), { recursive: true });
    const file = path.join(this.root, 'ingest', `${key}.partial`);
    const size = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    if (size > max) fs.rmSync(file, { force: true });
    return new BlobWriter(this, file, true);
  }

  /** Ingest files of writers that died (kill -9 in the middle of a pull or load); partials a day old. */
  sweepIngest(): void {
    const dir = path.join(this.root, 'ingest');
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {}
    for (const n of names) {
      if (n.endsWith('.partial')) {
        const st = fs.statSync(path.join(dir, n), { throwIfNoEntry: false });
        if (st && Date.now() - st.mtimeMs > 86_400_000) fs.rmSync(path.join(dir, n), { force: true });
        continue;
      }
      if (ownerDead(n, '') || !/^\d+\.\d+\./.test(n)) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
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
  /** The file being written (readers may read the part already written). */
  readonly tmp: string;
  private readonly fd: number;
  private readonly hash = createHash('sha256');
  private final?: string;
  size = 0;
  constructor(store: ContentStore, tmp: string, resume = false) {
    this.store = store;
    this.tmp = tmp;
    this.fd = fs.openSync(tmp, resume ? 'a' : 'wx', 0o600); // image configs hold an Env: root's alone
    if (resume) {
      // What an earlier writer left: hashed again (a hash's state cannot be saved), then appended to.
      const rfd = fs.openSync(tmp, 'r');
      try {
        const buf = Buffer.allocUnsafe(1 << 20);
        for (let n; (n = fs.readSync(rfd, buf, 0, buf.length, null)) > 0; ) {
          this.hash.update(buf.subarray(0, n));
          this.size += n;
        }
      } finally {
        fs.closeSync(rfd);
      }
    }
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
    const actual = this.verify(expected);
    fs.fsyncSync(this.fd);
    return this.publish(actual);
  }

  /** commit, with the fsync on the thread pool: syncing a large blob holds no event loop. */
  async commitAsync(expected?: string): Promise<string> {
    const actual = this.verify(expected);
    await new Promise<void>((resolve, reject) => fs.fsync(this.fd, (err) => (err ? reject(err) : resolve())));
    return this.publish(actual);
  }

  private verify(expected: string | undefined): string {
    const actual = this.digest();
    if (expected && expected !== actual) {
      this.abort();
      throw invalid(`content verification failed: expected ${expected}, got ${actual}`);
    }
    return actual;
  }

  private publish(actual: string): string {
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

  /** Stops writing but keeps the bytes (a resumable writer that may be continued later). */
  keep(): void {
    try {
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
    } catch {}
  }
}
