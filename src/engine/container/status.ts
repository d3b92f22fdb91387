// A container's status as a pure function of what is recorded about it and which of its
// processes live. Deriving never acts: what the facts imply (a dead monitor's clean-up, its
// `die` event, an abandoned --rm container's removal) comes back as actions, which the
// reconcile step (reconcile.ts) applies.
import { initialState, transition, type ContainerRecord, type ContainerState } from '../../core/container.ts';
import type { ShimExit } from '../../runtime/shim.ts';

/** What is on disk: the record, the saved state, and what the monitor wrote. */
export interface Facts {
  record: ContainerRecord;
  /** As last saved (initialState() when never saved). */
  state: ContainerState;
  /** exit.json: the last run's exit, and when it was written. */
  exit?: ShimExit;
  exitTime?: string;
}

/** Which of the container's processes live, looked at before the monitor's files are read. */
export interface Liveness {
  /** Its monitor (state.Monitor). */
  monitor: boolean;
  /** The `run` that created it (record.Owner), while it has not started. */
  owner: boolean;
  /** The current init's pid when alive and its monitor's child, else 0 (only asked when needed). */
  init: () => number;
  /** Paused by a commit whose process is gone (commit.ts's marker, its holder dead): only asked of a paused container. */
  pausedByDeadCommit?: () => boolean;
}

export type Action =
  | { do: 'removeCgroups' } // kill what is left in them, remove them
  | { do: 'event'; action: 'die'; exitCode: number }
  | { do: 'save' } // the derived state becomes the saved one
  | { do: 'destroy' } // the container goes (directory, name, `destroy` event)
  | { do: 'dropClaim' } // a killed starter's claim, once its start is adopted and saved
  | { do: 'thaw' }; // a killed commit's pause undone (its processes thawed, its marker dropped)

export interface Derived {
  /** The status to report; undefined once the actions remove the container. */
  state?: ContainerState;
  actions: Action[];
}

export function hasRestartPolicy(record: ContainerRecord): boolean {
  return (record.HostConfig.RestartPolicy?.Name ?? 'no') !== 'no';
}

export function deriveStatus(facts: Facts, live: Liveness, now: Date): Derived {
  const { record } = facts;
  const state = { ...facts.state };
  const gone: Derived = { actions: [{ do: 'removeCgroups' }, { do: 'destroy' }] };
  if ((state.Status === 'running' || state.Status === 'paused') && !live.monitor) {
    // The monitor is gone: its exit file holds the real status; without one it died first (docker: 255).
    state.Status = transition(state.Status, 'exited', record.Id);
    state.ExitCode = facts.exit ? facts.exit.exit : 255;
    state.OOMKilled = facts.exit?.oom ?? false;
    state.Pid = 0;
    if (state.FinishedAt === '0001-01-01T00:00:00Z') state.FinishedAt = facts.exitTime ?? now.toISOString();
    const died: Action[] = [{ do: 'removeCgroups' }, { do: 'event', action: 'die', exitCode: state.ExitCode }];
    if (record.HostConfig.AutoRemove) return { actions: [...died, { do: 'destroy' }] };
    return { state, actions: [...died, { do: 'save' }] };
  }
  // A commit pauses a running container for its snapshot; one killed meanwhile never unpaused it.
  if (state.Status === 'paused' && live.pausedByDeadCommit?.()) {
    state.Status = transition(state.Status, 'running', record.Id);
    return { state, actions: [{ do: 'thaw' }, { do: 'save' }] };
  }
  // A `run --rm` whose CLI died before the container started (`create --rm` waits for a start).
  if (state.Status === 'created' && record.HostConfig.AutoRemove && record.Owner && !live.owner) return gone;
  // A removal cut short: its remover (or the monitor it waited for) is gone.
  if (state.Status === 'removing' && !live.monitor) return gone;
  if (state.Status === 'running' && hasRestartPolicy(record) && !live.init()) {
    // Its monitor is alive but its init is not: between two runs of a restart policy, the
    // monitor waits out its back-off. Derived, never stored: the monitor restarts on its own.
    state.Status = transition(state.Status, 'restarting', record.Id);
    state.Pid = 0;
    if (facts.exit) {
      state.ExitCode = facts.exit.exit;
      state.OOMKilled = facts.exit.oom;
      if (facts.exitTime) state.FinishedAt = facts.exitTime;
    }
  }
  return { state, actions: [] };
}

/**
 * The current init's pid if it is alive and its monitor's child, else 0. A restart policy gives
 * the container a new init, which its monitor records (`restarted`). With another runtime the
 * monitor's child is that runtime's `run`, and the init its child, whose pid the runtime writes
 * (`runtimePid`, again at each restart).
 */
export function liveInitPid(state: ContainerState, pids: { restarted?: number; runtimePid?: number }, parentPid: (pid: number) => number): number {
  const monitor = state.Monitor?.pid;
  if (pids.runtimePid && pids.runtimePid > 0) return parentPid(parentPid(pids.runtimePid)) === monitor ? pids.runtimePid : 0;
  const pid = pids.restarted ?? state.Pid;
  return pid > 0 && parentPid(pid) === monitor ? pid : 0;
}

export { initialState };
