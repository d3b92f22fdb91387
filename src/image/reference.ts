// Image references with docker's normalisation: "busybox" is docker.io/library/busybox:latest.
import { invalid } from '../core/errors.ts';

export interface Reference {
  domain: string;
  path: string; // repository path inside the domain, e.g. "library/busybox"
  tag?: string;
  digest?: string; // "sha256:<hex>"
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;
export const DEFAULT_DOMAIN = 'docker.io';

export function parseReference(input: string): Reference {
  const bad = (why: string) => invalid(`invalid reference format: "${input}": ${why}`);
  if (!input || input.length > 4096) throw bad('empty or too long');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('invalid digest');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad('invalid tag');
  }
  let domain = DEFAULT_DOMAIN;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      if (!DOMAIN.test(first)) throw bad('invalid domain');
      domain = first;
      rest = rest.slice(slash + 1);
    }
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (rest !== rest.toLowerCase()) throw bad('repository name must be lowercase');
  const parts = rest.split('/');
  if (parts.some((p) => !COMPONENT.test(p))) throw bad('invalid repository name');
  if (domain === DEFAULT_DOMAIN && parts.length === 1) parts.unshift('library');
  if (!tag && !digest) tag = 'latest';
  return { domain, path: parts.join('/'), tag, digest };
}

/** The repository as docker prints it: "busybox", "my/busybox", "localhost:5000/x". */
export function familiarRepository(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return `${ref.domain}/${ref.path}`;
  // A first component that reads as a registry ("a.b/c", "localhost/c") keeps its docker.io/,
  // or the short form would name another registry.
  const first = ref.path.split('/')[0];
  if (ref.path.includes('/') && (first.includes('.') || first === 'localhost')) return `${ref.domain}/${ref.path}`;
  return ref.path.startsWith('library/') ? ref.path.slice(8) : ref.path;
}

/** Canonical string: "docker.io/library/busybox:latest" (tag or digest form). */
export function formatReference(ref: Reference): string {
  const repo = `${ref.domain}/${ref.path}`;
  return ref.digest ? `${repo}@${ref.digest}` : `${repo}:${ref.tag}`;
}

export function familiarReference(ref: Reference): string {
  const repo = familiarRepository(ref);
  return ref.digest ? `${repo}@${ref.digest}` : `${repo}:${ref.tag}`;
}
