// A container's confinement from its HostConfig: capabilities (docker's 14 by default,
// --cap-add/--cap-drop, --privileged), seccomp (docker's default profile, a custom one, or
// unconfined) and no-new-privileges. The default profile's program is compiled once per set of
// capabilities and kernel, then read from a cache: compiling costs milliseconds per start.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { invalid } from '../core/errors.ts';
import type { HostConfig } from '../core/container.ts';
import { DEFAULT_CAPS, capMask, capNames } from '../kernel/capabilities.ts';
import { rlimitByName } from '../kernel/rlimits.ts';
import type { SeccompProfile } from '../kernel/seccomp.ts';
import { sysctlNamespace } from '../kernel/sysctl.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { BUNDLE_FILE, SRC } from '../util/paths.ts';
import { fnv64 } from '../util/hash.ts';

export interface Confinement {
  caps: string[];
  noNewPrivileges: boolean;
  seccomp: 'default' | 'unconfined' | { profile: string }; // profile: the JSON text, read at create time
}

const norm = (c: string) => c.toUpperCase().replace(/^CAP_/, '');

/** "ALL" means every capability this engine itself holds: a container can't get more. */
function allCaps(): string[] {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  const held = m ? BigInt('0x' + m[1]) : 0n;
  return capNames(held);
}

/** Validates docker's security options at create time (so a bad one fails before anything runs). */
export function confinement(h: Pick<HostConfig, 'CapAdd' | 'CapDrop' | 'Privileged' | 'SecurityOpt'>): Confinement {
  let caps: string[];
  if (h.Privileged) caps = allCaps();
  else {
    const drop = (h.CapDrop ?? []).map(norm);
    const add = (h.CapAdd ?? []).map(norm);
    for (const c of [...drop, ...add]) if (c !== 'ALL') capMask([c]); // throws on unknown names
    caps = drop.includes('ALL') ? [] : DEFAULT_CAPS.filter((c) => !drop.includes(c));
    if (add.includes('ALL')) caps = allCaps();
    else for (const c of add) if (!caps.includes(c)) caps.push(c);
  }
  const out: Confinement = { caps, noNewPrivileges: false, seccomp: h.Privileged ? 'unconfined' : 'default' };
  for (const opt of h.SecurityOpt ?? []) {
    const [key, value = ''] = opt.includes('=') ? [opt.slice(0, opt.indexOf('=')), opt.slice(opt.indexOf('=') + 1)] : opt.split(':', 2);
    if (key === 'no-new-privileges') {
      if (value !== '' && value !== 'true' && value !== 'false') throw invalid(`invalid --security-opt 2: "${opt}"`);
      out.noNewPrivileges = value !== 'false';
    } else if (key === 'seccomp') {
      if (value === 'unconfined') out.seccomp = 'unconfined';
      else if (!value) throw invalid(`invalid --security-opt: "${opt}": seccomp needs a profile file or "unconfined"`);
      else if (value.trimStart().startsWith('{')) out.seccomp = h.Privileged ? 'unconfined' : { profile: value }; // docker's CLI sends the JSON itself
      else if (!h.Privileged) {
        let text: string;
        try {
          text = fs.readFileSync(value, 'utf8');
        } catch (err) {
          throw invalid(`opening seccomp profile (${value}) failed: ${(err as Error).message}`);
        }
        out.seccomp = { profile: text };
      }
    } else if (key === 'apparmor' || key === 'label') {
      // No AppArmor/SELinux support yet: accepted only when asking for none.
      if (value !== 'unconfined' && value !== 'disable') throw invalid(`--security-opt ${key}=${value} is not supported on this host`);
    } else {
      throw invalid(`invalid --security-opt 1: "${opt}"`);
    }
  }
  return out;
}

/** MaskedPaths/ReadonlyPaths: absolute paths in the container (docker's fields; null: the defaults). */
export function checkSystemPaths(h: Pick<HostConfig, 'MaskedPaths' | 'ReadonlyPaths'>): void {
  for (const [field, list] of [['MaskedPaths', h.MaskedPaths], ['ReadonlyPaths', h.ReadonlyPaths]] as const) {
    for (const p of list ?? []) if (typeof p !== 'string' || !p.startsWith('/') || p.split('/').includes('..')) throw invalid(`invalid ${field} entry: "${p}": an absolute path without ".." is needed`);
  }
}

// What the compiled program depends on: the compiler and the profile, as they run (the bundle
// holds them when there is one).
const SOURCES = BUNDLE_FILE ? [BUNDLE_FILE] : ['kernel/seccomp.ts', 'kernel/seccomp-default.ts'].map((p) => path.join(SRC, p));

/** The BPF program (hex) for a container, or undefined when unconfined. */
export async function seccompProgram(c: Confinement, cacheDir: string): Promise<string | undefined> {
  if (c.seccomp === 'unconfined') return undefined;
  if (typeof c.seccomp === 'object') {
    const { compileProfile, parseProfile, toHex } = await import('../kernel/seccomp.ts');
    return toHex(compileProfile(parseProfile(c.seccomp.profile), { caps: c.caps }));
  }
  return cachedProgram(cacheDir, 'default', [capMask(c.caps).toString(16)], async () => {
    const { compileProfile, toHex } = await import('../kernel/seccomp.ts');
    const { DEFAULT_PROFILE } = await import('../kernel/seccomp-default.ts');
    return toHex(compileProfile(DEFAULT_PROFILE, { caps: c.caps }));
  });
}

/**
 * The filter that sends sysinfo(2) to the container's monitor (the resource views' answer to
 * `free` and `uptime`), or undefined where the kernel cannot let a notified syscall continue.
 */
export async function sysinfoProgram(cacheDir: string): Promise<string | undefined> {
  const hex = await cachedProgram(cacheDir, 'sysinfo', [], async () => {
    const { notifyProgram, toHex, userNotifySupported } = await import('../kernel/seccomp.ts');
    return userNotifySupported() ? toHex(notifyProgram(['sysinfo'])) : '';
  });
  return hex || undefined;
}

// The kernel and the sources' mtimes, looked up once per process (a start reads two programs).
let sources: string | undefined;
const sourcesKey = () => (sources ??= [os.release(), ...SOURCES.map((s) => fs.statSync(s).mtimeMs)].join('|'));

/**
 * A program compiled once and then read from the cache: loading the compiler and its syscall
 * table costs milliseconds per start, reading the file back microseconds. The key covers
 * everything the program depends on: the compiler and profile sources (by mtime, so an upgrade
 * or edit recompiles), the kernel, and what the caller adds (the capabilities).
 */
async function cachedProgram(cacheDir: string, name: string, parts: string[], compile: () => Promise<string>): Promise<string> {
  const key = [...parts, sourcesKey()].join('|');
  const file = path.join(cacheDir, `seccomp-${name}-${fnv64(key)}.hex`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {}
  const hex = await compile();
  fs.mkdirSync(cacheDir, { recursive: true });
  writeFileAtomic(file, hex);
  return hex;
}

/** The profile itself, as another OCI runtime takes it (resolved for the capabilities), or undefined when unconfined. */
export async function seccompProfile(c: Confinement): Promise<SeccompProfile | undefined> {
  if (c.seccomp === 'unconfined') return undefined;
  const { ociProfile, parseProfile } = await import('../kernel/seccomp.ts');
  const profile = typeof c.seccomp === 'object' ? parseProfile(c.seccomp.profile) : (await import('../kernel/seccomp-default.ts')).DEFAULT_PROFILE;
  return ociProfile(profile, { caps: c.caps });
}

/** docker's --ulimit NAME=SOFT[:HARD] (-1 unlimited) as [resource, soft, hard]. */
export function parseUlimit(spec: string): { Name: string; Soft: number; Hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(spec);
  if (!m || rlimitByName(m[1]) === undefined) throw invalid(`invalid ulimit argument: ${spec}`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft !== -1 && hard !== -1 && soft > hard) throw invalid(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: m[1], Soft: soft, Hard: hard };
}

export function rlimits(ulimits: Array<{ Name: string; Soft: number; Hard: number }> | undefined): Array<[number, number, number]> {
  return (ulimits ?? []).map((u) => [rlimitByName(u.Name)!, u.Soft, u.Hard]);
}

/**
 * Only sysctls that are per-namespace may be set (docker's list): the container has its own
 * ipc and network namespaces, so kernel.{shm*,msg*,sem}, fs.mqueue.* and net.* affect it alone.
 */
export function checkSysctls(sysctls: Record<string, string>): void {
  for (const [k, v] of Object.entries(sysctls)) {
    // docker's: those of the ipc and network namespaces (a container's uts names are its hostname).
    const ns = sysctlNamespace(k);
    if (ns !== 'ipc' && ns !== 'network') throw invalid(`sysctl "${k}" is not in a separate kernel namespace`);
    if (/[\0\n]/.test(v)) throw invalid(`invalid value for sysctl ${k}`);
  }
}

/** The range remapped containers get unless BERTH_USERNS_REMAP names another ("HOSTID:SIZE"). */
export const DEFAULT_ID_RANGE = { HostId: 100000, Size: 65536 };

/**
 * --userns: "host" keeps the host's ids, "remap" maps the container's 0..Size-1 to the host's
 * HostId...; "" follows BERTH_USERNS_REMAP (a root- or daemon-wide default: "default" or
 * "HOSTID:SIZE"). Fixed at create, so the container's files keep their owners across starts.
 */
export function idMapFor(host: HostConfig, env: NodeJS.ProcessEnv = process.env): HostConfig['IdMap'] {
  const mode = host.UsernsMode ?? '';
  if (mode !== '' && mode !== 'host' && mode !== 'remap') throw invalid(`invalid --userns "${mode}": must be "host" or "remap"`);
  const wide = env.BERTH_USERNS_REMAP ?? '';
  if (mode === 'host' || (mode === '' && !wide)) return undefined;
  if (host.Privileged) throw invalid('privileged mode is incompatible with user namespaces; use --userns=host');
  if (!wide || wide === 'default') return { ...DEFAULT_ID_RANGE };
  const m = /^(\d+):(\d+)$/.exec(wide);
  const hostId = Number(m?.[1]);
  const size = Number(m?.[2]);
  if (!m || hostId < 1 || size < 1 || hostId + size > 2 ** 32 - 1) throw invalid(`invalid BERTH_USERNS_REMAP "${wide}": want "default" or HOSTID:SIZE`);
  return { HostId: hostId, Size: size };
}

/**
 * Namespaced sysctls a remapped container gets in a network namespace of its own: its root has
 * no capabilities over that namespace (the host's root made it), so without these it could
 * neither bind ports below 1024 nor ping.
 */
export const REMAPPED_SYSCTLS: Record<string, string> = {
  'net.ipv4.ip_unprivileged_port_start': '0',
  'net.ipv4.ping_group_range': '0 2147483647',
};
