import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CAPS } from '../../src/kernel/capabilities.ts';
import { compileProfile, parseProfile, toHex, type SeccompProfile } from '../../src/kernel/seccomp.ts';
import { DEFAULT_PROFILE } from '../../src/kernel/seccomp-default.ts';
import { SYSCALLS_X86_64 as NR } from '../../src/kernel/syscalls-x86_64.ts';
import { check, run, verdict, type SeccompData } from '../helpers/bpf.ts';

const EPERM = 'errno 1';
const ENOSYS = 'errno 38';
const CLONE_NEWUSER = 0x10000000;
const CLONE_THREAD_FLAGS = 0x003d0f00; // what pthread_create passes: VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|*TID

const defaultProg = compileProfile(DEFAULT_PROFILE, { caps: DEFAULT_CAPS });
const withAdmin = compileProfile(DEFAULT_PROFILE, { caps: [...DEFAULT_CAPS, 'SYS_ADMIN'] });
const decide = (prog: Buffer, name: string, args: SeccompData['args'] = [], arch?: number) =>
  verdict(run(prog, { nr: NR[name], args, arch }));

test('the default profile compiles to a valid program well under BPF_MAXINSNS', () => {
  check(defaultProg);
  check(withAdmin);
  assert.ok(defaultProg.length / 8 < 4096);
  assert.ok(defaultProg.length / 8 < 1000, `${defaultProg.length / 8} instructions`);
  assert.equal(toHex(defaultProg), defaultProg.toString('hex'));
  assert.match(toHex(defaultProg), /^([0-9a-f]{16})+$/);
});

test('ordinary syscalls are allowed', () => {
  for (const name of ['read', 'write', 'execve', 'openat', 'mmap', 'exit_group', 'pipe2', 'arch_prctl', 'rt_sigreturn', 'removexattrat']) {
    assert.equal(decide(defaultProg, name), 'allow', name);
  }
});

test('privileged and dangerous syscalls get EPERM', () => {
  for (const name of ['mount', 'umount2', 'unshare', 'setns', 'pivot_root', 'keyctl', 'add_key', 'request_key', 'userfaultfd',
    'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'kexec_load', 'reboot', 'init_module', 'bpf', 'swapon', 'sethostname']) {
    assert.equal(decide(defaultProg, name), EPERM, name);
  }
  assert.equal(decide(withAdmin, 'mount'), 'allow');
  assert.equal(decide(withAdmin, 'unshare'), 'allow');
  assert.equal(decide(withAdmin, 'pivot_root'), EPERM, 'docker never allows pivot_root');
  assert.equal(decide(withAdmin, 'keyctl'), EPERM);
});

test('clone: namespaces only with SYS_ADMIN; clone3: ENOSYS without it', () => {
  assert.equal(decide(defaultProg, 'clone', [17 /* SIGCHLD */]), 'allow');
  assert.equal(decide(defaultProg, 'clone', [CLONE_THREAD_FLAGS]), 'allow');
  assert.equal(decide(defaultProg, 'clone', [CLONE_NEWUSER | 17]), EPERM);
  assert.equal(decide(defaultProg, 'clone', [0x00020000 /* NEWNS */]), EPERM);
  assert.equal(decide(withAdmin, 'clone', [CLONE_NEWUSER | 17]), 'allow');
  assert.equal(decide(defaultProg, 'clone3'), ENOSYS);
  assert.equal(decide(withAdmin, 'clone3'), 'allow');
});

test('socket: every family but AF_ALG and AF_VSOCK, judged on the int the kernel sees', () => {
  for (const af of [1, 2, 10, 16, 17, 37, 39, 41, 45]) assert.equal(decide(defaultProg, 'socket', [af]), 'allow', `family ${af}`);
  assert.equal(decide(defaultProg, 'socket', [38]), EPERM);
  assert.equal(decide(defaultProg, 'socket', [40]), EPERM);
  // The kernel truncates family to int: garbage in the high word must not smuggle AF_ALG in.
  assert.equal(decide(defaultProg, 'socket', [(1n << 32n) | 38n]), EPERM);
  assert.equal(decide(defaultProg, 'socketpair', [1]), 'allow');
});

test('personality: only the values docker allows', () => {
  for (const p of [0, 8, 0x20000, 0x20008, 0xffffffff]) assert.equal(decide(defaultProg, 'personality', [p]), 'allow', `0x${p.toString(16)}`);
  for (const p of [0x10000, 0x0400000 /* READ_IMPLIES_EXEC */, 0x40000 /* ADDR_NO_RANDOMIZE */, 1]) {
    assert.equal(decide(defaultProg, 'personality', [p]), EPERM, `0x${p.toString(16)}`);
  }
  // 64-bit comparison: equal low words with a different high word are not a match.
  assert.equal(decide(defaultProg, 'personality', [(1n << 32n) | 8n]), EPERM);
  assert.equal(decide(defaultProg, 'personality', [0xffffffffffffffffn]), EPERM);
});

test('capability-gated groups follow the capabilities given', () => {
  const caps = (extra: string[]) => compileProfile(DEFAULT_PROFILE, { caps: [...DEFAULT_CAPS, ...extra] });
  assert.equal(decide(defaultProg, 'chroot'), 'allow', 'SYS_CHROOT is a default capability');
  assert.equal(decide(compileProfile(DEFAULT_PROFILE, { caps: [] }), 'chroot'), EPERM);
  assert.equal(decide(defaultProg, 'settimeofday'), EPERM);
  assert.equal(decide(caps(['SYS_TIME']), 'settimeofday'), 'allow');
  assert.equal(decide(caps(['CAP_SYS_MODULE']), 'finit_module'), 'allow', 'CAP_ prefix accepted');
  assert.equal(decide(caps(['BPF']), 'bpf'), 'allow');
  assert.equal(decide(caps(['SYS_NICE']), 'mbind'), 'allow');
  assert.equal(decide(defaultProg, 'ptrace'), 'allow', 'kernel >= 4.8');
  assert.equal(decide(defaultProg, 'kcmp'), EPERM);
  assert.equal(decide(caps(['SYS_PTRACE']), 'kcmp'), 'allow');
});

test('foreign architectures, x32 and unknown syscalls', () => {
  assert.equal(verdict(run(defaultProg, { nr: 0, arch: 0x40000003 /* i386 */ })), EPERM);
  assert.equal(verdict(run(defaultProg, { nr: 0x40000000 | NR.read })), EPERM, 'x32 read');
  assert.equal(verdict(run(defaultProg, { nr: 0x40000000 | 0x200 })), EPERM);
  assert.equal(verdict(run(defaultProg, { nr: 400 })), EPERM, 'a hole in the table');
  // Newer than anything the profile names: ENOSYS, so libc falls back (runc does the same).
  assert.equal(verdict(run(defaultProg, { nr: 1000 })), ENOSYS);
  assert.equal(verdict(run(defaultProg, { nr: 0xffffffff })), ENOSYS);
});

test('parse errors say what is wrong', () => {
  const bad = (json: string, re: RegExp) => assert.throws(() => parseProfile(json), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'InvalidArgument');
    assert.match(e.message, re);
    return true;
  });
  bad('{"defaultAction": ', /not valid JSON/);
  bad('[]', /must be an object/);
  bad('{"defaultAction":"SCMP_ACT_NOPE","syscalls":[]}', /defaultAction: unknown action "SCMP_ACT_NOPE"/);
  bad('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_NOTIFY"}]}', /syscalls\[0\]\.action.*not supported/);
  bad('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}', /args\[0\]\.index must be 0-5/);
  bad('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_ABOUT"}]}]}', /unknown operator "SCMP_CMP_ABOUT"/);
  bad('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":-1,"op":"SCMP_CMP_EQ"}]}]}', /unsigned 64-bit/);
  bad('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[],"action":"SCMP_ACT_ERRNO"}]}', /names no syscall/);
  bad('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":70000}]}', /errnoRet/);
  bad('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"four"}}]}', /minKernel/);
});

test('a small custom profile', () => {
  const p = parseProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}');
  const prog = compileProfile(p, { caps: [] });
  check(prog);
  assert.equal(decide(prog, 'mkdir'), 'errno 13');
  assert.equal(decide(prog, 'mkdirat'), 'allow');
  assert.equal(decide(prog, 'mount'), 'allow');
  assert.equal(verdict(run(prog, { nr: 1000 })), 'allow', 'no ENOSYS stub under a permissive default');
  // Under a permissive default, other ABIs would dodge the rules (i386 mkdir is 39): killed.
  assert.equal(verdict(run(prog, { nr: 39, arch: 0x40000003 })), 'kill_process');
  assert.equal(verdict(run(prog, { nr: 0x40000000 | NR.mkdir })), 'kill_process');
});

test('64-bit argument comparisons, all operators', () => {
  const ops = ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE'] as const;
  const ref = { SCMP_CMP_EQ: (a: bigint, v: bigint) => a === v, SCMP_CMP_NE: (a: bigint, v: bigint) => a !== v,
    SCMP_CMP_LT: (a: bigint, v: bigint) => a < v, SCMP_CMP_LE: (a: bigint, v: bigint) => a <= v,
    SCMP_CMP_GT: (a: bigint, v: bigint) => a > v, SCMP_CMP_GE: (a: bigint, v: bigint) => a >= v };
  const values = [0n, 1n, 5n, 0xffffffffn, 0x100000000n, 0x100000005n, 0x500000000n, 0xffffffff00000000n, 0xffffffffffffffffn];
  for (const op of ops) {
    for (const v of values) {
      const prog = compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['write'], action: 'SCMP_ACT_ERRNO', errnoRet: 5, args: [{ index: 2, value: v, op }] }] }, { caps: [] });
      for (const a of values) {
        assert.equal(decide(prog, 'write', [0, 0, a]), ref[op](a, v) ? 'errno 5' : 'allow', `${a} ${op} ${v}`);
      }
    }
  }
  const masked = compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['write'], action: 'SCMP_ACT_KILL_PROCESS', args: [{ index: 1, value: 0xff000000ffn, valueTwo: 0x1200000034n, op: 'SCMP_CMP_MASKED_EQ' }] }] }, { caps: [] });
  assert.equal(decide(masked, 'write', [0, 0xab12cdef9934n]), 'kill_process');
  assert.equal(decide(masked, 'write', [0, 0xab13cdef9934n]), 'allow');
  assert.equal(decide(masked, 'write', [0, 0xab12cdef9935n]), 'allow');
});

test('rule combination: args ANDed, rules ORed, specific rules before blanket ones', () => {
  const profile: SeccompProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['read', 'no_such_syscall'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 3, op: 'SCMP_CMP_EQ' }, { index: 2, value: 100, op: 'SCMP_CMP_LE' }] },
      { names: ['read'], action: 'SCMP_ACT_TRAP', args: [{ index: 0, value: 7, op: 'SCMP_CMP_EQ' }] },
      { names: ['write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['write'], action: 'SCMP_ACT_LOG', args: [{ index: 0, value: 2, op: 'SCMP_CMP_EQ' }] },
      // runc: the same argument twice in one rule means either comparison
      { names: ['close'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 0, value: 9, op: 'SCMP_CMP_EQ' }] },
    ],
  };
  const prog = compileProfile(profile, { caps: [] });
  check(prog);
  assert.equal(decide(prog, 'read', [3, 0, 100]), 'allow');
  assert.equal(decide(prog, 'read', [3, 0, 101]), EPERM, 'defaultErrnoRet defaults to EPERM');
  assert.equal(decide(prog, 'read', [4, 0, 1]), EPERM);
  assert.equal(decide(prog, 'read', [7, 0, 1000]), 'trap');
  assert.equal(decide(prog, 'write', [1]), 'allow');
  assert.equal(decide(prog, 'write', [2]), 'log');
  assert.equal(decide(prog, 'close', [1]), 'allow');
  assert.equal(decide(prog, 'close', [9]), 'allow');
  assert.equal(decide(prog, 'close', [2]), EPERM);
});

test('a profile in docker JSON: big values stay exact, old "name" form, arch includes', () => {
  const json = JSON.stringify({
    defaultAction: 'SCMP_ACT_KILL_PROCESS', architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { name: 'getpid', action: 'SCMP_ACT_ALLOW' },
      { names: ['lseek'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] },
      { names: ['getppid'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['s390x'] } },
      { names: ['gettid'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['amd64'] } },
    ],
  }).replace('"value":0', '"value":18446744073709551615');
  const p = parseProfile(json);
  assert.equal(p.syscalls[1].args![0].value, 0xffffffffffffffffn);
  const prog = compileProfile(p, { caps: [] });
  assert.equal(decide(prog, 'getpid'), 'allow');
  assert.equal(decide(prog, 'lseek', [0, -1n]), 'allow');
  assert.equal(decide(prog, 'lseek', [0, 0xfffffffffffffffen]), 'kill_process');
  assert.equal(decide(prog, 'getppid'), 'kill_process');
  assert.equal(decide(prog, 'gettid'), 'kill_process');
  assert.equal(verdict(run(prog, { nr: 1000 })), ENOSYS);
});

test('large profiles still fit: long jumps go through JA', () => {
  // Every syscall with its own argument check, so no two merge: a left half far over 255.
  const names = Object.keys(NR);
  const syscalls = names.map((n) => ({ names: [n], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: NR[n], op: 'SCMP_CMP_EQ' }] }));
  const prog = compileProfile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls }, { caps: [] });
  check(prog);
  const ja = Array.from({ length: prog.length / 8 }, (_, i) => prog.readUInt16LE(i * 8)).filter((c) => c === 0x05).length;
  assert.ok(ja > 0, 'some subtree needed a JA');
  for (const n of names) {
    assert.equal(decide(prog, n, [NR[n]]), 'allow', n);
    assert.equal(decide(prog, n, [NR[n] + 1]), EPERM, n);
  }
});
