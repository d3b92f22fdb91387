// Where containers live on disk, and the only code that writes their records: a directory per
// container (named by its id, made complete in a temporary directory first), the name claims,
// and removal. Every kernel object of a container is named by its id too, so recovery needs
// nothing but the id.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerRecord, ContainerState } from '../../core/container.ts';
import { BerthError, conflict, invalid, notFound } from '../../core/errors.ts';
import { claim, dropIf, owner, release, sweepGuards } from '../../kernel/claim.ts';
import type { ProcessRef } from '../../kernel/process.ts';
import { readJsonFile, sweepTemps, writeFileAtomic } from '../../util/atomic.ts';
import { crashPoint } from '../../util/crash.ts';
import { checkName, NAME_PATTERN, randomName } from '../names.ts';
import { startClaimed } from '../start-claim.ts';
import { touchContainers } from './touch.ts';

const ID = /^[a-f0-9]{64}$/;
/** The index's format: an index of another is rebuilt from the truth. */
const INDEX_VERSION = 3;

/** A cached container: its directory's inode and mtime when read (k), its record and state, whether a start claim was there (c). */
interface IndexEntry {
  k: string;
  r: ContainerRecord;
  s?: ContainerState;
  c?: 1;
}

/** A container as a listing reads it: `claimed` says whether a start claim is in its directory (start-claim.ts). */
export interface Listed {
  record: ContainerRecord;
  state?: ContainerState;
  claimed: boolean;
}

export class ContainerStore {
  /** <root>/containers: a directory per container, plus `.new-` and `.rm-` ones in passing. */
  readonly dir: string;
  /** <root>/names: a file per claimed name, holding its container's id. */
  readonly namesDir: string;
  private readonly rootDir: string;
  private readonly alive: (ref: ProcessRef) => boolean;

  constructor(rootDir: string, alive: (ref: ProcessRef) => boolean) {
    this.rootDir = rootDir;
    this.dir = path.join(rootDir, 'containers');
    this.namesDir = path.join(rootDir, 'names');
    this.alive = alive;
  }

  /** A container's directory. */
  cdir(id: string): string {
    return `${this.dir}/${id}`; // an id is one plain name: no path.join (~14 µs a call in a 1,000-container listing)
  }

  logPath(id: string): string {
    return path.join(this.cdir(id), `${id}-json.log`);
  }

  /** With another runtime: where it writes the container's init pid (its own process is the monitor's child). */
  runtimePidFile(id: string): string {
    return path.join(this.cdir(id), 'runtime.pid');
  }

  /** Where an API client's terminal size goes before the monitor is sent SIGWINCH. */
  winsizeFile(id: string, execId?: string): string {
    return path.join(this.cdir(id), execId ? `exec-${execId.slice(0, 16)}.winsize` : 'winsize');
  }

  /** Short on purpose: a unix socket path must fit in 108 bytes, a container directory may not. */
  attachSocket(id: string): string {
    fs.mkdirSync(path.join(this.rootDir, 's'), { recursive: true, mode: 0o700 });
    return path.join(this.rootDir, 's', id.slice(0, 16));
  }

  /** What the containers directory holds now (ids, and `.new-`/`.rm-` names in passing). */
  entries(): string[] {
    try {
      return fs.readdirSync(this.dir);
    } catch {
      return [];
    }
  }

  ids(): string[] {
    return this.entries().filter((n) => ID.test(n));
  }

  static isId(name: string): boolean {
    return ID.test(name);
  }

  /** The record and the saved state (undefined: no such container, or not complete yet). */
  read(id: string): { record: ContainerRecord; state?: ContainerState } | undefined {
    let record: ContainerRecord | undefined;
    try {
      record = readJsonFile<ContainerRecord>(path.join(this.cdir(id), 'config.json'));
    } catch {}
    if (!record) return undefined;
    return { record, state: readJsonFile<ContainerState>(path.join(this.cdir(id), 'state.json')) };
  }

  /**
   * Every container's record and saved state, for a listing. The truth is each container's own
   * files; the index (<root>/containers.index.json) caches them so that a listing reads one
   * file and stats each directory instead of reading two files per container. An entry counts
   * only while its directory's inode and mtime are what they were when it was read: every write
   * of a record or a state renames a file into that directory, which changes its mtime. Entries
   * changed within the last two seconds are not cached at all (a second write within the
   * clock's granularity could keep the mtime, git's "racy" case). A stale or missing entry is
   * read from the truth and the index rewritten (temp + rename: concurrent listers may each
   * rewrite it, every version they write is valid). A start claim is a file in the directory
   * too: whether one was there is cached with the rest, so that status need not look for it.
   * The index also records the containers directory's inode and mtime (`d`), when that mtime is
   * two seconds old: every change of a cached fact changes it (touch.ts), so while it is what
   * the index recorded, the entries stand without a stat of each directory (1,000 fewer
   * syscalls in a listing of 1,000 containers).
   */
  readAll(ids: string[]): Map<string, Listed> {
    const { e: index, d } = this.loadIndex();
    const out = new Map<string, Listed>();
    const next: Record<string, IndexEntry> = {};
    const stable = Date.now() - 2000;
    const dirSt = fs.statSync(this.dir, { throwIfNoEntry: false });
    const dirKey = dirSt && dirSt.mtimeMs < stable ? `${dirSt.ino}:${dirSt.mtimeMs}` : undefined;
    const trusted = dirKey !== undefined && d === dirKey;
    let changed = Object.keys(index).length !== ids.length || d !== dirKey;
    for (const id of ids) {
      const cached = index[id];
      if (trusted && cached) {
        out.set(id, { record: cached.r, state: cached.s, claimed: cached.c === 1 });
        next[id] = cached;
        continue;
      }
      // Milliseconds as a double keep sub-microsecond precision, and bigint stats cost ~40% more.
      const st = fs.statSync(this.cdir(id), { throwIfNoEntry: false });
      if (!st) continue; // removed meanwhile
      const key = `${st.ino}:${st.mtimeMs}`;
      if (cached?.k === key) {
        out.set(id, { record: cached.r, state: cached.s, claimed: cached.c === 1 });
        next[id] = cached;
        continue;
      }
      changed = true;
      const read = this.read(id);
      if (!read) continue;
      const claimed = startClaimed(this.cdir(id));
      out.set(id, { ...read, claimed });
      if (st.mtimeMs < stable) next[id] = { k: key, r: read.record, ...(read.state ? { s: read.state } : {}), ...(claimed ? { c: 1 as const } : {}) };
    }
    if (changed) {
      try {
        writeFileAtomic(this.indexFile, JSON.stringify({ v: INDEX_VERSION, ...(dirKey ? { d: dirKey } : {}), e: next }));
        // What listers killed mid-write left (their temp files).
        sweepTemps(this.rootDir, fs.readdirSync(this.rootDir).filter((n) => n.startsWith('containers.index.json.')));
      } catch {} // a cache: the next listing tries again
    }
    return out;
  }

  private get indexFile(): string {
    return path.join(this.rootDir, 'containers.index.json');
  }

  private loadIndex(): { e: Record<string, IndexEntry>; d?: string } {
    try {
      const index = readJsonFile<{ v?: number; d?: string; e?: Record<string, IndexEntry> }>(this.indexFile);
      return index?.v === INDEX_VERSION && index.e ? { e: index.e, d: index.d } : { e: {} }; // an older berth's index: rebuilt
    } catch {
      return { e: {} }; // unreadable: rebuilt from the truth
    }
  }

  saveState(record: ContainerRecord, state: ContainerState): void {
    touchContainers(this.dir);
    writeFileAtomic(path.join(this.cdir(record.Id), 'state.json'), JSON.stringify(state), { durable: !record.HostConfig.AutoRemove });
    touchContainers(this.dir);
  }

  saveRecord(record: ContainerRecord, durable = !record.HostConfig.AutoRemove): void {
    touchContainers(this.dir);
    writeFileAtomic(path.join(this.cdir(record.Id), 'config.json'), JSON.stringify(record), { durable, mode: 0o600 });
    touchContainers(this.dir);
  }

  /**
   * Makes a container: the name is claimed (first: a name in use fails the create before
   * anything else, such as a named volume, is made), `fill` writes its files into a temporary
   * directory, and the directory appears under the id only when complete, the final record in
   * it (on disk unless --rm). A killed creator leaves only a sweepable temporary directory.
   */
  create(record: ContainerRecord, wanted: string | undefined, owner: ProcessRef, fill: (tmp: string) => void): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(this.dir, `.new-${owner.pid}.${owner.start}.${record.Id.slice(0, 12)}`);
    fs.mkdirSync(tmp);
    try {
      fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify(record), { mode: 0o600 }); // its Env: root's alone
      record.Name = this.reserveName(wanted, record.Id);
      crashPoint('create:name-reserved');
      fill(tmp);
      crashPoint('create:filled');
      const fd = fs.openSync(path.join(tmp, 'config.json'), 'w');
      try {
        fs.writeSync(fd, JSON.stringify(record));
        if (!record.HostConfig.AutoRemove) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, this.cdir(record.Id));
      crashPoint('create:stored');
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (record.Name) this.releaseName(record.Name, record.Id);
      throw err;
    }
  }

  /** Its directory and name go: out of sight first (readers skip dot names), then removed. */
  destroy(record: ContainerRecord): void {
    // A concurrent listing never sees a container directory that is half gone; a `.rm-` left
    // by a crash is swept.
    const gone = path.join(this.dir, `.rm-${record.Id}.${process.pid}`);
    try {
      fs.renameSync(this.cdir(record.Id), gone);
    } catch {}
    crashPoint('rm:hidden');
    fs.rmSync(gone, { recursive: true, force: true });
    fs.rmSync(this.cdir(record.Id), { recursive: true, force: true });
    crashPoint('rm:dir-removed');
    this.releaseName(record.Name, record.Id);
  }

  /** A name or an id (prefix) to the container's id. */
  resolveId(nameOrId: string): string {
    const name = nameOrId.replace(/^\//, '');
    if (NAME_PATTERN.test(name)) {
      try {
        return fs.readFileSync(path.join(this.namesDir, name), 'utf8');
      } catch {}
    }
    if (/^[a-f0-9]{1,64}$/.test(nameOrId)) {
      const ids = this.ids().filter((id) => id.startsWith(nameOrId));
      if (ids.length === 1) return ids[0];
      if (ids.length > 1) throw invalid(`multiple containers match "${nameOrId}": use a longer prefix`);
    }
    throw notFound(`No such container: ${nameOrId}`);
  }

  /** docker rename: the new name is claimed before the record takes it, the old one freed after. */
  rename(record: ContainerRecord, newName: string): string {
    // dockerd's words: "Error when allocating new name: Invalid container name (/bad name)...".
    const allocating = (fn: () => string) => {
      try {
        return fn();
      } catch (err) {
        if (err instanceof BerthError) throw new BerthError(err.code, `Error when allocating new name: ${err.message}`, { cause: err });
        throw err;
      }
    };
    const name = allocating(() => checkName(newName.startsWith('/') ? newName : `/${newName}`));
    if (name === record.Name) throw invalid(`Renaming a container with the same name as its current name`);
    allocating(() => (this.claim(name, record.Id, true), name));
    const old = record.Name;
    record.Name = name;
    this.saveRecord(record, true);
    this.releaseName(old, record.Id);
    return old;
  }

  /** Names are claimed with an exclusive create: of two concurrent creates, one wins. */
  private reserveName(wanted: string | undefined, id: string): string {
    fs.mkdirSync(this.namesDir, { recursive: true });
    if (wanted !== undefined) {
      const name = checkName(wanted);
      this.claim(name, id, true);
      return name;
    }
    for (let i = 0; ; i++) {
      const name = i < 10 ? randomName() : `${randomName()}${i}`;
      if (this.claim(name, id, false)) return name;
    }
  }

  /** Names are claimed (kernel/claim.ts): of two concurrent creates, one wins. */
  private claim(name: string, id: string, mustWin: boolean): boolean {
    if (claim(this.namesDir, name, id, (holder) => this.gone(holder))) return true;
    if (mustWin) throw conflict(`Conflict. The container name "/${name}" is already in use by container "${owner(this.namesDir, name) ?? ''}". You have to remove (or rename) that container to be able to reuse that name.`);
    return false;
  }

  /**
   * A name whose container no longer exists (a crash between claim and removal) is free again.
   * A create in progress is looked for first: its temporary directory is renamed to the final
   * one, so looking the other way round could miss both.
   */
  private gone(id: string): boolean {
    return !this.pendingCreate(id) && !fs.existsSync(this.cdir(id));
  }

  private releaseName(name: string, id: string): void {
    release(this.namesDir, name, id);
  }

  private pendingCreate(id: string): boolean {
    return this.entries().some((n) => n.startsWith('.new-') && n.endsWith(id.slice(0, 12)));
  }

  /** Sweeps half-created containers of dead creators (one directory listing). */
  sweepCreates(): void {
    for (const n of this.entries()) this.sweepPartial(n);
  }

  /**
   * A container directory half made (`.new-`, its creator dead) or half removed (`.rm-`, its
   * remover cut short, or still at work: two removers of one tree are harmless) is removed.
   * True when the name is one of those.
   */
  sweepPartial(n: string): boolean {
    const m = /^\.new-(\d+)\.(\d+)\./.exec(n);
    if (!m && !n.startsWith('.rm-')) return false;
    if (!m || !this.alive({ pid: Number(m[1]), start: Number(m[2]) })) {
      try {
        fs.rmSync(path.join(this.dir, n), { recursive: true, force: true });
      } catch {}
    }
    return true;
  }

  /**
   * Frees names whose container is gone (a crash between claiming a name and publishing the
   * container, or in the middle of a removal). The names are listed before the containers: a
   * name claimed after that listing is not considered, and one claimed before it has its
   * container directory (temporary or final) already in place. `held` (name -> id of containers
   * just read) spares reading the names their records hold: a name is claimed before a record
   * takes it, and never reclaimed while its container exists, so such a file points at them.
   */
  sweepNames(held: Map<string, string>): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.namesDir);
    } catch {
      return;
    }
    sweepTemps(this.namesDir, names); // claims half-written by a killed claimer
    sweepGuards(this.namesDir, names); // takeovers cut short by a kill
    const present = new Set(this.entries().map((n) => (n.startsWith('.new-') ? n.slice(-12) : n.slice(0, 12))));
    for (const n of names) {
      if (present.has(held.get(n)?.slice(0, 12) ?? '')) continue;
      if (n.startsWith('.')) continue; // a claim's temporary file or guard (kernel/claim.ts)
      // Asked again of a name's container (a name read now may have been claimed since the listing).
      dropIf(this.namesDir, n, (id) => !present.has(id.slice(0, 12)) && this.gone(id));
    }
  }
}
