// A classic-BPF interpreter for seccomp programs: enough of the instruction set to run what
// the compiler emits, with the kernel's structural checks, so tests can ask for decisions.

export interface SeccompData {
  nr: number;
  arch?: number; // AUDIT_ARCH_X86_64 unless given
  args?: Array<number | bigint>;
}

const OPS = new Set([0x20, 0x00, 0x05, 0x15, 0x25, 0x35, 0x45, 0x54, 0x06]);

interface Insn { code: number; jt: number; jf: number; k: number }

function decode(prog: Buffer): Insn[] {
  if (prog.length === 0 || prog.length % 8) throw new Error(`program length ${prog.length} is not a multiple of 8`);
  const out: Insn[] = [];
  for (let o = 0; o < prog.length; o += 8) {
    out.push({ code: prog.readUInt16LE(o), jt: prog[o + 2], jf: prog[o + 3], k: prog.readUInt32LE(o + 4) });
  }
  return out;
}

/** What the kernel's bpf_check_classic and seccomp_check_filter would reject. */
export function check(prog: Buffer): void {
  const insns = decode(prog);
  if (insns.length > 4096) throw new Error(`${insns.length} instructions, over BPF_MAXINSNS`);
  insns.forEach((i, pc) => {
    if (!OPS.has(i.code)) throw new Error(`pc ${pc}: unsupported opcode 0x${i.code.toString(16)}`);
    if (i.code === 0x20 && (i.k % 4 || i.k >= 64)) throw new Error(`pc ${pc}: load outside seccomp_data: ${i.k}`);
    const far = i.code === 0x05 ? i.k : (i.code & 0x07) === 0x05 ? Math.max(i.jt, i.jf) : -1;
    if (far >= 0 && pc + 1 + far >= insns.length) throw new Error(`pc ${pc}: jump past the end`);
  });
  if (insns.at(-1)!.code !== 0x06) throw new Error('last instruction is not a return');
}

/** Runs the program on one syscall and returns the filter's 32-bit verdict. */
export function run(prog: Buffer, d: SeccompData): number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(d.nr >>> 0, 0);
  data.writeUInt32LE((d.arch ?? 0xc000003e) >>> 0, 4);
  (d.args ?? []).forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), 16 + 8 * i));
  const insns = decode(prog);
  let A = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const { code, jt, jf, k } = insns[pc];
    switch (code) {
      case 0x20: A = data.readUInt32LE(k); break; // ld [k]
      case 0x00: A = k; break; // ld #k
      case 0x54: A = (A & k) >>> 0; break; // and #k
      case 0x05: pc += k; break; // ja
      case 0x15: pc += A === k ? jt : jf; break;
      case 0x25: pc += A > k ? jt : jf; break;
      case 0x35: pc += A >= k ? jt : jf; break;
      case 0x45: pc += (A & k) !== 0 ? jt : jf; break;
      case 0x06: return k;
      default: throw new Error(`pc ${pc}: unsupported opcode 0x${code.toString(16)}`);
    }
  }
  throw new Error('fell off the end of the program');
}

export const RET = { KILL_THREAD: 0, KILL_PROCESS: 0x80000000, TRAP: 0x00030000, ERRNO: 0x00050000, TRACE: 0x7ff00000, LOG: 0x7ffc0000, ALLOW: 0x7fff0000 };

/** A readable verdict: "allow", "errno 1", "kill_process", ... */
export function verdict(ret: number): string {
  const action = (ret & 0xffff0000) >>> 0;
  const name = Object.entries(RET).find(([, v]) => v === action)?.[0].toLowerCase() ?? `0x${action.toString(16)}`;
  return action === RET.ERRNO || action === RET.TRACE ? `${name} ${ret & 0xffff}` : name;
}
