// berth-runtime: the OCI runtime command line (runtime-spec's runtime.md operations, with the
// flags runc and its callers use), over src/runtime/oci.ts. bin/berth-runtime runs this file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, invalid } from '../core/errors.ts';
import { VERSION } from '../core/version.ts';
import { FORWARDED_SIGNALS, parseSignal } from '../kernel/signals.ts';
import { DEFAULT_RUNTIME_ROOT, OciRuntime } from '../runtime/oci.ts';
import { DEFAULT_RUNTIME_CAPS, defaultSpec, OCI_VERSION, type OciProcess, type OciResources } from '../runtime/spec.ts';
import { CAPS } from '../kernel/capabilities.ts';
import { ACTIONS as SECCOMP_ACTIONS } from '../kernel/seccomp.ts';
import { parseArgs, type FlagSpec } from './args.ts';
import { DEFAULT_PATH } from '../util/paths.ts';

const USAGE = `Usage: berth-runtime [--root DIR] COMMAND [OPTIONS] ID

An OCI runtime (runtime-spec ${OCI_VERSION}) over bundles: a directory with config.json and a root filesystem.

Commands:
  create --bundle DIR [--pid-file F] [--console-socket S] ID   set up the container; its process waits for start
  start ID                      run the process of a created container
  run [--bundle DIR] [-d] ID    create and start (and wait, unless -d); deleted after it exits
  state ID                      the container's state as JSON
  kill [--all] ID [SIGNAL]      signal the container's process (default SIGTERM)
  delete [--force] ID           remove a stopped container (--force: any)
  exec [--process F | CMD...] ID   run another process in a running container
  ps [--format table|json] ID   the container's processes
  list [--format table|json] [-q]  every container under the root
  pause ID / resume ID          freeze or thaw the container's processes
  update --resources F|- ID     new linux.resources limits (memory, cpu, pids)
  events --stats ID             the container's usage, as one JSON stats event
  features                      what this runtime supports, as JSON
  spec [--bundle DIR] [--rootless]  write a default config.json

Global: --root DIR, --log FILE, --log-format text|json (errors and warnings, as runc's).
`;

const GLOBAL: FlagSpec[] = [
  { name: 'root', type: 'string' }, { name: 'log', type: 'string' }, { name: 'log-format', type: 'string' },
  { name: 'debug', type: 'bool' }, { name: 'systemd-cgroup', type: 'bool' }, { name: 'help', short: 'h', type: 'bool' },
  { name: 'version', short: 'v', type: 'bool' },
];

async function main(argv: string[]): Promise<number> {
  // Global flags come before the command (as runc's); everything after belongs to it.
  let i = 0;
  while (i < argv.length && argv[i].startsWith('-')) i += GLOBAL.some((g) => g.type === 'string' && (argv[i] === `--${g.name}`)) ? 2 : 1;
  const global = parseArgs(argv.slice(0, i), GLOBAL);
  const [cmd, ...rest] = argv.slice(i);
  if (global.flags.get('version')) {
    process.stdout.write(`berth-runtime version ${VERSION}\nspec: ${OCI_VERSION}\n`);
    return 0;
  }
  if (!cmd || global.flags.get('help')) {
    process.stdout.write(USAGE);
    return cmd || global.flags.get('help') ? 0 : 1;
  }
  log.file = global.flags.get('log') as string | undefined;
  log.json = global.flags.get('log-format') === 'json';
  if (global.flags.get('log-format') !== undefined && !['json', 'text'].includes(global.flags.get('log-format') as string)) throw invalid(`--log-format must be text or json`);
  if (global.flags.get('systemd-cgroup')) throw invalid('--systemd-cgroup is not supported: berth-runtime drives cgroupfs only (set SystemdCgroup = false)');
  const rt = new OciRuntime((global.flags.get('root') as string | undefined) ?? DEFAULT_RUNTIME_ROOT);
  const warn = (m: string) => report('warning', m);
  const one = (positionals: string[]): string[] => {
    if (!positionals.length) throw invalid(`"${cmd}" requires a container id`);
    return positionals;
  };
  switch (cmd) {
    case 'create': {
      const a = parseArgs(rest, [{ name: 'bundle', short: 'b', type: 'string' }, { name: 'pid-file', type: 'string' }, { name: 'console-socket', type: 'string' }, { name: 'no-pivot', type: 'bool' }, { name: 'no-new-keyring', type: 'bool' }]);
      const [id] = one(a.positionals);
      // The init is our caller's once created, as runc's is: a supervisor that is a subreaper
      // (containerd's shim, conmon) becomes its parent and sees its exit.
      const { shim } = await rt.create(id, { bundle: (a.flags.get('bundle') as string) ?? '.', pidFile: a.flags.get('pid-file') as string, consoleSocket: a.flags.get('console-socket') as string, handoff: true });
      shim.detach();
      return 0;
    }
    case 'start': {
      const [id] = one(parseArgs(rest, []).positionals);
      await rt.start(id, warn);
      return 0;
    }
    case 'run': {
      const a = parseArgs(rest, [{ name: 'bundle', short: 'b', type: 'string' }, { name: 'pid-file', type: 'string' }, { name: 'console-socket', type: 'string' }, { name: 'detach', short: 'd', type: 'bool' }, { name: 'no-pivot', type: 'bool' }, { name: 'no-new-keyring', type: 'bool' }]);
      const [id] = one(a.positionals);
      const detach = a.flags.get('detach') === true;
      const { shim } = await rt.create(id, { bundle: (a.flags.get('bundle') as string) ?? '.', pidFile: a.flags.get('pid-file') as string, consoleSocket: a.flags.get('console-socket') as string, foreground: !detach });
      const forward = (sig: NodeJS.Signals) => shim.kill(sig);
      if (!detach) for (const s of [...FORWARDED_SIGNALS, 'SIGWINCH'] as const) process.on(s, forward);
      let kept = false;
      try {
        await rt.start(id, warn);
        if (detach) {
          shim.detach();
          kept = true;
          return 0;
        }
        const exit = await shim.exited;
        return exit.exit;
      } finally {
        // Whatever happened, a foreground run leaves no container behind (nor a detached one that failed to start).
        if (!kept) {
          shim.close();
          await rt.delete(id, true, warn).catch((err: unknown) => warn((err as Error).message));
          await shim.gone;
        }
      }
    }
    case 'state': {
      const [id] = one(parseArgs(rest, []).positionals);
      process.stdout.write(JSON.stringify(rt.state(id), null, 2) + '\n');
      return 0;
    }
    case 'kill': {
      const a = parseArgs(rest, [{ name: 'all', short: 'a', type: 'bool' }]);
      const [id, sig = 'SIGTERM'] = one(a.positionals);
      rt.kill(id, parseSignal(sig), a.flags.get('all') === true);
      return 0;
    }
    case 'delete': {
      const a = parseArgs(rest, [{ name: 'force', short: 'f', type: 'bool' }]);
      const [id] = one(a.positionals);
      const force = a.flags.get('force') === true;
      // --force of a container that is already gone succeeds (runc's too): a supervisor cleaning
      // up after a crash cannot know how far the delete got.
      if (force && !rt.exists(id)) return 0;
      await rt.delete(id, force, warn);
      return 0;
    }
    case 'exec': {
      const a = parseArgs(rest, [
        { name: 'process', short: 'p', type: 'string' }, { name: 'console-socket', type: 'string' }, { name: 'detach', short: 'd', type: 'bool' },
        { name: 'tty', short: 't', type: 'bool' }, { name: 'pid-file', type: 'string' }, { name: 'cwd', type: 'string' },
        { name: 'env', short: 'e', type: 'list' }, { name: 'user', short: 'u', type: 'string' },
      ], { stopAtPositional: true });
      const [id, ...args] = one(a.positionals);
      const file = a.flags.get('process') as string | undefined;
      let p: OciProcess;
      if (file) p = JSON.parse(fs.readFileSync(file, 'utf8')) as OciProcess;
      else {
        if (!args.length) throw invalid('exec needs --process or a command');
        const [uid = '0', gid = '0'] = ((a.flags.get('user') as string | undefined) ?? '0:0').split(':');
        p = { args, env: [`PATH=${DEFAULT_PATH}`, ...((a.flags.get('env') as string[]) ?? [])], cwd: (a.flags.get('cwd') as string) ?? '/',
          user: { uid: Number(uid), gid: Number(gid) }, terminal: a.flags.get('tty') === true,
          capabilities: { bounding: DEFAULT_RUNTIME_CAPS, effective: DEFAULT_RUNTIME_CAPS, permitted: DEFAULT_RUNTIME_CAPS } };
      }
      const detach = a.flags.get('detach') === true;
      const shim = rt.exec(id, p, { consoleSocket: a.flags.get('console-socket') as string, foreground: !detach, handoff: detach });
      const pid = await shim.started;
      if (a.flags.get('pid-file')) fs.writeFileSync(path.resolve(a.flags.get('pid-file') as string), String(pid));
      if (detach) {
        shim.detach();
        return 0;
      }
      const exit = await shim.exited;
      shim.close();
      await shim.gone;
      return exit.exit;
    }
    case 'ps': {
      const a = parseArgs(rest, [{ name: 'format', short: 'f', type: 'string' }]);
      const [id] = one(a.positionals);
      const pids = rt.pids(id);
      if (a.flags.get('format') === 'json') process.stdout.write(JSON.stringify(pids) + '\n');
      else {
        const { execFileSync } = await import('node:child_process');
        const lines = execFileSync('ps', ['-ef'], { encoding: 'utf8' }).split('\n');
        const out = [lines[0], ...lines.slice(1).filter((l) => pids.includes(Number(l.trim().split(/\s+/)[1])))];
        process.stdout.write(out.join('\n') + '\n');
      }
      return 0;
    }
    case 'list': {
      const a = parseArgs(rest, [{ name: 'format', short: 'f', type: 'string' }, { name: 'quiet', short: 'q', type: 'bool' }]);
      const all = rt.list();
      if (a.flags.get('quiet')) process.stdout.write(all.map((c) => c.id + '\n').join(''));
      else if (a.flags.get('format') === 'json') process.stdout.write(JSON.stringify(all) + '\n');
      else {
        const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...all.map((c) => [c.id, String(c.pid ?? 0), c.status, c.bundle, c.created, c.owner])];
        const w = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
        process.stdout.write(rows.map((r) => r.map((c, k) => (k < r.length - 1 ? c.padEnd(w[k] + 3) : c)).join('')).join('\n') + '\n');
      }
      return 0;
    }
    case 'pause':
    case 'resume': {
      const [id] = one(parseArgs(rest, []).positionals);
      await rt.freeze(id, cmd === 'pause');
      return 0;
    }
    case 'update': {
      // containerd's runc shim: `update --resources - ID` with the linux.resources JSON on stdin.
      const a = parseArgs(rest, [{ name: 'resources', short: 'r', type: 'string' }]);
      const [id] = one(a.positionals);
      const from = a.flags.get('resources') as string | undefined;
      if (!from) throw invalid('update needs --resources FILE (- for stdin)');
      rt.update(id, JSON.parse(fs.readFileSync(from === '-' ? 0 : from, 'utf8')) as OciResources);
      return 0;
    }
    case 'events': {
      const a = parseArgs(rest, [{ name: 'stats', type: 'bool' }, { name: 'interval', type: 'string' }]);
      const [id] = one(a.positionals);
      if (!a.flags.get('stats')) throw invalid('events streams only with --stats (one stats event) in berth-runtime');
      process.stdout.write(JSON.stringify(rt.stats(id)) + '\n');
      return 0;
    }
    case 'features': {
      process.stdout.write(JSON.stringify(features(), null, 2) + '\n');
      return 0;
    }
    case 'spec': {
      const a = parseArgs(rest, [{ name: 'bundle', short: 'b', type: 'string' }, { name: 'rootless', type: 'bool' }]);
      const file = path.join((a.flags.get('bundle') as string) ?? '.', 'config.json');
      if (fs.existsSync(file)) throw invalid(`${file} already exists; remove it first`);
      const spec = defaultSpec({ rootless: a.flags.get('rootless') === true, uid: process.getuid?.(), gid: process.getgid?.() });
      fs.writeFileSync(file, JSON.stringify(spec, null, '\t') + '\n');
      return 0;
    }
    default:
      throw invalid(`unknown command "${cmd}"\n\n${USAGE}`);
  }
}


/** runc's `features` document: what this runtime accepts, for callers that ask before they use it. */
function features(): object {
  return {
    ociVersionMin: '1.0.0', ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      capabilities: Object.keys(CAPS).map((c) => `CAP_${c}`),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: true, actions: Object.keys(SECCOMP_ACTIONS) },
      apparmor: { enabled: false }, selinux: { enabled: false },
    },
  };
}

/**
 * Where errors and warnings go: stderr, and the --log file, in runc's formats (json: one
 * {"level","msg","time"} object a line, which containerd's shim reads back to say why a call failed).
 */
const log: { file?: string; json: boolean } = { json: false };

function report(level: 'error' | 'warning', msg: string): void {
  process.stderr.write(`berth-runtime: ${level === 'warning' ? 'warning: ' : ''}${msg}\n`);
  if (!log.file) return;
  const time = new Date().toISOString();
  const lvl = level === 'warning' ? 'warning' : 'error';
  const line = log.json ? JSON.stringify({ level: lvl, msg, time }) : `time="${time}" level=${lvl} msg=${JSON.stringify(msg)}`;
  try {
    fs.appendFileSync(log.file, line + '\n');
  } catch {}
}

// A supervisor may give us a stdout or stderr we cannot write (containerd's shim hands a
// read-only /dev/null): a failed write must not kill us before the error reaches the --log file.
for (const s of [process.stdout, process.stderr]) s.on('error', () => {});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    report('error', err instanceof BerthError ? err.message : (err as Error)?.stack ?? String(err));
    process.exitCode = 1;
  },
);
