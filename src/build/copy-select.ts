// What COPY's `--parents` and COPY/ADD's `--exclude` select from the sources, as the Dockerfile
// reference (and BuildKit's copy, which it describes) defines them:
// - `--exclude=<pattern>` (repeatable) follows .dockerignore's rules, matched against paths
//   relative to each matched source (so `*.txt` is a file at a source directory's top, `**/*.txt`
//   one at any depth); a directory under which a `!` exception keeps something stays. A wildcard's
//   own match is left out when its name matches (the reference's `COPY --exclude=*.txt hom* /d/`).
// - `--parents` keeps the source's directories: `COPY --parents x/a.txt /p/` writes /p/x/a.txt.
//   A `/./` in the source is the pivot: only what follows it is kept (`x/./y/a.txt` gives
//   /p/y/a.txt). The part after the pivot is a pattern (with `**` for any depth) matched below the
//   part before it; directories on the way to a match come along with their own metadata.
// Both work on matchSource's results, so the context's rules (its root is "/", .dockerignore)
// apply unchanged and no path can name anything outside the source.
import { invalid } from '../core/errors.ts';
import { cleanSource, matchSource, type Item, type Matched } from './context.ts';
import { ignoreMatcher, type IgnoreMatcher } from './ignore.ts';
import type { LayeredFs } from './layered.ts';

const GLOB = /[*?[]/;

/** `--exclude`'s matcher, or none without patterns. */
export function excludeMatcher(patterns: string[]): IgnoreMatcher | undefined {
  return patterns.length ? patternsOf('--exclude', patterns) : undefined;
}

function patternsOf(what: string, patterns: string[]): IgnoreMatcher {
  try {
    return ignoreMatcher(patterns);
  } catch (err) {
    throw invalid(`${what}: ${(err as Error).message.replace(/^\.dockerignore: /, '')}`, err);
  }
}

/**
 * Items without those `drop` names (paths relative to the source); a dropped directory stays when
 * something kept lies under it. Items come parents first (matchSource's walk), and stay so.
 */
export function prune(items: Item[], drop: (rel: string) => boolean): Item[] {
  const needed = new Set<string>();
  const keep = new Array<boolean>(items.length);
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i];
    keep[i] = (it.st.isDirectory() && needed.has(it.rel)) || !drop(it.rel);
    if (!keep[i]) continue;
    for (let at = it.rel.lastIndexOf('/'); at > 0; at = it.rel.lastIndexOf('/', at - 1)) needed.add(it.rel.slice(0, at));
  }
  return items.filter((_, i) => keep[i]);
}

/** Applies `--exclude` to one source's matches (`wildcard`: the source named them by a pattern). */
export function excludeFrom(matched: Matched[], exclude: IgnoreMatcher | undefined, wildcard: boolean): Matched[] {
  if (!exclude) return matched;
  const out: Matched[] = [];
  for (const m of matched) {
    if (wildcard && exclude.matches(m.name)) continue;
    out.push(m.isDir ? { ...m, items: prune(m.items, (rel) => exclude.matches(rel)) } : m);
  }
  return out;
}

/**
 * `COPY --parents <source>`: what the source selects, as one directory-like match whose items
 * keep their paths below the pivot (the context's root without one). `exclude` applies to those
 * same paths.
 */
export function matchParents(view: LayeredFs, source: string, opts: { ignore?: IgnoreMatcher; where: string; exclude?: IgnoreMatcher }): Matched[] {
  const cut = source.indexOf('/./');
  const base = cut >= 0 ? source.slice(0, cut) : '/';
  const parts = cleanSource(cut >= 0 ? source.slice(cut + 3) : source, opts.where);
  const baseParts = cleanSource(base, opts.where);
  // The walk starts at the longest plain prefix, so `--parents pkg/a/package.json` does not read
  // the whole context. Wildcards before the pivot (rare) make every base walked in full.
  const firstGlob = parts.findIndex((p) => GLOB.test(p));
  const literal = GLOB.test(base) ? 0 : firstGlob < 0 ? parts.length : firstGlob;
  const prefix = parts.slice(0, literal);
  const include = literal < parts.length ? patternsOf('--parents', [parts.join('/')]) : undefined;
  const out: Matched[] = [];
  for (const m of matchSource(view, [...baseParts, ...prefix].join('/'), opts)) {
    if (include && !m.isDir) continue; // a pattern still to match needs a directory to look in
    const items: Item[] = [];
    // The directories of the prefix (the match itself too when it is a directory), as they are in the source.
    const upTo = m.isDir || include ? prefix.length : prefix.length - 1;
    for (let i = 1; i <= upTo; i++) {
      const e = view.lstat(view.resolve([...baseParts, ...prefix.slice(0, i)].join('/')).join('/'));
      if (e?.st.isDirectory()) items.push({ rel: prefix.slice(0, i).join('/'), abs: e.abs, st: e.st });
    }
    const under = prefix.join('/');
    for (const it of m.items) items.push({ ...it, rel: [under, it.rel].filter(Boolean).join('/') });
    const drop = (rel: string) => (include ? !include.matches(rel) : false) || opts.exclude?.matches(rel) === true;
    out.push({ name: '', path: m.path, isDir: true, items: prune(items, drop) });
  }
  return out;
}
