// An http(s) download written to a file as it arrives (never held in memory), hashed on the way:
// ADD <url> and remote build contexts both take theirs this way. Errors say why in a few words
// (the connection's own reason, or the HTTP status); the callers say what was being fetched.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';

export interface Downloaded {
  /** The Content-Type the server gave, without parameters, lower-cased ('' when none). */
  contentType: string;
  /** Hex SHA-256 of the bytes written. */
  sha256: string;
}

/** Fetches `url` (redirects followed) into `file`, created exclusively with mode 0600. */
export async function fetchToFile(url: string, file: string, signal?: AbortSignal): Promise<Downloaded> {
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch (err) {
    if (signal?.aborted) throw err;
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new Error(cause, { cause: err });
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`invalid response status ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  }
  const h = createHash('sha256');
  const hash = new Transform({
    transform(chunk: Buffer, _enc, done) {
      h.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(res.body as ReadableStream), hash, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }), { signal });
  return { contentType: (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase(), sha256: h.digest('hex') };
}
