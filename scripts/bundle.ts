// Builds dist/berth.cjs: the CLI with the engine as one CommonJS file. Node loads it ~13 ms faster
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

/** The newest modification time of the sources the bundle is made from. */
function newestSource(dir = path.join(REPO, 'src')): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

export function stale(): boolean {
  try {
    return fs.statSync(BUNDLE).mtimeMs < newestSource();
  } catch {
    return true;
  }
}

export async function bundle(): Promise<void> {
  const { build } = await import('esbuild');
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(BUNDLE), { recursive: true });
  await build({
    entryPoints: [path.join(REPO, 'src/cli/berth.ts')],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    logLevel: 'error',
    // util/paths.ts finds the tree from its own URL; in the bundle that is the bundle's.
    define: { 'import.meta.url': '__berth_url' },
    banner: { js: "const __berth_url = require('node:url').pathToFileURL(__filename).href;" },
  });
  fs.renameSync(tmp, BUNDLE);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--if-stale') || stale()) await bundle();
}
