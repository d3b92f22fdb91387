// Claiming a name exclusively: a file `dir/name` whose content says who holds it (a container
// id, a process, a network). Container names, start claims, sandbox and pool locks, published
// ports, network names and subnets all go through here.
//
// - A claim appears whole or not at all: written aside, then hard-linked into place (link fails
//   if the name exists, so of two claimers exactly one wins). A plain O_EXCL create would let a
//   loser read it empty.
// - A claim is taken over only when the caller's rule says its content is stale (its holder
//   process dead, its container gone...). The stale file is removed under a guard, itself a
//   claim named after the stale content (`.t-<hash>`): takers of one stale claim serialise on
//   it, and the file removed is exactly the one read. Without that, a taker that read the stale
//   content could remove the claim another taker had just put in its place, and both would win.
//   After the removal every taker races for the free name again: one wins.
// - A guard's holder is a process: a guard left by a killed taker is itself taken over the same
//   way (a guard of the guard), so no crash leaves a name stuck.
// - Release removes the file only if it still holds the releaser's content (under the same guard).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../core/errors.ts';
import { fnv64 } from '../util/hash.ts';
import { isAlive, selfRef, type ProcessRef } from './process.ts';

/** Whether a claim's content (as read) may be taken over or swept. */
export type Stale = (content: string) => boolean;

let seq = 0;
let me: string | undefined;

/** This process as a claim's holder: `pid start` (its start time tells a reused pid apart). */
export function selfHolder(): string {
  return (me ??= holderText(selfRef()));
}

export function holderText(ref: ProcessRef): string {
  return `${ref.pid} ${ref.start}`;
}

/** The process a claim names (`pid start`, or a ProcessRef as JSON as older versions wrote). */
export function parseHolder(content: string | undefined): ProcessRef | undefined {
  if (content === undefined) return undefined;
  const m = /^(\d+) (\d+)/.exec(content);
  if (m) return { pid: Number(m[1]), start: Number(m[2]) };
  try {
    const ref = JSON.parse(content) as ProcessRef | null;
    if (ref && typeof ref.pid === 'number') return ref;
  } catch {}
  return undefined;
}

/** The takeover rule of claims held by a process: its holder is gone (or it names none). */
export const holderDead: Stale = (content) => !isAlive(parseHolder(content));

/** What the claim says, or undefined if there is none. */
export function owner(dir: string, name: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, name), 'utf8');
  } catch {
    return undefined;
  }
}

/** Puts `content` at dir/name unless the name exists; true if this call placed it. */
function place(dir: string, name: string, content: string): boolean {
  // Temp names end `.<pid>.<n>.tmp`: util/atomic.ts sweepTemps removes those of dead writers.
  const tmp = path.join(dir, `.c.${process.pid}.${++seq}.tmp`);
  try {
    // Inside the try: a write that fails (a full disk) may have made the file all the same.
    fs.writeFileSync(tmp, content);
    fs.linkSync(tmp, path.join(dir, name));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Claims dir/name for `content`; returns its release (idempotent), or undefined while someone
 * else holds it and `stale` says their claim stands. `dir` must exist. A claim with exactly this
 * content already there counts as someone else's (claims do not nest).
 */
export function claim(dir: string, name: string, content: string, stale: Stale): (() => void) | undefined {
  for (let tries = 0; tries < 2000; tries++) {
    if (place(dir, name, content)) {
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release(dir, name, content);
      };
    }
    const held = owner(dir, name);
    if (held === undefined) continue; // released meanwhile
    if (held === content || !stale(held)) return undefined;
    // A live taker holding the guard finishes in microseconds; one stopped there holds us up to ~2 s.
    if (!drop(dir, name, held)) pause(1);
  }
  return undefined;
}

/**
 * A lock held by this process (a claim naming it, taken over once it is dead), waited for while
 * another live holder, or another task of this process (claims do not nest), has it. Throws
 * Unavailable after `timeoutMs`.
 */
export async function claimWait(dir: string, name: string, what: string, timeoutMs: number): Promise<() => void> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const end = Date.now() + timeoutMs; ;) {
    const done = claim(dir, name, selfHolder(), holderDead);
    if (done) return done;
    if (Date.now() > end) throw new BerthError('Unavailable', `${what} is held by another process for more than ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Removes the claim if it still holds `content` (the holder's release: never someone else's claim). */
export function release(dir: string, name: string, content: string): void {
  try {
    dropIf(dir, name, (held) => held === content);
  } catch (err) {
    // A full disk has no room for the guard's few bytes. Our own claim is taken over by nobody
    // while we live (claims go stale with their holder), so it goes without the guard: a full
    // disk must not leave a lock held (a start's claim would make its container look adopted).
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC' || owner(dir, name) !== content) throw err;
    fs.rmSync(path.join(dir, name), { force: true });
  }
}

/**
 * Removes the claim at dir/name if `test` says so of its content (a sweep of claims whose holder
 * is gone). True if no claim is left that `test` accepts.
 */
export function dropIf(dir: string, name: string, test: Stale): boolean {
  for (let tries = 0; tries < 2000; tries++) {
    const held = owner(dir, name);
    if (held === undefined || !test(held)) return true;
    if (drop(dir, name, held)) return true;
    pause(1);
  }
  return false;
}

/**
 * Removes dir/name if its content is still `held`, under the guard that every remover of that
 * content takes. False if another live process holds the guard (it is removing it itself).
 */
function drop(dir: string, name: string, held: string): boolean {
  const guard = `.t-${fnv64(`${name}\n${held}`)}`;
  const mine = selfHolder();
  try {
    if (!claimGuard(dir, guard, mine)) return false;
  } catch (err) {
    // The directory went (a container's, removed with its claims): nothing is left to drop.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(dir)) return true;
    throw err;
  }
  try {
    if (owner(dir, name) === held) fs.rmSync(path.join(dir, name), { force: true });
  } finally {
    // A guard's holder is this live process: nobody else removes it, so no guard is needed here.
    fs.rmSync(path.join(dir, guard), { force: true });
  }
  return true;
}

function claimGuard(dir: string, guard: string, mine: string): boolean {
  for (let tries = 0; tries < 8; tries++) {
    if (place(dir, guard, mine)) return true;
    const held = owner(dir, guard);
    if (held === undefined) continue;
    if (!holderDead(held)) return false;
    drop(dir, guard, held); // its taker was killed mid-takeover
  }
  return false;
}

/**
 * Guards (`.t-...`) whose taker was killed in the middle of a takeover: dropped once their holder
 * is dead. Given a directory's listing, as util/atomic.ts sweepTemps is.
 */
export function sweepGuards(dir: string, names: string[]): void {
  for (const n of names) if (n.startsWith('.t-')) dropIf(dir, n, holderDead);
}
