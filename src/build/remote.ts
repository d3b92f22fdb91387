// Remote build contexts, as `docker build <url>` and the API's `remote=` take them:
// - a Git repository (`https://host/repo.git#ref:subdir`, `git://...`, `git@host:repo`,
//   `ssh://...`, `github.com/...`), fetched shallowly by the machine's git into scratch space;
// - a URL to an archive (tar, plain or compressed with gzip, bzip2, xz or zstd: told by its
//   bytes, not its name), downloaded to a file and unpacked by the caller;
// - a URL to a plain-text Dockerfile: the build gets it with an empty context.
// The repository and the server are untrusted: git runs without the user's or the system's
// configuration, hooks, terminal prompts, or the `ext`/`file` transports (a repository's
// submodules cannot name local paths or run commands), and every fetch has a deadline.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, invalid } from '../core/errors.ts';
import { isArchive } from './archive.ts';
import { fetchToFile } from './fetch-file.ts';
import { LayeredFs } from './layered.ts';

/** What a fetch leaves: a checked-out directory, an archive file to unpack, or a Dockerfile's text. */
export type Fetched = { kind: 'dir'; dir: string } | { kind: 'archive'; file: string } | { kind: 'dockerfile'; text: string };

export interface GitSource {
  /** What git fetches from (the fragment removed). */
  remote: string;
  /** Branch, tag or commit; undefined: the remote's default branch (HEAD), as BuildKit takes it. */
  ref?: string;
  subdir?: string;
}

/** Seconds a whole fetch may take (BERTH_BUILD_REMOTE_TIMEOUT overrides; default 10 minutes). */
export function remoteTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.BERTH_BUILD_REMOTE_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 600_000;
}

const isHttp = (s: string) => /^https?:\/\//i.test(s);

/** Docker's urlutil.IsGitURL, plus ssh:// (which git and BuildKit take). */
export function isGitUrl(s: string): boolean {
  if (isHttp(s) && /\.git(?:#.+)?$/.test(s)) return true;
  return ['git://', 'github.com/', 'git@', 'ssh://'].some((p) => s.startsWith(p));
}

/** Whether a build's context argument names a remote context rather than a local path. */
export function isRemoteContext(s: string): boolean {
  return isGitUrl(s) || isHttp(s);
}

/** `<remote>#<ref>:<subdir>` split as docker's gitutils does (`github.com/...` means https). */
export function parseGitUrl(s: string): GitSource {
  let url = s;
  if (!url.startsWith('git@') && !/^(git|https?|ssh):\/\//i.test(url)) url = `https://${url}`;
  const hash = url.indexOf('#');
  const remote = hash < 0 ? url : url.slice(0, hash);
  let fragment = hash < 0 ? '' : url.slice(hash + 1);
  try {
    fragment = decodeURIComponent(fragment);
  } catch {}
  const colon = fragment.indexOf(':');
  const ref = colon < 0 ? fragment : fragment.slice(0, colon);
  const subdir = colon < 0 ? '' : fragment.slice(colon + 1);
  // An option to git, not a ref (`#--upload-pack=...`).
  if (ref.startsWith('-')) throw invalid(`invalid refspec: ${ref}`);
  if (remote.startsWith('-')) throw invalid(`invalid git remote: ${remote}`);
  return { remote, ...(ref ? { ref } : {}), ...(subdir ? { subdir } : {}) };
}

/** Fetches a remote context into `scratch` (an empty directory the caller removes). */
export async function fetchRemote(remote: string, scratch: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Fetched> {
  try {
    if (!isGitUrl(remote)) return await withDeadline(remote, opts, (signal) => download(remote, scratch, signal));
    return { kind: 'dir', dir: await gitCheckout(remote, scratch, opts) };
  } catch (err) {
    throw err instanceof BerthError && err.code === 'InvalidArgument' ? invalid(`unable to prepare context: ${err.message}`, err) : err;
  }
}

/**
 * A Git URL's tree (its #ref:subdir) checked out below `scratch`; its path. Without the .git
 * directory unless `keepGitDir` (ADD --keep-git-dir). With `commit` (what resolveGitCommit
 * answered), that commit's tree, even if the ref has moved on since.
 */
export function gitCheckout(url: string, scratch: string, opts: { signal?: AbortSignal; timeoutMs?: number; keepGitDir?: boolean; commit?: string } = {}): Promise<string> {
  const src = parseGitUrl(url);
  return withDeadline(url, opts, (signal) => checkout(src, scratch, signal, opts.keepGitDir === true, opts.commit));
}

/** A full commit id (SHA-1, or SHA-256 for a repository in that format). */
const FULL_COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/**
 * The commit a Git URL's ref names now, asked of the remote without fetching any object (`git
 * ls-remote`), so a build can key an ADD of it by the commit as BuildKit does, and fetch nothing
 * on a cache hit. A ref is looked up in git's own order (as given, refs/, refs/tags/,
 * refs/heads/, ...), a tag peeled to its commit; no ref: the remote's HEAD. A full commit id is
 * its own answer; an abbreviated one only a fetch can tell (undefined). A ref the remote does not
 * have fails as the fetch would.
 */
export function resolveGitCommit(url: string, scratch: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<string | undefined> {
  const src = parseGitUrl(url);
  const ref = src.ref ?? 'HEAD';
  if (FULL_COMMIT.test(ref)) return Promise.resolve(ref.toLowerCase());
  return withDeadline(url, opts, async (signal) => {
    const home = path.join(scratch, 'home');
    fs.mkdirSync(home, { recursive: true });
    let out: string;
    try {
      // The ref as a pattern: the remote lists only the refs ending in it; an annotated tag's
      // commit (its peeled line, `<tag>^{}`) only when asked for by a pattern of its own.
      out = await git(['ls-remote', '--', src.remote, ref, `${ref}^{}`], scratch, home, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      throw invalid(`error fetching ${ref === 'HEAD' ? '' : `${ref} from `}${redact(src.remote)}: ${(err as Error).message}`, err);
    }
    const id = refCommit(out, ref);
    if (id || /^[0-9a-f]{4,}$/i.test(ref)) return id;
    throw invalid(`error fetching ${ref === 'HEAD' ? '' : `${ref} from `}${redact(src.remote)}: couldn't find remote ref ${ref}`);
  });
}

async function withDeadline<T>(what: string, opts: { signal?: AbortSignal; timeoutMs?: number }, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? remoteTimeoutMs();
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  try {
    return await fn(signal);
  } catch (err) {
    if (deadline.aborted && !opts.signal?.aborted) throw invalid(`fetching ${redact(what)} timed out after ${Math.round(timeoutMs / 1000)}s`, err);
    throw err;
  }
}

/** A URL without its password, for messages. */
function redact(u: string): string {
  try {
    const url = new URL(u);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return u;
  }
}

async function download(url: string, scratch: string, signal: AbortSignal): Promise<Fetched> {
  // To a file, not memory: an archive may be large, and bzip2/xz are unpacked by their tools from it.
  const file = path.join(scratch, 'download');
  let type: string;
  try {
    type = (await fetchToFile(url, file, signal)).contentType;
  } catch (err) {
    if (signal.aborted) throw err;
    throw invalid(`unable to download remote context ${redact(url)}: ${(err as Error).message}`, err);
  }
  if (await isArchive(file)) return { kind: 'archive', file };
  // Not an archive: a Dockerfile when the server says it is text (docker's rule), or when it reads as text.
  const data = fs.readFileSync(file);
  fs.rmSync(file);
  const text = data.toString('utf8');
  if (type === 'text/plain' || (!data.includes(0) && !text.includes('\ufffd'))) return { kind: 'dockerfile', text };
  throw invalid(`${redact(url)} is neither an archive nor a Dockerfile (content type ${type || 'unknown'})`);
}

/** Runs git with nothing of the machine's configuration, no prompts, and the unsafe transports off. */
function git(args: string[], cwd: string, home: string, signal: AbortSignal): Promise<string> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'false',
    SSH_ASKPASS: 'false',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_PROTOCOL_FROM_USER: '0',
    // git@host: the user's agent may hold the key; the host must already be known, nothing asks.
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o ConnectTimeout=30',
    ...(process.env.SSH_AUTH_SOCK ? { SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK } : {}),
  };
  // The machine's proxy settings still apply (git reads them from the environment).
  for (const k of ['http_proxy', 'https_proxy', 'no_proxy', 'all_proxy']) {
    for (const name of [k, k.toUpperCase()]) if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  const safe = [
    '-c', 'protocol.ext.allow=never', '-c', 'protocol.file.allow=never',
    '-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'advice.detachedHead=false',
    // A server that stops sending is given up after a minute, not waited on until the deadline.
    '-c', 'http.lowSpeedLimit=1', '-c', 'http.lowSpeedTime=60',
  ];
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout also stops the transport helpers (git-remote-https, ssh).
    const child = spawn('git', [...safe, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const stop = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    };
    signal.addEventListener('abort', stop, { once: true });
    child.once('error', (err) => {
      signal.removeEventListener('abort', stop);
      reject((err as NodeJS.ErrnoException).code === 'ENOENT' ? new BerthError('Unavailable', 'git is not installed on this machine (Git URLs need it)', { cause: err }) : err);
    });
    child.once('close', (code) => {
      signal.removeEventListener('abort', stop);
      if (signal.aborted) reject(signal.reason);
      else if (code === 0) resolve(out);
      else reject(Object.assign(new Error(out.trim().split('\n').slice(-3).join('\n') || `git exited with ${code}`), { gitOutput: out }));
    });
  });
}

async function checkout(src: GitSource, scratch: string, signal: AbortSignal, keepGitDir: boolean, commit?: string): Promise<string> {
  const home = path.join(scratch, 'home');
  const repo = path.join(scratch, 'git');
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(repo);
  const run = (args: string[]) => git(args, repo, home, signal);
  const shown = redact(src.remote);
  // No templates: nothing from the machine's template directory (hooks) lands in the repository.
  await run(['init', '-q', '--template=']);
  await run(['remote', 'add', 'origin', '--', src.remote]);
  await fetchRef(run, src.ref ?? 'HEAD', src.ref !== undefined, shown, signal);
  // The ref moved after it was resolved: the commit the build's cache key names is the one built.
  // (A server that did not peel a tag gave the tag's id: its commit counts.)
  const at = async (id: string) => {
    const head = (await run(['rev-parse', 'HEAD'])).trim();
    return head === id || head === (await run(['rev-parse', '-q', '--verify', `${id}^{commit}`]).catch(() => '')).trim();
  };
  if (commit && !(await at(commit))) {
    await fetchRef(run, commit, true, shown, signal);
    if (!(await at(commit))) throw invalid(`error checking out ${commit} of ${shown}: the remote gave another commit`);
  }
  await run(['submodule', 'update', '-q', '--init', '--recursive', '--depth=1']).catch((err) => {
    if (signal.aborted) throw err;
    throw invalid(`error initializing submodules of ${shown}: ${(err as Error).message}`, err);
  });
  if (!keepGitDir) fs.rmSync(path.join(repo, '.git'), { recursive: true, force: true });
  if (!src.subdir) return repo;
  // The subdirectory is resolved with the checkout as "/": a symlink in the repository never leads out.
  const view = new LayeredFs([repo]);
  const rel = view.resolve(src.subdir).join('/');
  const e = view.lstat(rel);
  if (!e) throw invalid(`error setting git context, ${JSON.stringify(src.subdir)} not found in ${shown}`);
  if (!e.st.isDirectory()) throw invalid(`error setting git context, not a directory: ${src.subdir}`);
  return e.abs;
}

/**
 * The commit `git ls-remote` lists for a ref, looked up as git's fetch does (the name as given,
 * then refs/, refs/tags/, refs/heads/, refs/remotes/, refs/remotes/<name>/HEAD: a tag wins over a
 * branch of the same name), an annotated tag's peeled line first.
 */
export function refCommit(listing: string, ref: string): string | undefined {
  const refs = new Map<string, string>();
  for (const line of listing.split('\n')) {
    const m = /^([0-9a-f]{40}|[0-9a-f]{64})\t(\S+)$/.exec(line);
    if (m) refs.set(m[2], m[1]);
  }
  for (const name of [ref, `refs/${ref}`, `refs/tags/${ref}`, `refs/heads/${ref}`, `refs/remotes/${ref}`, `refs/remotes/${ref}/HEAD`]) {
    const id = refs.get(`${name}^{}`) ?? refs.get(name);
    if (id) return id;
  }
  return undefined;
}

/** Fetches `ref` (shallow when the server can) into the repository and checks it out, detached. */
async function fetchRef(run: (args: string[]) => Promise<string>, ref: string, named: boolean, shown: string, signal: AbortSignal): Promise<void> {
  let candidates = ['FETCH_HEAD'];
  try {
    await run(['fetch', '-q', '--depth=1', '--no-tags', 'origin', '--', ref]);
  } catch (first) {
    if (signal.aborted) throw first;
    // A commit id the server will not serve by name, or a dumb HTTP server (no shallow fetch):
    // everything is fetched and the ref looked up here.
    const msg = (first as Error).message;
    if (!/^[0-9a-f]{7,64}$/i.test(ref) && !/shallow|dumb/i.test(msg)) throw invalid(`error fetching ${ref === 'HEAD' ? '' : `${ref} from `}${shown}: ${msg}`, first);
    try {
      await run(['fetch', '-q', '--tags', 'origin']);
    } catch (err) {
      if (signal.aborted) throw err;
      throw invalid(`error fetching ${shown}: ${(err as Error).message}`, err);
    }
    if (named) candidates = [ref, `origin/${ref}`];
  }
  for (let i = 0; ; i++) {
    try {
      await run(['checkout', '-q', '--detach', candidates[i]]);
      return;
    } catch (err) {
      if (signal.aborted) throw err;
      if (i + 1 < candidates.length) continue;
      throw invalid(`error checking out ${ref} of ${shown}: ${(err as Error).message}`, err);
    }
  }
}
