// Signal names and numbers as docker accepts them: "KILL", "SIGKILL", "9", "RTMIN+3".
import { invalid } from '../core/errors.ts';

const NAMES: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12,
  PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23,
  XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31, RTMIN: 34, RTMAX: 64,
};

export function parseSignal(input: string): number {
  const upper = input.trim().toUpperCase();
  const s = upper.replace(/^SIG/, '');
  let n: number | undefined;
  // A number alone is a signal number; "SIG42" is no signal's name (moby refuses it too).
  if (/^\d+$/.test(s)) n = s === upper ? Number(s) : undefined;
  else {
    const rt = /^RTM(IN|AX)([+-]\d+)?$/.exec(s);
    n = rt ? (rt[1] === 'IN' ? 34 : 64) + Number(rt[2] ?? 0) : NAMES[s];
  }
  if (n === undefined || !Number.isInteger(n) || n < 1 || n > 64) throw invalid(`Invalid signal: ${input}`);
  return n;
}

/** What a foreground client passes on to the process it stands for (the terminal's resizes come separately, as SIGWINCH). */
export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;
