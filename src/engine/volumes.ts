// Named volumes: directories under the state root that outlive containers; and the parsing of
// docker's -v / --mount / --tmpfs into the mounts a container gets.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MountSpec } from '../core/container.ts';
import { conflict, invalid, notFound } from '../core/errors.ts';
import { ownerDead, selfRef } from '../kernel/process.ts';
import { readJsonFile, writeFileAtomic } from '../util/atomic.ts';
import { crashPoint } from '../util/crash.ts';
import { randomHex } from '../util/random.ts';

export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string> | null;
  Anonymous?: boolean;
}

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Destinations that would let a container replace the kernel's view of itself. */
function checkTarget(target: string, spec: string): string {
  if (!target.startsWith('/')) throw invalid(`invalid mount config: mount destination "${target}" is not an absolute path (${spec})`);
  const t = path.posix.normalize(target).replace(/\/+$/, '') || '/';
  if (t === '/') throw invalid(`invalid mount config: destination can't be "/" (${spec})`);
  if (t === '/proc' || t.startsWith('/proc/')) throw invalid(`invalid mount config: cannot mount over ${t}: it belongs to the container's procfs (${spec})`);
  return t;
}

/** docker's bind propagation modes. */
const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];
/** What `-v`'s last field may hold, comma-separated (z/Z: SELinux labels, nocopy: no copy-up; both without effect here). */
const MODES = ['ro', 'rw', 'z', 'Z', 'nocopy', ...PROPAGATIONS];

/** `-v SRC:DST[:ro|rw][,PROPAGATION]`, `-v NAME:DST`, `-v DST` (anonymous volume). */
export function parseVolumeFlag(spec: string): MountSpec {
  const parts = spec.split(':');
  let mode = '';
  if (parts.length === 3 || (parts.length === 2 && parts[1].split(',').every((m) => MODES.includes(m)))) mode = parts.pop()!;
  if (parts.length > 2 || parts.some((p) => p === '')) throw invalid(`invalid volume specification: '${spec}'`);
  const modes = mode ? mode.split(',') : [];
  if (modes.some((m) => !MODES.includes(m))) throw invalid(`invalid mode: ${mode}`);
  const ro = modes.includes('ro');
  const propagation = modes.filter((m) => PROPAGATIONS.includes(m));
  if (propagation.length > 1) throw invalid(`invalid mode: ${mode}`);
  if (parts.length === 1) return { Type: 'volume', Source: '', Target: checkTarget(parts[0], spec), ReadOnly: ro, Anonymous: true };
  const [src, dst] = parts;
  if (src.startsWith('/')) return { Type: 'bind', Source: path.resolve(src), Target: checkTarget(dst, spec), ReadOnly: ro, ...(propagation.length ? { Propagation: propagation[0] } : {}) };
  if (propagation.length) throw invalid(`invalid mode: ${mode}: propagation is only for bind mounts`);
  if (!VOLUME_NAME.test(src)) throw invalid(`"${src}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  return { Type: 'volume', Source: src, Target: checkTarget(dst, spec), ReadOnly: ro };
}

/** `--mount type=bind|volume|tmpfs,source=..,target=..,readonly,tmpfs-size=..,tmpfs-mode=..` */
export function parseMountFlag(spec: string): MountSpec {
  const kv = new Map<string, string>();
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    kv.set((eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase(), eq < 0 ? 'true' : field.slice(eq + 1));
  }
  const type = kv.get('type') ?? 'volume';
  const src = kv.get('source') ?? kv.get('src') ?? '';
  const dst = kv.get('target') ?? kv.get('destination') ?? kv.get('dst');
  if (!dst) throw invalid(`invalid argument "${spec}" for "--mount" flag: target is required`);
  const roValue = kv.get('readonly') ?? kv.get('ro');
  const ro = roValue !== undefined && roValue !== 'false' && roValue !== '0';
  const known = ['type', 'source', 'src', 'target', 'destination', 'dst', 'readonly', 'ro', 'tmpfs-size', 'tmpfs-mode', 'bind-propagation', 'volume-nocopy', 'consistency'];
  for (const k of kv.keys()) if (!known.includes(k)) throw invalid(`invalid argument "${spec}" for "--mount" flag: unexpected key '${k}'`);
  const target = checkTarget(dst, spec);
  if (type === 'bind') {
    if (!src.startsWith('/')) throw invalid(`invalid mount config for type "bind": invalid mount path: '${src}' mount path must be absolute`);
    if (!fs.existsSync(src)) throw invalid(`invalid mount config for type "bind": bind source path does not exist: ${src}`);
    const propagation = kv.get('bind-propagation');
    if (propagation !== undefined && !PROPAGATIONS.includes(propagation)) throw invalid(`invalid argument "${spec}" for "--mount" flag: invalid propagation mode: ${propagation}`);
    return { Type: 'bind', Source: path.resolve(src), Target: target, ReadOnly: ro, ...(propagation ? { Propagation: propagation } : {}) };
  }
  if (type === 'volume') {
    if (src && !VOLUME_NAME.test(src)) throw invalid(`invalid volume name: "${src}"`);
    return { Type: 'volume', Source: src, Target: target, ReadOnly: ro, Anonymous: !src };
  }
  if (type === 'tmpfs') {
    if (src) throw invalid(`invalid mount config for type "tmpfs": source must not be specified`);
    return { Type: 'tmpfs', Source: '', Target: target, ReadOnly: ro, TmpfsOptions: tmpfsData(kv.get('tmpfs-size'), kv.get('tmpfs-mode')) };
  }
  throw invalid(`invalid mount config: mount type unknown: "${type}"`);
}

/** `--tmpfs /run[:size=64m,mode=1777,...]` */
export function parseTmpfsFlag(spec: string): MountSpec {
  const colon = spec.indexOf(':');
  const target = checkTarget(colon < 0 ? spec : spec.slice(0, colon), spec);
  const opts = colon < 0 ? [] : spec.slice(colon + 1).split(',').filter(Boolean);
  const data: string[] = [];
  let ro = false;
  for (const o of opts) {
    if (o === 'ro') ro = true;
    else if (o === 'rw' || o === 'noexec' || o === 'nosuid' || o === 'nodev' || o === 'exec' || o === 'suid' || o === 'dev') continue; // flags: docker's defaults are noexec,nosuid,nodev
    else if (/^(size|mode|uid|gid|nr_inodes|nr_blocks)=[\w%]+$/.test(o)) data.push(o);
    else throw invalid(`invalid tmpfs option "${o}" in "${spec}"`);
  }
  return { Type: 'tmpfs', Source: '', Target: target, ReadOnly: ro, TmpfsOptions: data.join(',') };
}

function tmpfsData(size?: string, mode?: string): string {
  const out: string[] = [];
  if (size !== undefined) {
    if (!/^\d+[kmgKMG]?$/.test(size)) throw invalid(`invalid tmpfs-size: "${size}"`);
    out.push(`size=${size}`);
  }
  if (mode !== undefined) {
    if (!/^[0-7]{3,4}$/.test(mode)) throw invalid(`invalid tmpfs-mode: "${mode}"`);
    out.push(`mode=${mode}`);
  }
  return out.join(',');
}

export class Volumes {
  private readonly dir: string;
  constructor(root: string) {
    this.dir = path.join(root, 'volumes');
  }

  private meta(name: string): string {
    return path.join(this.dir, name, 'volume.json');
  }

  get(name: string): VolumeRecord {
    const v = VOLUME_NAME.test(name) ? readJsonFile<VolumeRecord>(this.meta(name)) : undefined;
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  /** Creates a volume, or returns the existing one of that name (docker's behaviour). */
  create(name?: string, opts: { labels?: Record<string, string>; anonymous?: boolean } = {}): VolumeRecord {
    const n = name || randomHex(32);
    if (!VOLUME_NAME.test(n)) throw invalid(`create ${n}: "${n}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
    const existing = readJsonFile<VolumeRecord>(this.meta(n));
    if (existing) return existing;
    // Made whole in a temporary directory (its creator's pid and start in its name), then renamed
    // into place: a killed create leaves no volume, only that directory, which is swept.
    this.sweep();
    const me = selfRef();
    const tmp = path.join(this.dir, `.new-${me.pid}.${me.start}.${randomHex(6)}`);
    fs.mkdirSync(path.join(tmp, '_data'), { recursive: true, mode: 0o755 });
    crashPoint('volume-create:data-made');
    const rec: VolumeRecord = {
      Name: n, Driver: 'local', Mountpoint: path.join(this.dir, n, '_data'), CreatedAt: new Date().toISOString(),
      Labels: opts.labels ?? {}, Scope: 'local', Options: null, ...(opts.anonymous ? { Anonymous: true } : {}),
    };
    writeFileAtomic(path.join(tmp, 'volume.json'), JSON.stringify(rec), { durable: true });
    try {
      fs.renameSync(tmp, path.join(this.dir, n));
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      // A concurrent create of the same name won: docker returns the existing volume.
      const other = readJsonFile<VolumeRecord>(this.meta(n));
      if (other) return other;
      throw conflict(`create ${n}: a volume of that name is being created or removed`);
    }
    crashPoint('volume-create:stored');
    return rec;
  }

  /**
   * What killed commands left: a create's temporary directory (its creator dead), and a
   * directory whose record is gone (a remove cut short: the record goes first).
   */
  private sweep(): void {
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      fs.mkdirSync(this.dir, { recursive: true });
    }
    for (const n of names) {
      const orphan = VOLUME_NAME.test(n) && !fs.existsSync(this.meta(n));
      if (ownerDead(n, '.new-') || orphan) fs.rmSync(path.join(this.dir, n), { recursive: true, force: true });
    }
  }

  list(): VolumeRecord[] {
    this.sweep();
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.dir);
    } catch {}
    return names.filter((n) => VOLUME_NAME.test(n)).map((n) => readJsonFile<VolumeRecord>(this.meta(n))).filter((v): v is VolumeRecord => v !== undefined);
  }

  /** `usedBy(name)` names a container using it, if any. */
  remove(name: string, usedBy: (name: string) => string | undefined, force = false): void {
    this.get(name);
    const user = usedBy(name);
    if (user && !force) throw conflict(`remove ${name}: volume is in use - [${user}]`);
    // The record goes first: a crash mid-way leaves an unnamed directory, never a volume
    // that claims data it no longer has.
    fs.rmSync(this.meta(name), { force: true });
    fs.rmSync(path.join(this.dir, name), { recursive: true, force: true });
  }
}
