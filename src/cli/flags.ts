// Flag tables of the commands that run something (run, create, exec, start): also read by the
// client that sends a command to the daemon, to tell whether the command wants stdin or a
// terminal, so they live apart from the commands' code.
import { parseArgs, type FlagSpec } from './args.ts';

export const CREATE_FLAGS: FlagSpec[] = [
  { name: 'rm', type: 'bool' },
  { name: 'interactive', short: 'i', type: 'bool' },
  { name: 'tty', short: 't', type: 'bool' },
  { name: 'detach', short: 'd', type: 'bool' },
  { name: 'env', short: 'e', type: 'list' },
  { name: 'workdir', short: 'w', type: 'string' },
  { name: 'user', short: 'u', type: 'string' },
  { name: 'hostname', short: 'h', type: 'string' },
  { name: 'name', type: 'string' },
  { name: 'entrypoint', type: 'string' },
  { name: 'memory', short: 'm', type: 'string' },
  { name: 'memory-swap', type: 'string' },
  { name: 'cpus', type: 'string' },
  { name: 'cpu-shares', short: 'c', type: 'string' },
  { name: 'pids-limit', type: 'string' },
  { name: 'network', type: 'string' },
  { name: 'net', type: 'string' },
  { name: 'publish', short: 'p', type: 'list' },
  { name: 'publish-all', short: 'P', type: 'bool' },
  { name: 'expose', type: 'list' },
  { name: 'dns', type: 'list' },
  { name: 'dns-search', type: 'list' },
  { name: 'dns-option', type: 'list' },
  { name: 'add-host', type: 'list' },
  { name: 'ip', type: 'string' },
  { name: 'ip6', type: 'string' },
  { name: 'mac-address', type: 'string' },
  { name: 'network-alias', type: 'list' },
  { name: 'stop-signal', type: 'string' },
  { name: 'cap-add', type: 'list' },
  { name: 'cap-drop', type: 'list' },
  { name: 'security-opt', type: 'list' },
  { name: 'privileged', type: 'bool' },
  { name: 'runtime', type: 'string' },
  { name: 'read-only', type: 'bool' },
  { name: 'volume', short: 'v', type: 'list' },
  { name: 'mount', type: 'list' },
  { name: 'tmpfs', type: 'list' },
  { name: 'label', short: 'l', type: 'list' },
  { name: 'restart', type: 'string' },
  { name: 'health-cmd', type: 'string' },
  { name: 'health-interval', type: 'string' },
  { name: 'health-timeout', type: 'string' },
  { name: 'health-retries', type: 'string' },
  { name: 'health-start-period', type: 'string' },
  { name: 'no-healthcheck', type: 'bool' },
  { name: 'ulimit', type: 'list' },
  { name: 'oom-score-adj', type: 'string' },
  { name: 'proc-views', type: 'bool' },
  { name: 'blkio-weight', type: 'string' },
  { name: 'blkio-weight-device', type: 'list' },
  { name: 'device-read-bps', type: 'list' },
  { name: 'device-write-bps', type: 'list' },
  { name: 'device-read-iops', type: 'list' },
  { name: 'device-write-iops', type: 'list' },
  { name: 'cpuset-cpus', type: 'string' },
  { name: 'cpuset-mems', type: 'string' },
  { name: 'cpu-period', type: 'string' },
  { name: 'cpu-quota', type: 'string' },
  { name: 'cpu-rt-runtime', type: 'string' },
  { name: 'cpu-rt-period', type: 'string' },
  { name: 'memory-reservation', type: 'string' },
  { name: 'memory-swappiness', type: 'string' },
  { name: 'oom-kill-disable', type: 'bool' },
  { name: 'shm-size', type: 'string' },
  { name: 'kernel-memory', type: 'string' },
  { name: 'sysctl', type: 'list' },
  { name: 'device', type: 'list' },
  { name: 'userns', type: 'string' },
  { name: 'device-cgroup-rule', type: 'list' },
  { name: 'group-add', type: 'list' },
  { name: 'pid', type: 'string' },
  { name: 'ipc', type: 'string' },
  { name: 'uts', type: 'string' },
  { name: 'cgroup-parent', type: 'string' },
  { name: 'log-driver', type: 'string' },
  { name: 'log-opt', type: 'list' },
  { name: 'pull', type: 'string' },
  { name: 'platform', type: 'string' },
  { name: 'help', type: 'bool' },
];

/** exec's flags: the ones of run's that apply to a process in a running container (same spellings). */
const EXEC_FLAG_NAMES = new Set(['interactive', 'tty', 'detach', 'env', 'workdir', 'user', 'privileged']);
export const EXEC_FLAGS: FlagSpec[] = CREATE_FLAGS.filter((f) => EXEC_FLAG_NAMES.has(f.name));

export const START_FLAGS: FlagSpec[] = [
  { name: 'attach', short: 'a', type: 'bool' },
  { name: 'interactive', short: 'i', type: 'bool' },
];

/** `berth compose`'s own flags, before its verb. */
export const COMPOSE_FLAGS: FlagSpec[] = [
  { name: 'file', short: 'f', type: 'list' },
  { name: 'project-name', short: 'p', type: 'string' },
  { name: 'project-directory', type: 'string' },
  { name: 'env-file', type: 'list' },
  { name: 'profile', type: 'list' },
  { name: 'ansi', type: 'string' },
  { name: 'progress', type: 'string' },
  { name: 'parallel', type: 'string' },
  { name: 'compatibility', type: 'bool' },
  { name: 'dry-run', type: 'bool' },
  { name: 'help', type: 'bool' },
];

export const COMPOSE_EXEC_FLAGS: FlagSpec[] = [
  { name: 'detach', short: 'd', type: 'bool' },
  { name: 'no-TTY', short: 'T', type: 'bool' },
  { name: 'env', short: 'e', type: 'list' },
  { name: 'user', short: 'u', type: 'string' },
  { name: 'workdir', short: 'w', type: 'string' },
  { name: 'index', type: 'string' },
  { name: 'privileged', type: 'bool' },
  { name: 'interactive', short: 'i', type: 'bool' },
  { name: 'tty', short: 't', type: 'bool' },
];

export const COMPOSE_RUN_FLAGS: FlagSpec[] = [
  ...COMPOSE_EXEC_FLAGS.filter((f) => f.name !== 'index' && f.name !== 'privileged'),
  { name: 'rm', type: 'bool' },
  { name: 'name', type: 'string' },
  { name: 'entrypoint', type: 'string' },
  { name: 'no-deps', type: 'bool' },
  { name: 'service-ports', type: 'bool' },
  { name: 'publish', short: 'p', type: 'list' },
  { name: 'volume', short: 'v', type: 'list' },
  { name: 'label', short: 'l', type: 'list' },
  { name: 'quiet-pull', type: 'bool' },
  { name: 'build', type: 'bool' },
];

/**
 * compose exec and run read stdin unless detached, with a terminal when the client's stdin is
 * one and -T is not given (compose's rule); other compose verbs use neither.
 */
export function composeStreams(argv: string[], stdinIsTTY: boolean): { stdin: boolean; tty: boolean } {
  const none = { stdin: false, tty: false };
  try {
    const { positionals } = parseArgs(argv, COMPOSE_FLAGS, { stopAtPositional: true });
    const [verb, ...rest] = positionals;
    if (verb !== 'exec' && verb !== 'run') return none;
    const { flags } = parseArgs(rest, verb === 'exec' ? COMPOSE_EXEC_FLAGS : COMPOSE_RUN_FLAGS, { stopAtPositional: true });
    if (flags.get('detach')) return none;
    return { stdin: true, tty: flags.get('tty') === true || (stdinIsTTY && flags.get('no-TTY') !== true) };
  } catch {
    return none;
  }
}
