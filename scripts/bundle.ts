// Builds dist/berth.cjs: the CLI with the engine as one CommonJS file (and dist/berth-runtime.cjs,
// the OCI runtime's command line, the same way). Node loads it ~13 ms faster
// than the ~35 modules of src/ a `run` needs (one file to resolve, read and compile from the
// compile cache, no per-module linking), which is a fifth of berth's start latency. bin/berth runs
// it when it exists; setup builds it, and the tests' and benchmarks' harnesses rebuild it when a
// file under src/ is newer. The helper processes (release-main.ts, dns-main.ts) run from src/.
// Usage: node scripts/bundle.ts [--if-stale]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = path.join(REPO, 'dist', 'berth.cjs');
// berth-runtime, the OCI runtime command line, the same way (bin/berth-runtime runs it).
const RUNTIME_BUNDLE = path.join(REPO, 'dist', 'berth-runtime.cjs');
// bin/berth starts with berth-start.cjs, which runs berth.cjs with a code cache (src/cli/start.ts),
// or berth-build.cjs for `build` and berth-ps.cjs for `ps`: the same CLI without the other
// commands' modules (the API server, the CRI, compose, ...), so a cached rebuild and a listing,
// which are mostly start-up, read and deserialize less. `only` names the command module kept.
const ENTRIES: Array<[entry: string, out: string, only?: string]> = [
  ['src/cli/berth.ts', BUNDLE], ['src/cli/runtime.ts', RUNTIME_BUNDLE], ['src/cli/start.ts', path.join(REPO, 'dist', 'berth-start.cjs')],
  ['src/cli/berth.ts', path.join(REPO, 'dist', 'berth-build.cjs'), 'build'],
  ['src/cli/berth.ts', path.join(REPO, 'dist', 'berth-ps.cjs'), 'containers'],
];

/** Every file under src/. */
function sources(dir = path.join(REPO, 'src')): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Whether a file under src/ is newer than a bundle (or a bundle is missing). */
export function stale(): boolean {
  try {
    const built = Math.min(...ENTRIES.map(([, out]) => fs.statSync(out).mtimeMs));
    return sources().some((f) => fs.statSync(f).mtimeMs > built);
  } catch {
    return true;
  }
}

export async function bundle(): Promise<void> {
  // Each bundle treats builtins' imports as below, which is only right if no source imports a
  // builtin's default export.
  const defaults = sources().filter((f) => /^import\s+\w+\s*(,|from)\s*.*'node:/m.test(fs.readFileSync(f, 'utf8')));
  if (defaults.length) throw new Error(`bundle: ${defaults.join(', ')} import a builtin's default export; use import * as`);
  for (const [entry, out, only] of ENTRIES) await bundleOne(entry, out, only);
}

/**
 * Leaves out of a bundle the command modules (src/cli/commands/) other than `only`'s: their
 * import resolves to a module that throws (berth-start.cjs runs such a bundle for that command only).
 */
function onlyCommand(only: string): import('esbuild').Plugin {
  return {
    name: 'only-command',
    setup(b) {
      b.onResolve({ filter: /^\.\/commands\/[a-z-]+\.ts$/ }, (a) => (a.path === `./commands/${only}.ts` ? undefined : { path: a.path, namespace: 'left-out' }));
      b.onLoad({ filter: /.*/, namespace: 'left-out' }, (a) => ({ contents: `throw new Error(${JSON.stringify(`${a.path} is not in the bundle for "${only}"`)});`, loader: 'js' }));
    },
  };
}

async function bundleOne(entry: string, out: string, only?: string): Promise<void> {
  const { build } = await import('esbuild');
  const tmp = `${out}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  try {
    await build({
      entryPoints: [path.join(REPO, entry)],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node24',
      logLevel: 'error',
      plugins: only ? [onlyCommand(only)] : [],
      // gRPC (~1 MB) only serves `daemon --cri`, yaml and ajv (~470 KB, a quarter of the bundle)
      // only compose: required from node_modules then. In the bundle, every command paid to load
      // them with the rest (~15 M instructions of a `ps`, for the code cache of their functions).
      external: ['@grpc/grpc-js', '@grpc/proto-loader', 'yaml', 'ajv', 'ajv/*'],
      // util/paths.ts finds the tree from its own URL; in the bundle that is the bundle's.
      define: { 'import.meta.url': '__berth_url' },
      // "use strict" first: esbuild's own comes after the banner, where it would not count, and
      // src/ is ES modules, which are strict.
      banner: {
        js: "'use strict';\nconst __berth_url = require('node:url').pathToFileURL(__filename).href;\n" +
          'const __berth_lazy = (n) => { let m; const get = () => (m ??= require(n)); return new Proxy({}, { get: (_, k) => get()[k], has: (_, k) => k in get() }); };',
      },
    });
    // `import * as fs from 'node:fs'` becomes __toESM(require('node:fs')), which copies every export
    // of the module into a new object, per importing module: ~4 ms of a `run`. berth imports no
    // builtin's default export (checked here), so the module object itself serves.
    // Builtins that Node's start-up has not loaded yet (child_process, http, zlib, crypto, ...: ~25
    // ms of CPU together; fs/promises alone ~6 M instructions of a cached `build`, which has no use
    // for it) are loaded on first use, not when the importing module initialises: most
    // commands (ps, inspect, logs) never use them. Every use of a builtin in the bundle is a
    // property read of its module object (no default imports, checked above), which the proxy
    // forwards to the module, loaded then.
    const code = fs.readFileSync(tmp, 'utf8')
      .replace(/__toESM\(require\("(node:[a-z_/]+)"\)(?:, 1)?\)/g, 'require("$1")')
      .replace(/require\("(node:(?:child_process|crypto|fs\/promises|http|https|net|stream|stream\/promises|tls|zlib|dns|dgram|readline|worker_threads))"\)/g, '__berth_lazy("$1")')
      // One non-ASCII character anywhere (esbuild leaves them in regular expressions) makes V8
      // keep the whole 1.3 MB source as two-byte characters: ~24 M instructions (a seventh) of
      // a `ps` on an empty root. \uXXXX means the same in strings, regular expressions and
      // identifiers (UTF-16 units, so astral characters become their surrogate pairs).
      .replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, out);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--if-stale') || stale()) await bundle();
}
