// Process identity that survives pid reuse: a pid plus its start time (field 22 of
// /proc/PID/stat, in clock ticks since boot). Used to tell whether a recorded monitor or
// creator is still the same live process.
import * as fs from 'node:fs';
import type { ProcessRef } from '../core/types.ts';

export type { ProcessRef } from '../core/types.ts';

/** The fields of /proc/PID/stat after the command name (state first), or undefined if it is gone. */
function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

export function processStart(pid: number): number | undefined {
  const fields = statFields(pid);
  if (!fields || fields[0] === 'Z' || fields[0] === 'X') return undefined; // a zombie is not alive
  return Number(fields[19]);
}

/** Its parent's pid, -1 if it is gone. */
export function parentPid(pid: number): number {
  const fields = statFields(pid);
  return fields ? Number(fields[1]) : -1;
}

export function isAlive(ref: ProcessRef | undefined): boolean {
  return ref !== undefined && ref.pid > 0 && processStart(ref.pid) === ref.start;
}

/** A process by pid and start time (0 if it is already gone). */
export function refOf(pid: number): ProcessRef {
  return { pid, start: processStart(pid) ?? 0 };
}

let self: ProcessRef | undefined;

/** This process (read once: its start time never changes). */
export function selfRef(): ProcessRef {
  return (self ??= refOf(process.pid));
}

/**
 * For temporary names that carry their creator (`<prefix><pid>.<start>.<random>`): whether the
 * name has that form and its creator is gone, so what it names can be swept.
 */
export function ownerDead(name: string, prefix: string): boolean {
  if (!name.startsWith(prefix)) return false;
  const m = /^(\d+)\.(\d+)\./.exec(name.slice(prefix.length));
  return m !== null && !isAlive({ pid: Number(m[1]), start: Number(m[2]) });
}
