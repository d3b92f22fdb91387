// Registry credentials, kept under the state root in auth.json (mode 0600), keyed by registry
// host as references name it ("docker.io", "localhost:5000"). The layout follows docker's
// config.json "auths" so the file reads familiarly; the secret is base64 "user:password" as there.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../core/errors.ts';
import { DEFAULT_DOMAIN } from '../image/reference.ts';
import { readJsonFile, writeFileAtomic } from '../util/atomic.ts';

export interface Credentials {
  username: string;
  password: string;
  /** An OAuth2 refresh token the registry's token server trades for access tokens (docker's IdentityToken). */
  identityToken?: string;
  /** A bearer token sent to the registry as it is (docker's RegistryToken). */
  registryToken?: string;
}

interface AuthFile {
  auths: Record<string, { auth: string }>;
}

/** "https://index.docker.io/v1/", "registry-1.docker.io", "LOCALHOST:5000/" -> the key references use. */
export function normalizeRegistry(input: string): string {
  let s = input.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  s = s.split('/')[0].toLowerCase();
  if (!/^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-f:]+\](?::[0-9]+)?$/.test(s))
    throw invalid(`invalid registry name "${input}"`);
  if (s === 'index.docker.io' || s === 'registry-1.docker.io') return DEFAULT_DOMAIN;
  return s;
}

export class CredentialStore {
  readonly file: string;
  constructor(root: string) {
    this.file = path.join(root, 'auth.json');
  }

  private load(): AuthFile {
    const f = readJsonFile<AuthFile>(this.file);
    return f && typeof f.auths === 'object' && f.auths ? f : { auths: {} };
  }

  get(registry: string): Credentials | undefined {
    const entry = this.load().auths[registry];
    if (!entry?.auth) return undefined;
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon < 0) return undefined;
    return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
  }

  set(registry: string, cred: Credentials): void {
    const f = this.load();
    f.auths[registry] = { auth: Buffer.from(`${cred.username}:${cred.password}`).toString('base64') };
    this.save(f);
  }

  /** Returns whether there was anything to remove. */
  remove(registry: string): boolean {
    const f = this.load();
    if (!(registry in f.auths)) return false;
    delete f.auths[registry];
    this.save(f);
    return true;
  }

  private save(f: AuthFile): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    // Created 0600 before the first byte is written, so the secret is never readable by others.
    writeFileAtomic(this.file, JSON.stringify(f, null, 2) + '\n', { durable: true, mode: 0o600 });
  }
}
