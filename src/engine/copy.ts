// docker cp for a running container, safe against symlinks inside it (CVE-2018-15664 class).
// The container is frozen for the whole copy, so nothing in it can swap a path while we walk
// it; every path is resolved by hand with the container's root as "/" (a symlink to /etc/shadow
// means the container's /etc/shadow), and we write only through components we checked are
// real directories, never following a link at the last step.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid, notFound } from '../core/errors.ts';

/**
 * lstat, except for a container's root itself: /proc/PID/root is a magic link whose target is
 * the directory we mean, so it is followed (only it: everything below is checked by hand).
 */
function lstatHere(p: string): fs.Stats | undefined {
  return /^\/proc\/\d+\/root\/?$/.test(p) ? fs.statSync(p, { throwIfNoEntry: false }) : fs.lstatSync(p, { throwIfNoEntry: false });
}

/** Resolves p inside root (an absolute host path such as /proc/PID/root); returns root-relative parts. */
export function resolveInRoot(root: string, p: string, followLast = true): string[] {
  const out: string[] = [];
  let todo = p.split('/').filter((c) => c && c !== '.');
  for (let links = 0; todo.length;) {
    const c = todo.shift()!;
    if (c === '..') {
      out.pop(); // never above the root
      continue;
    }
    const st = fs.lstatSync(path.join(root, ...out, c), { throwIfNoEntry: false });
    if (st?.isSymbolicLink() && (todo.length > 0 || followLast)) {
      if (++links > 40) throw invalid(`too many levels of symbolic links in ${p}`);
      const target = fs.readlinkSync(path.join(root, ...out, c));
      if (target.startsWith('/')) out.length = 0;
      todo = [...target.split('/').filter((x) => x && x !== '.'), ...todo];
      continue;
    }
    out.push(c);
  }
  return out;
}

function copyFile(src: string, dest: string, st: fs.Stats): void {
  const existing = lstatHere(dest);
  if (existing && !existing.isDirectory()) fs.unlinkSync(dest); // a link there is replaced, not followed
  const fd = fs.openSync(dest, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, st.mode & 0o7777);
  try {
    const data = fs.readFileSync(src);
    fs.writeFileSync(fd, data);
    fs.fchmodSync(fd, st.mode & 0o7777);
    fs.futimesSync(fd, st.atime, st.mtime);
  } finally {
    fs.closeSync(fd);
  }
}

/** Who owns what a copy into a container creates: its root (a remapped container's is a host id). */
export interface Owner {
  uid: number;
  gid: number;
}

/**
 * Copies src (a host file or tree, read without following its symlinks) to dest, never writing
 * through a link at dest; with owner, what it creates is chowned to it.
 */
export function copyTree(src: string, dest: string, owner?: Owner): void {
  const st = fs.lstatSync(src);
  if (st.isDirectory()) {
    const existing = lstatHere(dest);
    if (existing && !existing.isDirectory()) fs.unlinkSync(dest);
    if (!existing || !existing.isDirectory()) fs.mkdirSync(dest, st.mode & 0o7777);
    for (const name of fs.readdirSync(src)) copyTree(path.join(src, name), path.join(dest, name), owner);
    fs.utimesSync(dest, st.atime, st.mtime);
  } else if (st.isSymbolicLink()) {
    const existing = lstatHere(dest);
    if (existing) fs.rmSync(dest, { recursive: existing.isDirectory(), force: true });
    fs.symlinkSync(fs.readlinkSync(src), dest);
  } else if (st.isFile()) {
    copyFile(src, dest, st);
  } else {
    return; // devices, fifos and sockets are not copied (as docker cp)
  }
  if (owner) fs.lchownSync(dest, owner.uid, owner.gid);
}

/** docker's destination rule: into an existing directory under the source's name, else as dest itself. */
function target(destDir: string, destExists: fs.Stats | undefined, srcName: string, copyContents: boolean): string {
  if (destExists?.isDirectory()) return copyContents ? destDir : path.join(destDir, srcName);
  return destDir;
}

/** SRC/. copies the directory's contents (creating dest if needed), SRC the thing itself. */
function copyAll(src: string, dest: string, contents: boolean, owner?: Owner): void {
  if (!contents) return copyTree(src, dest, owner);
  const st = fs.lstatSync(src);
  if (!lstatHere(dest)?.isDirectory()) {
    fs.mkdirSync(dest, st.mode & 0o7777);
    if (owner) fs.lchownSync(dest, owner.uid, owner.gid);
  }
  for (const n of fs.readdirSync(src)) copyTree(path.join(src, n), path.join(dest, n), owner);
}

export function copyOut(root: string, ctrPath: string, hostDest: string): void {
  const rel = resolveInRoot(root, ctrPath);
  const src = path.join(root, ...rel);
  const st = lstatHere(src);
  if (!st) throw notFound(`Could not find the file ${ctrPath} in container`);
  const contents = /\/\.$/.test(ctrPath);
  if (contents && !st.isDirectory()) throw invalid(`${ctrPath}: not a directory`);
  const destSt = fs.statSync(hostDest, { throwIfNoEntry: false });
  if (!destSt && !fs.existsSync(path.dirname(path.resolve(hostDest)))) throw notFound(`destination directory ${path.dirname(hostDest)} does not exist`);
  if (st.isDirectory() && destSt && !destSt.isDirectory()) throw invalid(`cannot copy a directory to a file: ${hostDest}`);
  const dest = target(hostDest, destSt, path.basename(src), contents);
  copyAll(src, dest, contents);
}

export function copyIn(root: string, hostSrc: string, ctrPath: string, owner?: Owner): void {
  const st = fs.lstatSync(hostSrc, { throwIfNoEntry: false });
  if (!st) throw notFound(`lstat ${hostSrc}: no such file or directory`);
  const contents = /\/\.$/.test(hostSrc);
  // The destination's parent must resolve to a real directory inside the container.
  const rel = resolveInRoot(root, ctrPath);
  const destAbs = path.join(root, ...rel);
  const destSt = lstatHere(destAbs);
  const parentSt = lstatHere(path.dirname(destAbs));
  if (!destSt && !parentSt?.isDirectory()) throw notFound(`Could not find the file ${path.posix.dirname(ctrPath)} in container`);
  if (st.isDirectory() && destSt && !destSt.isDirectory()) throw invalid(`cannot copy a directory to a file: ${ctrPath}`);
  const dest = target(destAbs, destSt, path.basename(path.resolve(hostSrc)), contents);
  copyAll(hostSrc, dest, contents, owner);
}

export interface PathStat {
  name: string;
  size: number;
  mode: number; // Go's os.FileMode: permission bits plus type bits (dir 1<<31, symlink 1<<27)
  mtime: string;
  linkTarget: string;
  isDir: boolean;
}

/** What docker's archive API reports for a path in the container (symlinks not followed at the end). */
export function statInRoot(root: string, ctrPath: string): PathStat {
  const rel = resolveInRoot(root, ctrPath, false);
  const abs = path.join(root, ...rel);
  const st = lstatHere(abs);
  if (!st) throw notFound(`Could not find the file ${ctrPath} in container`);
  let mode = st.mode & 0o777;
  if (st.mode & 0o4000) mode |= 1 << 23; // setuid
  if (st.mode & 0o2000) mode |= 1 << 22; // setgid
  if (st.mode & 0o1000) mode |= 1 << 20; // sticky
  if (st.isDirectory()) mode |= 2 ** 31;
  else if (st.isSymbolicLink()) mode |= 1 << 27;
  else if (st.isFIFO()) mode |= 1 << 25;
  else if (st.isSocket()) mode |= 1 << 24;
  else if (st.isCharacterDevice()) mode |= (1 << 26) | (1 << 21);
  else if (st.isBlockDevice()) mode |= 1 << 26;
  const linkTarget = st.isSymbolicLink() ? fs.readlinkSync(abs) : '';
  return { name: rel.at(-1) ?? '/', size: st.size, mode: mode >>> 0, mtime: st.mtime.toISOString(), linkTarget, isDir: st.isDirectory() };
}
