// Runs critest (cri-tools' CRI validation suite, a binary named by BERTH_CRITEST; never built by
// this repository) against berth's CRI and/or a private containerd 1.6 + runc, with the stand-in
// images served from a loopback registry (test/helpers/critest-images.ts), and prints the specs
// side by side. Skips cleanly (exit 0) when BERTH_CRITEST is not set or not there.
//
//   BERTH_CRITEST=/path/to/critest node scripts/critest.ts [berth|containerd|containerd-berth-runtime|both|all]
//       [--focus REGEXP] [--skip REGEXP] [--json FILE] [--keep]
//   BERTH_CRITEST=... node scripts/critest.ts images     # only serve the images (Ctrl-C ends)
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BERTH, removeScopes } from './harness.ts'; // also rebuilds the bundle bin/berth runs when src/ is newer
import { PrivateContainerd, unmountUnder, waitForSocket, writeCniConf, CNI_BIN_DIR, CONTAINERD } from '../test/helpers/containerd.ts';
import { PAUSE_IMAGE, prepareCritestImages, UNAVAILABLE } from '../test/helpers/critest-images.ts';
import { hasRegistryTools, TestRegistry } from '../test/helpers/registry.ts';



/** berth's OCI runtime command line, which containerd's runc shim runs in place of runc in mode containerd-berth-runtime. */
const BERTH_RUNTIME = path.join(path.dirname(BERTH), 'berth-runtime');

/** Specs no runtime passes without the internet (see UNAVAILABLE in critest-images.ts). */
const NEEDS_INTERNET = ['public image with digest should be pulled and removed'];

interface Spec {
  name: string;
  state: string; // passed, failed, skipped, pending, panicked, timedout...
  seconds: number;
  failure?: string;
}

interface Outcome {
  runtime: string;
  specs: Spec[];
  seconds: number;
  log: string;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** The spec reports of ginkgo's JSON report (only It nodes: suite setup failures show as failed specs). */
export function readReport(file: string): Spec[] {
  const suites = JSON.parse(fs.readFileSync(file, 'utf8')) as Array<{ SpecReports?: Array<Record<string, any>> }>;
  const out: Spec[] = [];
  for (const s of suites)
    for (const r of s.SpecReports ?? []) {
      if (r.LeafNodeType !== 'It') continue;
      const failure = r.Failure ? `${r.Failure.Message ?? ''}${r.Failure.Location ? ` (${path.basename(r.Failure.Location.FileName ?? '')}:${r.Failure.Location.LineNumber})` : ''}` : undefined;
      out.push({ name: [...(r.ContainerHierarchyTexts ?? []), r.LeafNodeText].join(' '), state: r.State, seconds: (r.RunTime ?? 0) / 1e9, failure });
    }
  return out;
}

async function critest(bin: string, runtime: string, endpoint: string, work: string): Promise<Outcome> {
  const report = path.join(work, `${runtime}-report.json`);
  const args = [`--runtime-endpoint=${endpoint}`, `--image-endpoint=${endpoint}`, '--ginkgo.no-color', `--ginkgo.json-report=${report}`];
  const focus = arg('--focus');
  const skip = arg('--skip');
  if (focus) args.push(`--ginkgo.focus=${focus}`);
  if (skip) args.push(`--ginkgo.skip=${skip}`);
  const t0 = Date.now();
  const child = spawn(bin, args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  await new Promise((r) => child.on('close', r));
  const seconds = (Date.now() - t0) / 1000;
  fs.writeFileSync(path.join(work, `${runtime}-critest.log`), log);
  if (!fs.existsSync(report)) throw new Error(`critest against ${runtime} wrote no report: ${log.slice(-3000)}`);
  return { runtime, specs: readReport(report), seconds, log };
}

/** containerd + runc, or with `runtimeBinary` (bin/berth-runtime) as the runc shim's BinaryName. */
async function runContainerd(bin: string, work: string, certsDir: string, runtimeBinary?: string): Promise<Outcome> {
  const name = runtimeBinary ? 'containerd-berth-runtime' : 'containerd';
  const bridge = runtimeBinary ? 'berthcricr0' : 'berthcricd0';
  const dir = path.join(work, name);
  const cni = writeCniConf(dir, { bridge, subnet: runtimeBinary ? '10.237.0.0/24' : '10.239.0.0/24' });
  const c = await PrivateContainerd.start(dir, { certsDir, cniConfDir: cni, sandboxImage: PAUSE_IMAGE, runtimeBinary });
  try {
    return await critest(bin, name, `unix://${c.socket}`, work);
  } finally {
    await c.stop();
    fs.writeFileSync(path.join(work, `${name}.log`), c.log);
    spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  }
}

async function runBerth(bin: string, work: string, certsDir: string): Promise<Outcome> {
  const dir = path.join(work, 'berth');
  const cni = writeCniConf(dir, { bridge: 'berthcribt0', subnet: '10.238.0.0/24' });
  const socket = path.join(dir, 'cri.sock');
  const root = path.join(dir, 'root');
  fs.mkdirSync(root, { recursive: true });
  const env = { ...process.env, BERTH_ROOT: root, BERTH_REGISTRY_CONFIG: certsDir, BERTH_NETNS_POOL: '0' };
  const child = spawn(
    BERTH,
    ['daemon', '-H', `unix://${path.join(dir, 'docker.sock')}`, '--cri', `unix://${socket}`, '--registry-config', certsDir, '--cni-conf-dir', cni, '--cni-bin-dir', CNI_BIN_DIR],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  try {
    await waitForSocket(socket, child, 'berth daemon --cri', () => log);
    return await critest(bin, 'berth', `unix://${socket}`, work);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    fs.writeFileSync(path.join(work, 'berth-daemon.log'), log);
    // The root's layer images stay mounted (under /run/berth/layers) and its cgroup scope stays
    // until removed: both go with the run unless --keep keeps the root to look at.
    if (!process.argv.includes('--keep')) await removeScopes([root]);
    spawnSync('ip', ['link', 'del', 'berthcribt0'], { stdio: 'ignore' });
  }
}

const mark = (s?: Spec) => (!s ? '-' : s.state === 'passed' ? 'pass' : s.state === 'skipped' || s.state === 'pending' ? 'skip' : 'FAIL');

function summary(outcomes: Outcome[]): string {
  const names = [...new Set(outcomes.flatMap((o) => o.specs.map((s) => s.name)))].sort();
  const lines = [`| spec | ${outcomes.map((o) => o.runtime).join(' | ')} |`, `|---|${outcomes.map(() => '---').join('|')}|`];
  for (const n of names) {
    const row = outcomes.map((o) => o.specs.find((s) => s.name === n));
    if (row.every((s) => !s || s.state === 'skipped' || s.state === 'pending')) continue;
    lines.push(`| ${n} | ${row.map(mark).join(' | ')} |`);
  }
  lines.push('');
  for (const o of outcomes) {
    const ran = o.specs.filter((s) => s.state !== 'skipped' && s.state !== 'pending');
    lines.push(`${o.runtime}: ${ran.filter((s) => s.state === 'passed').length} of ${ran.length} passed (${o.specs.length - ran.length} skipped), ${o.seconds.toFixed(0)} s`);
  }
  for (const o of outcomes) {
    const failed = o.specs.filter((s) => s.state !== 'passed' && s.state !== 'skipped' && s.state !== 'pending');
    if (!failed.length) continue;
    lines.push('', `${o.runtime} failures:`);
    for (const s of failed) lines.push(`- ${s.name} [${s.state}]: ${(s.failure ?? '').replace(/\s+/g, ' ').slice(0, 600)}`);
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const bin = process.env.BERTH_CRITEST;
  if (!bin || !fs.existsSync(bin)) {
    console.log(`critest: skipped (BERTH_CRITEST ${bin ? `names ${bin}, which is not there` : 'is not set'}; it names a critest binary built elsewhere)`);
    return 0;
  }
  if (process.getuid?.() !== 0) throw new Error('critest needs root (it runs pods)');
  if (!hasRegistryTools) throw new Error('needs docker-registry, skopeo, htpasswd and openssl (./setup.sh installs them)');
  const mode = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'berth';
  const modes = ['berth', 'containerd', 'containerd-berth-runtime', 'both', 'all', 'images'];
  if (!modes.includes(mode)) throw new Error(`unknown mode ${mode} (${modes.join(', ')})`);
  if ((mode.startsWith('containerd') || mode === 'both' || mode === 'all') && !fs.existsSync(CONTAINERD)) throw new Error(`${CONTAINERD} is missing (apt-get install containerd)`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-critest-'));
  const registry = await TestRegistry.start();
  try {
    const t0 = Date.now();
    const images = await prepareCritestImages(registry, path.join(work, 'certs.d'));
    console.error(`critest: ${images.refs.length} stand-in images on ${registry.host} in ${((Date.now() - t0) / 1000).toFixed(1)} s; hosts.toml in ${images.certsDir}`);
    for (const [ref, why] of Object.entries(UNAVAILABLE)) console.error(`critest: not available here: ${ref}: ${why}`);
    if (mode === 'images') {
      console.log(images.certsDir);
      await new Promise<void>((r) => process.once('SIGINT', () => r()));
      return 0;
    }
    const outcomes: Outcome[] = [];
    if (mode === 'containerd' || mode === 'both' || mode === 'all') outcomes.push(await runContainerd(bin, work, images.certsDir));
    if (mode === 'containerd-berth-runtime' || mode === 'all') outcomes.push(await runContainerd(bin, work, images.certsDir, BERTH_RUNTIME));
    if (mode === 'berth' || mode === 'both' || mode === 'all') outcomes.push(await runBerth(bin, work, images.certsDir));
    console.log(summary(outcomes));
    const json = arg('--json');
    if (json) fs.writeFileSync(json, JSON.stringify(outcomes.map((o) => ({ runtime: o.runtime, seconds: o.seconds, specs: o.specs })), null, 2));
    // Failure is a spec that fails where it can pass: not one needing the internet, and in a side
    // by side run, not one containerd fails as well.
    const failed = (o: Outcome) => new Set(o.specs.filter((s) => !['passed', 'skipped', 'pending'].includes(s.state)).map((s) => s.name));
    const peer = outcomes.find((o) => o.runtime === 'containerd');
    const bad = (o: Outcome) => [...failed(o)].filter((n) => !NEEDS_INTERNET.some((x) => n.includes(x)) && (!peer || o === peer || !failed(peer).has(n)));
    return outcomes.some((o) => bad(o).length) ? 1 : 0;
  } finally {
    await registry.stop();
    if (!process.argv.includes('--keep')) {
      unmountUnder(work);
      fs.rmSync(work, { recursive: true, force: true });
    } else console.error(`critest: kept ${work}`);
  }
}

process.exitCode = await main();
