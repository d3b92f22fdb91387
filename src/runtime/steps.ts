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
  /** What the step does, for messages: "container setup failed: <says> <argument>: <error>". */
  readonly says: string;
}

export const STEPS = {
  // The monitor, before the clone.
  ns: { phase: 'parent', args: ['cloneFlags'], says: 'reading the namespaces' },
  pidns: { phase: 'parent', args: ['path'], says: 'entering the pid namespace' },
  console: { phase: 'parent', args: ['on'], says: 'receiving the terminal' },
  stdin: { phase: 'parent', args: ['on'], says: 'reading stdin' },
  stdinpipe: { phase: 'parent', args: ['mode'], says: 'making the stdin pipe' },
  log: { phase: 'parent', args: ['path', 'tee'], optional: ['maxSize', 'maxFiles', 'format'], says: 'opening the log' },
  attachsock: { phase: 'parent', args: ['path'], says: 'listening on the attach socket' },
  devcg: { phase: 'parent', args: ['cgroupDir', 'programHex'], says: 'attaching the device program to' },
  shm: { phase: 'parent', args: ['dir', 'options'], says: 'mounting the shareable /dev/shm on' },
  health: { phase: 'parent', args: ['planFile', 'intervalMs', 'timeoutMs', 'retries', 'startPeriodMs', 'resultFile'], says: 'reading the health check plan' },
  handoff: { phase: 'parent', args: ['on'], says: 'handing the process to our caller' },
  // sysinfo(2) answered from the container's cgroup, for the processes of a `notify` filter.
  sysinfo: { phase: 'parent', args: ['cgroupVersion', 'memoryDir', 'memoryRoot', 'pidsDir'], optional: ['reaper'], says: 'reading the cgroup for sysinfo' },
  // Its load averages as the container's /proc/loadavg shows them: read by a child of the monitor
  // that joins the container's cpu cgroup through this file (native/sysinfo.c).
  sysloads: { phase: 'parent', args: ['cpuJoinFile'], says: 'reading the load averages for sysinfo' },
  // The monitor, while the container runs and after it exited.
  winsize: { phase: 'monitor', args: ['path'], says: 'resizing the terminal' },
  nodetach: { phase: 'monitor', args: ['on'], says: 'keeping the client attached' },
  consolesock: { phase: 'monitor', args: ['path'], says: 'sending the terminal to' },
  initpidfile: { phase: 'monitor', args: ['path'], says: 'reading the init pid file' },
  restart: { phase: 'monitor', args: ['policy'], says: 'restarting' },
  restartmax: { phase: 'monitor', args: ['max'], says: 'counting restarts' },
  // The policy as `update` last set it ("POLICY MAX"), read at each exit over the two above.
  restartfile: { phase: 'monitor', args: ['path'], says: 'reading the restart policy' },
  stopmarker: { phase: 'monitor', args: ['path'], says: 'checking the stop marker' },
  pidfile: { phase: 'monitor', args: ['path'], says: 'writing the pid file' },
  oom: { phase: 'monitor', args: ['eventsFile'], says: 'counting OOM kills' },
  exitfile: { phase: 'monitor', args: ['path'], says: 'writing the exit file' },
  rmdir: { phase: 'monitor', args: ['cgroupDir'], optional: ['leaf'], says: 'removing the cgroup' },
  rmscope: { phase: 'monitor', args: ['dir'], says: 'removing the scope' },
  rmtree: { phase: 'monitor', args: ['dir'], says: 'removing' },
  umount: { phase: 'monitor', args: ['target'], says: 'unmounting' },
  release: { phase: 'monitor', args: [], rest: 'argv', says: 'starting the release of' },
  // The init, with the host's filesystem still in view.
  join: { phase: 'before-pivot', args: ['procsFile'], says: 'joining the cgroup' },
  cgroupns: { phase: 'before-pivot', args: [], says: 'entering a new cgroup namespace' },
  setns: { phase: 'before-pivot', args: ['path'], optional: ['cloneFlag'], says: 'setns into' },
  usernsmap: { phase: 'before-pivot', args: ['uidMap', 'gidMap'], says: 'mapping the user namespace' },
  usernsopen: { phase: 'before-pivot', args: ['path'], says: 'opening the user namespace' },
  idmount: { phase: 'before-pivot', args: ['source', 'target'], says: 'mounting idmapped' },
  // A bind with shared propagation, cloned before the namespace turns rslave (treein attaches it).
  treeopen: { phase: 'before-pivot', args: ['source', 'flags'], says: 'cloning the mount' },
  mount: { phase: 'before-pivot', args: ['source', 'target', 'fstype', 'flags', 'data'], says: 'mounting' },
  root: { phase: 'before-pivot', args: ['path'], says: 'opening the root' },
  mountin: { phase: 'before-pivot', args: ['source', 'target', 'fstype', 'flags', 'data'], says: 'mounting' },
  bindin: { phase: 'before-pivot', args: ['source', 'target', 'flags', 'kind'], says: 'binding' },
  treein: { phase: 'before-pivot', args: ['source', 'target', 'flags', 'kind'], says: 'binding' },
  propin: { phase: 'before-pivot', args: ['target', 'flags'], says: 'setting the propagation of' },
  sysctlin: { phase: 'before-pivot', args: ['path', 'value'], says: 'setting the sysctl' },
  mknodin: { phase: 'before-pivot', args: ['path', 'mode', 'major', 'minor'], optional: ['uid', 'gid'], says: 'making the device node' },
  symlinkin: { phase: 'before-pivot', args: ['target', 'path'], says: 'making the symlink' },
  maskin: { phase: 'before-pivot', args: ['path'], says: 'masking' },
  roin: { phase: 'before-pivot', args: ['path'], says: 'making read-only' },
  hooksync: { phase: 'before-pivot', args: [], says: 'running the prestart and createRuntime hooks' },
  fifo: { phase: 'before-pivot', args: ['path'], says: 'opening the exec fifo' },
  // Hooks: the monitor's (WHERE = monitor) at hooksync, the container's before and after the pivot.
  hook: { phase: 'child', args: ['where', 'state', 'timeoutS', 'path', 'argc'], rest: 'argsThenEnv', says: 'running the hook' },
  propagation: { phase: 'child', args: ['flags'], says: "setting the root's mount propagation" },
  pivot: { phase: 'pivot', args: [], says: 'entering the root (pivot_root)' },
  chroot: { phase: 'pivot', args: [], says: 'entering the root (chroot)' },
  // The init, inside its root.
  loopback: { phase: 'after-pivot', args: [], says: 'bringing up lo' },
  hostname: { phase: 'after-pivot', args: ['name'], says: 'setting the hostname' },
  domainname: { phase: 'after-pivot', args: ['name'], says: 'setting the domain name' },
  rlimit: { phase: 'after-pivot', args: ['resource', 'soft', 'hard'], says: 'setting the rlimit' },
  oomscore: { phase: 'after-pivot', args: ['score'], says: 'setting the OOM score' },
  userns: { phase: 'after-pivot', args: [], says: 'entering the user namespace' },
  tty: { phase: 'after-pivot', args: ['uid', 'rows', 'cols'], says: 'making the terminal' },
  cwd: { phase: 'after-pivot', args: ['path'], says: 'entering the working directory' },
  umask: { phase: 'after-pivot', args: ['mask'], says: 'setting the umask' },
  fifowait: { phase: 'after-pivot', args: [], says: 'waiting at the exec fifo' },
  seccomp: { phase: 'after-pivot', args: ['programHex'], says: 'installing the seccomp filter' },
  notify: { phase: 'after-pivot', args: ['programHex'], says: 'installing the sysinfo filter' },
  capbset: { phase: 'after-pivot', args: ['maskHex'], says: 'dropping bounding capabilities' },
  keepcaps: { phase: 'after-pivot', args: [], says: 'keeping capabilities' },
  user: { phase: 'after-pivot', args: ['uid', 'gid', 'groups'], says: 'switching to the user' },
  capset: { phase: 'after-pivot', args: ['effectiveHex', 'permittedHex', 'inheritableHex'], says: 'setting capabilities' },
  ambient: { phase: 'after-pivot', args: ['maskHex'], says: 'raising ambient capabilities' },
  nonewprivs: { phase: 'after-pivot', args: [], says: 'setting no_new_privs' },
  env: { phase: 'after-pivot', args: ['entry'], says: 'setting the environment' },
  hold: { phase: 'after-pivot', args: [], says: 'holding the root' },
  exec: { phase: 'after-pivot', args: [], rest: 'argv', says: 'running the command' },
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

/** A step as a message says it ("mounting", for mountin): a name the table does not know (the
 * monitor's own stages, such as clone or seal) is said as it is. */
export function stepSays(name: string): string {
  return Object.hasOwn(STEPS, name) ? STEPS[name as StepName].says : name;
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
