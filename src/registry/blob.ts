// One blob read from a registry as a single stream of bytes, whatever happens underneath:
// connections that drop are resumed with Range (up to 5 attempts), a registry that ignores Range
// is read again from the start with the part already delivered skipped.
import type { IncomingMessage } from 'node:http';
import { BerthError } from '../core/errors.ts';
import type { BlobSource } from './mirrors.ts';

export interface BlobReaderOptions {
  /** Sees every byte delivered, in order, exactly once (the content-store writer and its hash). */
  sink?: (chunk: Buffer) => void;
  onProgress?: (received: number) => void;
  onRetry?: (attempt: number, err: unknown) => void;
  attempts?: number;
  retryDelayMs?: number;
  signal?: AbortSignal;
  /** Bytes the sink already has (an earlier, interrupted download): reading starts there. */
  offset?: number;
}

/** Thrown when the bytes cannot be the blob; never retried. */
export function verificationFailed(digest: string, cause?: unknown): BerthError {
  return new BerthError('InvalidArgument', VERIFICATION + digest, { cause });
}

const VERIFICATION = 'filesystem layer verification failed for digest ';

export function isVerificationError(err: unknown): boolean {
  return err instanceof BerthError && err.message.startsWith(VERIFICATION);
}

// Registry statuses and our own checks are final, except those that say "try again".
const retriable = (err: unknown) => !(err instanceof BerthError) || err.code === 'Unavailable';

export class BlobReader {
  private readonly client: BlobSource;
  private readonly repo: string;
  readonly digest: string;
  readonly size: number;
  private readonly opts: BlobReaderOptions;
  private res?: IncomingMessage;
  private it?: AsyncIterator<Buffer>;
  private skip = 0; // bytes of a restarted (200) response we already delivered
  private attempt = 0;
  private queue: Promise<unknown> = Promise.resolve();
  received = 0;

  constructor(client: BlobSource, repo: string, desc: { digest: string; size: number }, opts: BlobReaderOptions = {}) {
    this.client = client;
    this.repo = repo;
    this.digest = desc.digest;
    this.size = desc.size;
    this.opts = opts;
    this.received = opts.offset ?? 0;
  }

  /**
   * The next chunk, or null at the end. Calls are serialised: a consumer that gave up with a
   * read still pending and a drain() that follows cannot interleave, so the sink sees one order.
   */
  read(): Promise<Buffer | null> {
    const p = this.queue.then(() => this.readOne());
    this.queue = p.catch(() => {});
    return p;
  }

  /** The bytes as an iterable; ending the iteration early leaves the reader open for drain(). */
  async *chunks(): AsyncGenerator<Buffer> {
    for (let c = await this.read(); c; c = await this.read()) yield c;
  }

  /** Reads what is left (bounded by the descriptor's size), so the sink has seen the whole blob. */
  async drain(): Promise<void> {
    while (await this.read());
  }

  close(): void {
    this.res?.destroy();
    this.res = undefined;
    this.it = undefined;
  }

  private async open(): Promise<void> {
    const res = await this.client.blob(this.repo, this.digest, { offset: this.received, signal: this.opts.signal });
    if (res.statusCode === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== this.received || (m[3] !== '*' && Number(m[3]) !== this.size)) {
        res.destroy();
        throw verificationFailed(this.digest, new Error(`unexpected Content-Range "${res.headers['content-range']}" resuming at ${this.received}`));
      }
      this.skip = 0;
    } else {
      // A full body: either the first request or a registry that ignored Range. The bytes already
      // delivered went to the sink (and its hash) and downstream; re-sending them would corrupt
      // both, so they are skipped here, and the sink's digest over what it saw still decides.
      const length = Number(res.headers['content-length']);
      if (res.headers['content-length'] !== undefined && length !== this.size) {
        res.destroy();
        throw verificationFailed(this.digest, new Error(`Content-Length ${length}, the manifest says ${this.size}`));
      }
      this.skip = this.received;
    }
    this.res = res;
    this.it = (res as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  private async readOne(): Promise<Buffer | null> {
    const chunk = await this.receive();
    // Outside the retries: a sink that cannot write (a full disk) is no fault of the network's,
    // and trying the download again would only fail the same way, later.
    if (chunk) {
      this.opts.sink?.(chunk);
      this.opts.onProgress?.(this.received);
    }
    return chunk;
  }

  private async receive(): Promise<Buffer | null> {
    const max = this.opts.attempts ?? 5;
    for (;;) {
      try {
        if (this.received === this.size && !this.res) return null;
        if (!this.it) await this.open();
        const r = await this.it!.next();
        if (r.done) {
          this.close();
          if (this.received === this.size) return null;
          throw Object.assign(new Error(`connection closed after ${this.received} of ${this.size} bytes`), { code: 'ECONNRESET' });
        }
        let chunk = r.value;
        if (this.skip) {
          const n = Math.min(this.skip, chunk.length);
          this.skip -= n;
          chunk = chunk.subarray(n);
          if (!chunk.length) continue;
        }
        if (this.received + chunk.length > this.size) {
          this.close();
          throw verificationFailed(this.digest, new Error(`more than the ${this.size} bytes the manifest says`));
        }
        this.received += chunk.length;
        return chunk;
      } catch (err) {
        this.close();
        this.attempt++;
        if (!retriable(err) || this.attempt >= max || this.opts.signal?.aborted) throw err;
        this.opts.onRetry?.(this.attempt, err);
        const delay = (this.opts.retryDelayMs ?? 250) * 2 ** (this.attempt - 1);
        await new Promise((r) => setTimeout(r, Math.min(delay, 4000)));
      }
    }
  }
}
