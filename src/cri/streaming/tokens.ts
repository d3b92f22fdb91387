// One-time tokens for the streaming server's URLs, as the kubelet's: unguessable, valid for a
// minute, each bound to the request it was made for and good for one connection.
import { randomBytes } from 'node:crypto';

export class TokenCache<T> {
  private readonly entries = new Map<string, { value: T; expires: number }>();
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(opts: { ttlMs?: number; max?: number; now?: () => number } = {}) {
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.max = opts.max ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /** A new token for value. Past `max` live tokens the oldest goes (a flood cannot grow us). */
  insert(value: T): string {
    this.sweep();
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    const token = randomBytes(18).toString('base64url');
    this.entries.set(token, { value, expires: this.now() + this.ttlMs });
    return token;
  }

  /** Whether a token is live (without using it). */
  has(token: string): boolean {
    const e = this.entries.get(token);
    return e !== undefined && e.expires > this.now();
  }

  /** The value once, if the token is known and not expired; it is forgotten either way. */
  consume(token: string): T | undefined {
    const e = this.entries.get(token);
    this.entries.delete(token);
    return e && e.expires > this.now() ? e.value : undefined;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (e.expires <= now) this.entries.delete(k);
  }
}
