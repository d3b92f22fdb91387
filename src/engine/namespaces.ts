// What a container takes from others: docker's --pid, --ipc and --uts modes: a namespace of the container's own, the host's, or
// another container's (joined through /proc/<its init>/ns/*, so that container must run).
import type { HostConfig, MountSpec } from '../core/container.ts';
import { invalid } from '../core/errors.ts';
import type { PlanInput, SharedNs } from '../runtime/plan.ts';

const MODES = {
  PidMode: { own: [''], name: 'PID' },
  IpcMode: { own: ['', 'private', 'shareable', 'none'], name: 'IPC' },
  UTSMode: { own: [''], name: 'UTS' },
} as const;

type Field = keyof typeof MODES;

/**
 * Checks the modes at create; `container:<name>` becomes `container:<id>` (resolve throws for a
 * container that does not exist). UTS may be another container's too (docker refuses it; a
 * CRI pod's containers share the sandbox's): the hostname is then that container's.
 */
export function checkNamespaceModes(h: HostConfig, resolve: (ref: string) => string): void {
  for (const field of Object.keys(MODES) as Field[]) {
    const v = h[field] ?? '';
    const { own, name } = MODES[field];
    if ((own as readonly string[]).includes(v) || v === 'host') continue;
    if (v.startsWith('container:') && v.length > 10) {
      h[field] = `container:${resolve(v.slice(10))}`;
      continue;
    }
    throw invalid(`invalid ${name} mode: ${v}`);
  }
  if (h.UTSMode === 'host' && (h.NetworkMode ?? '').startsWith('container:')) throw invalid('conflicting options: hostname and the network mode');
}

/**
 * At start: what the plan shares; initPid gives a running container's init (or throws), and
 * donorShm the /dev/shm a container made shareable for others to bind (undefined otherwise).
 */
export function sharedNamespaces(h: HostConfig, initPid: (ref: string) => number, donorShm: (ref: string) => string | undefined = () => undefined): PlanInput['namespaces'] {
  const out: NonNullable<PlanInput['namespaces']> = {};
  const of = (v: string | undefined, ns: string): SharedNs | undefined => {
    if (v === 'host') return 'host';
    if (v?.startsWith('container:')) return { path: `/proc/${initPid(v.slice(10))}/ns/${ns}` };
    return undefined;
  };
  out.pid = of(h.PidMode, 'pid');
  out.ipc = of(h.IpcMode, 'ipc');
  out.uts = of(h.UTSMode, 'uts');
  // The host's IPC namespace comes with its /dev/shm (POSIX shared memory lives there), and a
  // shareable container's with the one its monitor mounted on the host (docker's --ipc
  // shareable; a CRI pod's sandbox). A private container's /dev/shm is a mount in its own mount
  // namespace, which cannot be bound from here: joining one shares System V IPC and message
  // queues, with a /dev/shm of one's own.
  if (out.ipc === 'host') out.shm = '/dev/shm';
  else if (h.IpcMode?.startsWith('container:')) {
    const shm = donorShm(h.IpcMode.slice(10));
    if (shm) out.shm = shm;
  }
  return out.pid || out.ipc || out.uts ? out : undefined;
}

/**
 * --volumes-from NAME[:ro|rw]: the other container's mounts, at the same targets (its volumes
 * stay its own: never anonymous here, so `rm -v` of this one leaves them). Mounts given to this
 * container win over them.
 */
export function volumesFrom(refs: string[], own: MountSpec[], mountsOf: (ref: string) => MountSpec[]): MountSpec[] {
  const out = [...own];
  const taken = new Set(own.map((m) => m.Target));
  for (const spec of refs) {
    const m = /^(.+?)(?::(ro|rw))?$/.exec(spec);
    if (!m) throw invalid(`invalid volumes-from: ${spec}`);
    for (const x of mountsOf(m[1])) {
      if (taken.has(x.Target) || x.Type === 'tmpfs') continue;
      taken.add(x.Target);
      const { Anonymous: _, ...rest } = x;
      out.push({ ...rest, ReadOnly: m[2] === 'ro' ? true : m[2] === 'rw' ? false : x.ReadOnly });
    }
  }
  return out;
}
