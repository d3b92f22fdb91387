// .dockerignore: which files of the build context are left out. Docker's rules (moby's ignorefile and
// patternmatcher, as BuildKit's context walker applies them):
// - a line whose very first character is `#` is a comment; lines are trimmed; blank lines skipped;
// - `!` makes an exception (re-includes); patterns are cleaned like Go's filepath.Clean and a
//   leading `/` dropped, so `/a`, `a/`, `./a` all mean `a` relative to the context root;
// - `*` and `?` match within one path element, `[...]` a character class, `\` escapes; `**`
//   matches any number of elements (`**/x`, `a/**`, `a/**/b`);
// - a pattern that matches a directory excludes everything under it;
// - the last matching line wins.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../core/errors.ts';
import { compileGlob } from './glob.ts';
import { LayeredFs } from './layered.ts';

export interface IgnorePattern {
  /** Cleaned, without the `!`. */
  pattern: string;
  exclusion: boolean;
  test(relPath: string): boolean;
}

/** Per-pattern results for a directory, handed to its children when walking (see `check`). */
export type MatchState = readonly boolean[];

export interface IgnoreMatcher {
  readonly patterns: readonly IgnorePattern[];
  /** True when some `!` exception exists. */
  readonly hasExceptions: boolean;
  /** True when `relPath` (slash-separated, relative to the context root) is left out. */
  matches(relPath: string): boolean;
  /**
   * The walking form of `matches`: the result for `relPath` given its parent directory's state
   * (undefined for entries at the root), and the state to pass to its children if it is a directory.
   */
  check(relPath: string, parent?: MatchState): { excluded: boolean; state: MatchState };
  /**
   * For an excluded directory: whether files under it may still be re-included by a `!` pattern, so
   * the walker must go in (excluded directories on the way to an included file are still created).
   * False means the whole subtree can be skipped.
   */
  mayReinclude(dir: string): boolean;
}

/** Go's filepath.Clean on a slash-separated path. */
export function cleanPath(p: string): string {
  if (!p) return '.';
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** The patterns of a .dockerignore file, as moby's ignorefile.ReadAll returns them. */
export function readIgnoreLines(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\ufeff/, '').split('\n');
  for (let line of lines) {
    if (line.startsWith('#')) continue;
    line = line.trim();
    if (!line) continue;
    const invert = line.startsWith('!');
    if (invert) line = line.slice(1).trim();
    if (line) {
      line = cleanPath(line);
      if (line.length > 1 && line.startsWith('/')) line = line.slice(1);
    }
    out.push(invert ? '!' + line : line);
  }
  return out;
}

/**
 * One pattern, matched against a whole cleaned relative path. Like moby's patternmatcher: plain
 * text is compared as is; `x/**` is a prefix and `**` + plain text a suffix; anything else with
 * wildcards goes through the glob automaton.
 */
function compile(pattern: string, exclusion: boolean): IgnorePattern {
  const chars = Array.from(pattern);
  let kind: 'exact' | 'prefix' | 'suffix' | 'glob' = 'exact';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    const first = i === 0;
    if (ch === '*' && chars[i + 1] === '*') {
      i++;
      if (chars[i + 1] === '/') i++;
      kind = i + 1 >= chars.length && kind === 'exact' ? 'prefix' : 'glob';
      if (first) kind = 'suffix';
    } else if (ch === '*' || ch === '?' || ch === '[' || ch === ']') kind = 'glob';
    else if (ch === '\\') {
      i++;
      kind = 'glob';
    }
  }
  switch (kind) {
    case 'exact':
      return { pattern, exclusion, test: (p) => p === pattern };
    case 'prefix': {
      const prefix = pattern.slice(0, -2);
      return { pattern, exclusion, test: (p) => p.startsWith(prefix) };
    }
    case 'suffix': {
      const suffix = pattern.slice(2);
      return { pattern, exclusion, test: (p) => p.endsWith(suffix) || (suffix.startsWith('/') && p === suffix.slice(1)) };
    }
    case 'glob':
      return { pattern, exclusion, test: compileGlob(pattern) };
  }
}

/** Builds a matcher from a .dockerignore's text. Throws InvalidArgument for a malformed pattern. */
export function parseIgnore(text: string): IgnoreMatcher {
  return ignoreMatcher(readIgnoreLines(text));
}

/** Builds a matcher from patterns (as readIgnoreLines returns them, or `--exclude` flags). */
export function ignoreMatcher(lines: string[]): IgnoreMatcher {
  const patterns: IgnorePattern[] = [];
  for (const line of lines) {
    let p = line.trim();
    if (!p) continue;
    p = cleanPath(p);
    const exclusion = p.startsWith('!');
    if (exclusion) {
      if (p.length === 1) throw invalid('.dockerignore: illegal exclusion pattern: "!"');
      p = p.slice(1);
    }
    try {
      patterns.push(compile(p, exclusion));
    } catch (err) {
      throw invalid(`.dockerignore: bad pattern "${line}": ${(err as Error).message}`);
    }
  }
  const hasExceptions = patterns.some((p) => p.exclusion);
  // The walker can skip an excluded directory when every exception is a plain path (no wildcards
  // apart from a trailing /* or /**) that does not lead into it.
  const plainExceptions = patterns
    .filter((p) => p.exclusion)
    .map((p) => p.pattern.replace(/\/\*\*$/, '').replace(/\/\*$/, ''));
  const onlyPlain = plainExceptions.every((p) => !/[*[\]?^\\]/.test(p));

  const check = (relPath: string, parent?: MatchState) => {
    const file = relPath;
    let excluded = false;
    const state: boolean[] = new Array(patterns.length).fill(false);
    for (const [i, p] of patterns.entries()) {
      let m = parent ? parent[i] : false;
      if (!m) {
        // A pattern that cannot change the outcome is not evaluated (nor recorded for children).
        if (p.exclusion !== excluded) continue;
        m = p.test(file);
        if (!m && !parent) {
          // Without the parent's results, a match of any ancestor directory counts.
          const parts = file.split('/');
          for (let j = 1; j < parts.length && !m; j++) m = p.test(parts.slice(0, j).join('/'));
        }
      }
      state[i] = m;
      if (m) excluded = !p.exclusion;
    }
    return { excluded, state };
  };

  return {
    patterns,
    hasExceptions,
    check: (relPath, parent) => check(cleanRel(relPath), parent),
    matches(relPath: string): boolean {
      const file = cleanRel(relPath);
      if (file === '.' || !patterns.length) return false;
      // Element by element from the root, as the context walker meets them.
      const parts = file.split('/');
      let state: MatchState | undefined;
      let excluded = false;
      for (let j = 1; j <= parts.length; j++) {
        ({ excluded, state } = check(parts.slice(0, j).join('/'), state));
      }
      return excluded;
    },
    mayReinclude(dir: string): boolean {
      if (!hasExceptions) return false;
      if (!onlyPlain) return true;
      const prefix = cleanRel(dir) + '/';
      return plainExceptions.some((p) => (p + '/').startsWith(prefix));
    },
  };
}

/** A context-relative path as the matcher wants it: cleaned, no leading `/` or `./`. */
function cleanRel(p: string): string {
  const c = cleanPath(p.replace(/^\/+/, ''));
  return c === '/' ? '.' : c;
}

/**
 * Where the ignore file is: `<Dockerfile>.dockerignore` beside the Dockerfile wins over the
 * context's `.dockerignore` (as BuildKit and the docker CLI choose). Paths in the order to try.
 */
export function ignoreFileCandidates(contextDir: string, dockerfile?: string): string[] {
  // Resolved with the context as "/" (symlinks and `..` never lead out): the context and the
  // Dockerfile's name may both come from a remote client.
  const view = new LayeredFs([contextDir]);
  const inside = (rel: string) => path.join(contextDir, ...view.resolve(rel));
  const out: string[] = [];
  if (dockerfile) out.push(inside(dockerfile + '.dockerignore'));
  out.push(inside('.dockerignore'));
  return out;
}

/** Reads the ignore file that applies (none: a matcher that excludes nothing). */
export function loadIgnore(contextDir: string, dockerfile?: string): IgnoreMatcher {
  for (const candidate of ignoreFileCandidates(contextDir, dockerfile)) {
    const st = fs.lstatSync(candidate, { throwIfNoEntry: false });
    if (!st) continue;
    // A fifo would block this process for good, a device node would be read on the host.
    if (!st.isFile()) throw invalid(`${path.basename(candidate)}: not a regular file`);
    let fd: number;
    try {
      // Non-blocking and checked again once open: the file may change between lstat and open.
      fd = fs.openSync(candidate, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw err;
    }
    try {
      if (!fs.fstatSync(fd).isFile()) throw invalid(`${path.basename(candidate)}: not a regular file`);
      return parseIgnore(fs.readFileSync(fd, 'utf8'));
    } finally {
      fs.closeSync(fd);
    }
  }
  return ignoreMatcher([]);
}
