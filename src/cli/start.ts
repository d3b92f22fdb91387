// The CLI's first file when bundled (bin/berth runs dist/berth-start.cjs, built from this): it
// compiles dist/berth.cjs (dist/berth-build.cjs for `build`, berth-ps.cjs for `ps`) with a V8 code cache made at the
// end of an earlier run of the same command, then runs it as Node would run it. Node's own
// compile cache (NODE_COMPILE_CACHE) is made when a file is compiled, so it holds the bundle's
// top level only: every function a command calls was compiled again from source on every run, a
// third of a cached `build`'s CPU (61 -> 41 ms of task-clock with this cache). A cache made after
// a run holds the functions that run compiled, so there is one per command (`build`, `ps`, ...).
// It is keyed by the bundle's inode, size and times, because V8 checks only the source's length
// before it trusts a cache, and a rebuilt bundle is a new file (scripts/bundle.ts renames it into
// place). A missing, stale or rejected cache (another Node, other V8 flags) is written anew at
// exit; a cache that cannot be written (a read-only tree) is simply not kept. No berth module is
// imported here: this file stays small and its work is a stat, a read and a compile.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { createRequire, Module } from 'node:module';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const cacheDir = path.join(dir, '..', '.cache', 'code');

/** The command word as main.ts reads it: the first argument that is neither a global option nor its value. */
function verb(argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--root' || a === '-H' || a === '--host') i++;
    else if (['-h', '--help', '-v', '--version'].includes(a)) return 'none'; // main stops there
    else if (!a.startsWith('-')) return /^[a-z]{2,12}$/.test(a) ? a : 'other';
  }
  return 'none';
}

const command = verb(process.argv.slice(2));
// `build` and `ps` have bundles of their own without the other commands (scripts/bundle.ts).
const own = path.join(dir, `berth-${command}.cjs`);
const file = (command === 'build' || command === 'ps') && fs.existsSync(own) ? own : path.join(dir, 'berth.cjs');
const st = fs.statSync(file, { bigint: true });
// V8 rejects a cache made under other flags (bin/berth gives `ps` its own), so each set of flags
// has its caches: a `run ... ps` between two other runs does not make the next one rewrite it.
let flags = 5381;
for (const c of process.execArgv.join(' ')) flags = (flags * 33 + c.charCodeAt(0)) >>> 0;
const identity = `-${st.ino}-${st.size}-${st.mtimeNs}-${st.ctimeNs}.bin`;
const cacheFile = path.join(cacheDir, `${command}-${flags.toString(16)}${identity}`);
let cached: Buffer | undefined;
try {
  cached = fs.readFileSync(cacheFile);
} catch {}
const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), {
  filename: file,
  cachedData: cached,
  // The bundle's import() of builtins and of yaml resolves as the main context's would.
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (!cached || script.cachedDataRejected) process.on('exit', save);

function save(): void {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  let fd: number | undefined;
  try {
    // The file first: where it cannot be written, the cache is not made at all (a few ms).
    fs.mkdirSync(cacheDir, { recursive: true });
    fd = fs.openSync(tmp, 'wx', 0o644);
    fs.writeSync(fd, script.createCachedData());
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, cacheFile);
    // The same command's caches of older bundles (under any flags).
    for (const n of fs.readdirSync(cacheDir)) {
      if (n.startsWith(`${command}-`) && n.endsWith('.bin') && !n.endsWith(identity)) fs.rmSync(path.join(cacheDir, n), { force: true });
    }
  } catch {
    try {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
    } catch {}
  }
}

// What Node's CommonJS loader does for a main module: the bundle's require() resolves from its
// own directory (node_modules for the external packages), and process.argv[1] names it.
const mod = new Module(file);
mod.filename = file;
process.argv[1] = file;
const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
run.call(mod.exports, mod.exports, createRequire(file), mod, file, dir);
