// A registry as the hosts that serve it (registry mirrors, then the registry itself): each read
// goes to the first host allowed to answer it and falls through to the next when one fails, as
// containerd's resolver does. The image keeps its name whichever host served it.
import type { IncomingMessage } from 'node:http';
import { BerthError, invalid } from '../core/errors.ts';
import { isDigest } from '../image/manifest.ts';
import type { RegistryClient, Manifest } from './client.ts';
import type { Capability } from './hosts.ts';

/** What reads a blob: one registry client, or a chain of hosts. */
export interface BlobSource {
  blob(repo: string, digest: string, opts?: { offset?: number; signal?: AbortSignal }): Promise<IncomingMessage>;
}

export interface ChainHost {
  client: RegistryClient;
  capabilities: Capability[];
}

export class HostChain implements BlobSource {
  readonly registry: string;
  private readonly hosts: ChainHost[];
  constructor(registry: string, hosts: ChainHost[]) {
    this.registry = registry;
    this.hosts = hosts;
  }

  /** A manifest by tag (hosts that may resolve) or by digest (hosts that may pull). */
  manifest(repo: string, reference: string, what: string, signal?: AbortSignal): Promise<Manifest> {
    return this.first(isDigest(reference) ? 'pull' : 'resolve', (c) => c.manifest(repo, reference, what, signal));
  }

  blob(repo: string, digest: string, opts: { offset?: number; signal?: AbortSignal } = {}): Promise<IncomingMessage> {
    return this.first('pull', (c) => c.blob(repo, digest, opts));
  }

  /** The host a push goes to: the first allowed to push (the registry itself unless configured otherwise). */
  pushClient(): RegistryClient {
    const host = this.hosts.find((h) => h.capabilities.includes('push'));
    if (!host) throw invalid(`no host of ${this.registry} may be pushed to (its hosts.toml gives none the "push" capability)`);
    return host.client;
  }

  private async first<T>(cap: Capability, op: (c: RegistryClient) => Promise<T>): Promise<T> {
    const hosts = this.hosts.filter((h) => h.capabilities.includes(cap));
    if (!hosts.length) throw invalid(`no host of ${this.registry} may ${cap} (its hosts.toml gives none the "${cap}" capability)`);
    const failed: string[] = [];
    for (const [i, h] of hosts.entries()) {
      try {
        return await op(h.client);
      } catch (err) {
        if (i === hosts.length - 1 || !(err instanceof BerthError)) {
          if (!failed.length || !(err instanceof BerthError)) throw err;
          // The last host's error is the answer; what the hosts before it said comes along.
          throw new BerthError(err.code, `${err.message} (tried first: ${failed.join('; ')})`, { cause: err });
        }
        failed.push(`${h.client.url('/v2/').origin}: ${err.message}`);
      }
    }
    throw new Error('unreachable');
  }
}
