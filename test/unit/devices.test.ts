// Device rules and their cgroup v2 program: the program is run by a small eBPF interpreter of
// the few instructions it uses, and must decide every access exactly as the rules say.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowed, DEFAULT_DEVICE_RULES, deviceProgram, deviceProgramHex, deviceRules, parseDeviceFlag, parseDeviceRule, type DeviceRule } from '../../src/kernel/devices.ts';

/** Runs a cgroup device program on one access (ctx: access_type, major, minor). */
function run(prog: Buffer, type: 'b' | 'c', major: number, minor: number, access: string): number {
  const acc = [...access].reduce((a, c) => a | ({ m: 1, r: 2, w: 4 } as Record<string, number>)[c], 0);
  const ctx = [(acc << 16) | (type === 'b' ? 1 : 2), major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; pc < prog.length / 8; pc++) {
    assert.ok(++steps < 10_000, 'the program loops');
    const o = pc * 8;
    const code = prog[o];
    const dst = prog[o + 1] & 0xf;
    const src = prog[o + 1] >> 4;
    const off = prog.readInt16LE(o + 2);
    const imm = prog.readInt32LE(o + 4);
    switch (code) {
      case 0x61: assert.equal(src, 1); r[dst] = ctx[off / 4] >>> 0; break;
      case 0xbf: r[dst] = r[src]; break;
      case 0xb7: r[dst] = imm; break;
      case 0x57: r[dst] = (r[dst] & imm) >>> 0; break;
      case 0x77: r[dst] = r[dst] >>> imm; break;
      case 0x55: if (r[dst] !== imm) pc += off; break;
      case 0x5d: if (r[dst] !== r[src]) pc += off; break;
      case 0x95: return r[0];
      default: assert.fail(`unexpected opcode 0x${code.toString(16)}`);
    }
  }
  assert.fail('fell off the end of the program');
}

test('rules parse like the devices cgroup files', () => {
  assert.deepEqual(parseDeviceRule('c 1:3 rwm'), { type: 'c', major: 1, minor: 3, access: 'rwm' });
  assert.deepEqual(parseDeviceRule('c 136:* rwm'), { type: 'c', major: 136, minor: '*', access: 'rwm' });
  assert.deepEqual(parseDeviceRule('a rw'), { type: 'a', major: '*', minor: '*', access: 'rw' });
  for (const bad of ['x 1:3 rwm', 'c 1:3', 'c 1 rwm', 'c 1:3 rwx', '']) assert.throws(() => parseDeviceRule(bad), { code: 'InvalidArgument' });
});

test('the default program decides every access as the default rules do', () => {
  const rules = DEFAULT_DEVICE_RULES.map(parseDeviceRule);
  const prog = deviceProgram(rules);
  let checked = 0;
  for (const type of ['b', 'c'] as const) {
    for (const major of [0, 1, 5, 8, 10, 136, 254]) {
      for (const minor of [0, 1, 2, 3, 5, 7, 8, 9, 11, 200]) {
        for (const access of ['m', 'r', 'w', 'rw', 'rwm', 'mw']) {
          assert.equal(run(prog, type, major, minor, access), allowed(rules, type, major, minor, access) ? 1 : 0, `${type} ${major}:${minor} ${access}`);
          checked++;
        }
      }
    }
  }
  assert.equal(checked, 840);
  // The cases that matter: any node may be made, a host disk or /dev/kmsg not used, /dev/null yes.
  assert.equal(run(prog, 'b', 254, 0, 'm'), 1);
  assert.equal(run(prog, 'b', 254, 0, 'r'), 0);
  assert.equal(run(prog, 'c', 1, 11, 'w'), 0);
  assert.equal(run(prog, 'c', 1, 3, 'rw'), 1);
  assert.equal(run(prog, 'c', 136, 7, 'rw'), 1);
});

test('other rule sets: allow-all, read-only, nothing', () => {
  const cases: Array<[DeviceRule[], 'b' | 'c', number, number, string, number]> = [
    [[parseDeviceRule('a rwm')], 'b', 8, 0, 'rw', 1],
    [[parseDeviceRule('c 4:* r')], 'c', 4, 9, 'r', 1],
    [[parseDeviceRule('c 4:* r')], 'c', 4, 9, 'rw', 0],
    [[], 'c', 1, 3, 'r', 0],
  ];
  for (const [rules, type, major, minor, access, want] of cases) assert.equal(run(deviceProgram(rules), type, major, minor, access), want);
});

test('--device parses like docker: HOST[:CONTAINER][:PERMS], absolute paths, rwm by default', () => {
  assert.deepEqual(parseDeviceFlag('/dev/fuse'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' });
  assert.deepEqual(parseDeviceFlag('/dev/fuse:r'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'r' });
  assert.deepEqual(parseDeviceFlag('/dev/sdc:/dev/xvdc:rw'), { PathOnHost: '/dev/sdc', PathInContainer: '/dev/xvdc', CgroupPermissions: 'rw' });
  for (const bad of ['fuse', '/dev/a:b', '/dev/a:/dev/b:/dev/c', '/dev/a:/', ':/dev/x', '', '/dev/a:/dev/b:rrw', '/dev/a:/dev/ptmx', '/dev/a:/dev/pts/0', '/dev/a:/dev/shm/x']) {
    assert.throws(() => parseDeviceFlag(bad), { code: 'InvalidArgument' }, bad);
  }
});

test('a container\'s rules: the defaults, each device with its permissions, extra rules; the program follows them', () => {
  assert.equal(deviceRules([]), DEFAULT_DEVICE_RULES);
  const fuse = { path: '/dev/fuse', type: 'c' as const, major: 10, minor: 229, mode: 0o600, uid: 0, gid: 0, perms: 'r' };
  const rules = deviceRules([fuse], ['b 7:* rw']);
  assert.deepEqual(rules.slice(DEFAULT_DEVICE_RULES.length), ['c 10:229 r', 'b 7:* rw']);
  assert.throws(() => deviceRules([], ['c 1:3 rwx']), { code: 'InvalidArgument' });
  const prog = Buffer.from(deviceProgramHex(rules), 'hex');
  assert.equal(run(prog, 'c', 10, 229, 'r'), 1);
  assert.equal(run(prog, 'c', 10, 229, 'w'), 0, 'only the permissions given');
  assert.equal(run(prog, 'b', 7, 3, 'w'), 1);
  assert.equal(run(prog, 'b', 8, 0, 'r'), 0, 'other block devices stay closed');
  assert.equal(run(Buffer.from(deviceProgramHex(), 'hex'), 'c', 10, 229, 'r'), 0, 'not without --device');
});
