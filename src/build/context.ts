// The build context: a directory, or a tar stream (stdin, the API's body) unpacked into a scratch
// directory under the state root, with .dockerignore applied to what COPY and ADD can see. The
// context is untrusted: its sources are resolved with its root as "/" (symlinks in it never lead
// out) and a source naming a path above it is refused.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { invalid, notFound } from '../core/errors.ts';
import { applyLayer } from '../image/apply.ts';
import { decompress } from '../image/compression.ts';
import { selfRef } from '../kernel/process.ts';
import { shimSpecialFs } from '../runtime/shim.ts';
import { randomHex } from '../util/random.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { uncompressed } from './archive.ts';
import { compileGlob } from './glob.ts';
import { fetchRemote } from './remote.ts';
import { LayeredFs } from './layered.ts';
import { loadIgnore, type IgnoreMatcher } from './ignore.ts';

export interface BuildContext {
  dir: string;
  view: LayeredFs;
  ignore?: IgnoreMatcher;
  /** Unpacked from a stream into scratch space: new inodes every build, so hashes are not remembered. */
  streamed: boolean;
  /** A remote context that was a Dockerfile alone (the context is then empty). */
  dockerfileText?: string;
  /** Removes the scratch copy of a streamed context (a directory context is left alone). */
  close(): void;
}

/** A scratch directory under <root>/tmp named for its creator, so a killed build's can be swept. */
export function scratchDir(rootDir: string, kind: string): string {
  const base = path.join(rootDir, 'tmp');
  fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  const me = selfRef();
  const dir = path.join(base, `build-${me.pid}.${me.start}.${kind}-${randomHex(6)}`);
  fs.mkdirSync(dir, { mode: 0o700 });
  return dir;
}

export async function openContext(src: { dir: string } | { tar: AsyncIterable<Buffer> } | { remote: string }, rootDir: string, dockerfile?: string, signal?: AbortSignal): Promise<BuildContext> {
  let dir: string;
  let scratch: string | undefined;
  let dockerfileText: string | undefined;
  if ('remote' in src) {
    scratch = scratchDir(rootDir, 'context');
    try {
      const got = await fetchRemote(src.remote, scratch, { signal });
      if (got.kind === 'dir') dir = got.dir;
      else {
        dir = path.join(scratch, 'context');
        fs.mkdirSync(dir);
        if (got.kind === 'dockerfile') dockerfileText = got.text;
        else {
          await applyLayer(padded(uncompressed(got.file)), dir, shimSpecialFs);
          fs.rmSync(got.file);
        }
      }
    } catch (err) {
      fs.rmSync(scratch, { recursive: true, force: true });
      throw err;
    }
  } else if ('dir' in src) {
    const st = fs.statSync(src.dir, { throwIfNoEntry: false });
    if (!st?.isDirectory()) throw notFound(`unable to prepare context: path "${src.dir}" not found`);
    dir = fs.realpathSync(src.dir);
  } else {
    scratch = scratchDir(rootDir, 'context');
    try {
      await applyLayer(padded(decompress(src.tar)), scratch, shimSpecialFs);
    } catch (err) {
      fs.rmSync(scratch, { recursive: true, force: true });
      throw err;
    }
    dir = scratch;
  }
  // <Dockerfile>.dockerignore beside a named Dockerfile first, then .dockerignore (docker's order).
  const ignore = loadIgnore(dir, dockerfile);
  return { dir, view: new LayeredFs([dir]), ignore, streamed: scratch !== undefined, dockerfileText, close: () => scratch && fs.rmSync(scratch, { recursive: true, force: true }) };
}

/**
 * The docker CLI sends a context whose last file may lack its padding and the end-of-archive
 * blocks (its -f rewrite ends the stream there); docker's daemon takes it, so we complete it.
 */
async function* padded(tar: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const chunk of tar) {
    n += chunk.length;
    yield chunk;
  }
  yield Buffer.alloc((512 - (n % 512)) % 512 + 1024);
}

/** A source path's components cleaned; one that climbs above the root is refused, as docker does. */
export function cleanSource(p: string, where: string): string[] {
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (!c || c === '.') continue;
    if (c === '..') {
      if (!out.length) throw invalid(`forbidden path outside the ${where}: ${p}`);
      out.pop();
    } else out.push(c);
  }
  return out;
}

const GLOB = /[*?[]/;

/** One thing a COPY copies: a file system object at `rel` below the source it was found in. */
export interface Item {
  rel: string;
  abs: string;
  st: fs.Stats;
}

/** A matched source: its name (the dest's base name for a file) and everything under it. */
export interface Matched {
  name: string;
  /** The resolved path (root-relative) the items hang under. */
  path: string;
  isDir: boolean;
  items: Item[];
}

/**
 * Resolves a COPY source (variables already expanded) in a view: wildcards match names, symlinks
 * on the way are followed inside the root, ignored paths are invisible. Throws when nothing matches.
 */
export function matchSource(view: LayeredFs, source: string, opts: { ignore?: IgnoreMatcher; where: string }): Matched[] {
  const parts = cleanSource(source, opts.where);
  let cands: string[][] = [[]];
  for (const part of parts) {
    if (!GLOB.test(part)) {
      cands = cands.map((c) => [...c, part]);
      continue;
    }
    let matches: (name: string) => boolean;
    try {
      matches = compileGlob(part); // names hold no "/": the .dockerignore matcher is filepath.Match here
    } catch {
      throw invalid(`syntax error in pattern: ${source}`);
    }
    const next: string[][] = [];
    for (const c of cands) {
      const dir = view.resolve(c.join('/'));
      const e = view.lstat(dir.join('/'));
      if (!e?.st.isDirectory()) continue;
      for (const n of view.readdir(dir.join('/'))) if (matches(n)) next.push([...c, n]);
    }
    cands = next;
  }
  const ignored = (rel: string) => rel !== '' && opts.ignore?.matches(rel) === true;
  const out: Matched[] = [];
  for (const c of cands) {
    const written = c.join('/');
    const resolved = view.resolve(written).join('/');
    const e = view.lstat(resolved);
    if (!e) continue;
    // An ignored directory still counts when an exception brings back something inside it.
    const hidden = ignored(written);
    if (hidden && !(e.st.isDirectory() && opts.ignore?.mayReinclude(written))) continue;
    const items: Item[] = [];
    // An ignored directory is still entered: a `!` exception may bring back something inside
    // it, and then the directory comes along (docker's rule).
    const walk = (rel: string, under: string, into: Item[]) => {
      for (const n of view.readdir(rel)) {
        const r = rel ? `${rel}/${n}` : n;
        const w = under ? `${under}/${n}` : n;
        const ce = view.lstat(r)!;
        const item = { rel: w.slice(written.length).replace(/^\//, ''), abs: ce.abs, st: ce.st };
        if (!ce.st.isDirectory()) {
          if (!ignored(w)) into.push(item);
          continue;
        }
        const below: Item[] = [];
        walk(r, w, below);
        if (!ignored(w) || below.length) into.push(item, ...below);
      }
    };
    if (e.st.isDirectory()) walk(resolved, written, items);
    if (hidden && !items.length) continue;
    out.push({ name: c.at(-1) ?? '', path: resolved, isDir: e.st.isDirectory(), items: e.st.isDirectory() ? items : [{ rel: '', abs: e.abs, st: e.st }] });
  }
  if (!out.length) throw notFound(`failed to compute cache key: "${source}" not found${GLOB.test(source) ? ' (no source files were specified)' : ''}`);
  return out;
}

/**
 * A hash of what a COPY would copy: names, types, modes, owners, link targets and file
 * contents, never timestamps (a touched file with the same bytes is a cache hit).
 */
export function hashSources(sources: Matched[], withOwners: boolean, memo?: FileHashes): string {
  const h = createHash('sha256');
  for (const m of sources) {
    h.update(`source ${m.name} ${m.isDir}\n`);
    for (const it of m.items) {
      const st = it.st;
      const kind = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : 'o';
      h.update(`${kind} ${JSON.stringify(it.rel)} ${(st.mode & 0o7777).toString(8)}${withOwners ? ` ${st.uid}:${st.gid}` : ''}`);
      if (kind === 'l') h.update(` -> ${fs.readlinkSync(it.abs)}`);
      if (kind === 'f') h.update(` ${memo ? memo.hash(it.abs, st) : fileHash(it.abs)}`);
      h.update('\n');
    }
  }
  return h.digest('hex');
}

function fileHash(p: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/**
 * File hashes remembered by what stat says of the file (device, inode, size, modification and
 * change times), so a rebuild reads only files that changed: a write changes ctime, whatever
 * it does to mtime. Kept in <root>/build/file-hashes.json between builds.
 */
export class FileHashes {
  private readonly file: string;
  private map?: Map<string, string>;
  private dirty = false;
  constructor(rootDir: string) {
    this.file = path.join(rootDir, 'build', 'file-hashes.json');
  }

  private load(): Map<string, string> {
    if (this.map) return this.map;
    let entries: Array<[string, string]> = [];
    try {
      entries = JSON.parse(fs.readFileSync(this.file, 'utf8'));
    } catch {}
    return (this.map = new Map(Array.isArray(entries) ? entries : []));
  }

  hash(abs: string, st: fs.Stats): string {
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    const map = this.load();
    const known = map.get(key);
    if (known) return known;
    const h = fileHash(abs);
    map.set(key, h);
    this.dirty = true;
    return h;
  }

  /** Writes the table back (the newest 100k entries) if it changed. */
  save(): void {
    if (!this.dirty || !this.map) return;
    const entries = [...this.map].slice(-100_000);
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileAtomic(this.file, JSON.stringify(entries));
    this.dirty = false;
  }
}

/** A matched source copied into a host directory (a RUN bind mount's scratch copy), owners kept. */
export function copyMatched(matched: Matched[], dest: string): void {
  const m = matched[0];
  if (!m.isDir) {
    // Only a regular file is opened: a fifo in an untrusted context would block this process for
    // good, and a device node would be read on the host.
    if (!m.items[0].st.isFile()) throw invalid(`${m.path}: not a regular file or directory`);
    fs.copyFileSync(m.items[0].abs, dest);
    return;
  }
  fs.mkdirSync(dest);
  for (const it of m.items) {
    const to = path.join(dest, it.rel);
    if (it.st.isDirectory()) fs.mkdirSync(to);
    else if (it.st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(it.abs), to);
    else if (it.st.isFile()) fs.copyFileSync(it.abs, to);
    else continue;
    if (!it.st.isSymbolicLink()) fs.chmodSync(to, it.st.mode & 0o7777);
    fs.lchownSync(to, it.st.uid, it.st.gid);
  }
}
