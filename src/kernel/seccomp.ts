// Seccomp: docker's profile format compiled to a classic BPF program, installed by the shim
// (step_seccomp) just before execve. Everything is decided here; the shim only loads the bytes.
import * as os from 'node:os';
import { invalid } from '../core/errors.ts';
import { SYSCALLS_X86_64 } from './syscalls-x86_64.ts';

export interface SeccompArg {
  index: number;
  /** Integers up to 2^64-1; parseProfile yields a bigint where a number would lose precision. */
  value: number | bigint;
  valueTwo?: number | bigint;
  op: string;
}
export interface SeccompFilter { caps?: string[]; arches?: string[]; minKernel?: string }
export interface SeccompRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[];
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
  comment?: string;
}
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: Array<{ architecture: string; subArchitectures?: string[] }>;
  syscalls: SeccompRule[];
}

export interface CompileOptions {
  /** Effective capability names, with or without CAP_ (e.g. "SYS_ADMIN"). */
  caps: string[];
  arch?: 'x86_64';
}

const EPERM = 1;
const ENOSYS = 38;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const MAX_INSNS = 4096;

// SECCOMP_RET_* (linux/seccomp.h); the low 16 bits carry errno / trace data.
const RET_KILL_PROCESS = 0x80000000;
export const ACTIONS: Record<string, number> = {
  SCMP_ACT_KILL: 0, SCMP_ACT_KILL_THREAD: 0, SCMP_ACT_KILL_PROCESS: RET_KILL_PROCESS,
  SCMP_ACT_TRAP: 0x00030000, SCMP_ACT_ERRNO: 0x00050000, SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000, SCMP_ACT_ALLOW: 0x7fff0000,
};
const OPS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
// libseccomp's names for x86_64 in includes/excludes.arches, plus the spellings people write.
const NATIVE_ARCH_NAMES = ['amd64', 'x86_64', 'SCMP_ARCH_X86_64'];

// Classic BPF opcodes (linux/filter.h).
const LD_W_ABS = 0x20, JA = 0x05, JEQ = 0x15, JGT = 0x25, JGE = 0x35, AND = 0x54, RET = 0x06;
type Insn = [code: number, jt: number, jf: number, k: number];
// Symbolic jump targets, resolved once the enclosing comparison / rule has its final length.
const FAIL = -1, NEXT = -2;

const own = (o: object, k: string) => Object.hasOwn(o, k);
// A value for an error message: the parser keeps big integers as BigInt, which JSON.stringify refuses.
const show = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

// ---- parsing and validation ----

export function parseProfile(json: string): SeccompProfile {
  let raw: unknown;
  try {
    // Argument values are u64; keep integers beyond 2^53 exact via the reviver's source text.
    raw = JSON.parse(json, ((_k: string, v: unknown, ctx?: { source?: string }) =>
      typeof v === 'number' && !Number.isSafeInteger(v) && ctx?.source && /^\d+$/.test(ctx.source) ? BigInt(ctx.source) : v) as never);
  } catch (e) {
    throw invalid(`seccomp profile is not valid JSON: ${(e as Error).message}`, e);
  }
  return validate(raw);
}

function validate(raw: unknown): SeccompProfile {
  const obj = (v: unknown, where: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`seccomp profile: ${where} must be an object`);
    return v as Record<string, unknown>;
  };
  const strs = (v: unknown, where: string): string[] | undefined => {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw invalid(`seccomp profile: ${where} must be an array of strings`);
    return v as string[];
  };
  const action = (v: unknown, where: string): string => {
    if (typeof v !== 'string' || !own(ACTIONS, v)) {
      const hint = v === 'SCMP_ACT_NOTIFY' ? ' (user notification is not supported)' : `; expected one of ${Object.keys(ACTIONS).join(', ')}`;
      throw invalid(`seccomp profile: ${where}: unknown action ${show(v)}${hint}`);
    }
    return v;
  };
  const errno = (v: unknown, where: string): number | undefined => {
    if (v === undefined || v === null) return undefined;
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffff) throw invalid(`seccomp profile: ${where} must be an integer 0-65535`);
    return v as number;
  };
  const u64 = (v: unknown, where: string): number | bigint => {
    const b = typeof v === 'bigint' ? v : Number.isInteger(v) ? BigInt(v as number) : -1n;
    if (b < 0n || b >= 1n << 64n) throw invalid(`seccomp profile: ${where} must be an unsigned 64-bit integer`);
    return v as number | bigint;
  };
  const filter = (v: unknown, where: string): SeccompFilter | undefined => {
    if (v === undefined || v === null) return undefined;
    const f = obj(v, where);
    if (f.minKernel !== undefined && (typeof f.minKernel !== 'string' || !/^\d+\.\d+$/.test(f.minKernel))) {
      throw invalid(`seccomp profile: ${where}.minKernel must look like "4.8", got ${show(f.minKernel)}`);
    }
    return { caps: strs(f.caps, `${where}.caps`), arches: strs(f.arches, `${where}.arches`), minKernel: f.minKernel as string | undefined };
  };

  const p = obj(raw, 'the profile');
  if (p.architectures && p.archMap) throw invalid('seccomp profile: use either "architectures" or "archMap", not both');
  const syscalls = p.syscalls ?? [];
  if (!Array.isArray(syscalls)) throw invalid('seccomp profile: "syscalls" must be an array');
  return {
    defaultAction: action(p.defaultAction, 'defaultAction'),
    defaultErrnoRet: errno(p.defaultErrnoRet, 'defaultErrnoRet'),
    architectures: strs(p.architectures, 'architectures'),
    archMap: p.archMap as SeccompProfile['archMap'],
    syscalls: syscalls.map((s: unknown, i: number): SeccompRule => {
      const w = `syscalls[${i}]`;
      const r = obj(s, w);
      if (r.name !== undefined && r.names !== undefined) throw invalid(`seccomp profile: ${w} has both "name" and "names"`);
      const names = r.name !== undefined ? strs([r.name], `${w}.name`)! : strs(r.names, `${w}.names`) ?? [];
      if (names.length === 0) throw invalid(`seccomp profile: ${w} names no syscall`);
      const args = r.args === undefined || r.args === null ? undefined : r.args;
      if (args !== undefined && !Array.isArray(args)) throw invalid(`seccomp profile: ${w}.args must be an array`);
      return {
        names,
        action: action(r.action, `${w}.action`),
        errnoRet: errno(r.errnoRet, `${w}.errnoRet`),
        args: args?.map((a: unknown, j: number): SeccompArg => {
          const aw = `${w}.args[${j}]`;
          const o = obj(a, aw);
          if (!Number.isInteger(o.index) || (o.index as number) < 0 || (o.index as number) > 5) {
            throw invalid(`seccomp profile: ${aw}.index must be 0-5, got ${show(o.index)}`);
          }
          if (typeof o.op !== 'string' || !OPS.includes(o.op)) {
            throw invalid(`seccomp profile: ${aw}: unknown operator ${show(o.op)}; expected one of ${OPS.join(', ')}`);
          }
          return { index: o.index as number, op: o.op, value: u64(o.value, `${aw}.value`), valueTwo: u64(o.valueTwo ?? 0, `${aw}.valueTwo`) };
        }),
        includes: filter(r.includes, `${w}.includes`),
        excludes: filter(r.excludes, `${w}.excludes`),
      };
    }),
  };
}

// ---- compilation ----

function retValue(action: string, errnoRet: number | undefined): number {
  // As runc: ERRNO and TRACE without an explicit value carry EPERM.
  const data = action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE' ? (errnoRet ?? EPERM) : 0;
  return (ACTIONS[action] | data) >>> 0;
}

const kernelAtLeast = (min: string): boolean => {
  const [a, b] = min.split('.').map(Number);
  const m = /^(\d+)\.(\d+)/.exec(os.release());
  if (!m) return false;
  return +m[1] > a || (+m[1] === a && +m[2] >= b);
};

/** One 64-bit comparison of argument `index`; falls through on success, jumps to FAIL otherwise. */
function comparison(a: SeccompArg): Insn[] {
  const lo = 16 + 8 * a.index, hi = lo + 4; // seccomp_data.args[i], little-endian halves
  const v = BigInt(a.value), vh = Number(v >> 32n), vl = Number(v & 0xffffffffn);
  let c: Insn[];
  switch (a.op) {
    case 'SCMP_CMP_EQ': c = [[LD_W_ABS, 0, 0, hi], [JEQ, 0, FAIL, vh], [LD_W_ABS, 0, 0, lo], [JEQ, 0, FAIL, vl]]; break;
    case 'SCMP_CMP_NE': c = [[LD_W_ABS, 0, 0, hi], [JEQ, 0, NEXT, vh], [LD_W_ABS, 0, 0, lo], [JEQ, FAIL, 0, vl]]; break;
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
      c = [[LD_W_ABS, 0, 0, hi], [JGT, NEXT, 0, vh], [JEQ, 0, FAIL, vh], [LD_W_ABS, 0, 0, lo], [a.op === 'SCMP_CMP_GT' ? JGT : JGE, 0, FAIL, vl]];
      break;
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE':
      c = [[LD_W_ABS, 0, 0, hi], [JGT, FAIL, 0, vh], [JEQ, 0, NEXT, vh], [LD_W_ABS, 0, 0, lo], [a.op === 'SCMP_CMP_LT' ? JGE : JGT, FAIL, 0, vl]];
      break;
    default: { // SCMP_CMP_MASKED_EQ: (arg & value) == valueTwo
      const d = BigInt(a.valueTwo ?? 0), dh = Number(d >> 32n), dl = Number(d & 0xffffffffn);
      const half = (off: number, m: number, x: number): Insn[] => [[LD_W_ABS, 0, 0, off], [AND, 0, 0, m], [JEQ, 0, FAIL, x]];
      c = [...(vh === 0 && dh === 0 ? [] : half(hi, vh, dh)), ...half(lo, vl, dl)];
    }
  }
  return c.map(([code, jt, jf, k], i) => [code, jt === NEXT ? c.length - i - 1 : jt, jf === NEXT ? c.length - i - 1 : jf, k]);
}

/** Comparisons (ANDed) then `ret`; any failed comparison jumps just past the `ret`. */
function ruleCode(args: SeccompArg[], ret: number): Insn[] {
  const r: Insn[] = [...args.flatMap(comparison), [RET, 0, 0, ret]];
  return r.map(([code, jt, jf, k], i) => [code, jt === FAIL ? r.length - i - 1 : jt, jf === FAIL ? r.length - i - 1 : jf, k]);
}

function encode(prog: Insn[]): Buffer {
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach(([code, jt, jf, k], i) => {
    if (jt < 0 || jt > 255 || jf < 0 || jf > 255) throw new Error(`seccomp: jump out of range at ${i}`); // a compiler bug
    buf.writeUInt16LE(code, i * 8); buf.writeUInt8(jt, i * 8 + 2); buf.writeUInt8(jf, i * 8 + 3); buf.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buf;
}

/** The rules that apply to a process with these capabilities on this kernel and architecture. */
function applicableRules(p: SeccompProfile, opts: CompileOptions): SeccompRule[] {
  const capName = (c: string) => c.toUpperCase().replace(/^CAP_/, '');
  const caps = new Set(opts.caps.map(capName));
  return p.syscalls.filter((rule) => {
    const inc = rule.includes, exc = rule.excludes;
    if (exc?.arches?.some((a) => NATIVE_ARCH_NAMES.includes(a)) || exc?.caps?.some((c) => caps.has(capName(c)))) return false;
    if (exc?.minKernel && kernelAtLeast(exc.minKernel)) return false;
    if (inc?.arches?.length && !inc.arches.some((a) => NATIVE_ARCH_NAMES.includes(a))) return false;
    return !(inc?.caps?.some((c) => !caps.has(capName(c))) || (inc?.minKernel && !kernelAtLeast(inc.minKernel)));
  });
}

/**
 * A docker-format profile as the OCI runtime spec has it (what runc takes): the rules that apply
 * to these capabilities, without docker's includes/excludes.
 */
export function ociProfile(profile: SeccompProfile, opts: CompileOptions): SeccompProfile {
  const p = validate(profile);
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: applicableRules(p, opts).map(({ names, action, errnoRet, args }) => ({ names, action, ...(errnoRet !== undefined ? { errnoRet } : {}), ...(args?.length ? { args } : {}) })),
  };
}

export function compileProfile(profile: SeccompProfile, opts: CompileOptions): Buffer {
  const p = validate(profile);
  if ((opts.arch ?? 'x86_64') !== 'x86_64') throw invalid(`seccomp: unsupported architecture ${opts.arch}`);
  const nr = (name: string): number | undefined => (own(SYSCALLS_X86_64, name) ? SYSCALLS_X86_64[name] : undefined);

  const dflt = retValue(p.defaultAction, p.defaultErrnoRet);
  const denies = !['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(p.defaultAction);
  // Other ABIs (i386 via int 0x80, x32) are not translated: under a permissive default they
  // would bypass every rule, so they are killed; under a denying default they get it.
  const badArch = denies ? dflt : RET_KILL_PROCESS;

  // Per syscall, in profile order: conditional rules first (a specific rule beats a blanket one
  // whatever the order), then the first unconditional rule, else the default action.
  const conditional = new Map<number, Insn[]>();
  const blanket = new Map<number, number>();
  let maxNamed = -1;
  for (const rule of p.syscalls) for (const n of rule.names) maxNamed = Math.max(maxNamed, nr(n) ?? -1);
  for (const rule of applicableRules(p, opts)) {
    const ret = retValue(rule.action, rule.errnoRet);
    const args = rule.args ?? [];
    // runc's rule: comparing one argument twice in a rule means any of them (separate rules).
    const split = new Set(args.map((a) => a.index)).size < args.length ? args.map((a) => [a]) : [args];
    for (const n of rule.names) {
      const num = nr(n);
      if (num === undefined) continue; // named by the profile, unknown to x86_64 or to this table
      if (args.length === 0) { if (!blanket.has(num)) blanket.set(num, ret); continue; }
      conditional.set(num, [...(conditional.get(num) ?? []), ...split.flatMap((s) => ruleCode(s, ret))]);
    }
  }

  // The syscall number space as intervals [start, next start) with the code deciding them;
  // neighbours deciding alike merge, so a run of allowed syscalls costs one interval.
  const intervals: Array<{ start: number; code: Insn[]; key: string }> = [];
  const push = (start: number, code: Insn[]) => {
    const key = code.join(';');
    if (intervals.at(-1)?.key !== key) intervals.push({ start, code, key });
  };
  let next = 0;
  for (const num of [...new Set([...conditional.keys(), ...blanket.keys()])].sort((a, b) => a - b)) {
    if (num > next) push(next, [[RET, 0, 0, dflt]]);
    push(num, [...(conditional.get(num) ?? []), [RET, 0, 0, blanket.get(num) ?? dflt]]);
    next = num + 1;
  }
  push(next, [[RET, 0, 0, dflt]]);
  // As runc: syscalls newer than any the profile names fail with ENOSYS, so libc falls back to
  // an older call instead of seeing EPERM.
  if (denies && maxNamed >= 0) push(maxNamed + 1, [[RET, 0, 0, retValue('SCMP_ACT_ERRNO', ENOSYS)]]);

  // A balanced binary search on nr: jge splits the intervals; the true branch skips the left
  // half, through a JA (32-bit offset) when the left half is longer than a jt can reach.
  const tree = (lo: number, hi: number): Insn[] => {
    if (hi - lo === 1) return intervals[lo].code;
    const mid = (lo + hi) >> 1;
    const left = tree(lo, mid), right = tree(mid, hi), k = intervals[mid].start;
    const test: Insn[] = left.length <= 255 ? [[JGE, left.length, 0, k]] : [[JGE, 0, 1, k], [JA, 0, 0, left.length]];
    return [...test, ...left, ...right];
  };

  const prog: Insn[] = [
    [LD_W_ABS, 0, 0, 4], // seccomp_data.arch
    [JEQ, 1, 0, AUDIT_ARCH_X86_64],
    [RET, 0, 0, badArch],
    [LD_W_ABS, 0, 0, 0], // seccomp_data.nr
    [JGE, 0, 2, X32_SYSCALL_BIT],
    [JEQ, 1, 0, 0xffffffff], // -1: a tracer skipping the call, as libseccomp lets it through
    [RET, 0, 0, badArch],
    ...tree(0, intervals.length),
  ];
  if (prog.length > MAX_INSNS) throw invalid(`seccomp profile compiles to ${prog.length} instructions, more than the kernel's ${MAX_INSNS}`);
  return encode(prog);
}

const RET_USER_NOTIF = 0x7fc00000;

/**
 * A second filter, stacked on the profile's: these syscalls go to the listener of the process
 * that installs it (its monitor answers them, native/sysinfo.c), everything else is allowed. The
 * kernel takes the strictest answer of all filters (an error or a kill beats a notification), so
 * a syscall the profile refuses stays refused; one it allows is answered by the monitor.
 */
export function notifyProgram(names: string[]): Buffer {
  const nrs = names.map((n) => {
    if (!own(SYSCALLS_X86_64, n)) throw invalid(`seccomp: unknown syscall ${n}`);
    return SYSCALLS_X86_64[n];
  });
  const allow = ACTIONS.SCMP_ACT_ALLOW;
  return encode([
    [LD_W_ABS, 0, 0, 4], // seccomp_data.arch: other ABIs are the profile's business
    [JEQ, 1, 0, AUDIT_ARCH_X86_64],
    [RET, 0, 0, allow],
    [LD_W_ABS, 0, 0, 0], // seccomp_data.nr
    ...nrs.map((nr, i): Insn => [JEQ, nrs.length - i, 0, nr]),
    [RET, 0, 0, allow],
    [RET, 0, 0, RET_USER_NOTIF],
  ]);
}

/** User notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE (the monitor's "let it run"): Linux 5.5. */
export function userNotifySupported(): boolean {
  return kernelAtLeast('5.5');
}

export function toHex(bpf: Buffer): string {
  return bpf.toString('hex');
}
