// Resource limits (RLIMIT_*, asm-generic/resource.h), by docker's --ulimit names; the OCI spec
// spells them RLIMIT_NOFILE and so on.
export const RLIMITS: Record<string, number> = {
  cpu: 0, fsize: 1, data: 2, stack: 3, core: 4, rss: 5, nproc: 6, nofile: 7, memlock: 8, as: 9,
  locks: 10, sigpending: 11, msgqueue: 12, nice: 13, rtprio: 14, rttime: 15,
};

/** The number of a --ulimit name (nofile), or undefined. */
export function rlimitByName(name: string): number | undefined {
  return Object.hasOwn(RLIMITS, name) ? RLIMITS[name] : undefined;
}

/** The number of an OCI rlimit type (RLIMIT_NOFILE), or undefined. */
export function rlimitByType(type: string): number | undefined {
  const m = /^RLIMIT_([A-Z]+)$/.exec(type);
  return m ? rlimitByName(m[1].toLowerCase()) : undefined;
}

/** The OCI type of a limit's number. */
export const RLIMIT_TYPES: Record<number, string> = Object.fromEntries(Object.entries(RLIMITS).map(([k, v]) => [v, `RLIMIT_${k.toUpperCase()}`]));
