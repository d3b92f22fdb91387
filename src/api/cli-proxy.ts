// The daemon's side of a remote `berth` (the CLI talking to `berth daemon`): the same command run
// here, on this engine's state root, as a process under a monitor, its stdio streams for the API
// to carry. Started as an exec the client creates on the daemon (api/containers.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerStreams } from '../engine/container/types.ts';
import { streamsOf } from '../engine/container/streams.ts';
import { isAlive, refOf, type ProcessRef } from '../kernel/process.ts';
import { buildHostPlan } from '../runtime/plan.ts';
import { runShim } from '../runtime/shim.ts';
import { readJsonFile, writeFileAtomic } from '../util/atomic.ts';
import { DEFAULT_PATH, REPO } from '../util/paths.ts';
import { isClientEnvEntry } from '../util/client-env.ts';

/**
 * A berth command run for a remote client, with the daemon's own berth settings (BERTH_*). Only
 * the client's terminal settings cross over from its environment, and (for compose) the whole of
 * it in one variable that only interpolation reads (cli/client-env.ts).
 */
export async function cliStreams(rootDir: string, x: { args: string[]; env: string[]; cwd: string; tty?: { rows: number; cols: number }; stdin: boolean; execId: string }): Promise<ContainerStreams> {
  const passed = x.env.filter((e) => /^(TERM|LANG|LC_[A-Z_]+|NO_COLOR|COLUMNS|BERTH_TRACE)=/.test(e) || isClientEnvEntry(e));
  const own = Object.entries(process.env).filter(([k]) => k.startsWith('BERTH_') && k !== 'BERTH_HOST' && k !== 'BERTH_ROOT' && k !== 'BERTH_TRACE').map(([k, v]) => `${k}=${v}`);
  const env = [`PATH=${DEFAULT_PATH}`, 'HOME=/root', `BERTH_ROOT=${rootDir}`, ...own, ...passed];
  const tty = x.tty && { ...x.tty, interactive: x.stdin, winsizeFile: cliWinsizeFile(rootDir, x.execId) };
  fs.mkdirSync(path.join(rootDir, 'tmp'), { recursive: true });
  const cwd = path.isAbsolute(x.cwd) && fs.statSync(x.cwd, { throwIfNoEntry: false })?.isDirectory() ? x.cwd : '/';
  const shim = runShim(buildHostPlan({ args: [path.join(REPO, 'bin/berth'), ...x.args], env, cwd, tty }), { stdin: x.stdin ? 'pipe' : 'ignore', output: 'pipe' });
  // Its monitor is recorded until it is gone: a daemon killed meanwhile leaves it without a
  // client, and the next daemon hangs it up (endOrphanCommands).
  const record = path.join(rootDir, 'tmp', `cli-${x.execId.slice(0, 16)}.monitor`);
  if (shim.shimPid) writeFileAtomic(record, JSON.stringify(refOf(shim.shimPid)));
  const streams = streamsOf(shim, (exit) => exit);
  void streams.gone.then(() => {
    fs.rmSync(record, { force: true });
    if (tty) fs.rmSync(tty.winsizeFile, { force: true });
  });
  await shim.started; // a shim that cannot run the command is the request's error, with its message
  return streams;
}

/** At a daemon's start: the commands a killed daemon ran for its clients have none now. */
export function endOrphanCommands(rootDir: string): void {
  const dir = path.join(rootDir, 'tmp');
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((n) => /^cli-[0-9a-f]+\.(monitor|winsize)$/.test(n));
  } catch {}
  for (const n of names) {
    const ref = n.endsWith('.monitor') ? readJsonFile<ProcessRef>(path.join(dir, n)) : undefined;
    fs.rmSync(path.join(dir, n), { force: true });
    if (!ref) continue; // a terminal's size file
    // Hung up as a closed terminal would, then killed (the command dies with its monitor);
    // what it started (a container) lives on, as when an in-process berth is killed.
    const signal = (sig: NodeJS.Signals) => {
      try {
        if (isAlive(ref)) process.kill(ref.pid, sig);
      } catch {}
    };
    signal('SIGHUP');
    setTimeout(() => signal('SIGKILL'), 2000).unref();
  }
}

/** Where a remote command's terminal size goes before its monitor is sent SIGWINCH. */
export function cliWinsizeFile(rootDir: string, execId: string): string {
  return path.join(rootDir, 'tmp', `cli-${execId.slice(0, 16)}.winsize`);
}
