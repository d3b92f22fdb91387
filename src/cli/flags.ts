// Flag tables of the commands that run something (run, create, exec, start): also read by the
// client that sends a command to the daemon, to tell whether the command wants stdin or a
// terminal, so they live apart from the commands' code.
import type { FlagSpec } from './args.ts';

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
  { name: 'sysctl', type: 'list' },
  { name: 'device', type: 'list' },
  { name: 'userns', type: 'string' },
  { name: 'device-cgroup-rule', type: 'list' },
  { name: 'group-add', type: 'list' },
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
