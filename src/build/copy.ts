// COPY and ADD: the sources are matched and hashed first (the cache key), and only on a miss
// laid out in a staging directory at their final paths, which then becomes the step's layer.
// The destination is resolved in the image (a symlink there is followed inside the image, never
// out of it), and nothing is written through a symlink in the staging directory.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../core/errors.ts';
import type { ImageStore } from '../image/store.ts';
import { applyLayer } from '../image/apply.ts';
import { resolveUser } from '../image/passwd.ts';
import { shimSpecialFs } from '../runtime/shim.ts';
import { readImageFile } from '../snapshot/layers.ts';
import { layerTar } from '../snapshot/diff.ts';
import { isArchive, uncompressed } from './archive.ts';
import { fetchToFile } from './fetch-file.ts';
import { gitCheckout, isGitUrl, resolveGitCommit } from './remote.ts';
import { excludeFrom, excludeMatcher, matchParents } from './copy-select.ts';
import { hashSources, matchSource, type FileHashes, type Matched } from './context.ts';
import type { IgnoreMatcher } from './ignore.ts';
import { LayeredFs } from './layered.ts';
import { normalizePath, type Expand, type StageState } from './state.ts';
import type { Instruction } from './types.ts';

type CopyIns = Extract<Instruction, { kind: 'COPY' | 'ADD' }>;

export interface CopySource {
  view: LayeredFs;
  ignore?: IgnoreMatcher;
  /** Context files belong to root in the image; a stage's or image's keep their owners. */
  keepOwners: boolean;
  where: string;
  hashes?: FileHashes;
}

type Piece =
  | { kind: 'tree'; m: Matched }
  | { kind: 'archive'; m: Matched }
  | { kind: 'data'; name: string; data: Buffer; mode: number }
  | { kind: 'file'; name: string; file: string; mode: number }
  /** ADD <git URL> keyed by its commit: fetched only when the step runs. */
  | { kind: 'git'; url: string; commit: string };
/** A piece as it is laid out (a Git source checked out by then). */
type Fetched = Exclude<Piece, { kind: 'git' }>;

export interface CopyPlan {
  /** What the cache key adds for this step: the sources' content hash. */
  hash: string;
  /** Lays the sources out and makes the layer. */
  apply(stage: string): Promise<{ diffId: string; size: number }>;
  createdBy: string;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);
/** A Git URL that cannot be a context path (`github.com/x` can: BuildKit takes it as one too). */
const isGitSource = (s: string) => isGitUrl(s) && !s.startsWith('github.com/');

/** ADD <url>: downloaded into a scratch directory (streamed, not held in memory), checked against --checksum. */
async function download(url: string, checksum: string | undefined, dir: string, signal?: AbortSignal): Promise<{ file: string; sha256: string }> {
  const m = checksum === undefined ? undefined : /^sha256:([a-f0-9]{64})$/.exec(checksum);
  if (checksum !== undefined && !m) throw invalid(`unsupported --checksum "${checksum}" (sha256:<hex> only)`);
  const file = path.join(dir, 'download');
  let got: string;
  try {
    got = (await fetchToFile(url, file, signal)).sha256;
  } catch (err) {
    if (signal?.aborted) throw err;
    throw invalid(`failed to load ${url}: ${(err as Error).message}`, err);
  }
  if (m && got !== m[1]) throw invalid(`digest mismatch for ${url}: expected ${checksum}, got sha256:${got}`);
  return { file, sha256: got };
}

/** The file name a download gets: the last element of the decoded path (a `%2f` is a "/" too, as docker's path.Base). */
function urlName(url: string): string {
  const p = new URL(url).pathname;
  let decoded = p;
  try {
    decoded = decodeURIComponent(p);
  } catch {}
  const base = decoded.split('/').filter(Boolean).at(-1);
  return base && base !== '.' && base !== '..' ? base : 'index.html';
}

/** A Git URL's tree checked out into scratch, as one match (--exclude applied). */
async function gitTree(url: string, scratch: string, opts: { signal?: AbortSignal; keepGitDir: boolean; commit?: string }, exclude: IgnoreMatcher | undefined): Promise<Matched[]> {
  const dir = await gitCheckout(url, scratch, opts);
  return excludeFrom(matchSource(new LayeredFs([dir]), '/', { where: 'Git repository' }), exclude, false);
}

export async function planCopy(p: {
  ins: CopyIns;
  x: Expand;
  state: StageState;
  src: CopySource;
  images: ImageStore;
  scratch: () => string;
  signal?: AbortSignal;
}): Promise<CopyPlan> {
  const { ins, x, state } = p;
  const cfg = state.config.config ?? {};
  if (ins.kind === 'COPY' && ins.sources.some(isUrl)) throw invalid(`${ins.source.file}:${ins.source.line}: source can't be a URL for COPY`);
  if (ins.kind === 'COPY' && ins.sources.some(isGitSource)) throw invalid(`${ins.source.file}:${ins.source.line}: source can't be a git ref for COPY`);
  const exclude = excludeMatcher(ins.exclude.map((e) => x.word(e)));
  const pieces: Piece[] = [];
  const h = createHash('sha256');
  let wildcard = false;
  for (const doc of ins.heredocs) {
    const data = Buffer.from(x.heredoc(doc));
    pieces.push({ kind: 'data', name: doc.name, data, mode: 0o644 });
    h.update(`heredoc ${doc.name} ${createHash('sha256').update(data).digest('hex')}\n`);
  }
  for (const raw of ins.sources) {
    if (raw.startsWith('<<')) continue; // a heredoc's name: its content came above
    const s = x.word(raw);
    if (ins.kind === 'ADD' && isGitSource(s)) {
      // ADD <git URL>: the tree at the ref (its subdir), without .git unless --keep-git-dir.
      if (ins.checksum) throw invalid(`ADD --checksum is not supported for a Git source: ${s}`);
      const keep = ins.keepGitDir === true;
      // Keyed by the commit the ref names now, as BuildKit keys it: the tree is fetched only if
      // the step runs. (The subdirectory is in the URL; --exclude is in the key below.)
      const commit = await resolveGitCommit(s, p.scratch(), { signal: p.signal });
      if (commit) {
        pieces.push({ kind: 'git', url: s, commit });
        h.update(`git ${s} commit ${commit} keep-git-dir=${keep}\n`);
        continue;
      }
      // An abbreviated commit id: only the checkout tells which commit it is; its files are the key.
      for (const m of await gitTree(s, p.scratch(), { signal: p.signal, keepGitDir: keep }, exclude)) {
        pieces.push({ kind: 'tree', m });
        h.update(`git ${s} ${hashSources([m], false)}\n`);
      }
      continue;
    }
    if (isUrl(s)) {
      const got = await download(s, (ins.checksum && x.word(ins.checksum)) || undefined, p.scratch(), p.signal);
      pieces.push({ kind: 'file', name: urlName(s), file: got.file, mode: 0o600 });
      h.update(`url ${s} ${got.sha256}\n`);
      continue;
    }
    const glob = /[*?[]/.test(s);
    if (glob) wildcard = true;
    const where = { ignore: p.src.ignore, where: p.src.where };
    const matched = ins.parents ? matchParents(p.src.view, s, { ...where, exclude }) : excludeFrom(matchSource(p.src.view, s, where), exclude, glob);
    for (const m of matched) {
      const archive = ins.kind === 'ADD' && !m.isDir && m.items[0].st.isFile() && (await isArchive(m.items[0].abs));
      pieces.push(archive ? { kind: 'archive', m } : { kind: 'tree', m });
      h.update(`${archive ? 'archive' : 'tree'} ${hashSources([m], p.src.keepOwners, p.src.hashes)}\n`);
    }
  }
  const destRaw = x.word(ins.dest);
  const dest = destRaw.startsWith('/') ? destRaw : `${cfg.WorkingDir || '/'}/${destRaw}`;
  const destIsDir = /\/\.?$/.test(destRaw) || pieces.length > 1 || wildcard;
  h.update(`dest ${dest} ${destIsDir} chown=${ins.chown ?? ''} chmod=${ins.chmod ?? ''} link=${ins.link} parents=${ins.parents} exclude=${JSON.stringify(ins.exclude)}\n`);
  const flags = [ins.parents ? '--parents' : '', ins.from ? `--from=${ins.from}` : '', ins.chown ? `--chown=${ins.chown}` : '', ins.chmod ? `--chmod=${ins.chmod}` : '', ins.link ? '--link' : ''].filter(Boolean);
  const shown = [...flags, ...ins.heredocs.map((d) => `<<${d.name}`), ...ins.sources, ins.dest].join(' ');
  return {
    hash: h.digest('hex'),
    createdBy: `${ins.kind} ${shown} # buildkit`,
    apply: async () => {
      const fetched: Fetched[] = [];
      for (const piece of pieces) {
        if (piece.kind !== 'git') fetched.push(piece);
        else for (const m of await gitTree(piece.url, p.scratch(), { signal: p.signal, keepGitDir: ins.keepGitDir === true, commit: piece.commit }, exclude)) fetched.push({ kind: 'tree', m });
      }
      return layOut({ ...p, pieces: fetched, dest, destIsDir });
    },
  };
}

async function layOut(p: {
  ins: CopyIns;
  x: Expand;
  state: StageState;
  src: CopySource;
  images: ImageStore;
  scratch: () => string;
  pieces: Fetched[];
  dest: string;
  destIsDir: boolean;
}): Promise<{ diffId: string; size: number }> {
  const { ins, state, images } = p;
  const diffIds = state.config.rootfs.diff_ids;
  const image = new LayeredFs(images.layers.mount(diffIds).reverse());
  let owner: { uid: number; gid: number } | undefined;
  if (ins.chown) {
    const spec = p.x.word(ins.chown);
    const u = resolveUser(spec, readImageFile(images.layers, diffIds, 'etc/passwd'), readImageFile(images.layers, diffIds, 'etc/group'));
    owner = { uid: u.uid, gid: u.gid };
  }
  let chmod: number | undefined;
  if (ins.chmod) {
    const v = p.x.word(ins.chmod);
    if (!/^[0-7]{3,4}$/.test(v)) throw invalid(`invalid chmod parameter: ${v}`);
    chmod = parseInt(v, 8);
  }
  // --link: the layer stands on its own, so the destination is taken as written.
  const destParts = ins.link ? normalizePath(p.dest).split('/').filter(Boolean) : image.resolve(p.dest);
  const destExisting = ins.link ? undefined : image.lstat(destParts.join('/'));
  const intoDir = p.destIsDir || destExisting?.st.isDirectory() === true;
  const S = p.scratch();
  const realDirs = new Set<string>(['']);
  /** Makes S/rel a real directory (never through a symlink), parents mirrored from the image. */
  const ensureDir = (parts: string[], ownerForNew?: { uid: number; gid: number }) => {
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      if (realDirs.has(rel)) continue;
      const abs = path.join(S, rel);
      const st = fs.lstatSync(abs, { throwIfNoEntry: false });
      if (st && !st.isDirectory()) fs.rmSync(abs, { force: true });
      if (!st?.isDirectory()) {
        fs.mkdirSync(abs);
        const inImage = ins.link ? undefined : image.lstat(rel);
        if (inImage?.st.isDirectory()) {
          fs.chmodSync(abs, inImage.st.mode & 0o7777);
          fs.lchownSync(abs, inImage.st.uid, inImage.st.gid);
          fs.utimesSync(abs, inImage.st.atime, inImage.st.mtime);
        } else {
          fs.chmodSync(abs, 0o755);
          if (ownerForNew) fs.lchownSync(abs, ownerForNew.uid, ownerForNew.gid);
        }
      }
      realDirs.add(rel);
    }
  };
  /** Clears whatever is at S/rel (its parent made real first), so a new entry can take its place. */
  const clear = (parts: string[]) => {
    ensureDir(parts.slice(0, -1));
    const abs = path.join(S, ...parts);
    const st = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (st) fs.rmSync(abs, { recursive: true, force: true });
    for (const k of realDirs) if (k === parts.join('/') || k.startsWith(parts.join('/') + '/')) realDirs.delete(k);
  };
  const own = (abs: string, st: { uid: number; gid: number }) => {
    const o = owner ?? (p.src.keepOwners ? st : { uid: 0, gid: 0 });
    fs.lchownSync(abs, o.uid, o.gid);
  };
  const dirTimes: Array<[string, fs.Stats]> = [];
  for (const piece of p.pieces) {
    if (piece.kind === 'data' || piece.kind === 'file') {
      // The name comes from the Dockerfile (a heredoc's) or a URL: one plain name, or it could
      // climb out of the staging directory.
      if (!piece.name || piece.name === '.' || piece.name === '..' || piece.name.includes('/')) throw invalid(`${ins.kind}: invalid file name ${JSON.stringify(piece.name)}`);
      const parts = intoDir ? [...destParts, piece.name] : destParts;
      clear(parts);
      const abs = path.join(S, ...parts);
      if (piece.kind === 'file') fs.copyFileSync(piece.file, abs, fs.constants.COPYFILE_EXCL);
      else fs.writeFileSync(abs, piece.data, { mode: chmod ?? piece.mode, flag: 'wx' });
      fs.chmodSync(abs, chmod ?? piece.mode);
      fs.lchownSync(abs, owner?.uid ?? 0, owner?.gid ?? 0);
      continue;
    }
    const m = piece.m;
    if (piece.kind === 'archive') {
      // ADD: a local tar is unpacked into the destination directory (its entries keep their owners).
      ensureDir(destParts, owner);
      await applyLayer(uncompressed(m.items[0].abs), path.join(S, ...destParts), shimSpecialFs);
      continue;
    }
    // A directory's contents go into the destination; a file goes into it under its name, or becomes it.
    const base = m.isDir ? destParts : intoDir ? [...destParts, m.name] : destParts;
    if (m.isDir) ensureDir(base, owner);
    for (const it of m.items) {
      const parts = it.rel ? [...base, ...it.rel.split('/')] : base;
      const abs = path.join(S, ...parts);
      const st = it.st;
      if (st.isDirectory()) {
        const cur = fs.lstatSync(abs, { throwIfNoEntry: false });
        if (!cur?.isDirectory()) clear(parts);
        if (!cur?.isDirectory()) fs.mkdirSync(abs);
        realDirs.add(parts.join('/'));
        fs.chmodSync(abs, chmod ?? st.mode & 0o7777);
        own(abs, st);
        dirTimes.push([abs, st]);
      } else if (st.isSymbolicLink()) {
        clear(parts);
        fs.symlinkSync(fs.readlinkSync(it.abs), abs);
        own(abs, st);
        fs.lutimesSync(abs, st.atime, st.mtime);
      } else if (st.isFile()) {
        clear(parts);
        fs.copyFileSync(it.abs, abs, fs.constants.COPYFILE_EXCL);
        fs.chmodSync(abs, chmod ?? st.mode & 0o7777);
        own(abs, st);
        fs.utimesSync(abs, st.atime, st.mtime);
      }
      // devices, fifos and sockets are not copied (as docker's builder)
    }
  }
  for (const [abs, st] of dirTimes.reverse()) fs.utimesSync(abs, st.atime, st.mtime);
  return images.storeLayer(layerTar(S, new Map()));
}
