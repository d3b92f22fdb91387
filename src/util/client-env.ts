// The environment a compose file is interpolated from is the user's: in-process that is this
// process's; through a daemon (remote.ts) the client's, which the daemon's command receives in
// one variable (its own process environment stays the daemon's: PATH, HOME, BERTH_*).
const VAR = 'BERTH_CLIENT_ENV';

// An environment variable longer than this cannot be passed to a process (Linux's MAX_ARG_STRLEN is 128 KiB).
const MAX = 120 * 1024;

/** The client's environment as one `NAME=VALUE` entry for the daemon, or none when too large. */
export function clientEnvEntry(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const own = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('BERTH_')));
  const text = `${VAR}=${JSON.stringify(own)}`;
  return text.length <= MAX ? text : undefined;
}

/** Whether a `NAME=VALUE` entry is the client's environment (the daemon lets it through). */
export const isClientEnvEntry = (entry: string) => entry.startsWith(`${VAR}=`);

let cached: NodeJS.ProcessEnv | undefined;

/** The user's environment: the client's when this command runs for one, else this process's. */
export function clientEnv(): NodeJS.ProcessEnv {
  if (cached) return cached;
  const text = process.env[VAR];
  if (text) {
    try {
      cached = JSON.parse(text) as NodeJS.ProcessEnv;
      return cached;
    } catch {}
  }
  cached = process.env;
  return cached;
}
