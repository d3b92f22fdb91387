// The steps of a shim plan: one table, from which the plan builders' types come, and which
// native/steps.c repeats for the C side (test/unit/steps.test.ts checks that the two agree).
// A plan is a list of records, each a step name and its arguments, all strings on the wire.

/**
 * Where a step runs:
 * - parent: read by the monitor before it clones the container's init (namespaces, log, sockets);
 * - monitor: read by the monitor while the container runs or after it exited (restarts, exit
 *   file, teardown);
 * - before-pivot / after-pivot: in the init, before or after it enters its root (pivot_root or
 *   chroot); a plan without either (an exec, a host command) has only the host's root;
 * - pivot: entering the root itself;
 * - child: in the init, on either side of the pivot.
 */
export type StepPhase = 'parent' | 'monitor' | 'child' | 'before-pivot' | 'pivot' | 'after-pivot';

interface StepDef {
  readonly phase: StepPhase;
  /** Required arguments, by name (for the docs and the types; the wire has only positions). */
  readonly args: readonly string[];
  readonly optional?: readonly string[];
  /** Any number of further arguments, named by this. */
  readonly rest?: string;
}

export const STEPS = {
  // The monitor, before the clone.
  ns: { phase: 'parent', args: ['cloneFlags'] },
  pidns: { phase: 'parent', args: ['path'] },
  console: { phase: 'parent', args: ['on'] },
  stdin: { phase: 'parent', args: ['on'] },
  log: { phase: 'parent', args: ['path', 'tee'], optional: ['maxSize', 'maxFiles'] },
  attachsock: { phase: 'parent', args: ['path'] },
  devcg: { phase: 'parent', args: ['cgroupDir', 'programHex'] },
  health: { phase: 'parent', args: ['planFile', 'intervalMs', 'timeoutMs', 'retries', 'startPeriodMs', 'resultFile'] },
  // The monitor, while the container runs and after it exited.
  winsize: { phase: 'monitor', args: ['path'] },
  nodetach: { phase: 'monitor', args: ['on'] },
  consolesock: { phase: 'monitor', args: ['path'] },
  initpidfile: { phase: 'monitor', args: ['path'] },
  restart: { phase: 'monitor', args: ['policy'] },
  restartmax: { phase: 'monitor', args: ['max'] },
  stopmarker: { phase: 'monitor', args: ['path'] },
  pidfile: { phase: 'monitor', args: ['path'] },
  oom: { phase: 'monitor', args: ['eventsFile'] },
  exitfile: { phase: 'monitor', args: ['path'] },
  rmdir: { phase: 'monitor', args: ['cgroupDir'] },
  rmscope: { phase: 'monitor', args: ['dir'] },
  rmtree: { phase: 'monitor', args: ['dir'] },
  umount: { phase: 'monitor', args: ['target'] },
  release: { phase: 'monitor', args: [], rest: 'argv' },
  // The init, with the host's filesystem still in view.
  join: { phase: 'before-pivot', args: ['procsFile'] },
  cgroupns: { phase: 'before-pivot', args: [] },
  setns: { phase: 'before-pivot', args: ['path'], optional: ['cloneFlag'] },
  usernsmap: { phase: 'before-pivot', args: ['uidMap', 'gidMap'] },
  usernsopen: { phase: 'before-pivot', args: ['path'] },
  idmount: { phase: 'before-pivot', args: ['source', 'target'] },
  mount: { phase: 'before-pivot', args: ['source', 'target', 'fstype', 'flags', 'data'] },
  root: { phase: 'before-pivot', args: ['path'] },
  mountin: { phase: 'before-pivot', args: ['source', 'target', 'fstype', 'flags', 'data'] },
  bindin: { phase: 'before-pivot', args: ['source', 'target', 'flags', 'kind'] },
  propin: { phase: 'before-pivot', args: ['target', 'flags'] },
  sysctlin: { phase: 'before-pivot', args: ['path', 'value'] },
  mknodin: { phase: 'before-pivot', args: ['path', 'mode', 'major', 'minor'], optional: ['uid', 'gid'] },
  symlinkin: { phase: 'before-pivot', args: ['target', 'path'] },
  maskin: { phase: 'before-pivot', args: ['path'] },
  roin: { phase: 'before-pivot', args: ['path'] },
  hooksync: { phase: 'before-pivot', args: [] },
  fifo: { phase: 'before-pivot', args: ['path'] },
  // Hooks: the monitor's (WHERE = monitor) at hooksync, the container's before and after the pivot.
  hook: { phase: 'child', args: ['where', 'state', 'timeoutS', 'path', 'argc'], rest: 'argsThenEnv' },
  propagation: { phase: 'child', args: ['flags'] },
  pivot: { phase: 'pivot', args: [] },
  chroot: { phase: 'pivot', args: [] },
  // The init, inside its root.
  loopback: { phase: 'after-pivot', args: [] },
  hostname: { phase: 'after-pivot', args: ['name'] },
  domainname: { phase: 'after-pivot', args: ['name'] },
  rlimit: { phase: 'after-pivot', args: ['resource', 'soft', 'hard'] },
  oomscore: { phase: 'after-pivot', args: ['score'] },
  userns: { phase: 'after-pivot', args: [] },
  tty: { phase: 'after-pivot', args: ['uid', 'rows', 'cols'] },
  cwd: { phase: 'after-pivot', args: ['path'] },
  umask: { phase: 'after-pivot', args: ['mask'] },
  fifowait: { phase: 'after-pivot', args: [] },
  seccomp: { phase: 'after-pivot', args: ['programHex'] },
  capbset: { phase: 'after-pivot', args: ['maskHex'] },
  keepcaps: { phase: 'after-pivot', args: [] },
  user: { phase: 'after-pivot', args: ['uid', 'gid', 'groups'] },
  capset: { phase: 'after-pivot', args: ['effectiveHex', 'permittedHex', 'inheritableHex'] },
  ambient: { phase: 'after-pivot', args: ['maskHex'] },
  nonewprivs: { phase: 'after-pivot', args: [] },
  env: { phase: 'after-pivot', args: ['entry'] },
  hold: { phase: 'after-pivot', args: [] },
  exec: { phase: 'after-pivot', args: [], rest: 'argv' },
} as const satisfies Record<string, StepDef>;

export type StepName = keyof typeof STEPS;

type Strings<T extends readonly string[]> = { -readonly [K in keyof T]: string };
type Def<N extends StepName> = (typeof STEPS)[N];
// Optional arguments: any prefix of them (never an explicit undefined on the wire).
type Prefixes<T extends readonly string[]> = T extends readonly [...infer H extends readonly string[], string] ? Prefixes<H> | Strings<T> : [];
type Optional<D> = D extends { optional: infer O extends readonly string[] } ? Prefixes<O> : [];
type Rest<D> = D extends { rest: string } ? string[] : [];
/** One step of a plan: its name, then its arguments; the compiler checks the name and the count. */
export type Step = { [N in StepName]: [N, ...Strings<Def<N>['args']>, ...Optional<Def<N>>, ...Rest<Def<N>>] }[StepName];

/** How many arguments a step takes: at least min, at most max (undefined: no limit). */
export function arity(name: StepName): { min: number; max: number | undefined } {
  const d: StepDef = STEPS[name];
  return { min: d.args.length, max: d.rest ? undefined : d.args.length + (d.optional?.length ?? 0) };
}

/**
 * What the shim would refuse in a plan (as native/steps.c checks it before the clone): unknown
 * steps, wrong argument counts, and init steps on the wrong side of the pivot. Empty if fine.
 */
export function planErrors(steps: ReadonlyArray<readonly string[]>): string[] {
  const errors: string[] = [];
  const pivot = steps.findIndex((s) => s[0] in STEPS && STEPS[s[0] as StepName].phase === 'pivot');
  steps.forEach((s, i) => {
    const name = s[0] as StepName;
    if (!Object.hasOwn(STEPS, name)) return void errors.push(`step ${i}: unknown step ${JSON.stringify(s[0])}`);
    const { min, max } = arity(name);
    const n = s.length - 1;
    if (n < min || (max !== undefined && n > max)) errors.push(`step ${i} (${name}): ${n} arguments, wants ${max === min ? min : `${min}..${max ?? ''}`}`);
    const phase = STEPS[name].phase;
    if (pivot >= 0 && phase === 'before-pivot' && i > pivot) errors.push(`step ${i} (${name}): after the pivot`);
    if (pivot >= 0 && phase === 'after-pivot' && i < pivot) errors.push(`step ${i} (${name}): before the pivot`);
    if (phase === 'pivot' && i !== pivot) errors.push(`step ${i} (${name}): a second pivot`);
  });
  return errors;
}
