// Linux capability names and numbers (linux/capability.h) and docker's default set.
import { invalid } from '../core/errors.ts';

export const CAPS: Record<string, number> = {
  CHOWN: 0, DAC_OVERRIDE: 1, DAC_READ_SEARCH: 2, FOWNER: 3, FSETID: 4, KILL: 5, SETGID: 6, SETUID: 7,
  SETPCAP: 8, LINUX_IMMUTABLE: 9, NET_BIND_SERVICE: 10, NET_BROADCAST: 11, NET_ADMIN: 12, NET_RAW: 13,
  IPC_LOCK: 14, IPC_OWNER: 15, SYS_MODULE: 16, SYS_RAWIO: 17, SYS_CHROOT: 18, SYS_PTRACE: 19,
  SYS_PACCT: 20, SYS_ADMIN: 21, SYS_BOOT: 22, SYS_NICE: 23, SYS_RESOURCE: 24, SYS_TIME: 25,
  SYS_TTY_CONFIG: 26, MKNOD: 27, LEASE: 28, AUDIT_WRITE: 29, AUDIT_CONTROL: 30, SETFCAP: 31,
  MAC_OVERRIDE: 32, MAC_ADMIN: 33, SYSLOG: 34, WAKE_ALARM: 35, BLOCK_SUSPEND: 36, AUDIT_READ: 37,
  PERFMON: 38, BPF: 39, CHECKPOINT_RESTORE: 40,
};

/** Docker's default capabilities (moby daemon/pkg/oci/caps/defaults.go). */
export const DEFAULT_CAPS = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP',
  'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

/** The names of the capabilities in a mask, in CAPS's order. */
export function capNames(mask: bigint): string[] {
  return Object.keys(CAPS).filter((c) => (mask >> BigInt(CAPS[c])) & 1n);
}

export function capMask(names: string[]): bigint {
  let mask = 0n;
  for (const raw of names) {
    const name = raw.toUpperCase().replace(/^CAP_/, '');
    const n = CAPS[name];
    if (n === undefined) throw invalid(`unknown capability: "${raw}"`);
    mask |= 1n << BigInt(n);
  }
  return mask;
}
