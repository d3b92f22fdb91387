// OCI conformance side by side: every test of the OCI runtime-tools validation suite run against
// berth-runtime and against runc (Debian's), one after the other in one run, with a table of who
// passes what. A test passes when it exits 0 with a TAP stream and no "not ok"; a stream without
// any "ok" (some tests only report trouble, as an "error" diagnostic) passes when it has none.
// A `_fail` test expects the runtime to refuse its config (process_capabilities_fail: an unknown
// capability): when the runtime does, it prints no TAP at all and exits 0; when the runtime
// accepts the config, it exits 1. So for these, exiting 0 is passing.
//
// runtime-tools is not in Debian's archive with its validation suite, so it is built from its
// source, which this script is given: a checkout of github.com/opencontainers/runtime-tools at
// 27bf223 (the last commit that builds with Debian 12's Go 1.19), built with
//   apt-get install golang-go && GOFLAGS=-mod=vendor make runtimetest validation-executables
// Usage: node bench/runtime-tools.ts RUNTIME_TOOLS_DIR [--only berth] [TEST...]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from './common.ts';

const args = process.argv.slice(2);
const dir = args.shift();
if (!dir || !fs.existsSync(path.join(dir, 'runtimetest'))) {
  console.error('usage: node bench/runtime-tools.ts RUNTIME_TOOLS_DIR [--only berth] [TEST...] (a built runtime-tools checkout)');
  process.exit(2);
}
const onlyBerth = args[0] === '--only' && args.splice(0, 2)[1] === 'berth';
const runtimes: Array<[string, string]> = [['berth', path.join(REPO, 'bin/berth-runtime')]];
if (!onlyBerth && spawnSync('runc', ['--version']).status === 0) runtimes.push(['runc', 'runc']);

const tests = fs.readdirSync(path.join(dir, 'validation'))
  .filter((t) => fs.existsSync(path.join(dir, 'validation', t, `${t}.t`)) && (!args.length || args.includes(t))).sort();
const passed = new Map<string, Set<string>>(runtimes.map(([name]) => [name, new Set()]));
for (const t of tests) {
  const row = [t.padEnd(34)];
  for (const [name, cmd] of runtimes) {
    const r = spawnSync(path.join('validation', t, `${t}.t`), { cwd: dir, env: { ...process.env, RUNTIME: cmd }, encoding: 'utf8', timeout: 120_000 });
    const out = `${r.stdout}${r.stderr}`;
    const refused = t.endsWith('_fail') && !/^TAP version/m.test(out);
    const ok = r.status === 0 && (refused || (/^TAP version/m.test(out) && !/^not ok /m.test(out) && (/^ok /m.test(out) || !/"error":/.test(out))));
    if (ok) passed.get(name)!.add(t);
    row.push((ok ? 'pass' : 'FAIL').padEnd(8));
  }
  console.log(row.join(''));
}
console.log(`\n${'total'.padEnd(34)}${runtimes.map(([name]) => `${passed.get(name)!.size}/${tests.length}`.padEnd(8)).join('')}`);
if (runtimes.length > 1) {
  const missing = [...passed.get('runc')!].filter((t) => !passed.get('berth')!.has(t));
  console.log(`runc passes, berth does not: ${missing.join(', ') || 'none'}`);
  console.log(`berth passes, runc does not: ${[...passed.get('berth')!].filter((t) => !passed.get('runc')!.has(t)).join(', ') || 'none'}`);
}
