// Compose files as plain data: YAML with anchors, aliases and merge keys (`<<`), plus compose's
// two tags for overrides, `!reset` (drop what earlier files set) and `!override` (replace instead
// of merge). The tree is converted by hand so the tags survive as markers for the merge.
import YAML from 'yaml';
import { invalid } from '../core/errors.ts';

/** A value carrying compose's `!reset` or `!override` tag until the files are merged. */
export class Tagged {
  readonly tag: 'reset' | 'override';
  readonly value: unknown;
  constructor(tag: 'reset' | 'override', value: unknown) {
    this.tag = tag;
    this.value = value;
  }
}

const TAGS = ['!reset', '!override'].flatMap((tag) => [
  { tag, resolve: (v: string) => v },
  { tag, collection: 'map' as const, resolve: (n: unknown) => n },
  { tag, collection: 'seq' as const, resolve: (n: unknown) => n },
]);

// A plain integer with a leading zero is octal, as docker compose's YAML reader takes it: a
// secret's `mode: 0440` is 0o440, not 440. Put before the core schema's decimal integers.
const OCTAL = { identify: () => false, default: true, tag: 'tag:yaml.org,2002:int', test: /^0[0-7]+$/, resolve: (s: string) => parseInt(s, 8) };

// Billion-laughs guard: aliases expanded more than this many times in one file is an attack or a bug.
const MAX_ALIASES = 10_000;

/** Parses one file's text; `file` names it in errors. */
export function parseYaml(text: string, file: string): unknown {
  const doc = YAML.parseDocument(text, { merge: true, customTags: ((tags: unknown[]) => [OCTAL, ...tags, ...TAGS]) as never, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const at = e.linePos?.[0] ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '';
    throw invalid(`${file}: yaml: ${e.message.split('\n')[0]}${at}`);
  }
  let aliases = 0;
  // The collections being converted: an alias to one of them (`a: &x {b: *x}`) would expand
  // without end, so it is refused (docker compose's YAML library refuses it too).
  const open = new Set<unknown>();
  const convert = (node: unknown): unknown => {
    if (YAML.isAlias(node)) {
      if (++aliases > MAX_ALIASES) throw invalid(`${file}: yaml: too many alias expansions`);
      const target = node.resolve(doc);
      if (open.has(target)) throw invalid(`${file}: yaml: the alias *${node.source} refers to a node that contains it`);
      return convert(target);
    }
    if (YAML.isCollection(node)) {
      open.add(node);
      try {
        return tagged(node, collection(node));
      } finally {
        open.delete(node);
      }
    }
    return tagged(node, YAML.isScalar(node) ? node.value : node === null || node === undefined ? null : node);
  };
  const tagged = (node: unknown, out: unknown): unknown => {
    const tag = (node as { tag?: string } | null)?.tag;
    if (tag === '!reset') return new Tagged('reset', out);
    if (tag === '!override') return new Tagged('override', out);
    return out;
  };
  const collection = (node: YAML.YAMLMap | YAML.YAMLSeq): unknown => {
    let out: unknown;
    if (YAML.isSeq(node)) out = node.items.map(convert);
    else {
      const map: Record<string, unknown> = {};
      const merged: Record<string, unknown> = {};
      for (const pair of node.items) {
        const key = YAML.isScalar(pair.key) ? pair.key.value : pair.key;
        if (typeof key === 'symbol' || key === '<<') {
          // Merge keys: earlier sources win over later ones, the map's own keys over all.
          const sources = YAML.isSeq(pair.value) ? pair.value.items : [pair.value];
          for (const src of sources) {
            const v = convert(src);
            if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid(`${file}: yaml: a merge key (<<) takes a mapping or a list of mappings`);
            for (const [k, x] of Object.entries(v)) if (!(k in merged)) merged[k] = x;
          }
          continue;
        }
        if (key !== null && typeof key === 'object') throw invalid(`${file}: yaml: mapping keys must be scalars`);
        map[String(key)] = convert(pair.value);
      }
      out = { ...merged, ...map };
    }
    return out;
  };
  return convert(doc.contents);
}
