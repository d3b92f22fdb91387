// Device access rules ("c 1:3 rwm") and, for cgroup v2, their compilation to an eBPF program of
// type BPF_PROG_TYPE_CGROUP_DEVICE: cgroup v2 has no devices files, the kernel asks a program
// attached to the container's cgroup instead. Pure: the shim only loads and attaches the bytes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DeviceMapping } from '../core/container.ts';
import { invalid } from '../core/errors.ts';

/**
 * docker's default device rules (containerd's oci defaults): creating any node is allowed
 * (CAP_MKNOD), using one only for the few a container needs. Without these a container could
 * mknod a host device (a disk, /dev/kmsg) and read or write it.
 */
export const DEFAULT_DEVICE_RULES = [
  'c *:* m', 'b *:* m',
  'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', // null zero full random urandom
  'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm', // tty console ptmx pts
  'c 10:200 rwm', // tun
];

let defaultProgram: string | undefined;
/** A rule list as a cgroup v2 device program, hex (what the shim's `devcg` record takes). */
export function deviceProgramHex(rules: string[] = DEFAULT_DEVICE_RULES): string {
  if (rules === DEFAULT_DEVICE_RULES) return (defaultProgram ??= deviceProgram(DEFAULT_DEVICE_RULES.map(parseDeviceRule)).toString('hex'));
  return deviceProgram(rules.map(parseDeviceRule)).toString('hex');
}

/**
 * docker's --device HOST[:CONTAINER][:PERMISSIONS] (the container path defaults to the host's,
 * permissions to rwm). Pure: whether HOST is a device is the engine's to find out.
 */
export function parseDeviceFlag(text: string): DeviceMapping {
  const parts = text.split(':');
  let perms = 'rwm';
  if (parts.length > 1 && PERMS.test(parts.at(-1)!)) perms = parts.pop()!;
  if (parts.length > 2 || !parts[0]) throw invalid(`invalid device specification: ${text}`);
  const [host, inContainer = host] = parts;
  return deviceMapping(host, inContainer, perms, text);
}

/** Each of r, w, m at most once. */
const PERMS = /^(?!.*(.).*\1)[rwm]{1,3}$/;

/**
 * Where a container's device may not go: its /dev symlinks and the filesystems mounted on /dev
 * (a node there would fail to be made, or be hidden).
 */
const DEV_RESERVED = ['/dev/ptmx', '/dev/fd', '/dev/stdin', '/dev/stdout', '/dev/stderr', '/dev/core', '/dev/pts', '/dev/shm', '/dev/mqueue'];
const reserved = (p: string) => DEV_RESERVED.some((r) => p === r || p.startsWith(`${r}/`));

/** One checked mapping (the API's HostConfig.Devices fields, or a parsed --device). Pure. */
export function deviceMapping(host: string, inContainer: string, perms: string, what = `${host}:${inContainer}:${perms}`): DeviceMapping {
  for (const p of [host, inContainer]) if (!p.startsWith('/')) throw invalid(`invalid device specification: ${what}: ${p} is not an absolute path`);
  if (!PERMS.test(perms)) throw invalid(`invalid device specification: ${what}: bad cgroup permissions "${perms}"`);
  // Normalized here; the shim makes the node with every component resolved inside the root.
  const target = path.posix.normalize(inContainer);
  if (target === '/') throw invalid(`invalid device specification: ${what}`);
  if (reserved(target)) throw invalid(`invalid device specification: ${what}: ${target} is the container's own`);
  return { PathOnHost: host, PathInContainer: target, CgroupPermissions: perms };
}

/** A device node as the shim makes it: where, which, its mode bits and owner (the host node's). */
export interface DeviceNode {
  path: string;
  type: 'b' | 'c';
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
}

// What a directory given to --device holds that is not the host's devices to hand out (as runc's
// device listing skips them).
const SKIPPED_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** Linux's dev_t: major in bits 8-19 and 32-43, minor in bits 0-7 and 20-31. */
export function devNumbers(rdev: bigint): { major: number; minor: number } {
  return { major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)), minor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)) };
}

/** A block device's numbers, for the block I/O limits (docker: "PATH is not a valid block device"). */
export function blockDevice(file: string): { major: number; minor: number } {
  const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  if (!st?.isBlockDevice()) throw invalid(`${file} is not a valid block device`);
  return devNumbers(st.rdev);
}

/**
 * The host's nodes behind --device mappings, read now (a node can change between create and
 * start). Like docker: a symlink on the host is followed, a directory gives every device node
 * below it, anything else is an error.
 */
export function hostDevices(mappings: DeviceMapping[]): Array<DeviceNode & { perms: string }> {
  const out: Array<DeviceNode & { perms: string }> = [];
  const fail = (m: DeviceMapping, why: string) => invalid(`error gathering device information while adding custom device "${m.PathOnHost}": ${why}`);
  const node = (file: string, inContainer: string, perms: string) => {
    const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
    if (!st || (!st.isCharacterDevice() && !st.isBlockDevice())) return undefined;
    const { major, minor } = devNumbers(st.rdev);
    const type = st.isBlockDevice() ? 'b' : 'c';
    return { path: inContainer, type, major, minor, mode: Number(st.mode & 0o777n), uid: Number(st.uid), gid: Number(st.gid), perms } as const;
  };
  for (const m of mappings) {
    let real: string;
    try {
      real = fs.realpathSync(m.PathOnHost);
    } catch (err) {
      throw fail(m, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message);
    }
    if (fs.statSync(real).isDirectory()) {
      const before = out.length;
      const walk = (dir: string, rel: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          const target = path.posix.join(m.PathInContainer, rel, e.name);
          if (e.isDirectory() && !SKIPPED_DIRS.has(e.name)) walk(path.join(dir, e.name), path.posix.join(rel, e.name));
          else if ((e.isCharacterDevice() || e.isBlockDevice()) && e.name !== 'console' && !reserved(target)) {
            const n = node(path.join(dir, e.name), target, m.CgroupPermissions);
            if (n) out.push(n); // gone since the listing: skipped
          }
        }
      };
      walk(real, '');
      if (out.length === before) throw fail(m, 'not a device node, and a directory with none');
      continue;
    }
    const n = node(real, m.PathInContainer, m.CgroupPermissions);
    if (!n) throw fail(m, 'not a device node');
    out.push(n);
  }
  return out;
}

/** The allow rules for a container: docker's defaults, its devices with their permissions, its extra rules. Pure. */
export function deviceRules(nodes: Array<DeviceNode & { perms: string }>, extra: string[] = []): string[] {
  if (!nodes.length && !extra.length) return DEFAULT_DEVICE_RULES;
  for (const r of extra) parseDeviceRule(r);
  return [...DEFAULT_DEVICE_RULES, ...new Set(nodes.map((n) => `${n.type} ${n.major}:${n.minor} ${n.perms}`)), ...extra];
}

export interface DeviceRule {
  type: 'a' | 'b' | 'c';
  major: number | '*';
  minor: number | '*';
  access: string; // subset of "rwm"
}

export function parseDeviceRule(text: string): DeviceRule {
  const m = /^([abc])(?: (\*|\d+):(\*|\d+))? ([rwm]{1,3})$/.exec(text.trim());
  if (!m) throw invalid(`invalid device rule "${text}"`);
  const n = (v: string | undefined): number | '*' => (v === undefined || v === '*' ? '*' : Number(v));
  return { type: m[1] as DeviceRule['type'], major: n(m[2]), minor: n(m[3]), access: m[4] };
}

// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }: access_type is
// (access << 16) | type, with type BLOCK 1, CHAR 2 and access MKNOD 1, READ 2, WRITE 4.
const TYPE = { b: 1, c: 2 } as const;
const ACCESS = { m: 1, r: 2, w: 4 } as const;

// The few eBPF instructions the program needs: [opcode, dst, src, off, imm].
type Insn = [number, number, number, number, number];
const ldxw = (dst: number, src: number, off: number): Insn => [0x61, dst, src, off, 0]; // dst = *(u32 *)(src + off)
const mov = (dst: number, src: number): Insn => [0xbf, dst, src, 0, 0];
const movi = (dst: number, imm: number): Insn => [0xb7, dst, 0, 0, imm];
const andi = (dst: number, imm: number): Insn => [0x57, dst, 0, 0, imm];
const rshi = (dst: number, imm: number): Insn => [0x77, dst, 0, 0, imm];
const jnei = (dst: number, imm: number, off: number): Insn => [0x55, dst, 0, off, imm];
const jne = (dst: number, src: number, off: number): Insn => [0x5d, dst, src, off, 0];
const exit = (): Insn => [0x95, 0, 0, 0, 0];

/**
 * An allow-list program: the first rule that matches allows (returns 1); nothing matching
 * denies (0). Registers: r2 type, r3 access, r4 major, r5 minor; r6 scratch.
 */
export function deviceProgram(rules: DeviceRule[]): Buffer {
  const insns: Insn[] = [
    ldxw(2, 1, 0), mov(3, 2), andi(2, 0xffff), rshi(3, 16), ldxw(4, 1, 4), ldxw(5, 1, 8),
  ];
  for (const r of rules) {
    const mask = [...r.access].reduce((a, c) => a | ACCESS[c as keyof typeof ACCESS], 0);
    // Each check jumps to the next rule when it fails; offsets are filled once the block is known.
    const checks: Array<(skip: number) => Insn[]> = [];
    if (r.type !== 'a') checks.push((skip) => [jnei(2, TYPE[r.type as 'b' | 'c'], skip)]);
    if (mask !== 7) checks.push((skip) => [mov(6, 3), andi(6, mask), jne(6, 3, skip)]); // asked for more than allowed
    if (r.major !== '*') checks.push((skip) => [jnei(4, r.major as number, skip)]);
    if (r.minor !== '*') checks.push((skip) => [jnei(5, r.minor as number, skip)]);
    const sizes = checks.map((c) => c(0).length);
    const tail = 2; // r0 = 1; exit
    checks.forEach((c, i) => {
      const after = sizes.slice(i + 1).reduce((a, b) => a + b, 0) + tail;
      insns.push(...c(after));
    });
    insns.push(movi(0, 1), exit());
  }
  insns.push(movi(0, 0), exit());
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, dst, src, off, imm], i) => {
    out.writeUInt8(code, i * 8);
    out.writeUInt8((src << 4) | dst, i * 8 + 1);
    out.writeInt16LE(off, i * 8 + 2);
    out.writeInt32LE(imm, i * 8 + 4);
  });
  return out;
}

/** What the program decides for one access (the same logic, for tests and for reasoning). */
export function allowed(rules: DeviceRule[], type: 'b' | 'c', major: number, minor: number, access: string): boolean {
  return rules.some((r) =>
    (r.type === 'a' || r.type === type) && [...access].every((a) => r.access.includes(a)) &&
    (r.major === '*' || r.major === major) && (r.minor === '*' || r.minor === minor));
}
