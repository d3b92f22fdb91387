// Berth's default seccomp profile: the decisions of docker's default profile (moby/profiles
// seccomp/default_linux.go), written out as data. Everything not allowed fails with EPERM.
// Names x86_64 lacks are kept so the list stays docker's; the compiler skips them.
import type { SeccompArg, SeccompProfile, SeccompRule } from './seccomp.ts';

const allow = (names: string[], more: Partial<SeccompRule> = {}): SeccompRule => ({ names, action: 'SCMP_ACT_ALLOW', ...more });
const withCap = (cap: string, names: string[]): SeccompRule => allow(names, { includes: { caps: [`CAP_${cap}`] } });
const arg0 = (op: string, value: number, valueTwo?: number): SeccompArg[] => [{ index: 0, op, value, ...(valueTwo === undefined ? {} : { valueTwo }) }];

// clone(2) flags that create namespaces: NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET.
const CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
const AF_ALG = 38;
const AF_VSOCK = 40;

const ALWAYS_ALLOWED: string[] = [
  // files, directories, descriptors
  'access', 'cachestat', 'chdir', 'chmod', 'chown', 'close', 'close_range', 'copy_file_range', 'creat',
  'dup', 'dup2', 'dup3', 'faccessat', 'faccessat2', 'fadvise64', 'fallocate', 'fchdir', 'fchmod',
  'fchmodat', 'fchmodat2', 'fchown', 'fchownat', 'fcntl', 'fdatasync', 'flock', 'fstat', 'fstatfs',
  'fsync', 'ftruncate', 'futimesat', 'getcwd', 'getdents', 'getdents64', 'lchown', 'link', 'linkat',
  'lseek', 'lstat', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'name_to_handle_at', 'newfstatat', 'open',
  'openat', 'openat2', 'pipe', 'pipe2', 'pread64', 'preadv', 'preadv2', 'pwrite64', 'pwritev',
  'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat', 'readv', 'rename', 'renameat',
  'renameat2', 'rmdir', 'sendfile', 'splice', 'stat', 'statfs', 'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range',
  'syncfs', 'tee', 'truncate', 'umask', 'unlink', 'unlinkat', 'utime', 'utimensat', 'utimes',
  'vmsplice', 'write', 'writev', 'ioctl', 'listmount', 'statmount',
  // extended attributes
  'fgetxattr', 'flistxattr', 'fremovexattr', 'fsetxattr', 'getxattr', 'getxattrat', 'lgetxattr',
  'listxattr', 'listxattrat', 'llistxattr', 'lremovexattr', 'lsetxattr', 'removexattr',
  'removexattrat', 'setxattr', 'setxattrat',
  // waiting for events, async I/O
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2',
  'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2', 'fanotify_mark', 'inotify_add_watch',
  'inotify_init', 'inotify_init1', 'inotify_rm_watch', 'poll', 'ppoll', 'pselect6', 'select',
  'signalfd', 'signalfd4', 'timerfd_create', 'timerfd_gettime', 'timerfd_settime', 'io_cancel',
  'io_destroy', 'io_getevents', 'io_pgetevents', 'io_setup', 'io_submit', 'ioprio_get', 'ioprio_set',
  // memory
  'brk', 'madvise', 'map_shadow_stack', 'membarrier', 'memfd_create', 'memfd_secret', 'mincore',
  'mlock', 'mlock2', 'mlockall', 'mmap', 'mprotect', 'mremap', 'mseal', 'msync', 'munlock',
  'munlockall', 'munmap', 'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'remap_file_pages',
  // processes and threads
  'execve', 'execveat', 'exit', 'exit_group', 'fork', 'vfork', 'wait4', 'waitid', 'getcpu', 'getpid',
  'getppid', 'gettid', 'getpgid', 'getpgrp', 'getsid', 'setpgid', 'setsid', 'getpriority',
  'setpriority', 'getrlimit', 'setrlimit', 'prlimit64', 'getrusage', 'prctl', 'pidfd_open',
  'pidfd_send_signal', 'process_mrelease', 'restart_syscall', 'rseq', 'set_tid_address',
  'get_robust_list', 'set_robust_list', 'futex', 'futex_requeue', 'futex_wait', 'futex_waitv',
  'futex_wake', 'get_thread_area', 'set_thread_area', 'capget', 'capset', 'seccomp',
  'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self', 'uname', 'sysinfo',
  'times', 'getrandom', 'uretprobe',
  // scheduling
  'sched_getaffinity', 'sched_getattr', 'sched_getparam', 'sched_get_priority_max',
  'sched_get_priority_min', 'sched_getscheduler', 'sched_rr_get_interval', 'sched_setaffinity',
  'sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield',
  // identity (the kernel checks SETUID/SETGID itself)
  'getegid', 'geteuid', 'getgid', 'getgroups', 'getresgid', 'getresuid', 'getuid', 'setfsgid',
  'setfsuid', 'setgid', 'setgroups', 'setregid', 'setresgid', 'setresuid', 'setreuid', 'setuid',
  // signals and timers
  'kill', 'tgkill', 'tkill', 'pause', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask',
  'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_tgsigqueueinfo',
  'sigaltstack', 'alarm', 'getitimer', 'setitimer', 'timer_create', 'timer_delete',
  'timer_getoverrun', 'timer_gettime', 'timer_settime',
  // time (setting the clock needs SYS_TIME, below; adjtimex only reads without it)
  'adjtimex', 'clock_adjtime', 'clock_getres', 'clock_gettime', 'clock_nanosleep', 'gettimeofday',
  'nanosleep', 'time',
  // sockets (socket itself is conditional, below)
  'accept', 'accept4', 'bind', 'connect', 'getpeername', 'getsockname', 'getsockopt', 'listen',
  'recvfrom', 'recvmmsg', 'recvmsg', 'sendmmsg', 'sendmsg', 'sendto', 'setsockopt', 'shutdown',
  'socketpair',
  // System V and POSIX IPC (the container has its own ipc namespace)
  'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'semctl', 'semget', 'semop', 'semtimedop', 'shmat',
  'shmctl', 'shmdt', 'shmget', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive',
  'mq_timedsend', 'mq_unlink',
  // 32-bit, time64 and other architectures' spellings of the above (none exists on x86_64)
  'chown32', 'clock_adjtime64', 'clock_getres_time64', 'clock_gettime64', 'clock_nanosleep_time64',
  'fadvise64_64', 'fchown32', 'fcntl64', 'fstat64', 'fstatat64', 'fstatfs64', 'ftruncate64',
  'futex_time64', 'getegid32', 'geteuid32', 'getgid32', 'getgroups32', 'getresgid32', 'getresuid32',
  'getuid32', 'io_pgetevents_time64', 'ipc', 'lchown32', '_llseek', 'lstat64', 'mmap2',
  'mq_timedreceive_time64', 'mq_timedsend_time64', '_newselect', 'ppoll_time64', 'pselect6_time64',
  'recv', 'recvmmsg_time64', 'riscv_hwprobe', 'rt_sigtimedwait_time64',
  'sched_rr_get_interval_time64', 'semtimedop_time64', 'send', 'sendfile64', 'setfsgid32',
  'setfsuid32', 'setgid32', 'setgroups32', 'setregid32', 'setresgid32', 'setresuid32', 'setreuid32',
  'setuid32', 'sigprocmask', 'sigreturn', 'socketcall', 'stat64', 'statfs64', 'timer_gettime64',
  'timer_settime64', 'timerfd_gettime64', 'timerfd_settime64', 'truncate64', 'ugetrlimit',
  'utimensat_time64', 'waitpid',
];

export const DEFAULT_PROFILE: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 1, // EPERM
  archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
  syscalls: [
    allow(ALWAYS_ALLOWED),
    // Before 4.8 a ptraced process could bypass seccomp by rewriting its syscall.
    allow(['process_vm_readv', 'process_vm_writev', 'ptrace'], { includes: { minKernel: '4.8' } }),

    // socket(2) for every family but AF_ALG (kernel crypto) and AF_VSOCK (host sockets). Docker
    // allows family < 38, == 39 and > 40 on all 64 bits; the kernel reads the family as an int,
    // so 0x1_00000026 would pass that and still be AF_ALG. Denying on the low 32 bits closes it.
    { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: arg0('SCMP_CMP_MASKED_EQ', 0xffffffff, AF_ALG) },
    { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: arg0('SCMP_CMP_MASKED_EQ', 0xffffffff, AF_VSOCK) },
    allow(['socket']),

    // personality(2): PER_LINUX, PER_LINUX32 (0x8), UNAME26 (0x20000), both, and the 0xffffffff query.
    ...[0x0, 0x8, 0x20000, 0x20008, 0xffffffff].map((p) => allow(['personality'], { args: arg0('SCMP_CMP_EQ', p) })),

    // x86 only: thread-local storage setup and LDT entries (wine, old runtimes).
    allow(['arch_prctl'], { includes: { arches: ['amd64', 'x32'] } }),
    allow(['modify_ldt'], { includes: { arches: ['amd64', 'x32', 'x86'] } }),
    // (docker's ppc64le, arm, s390 and riscv64 groups are omitted: berth filters x86_64 only)

    withCap('DAC_READ_SEARCH', ['open_by_handle_at']),
    // Namespaces, mounts, host identity, kernel introspection: all SYS_ADMIN.
    withCap('SYS_ADMIN', [
      'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick',
      'lookup_dcookie', 'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount',
      'mount_setattr', 'move_mount', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd',
      'setdomainname', 'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare',
    ]),
    // Without SYS_ADMIN: clone for threads and processes, never for new namespaces.
    allow(['clone'], { args: arg0('SCMP_CMP_MASKED_EQ', CLONE_NAMESPACE_FLAGS, 0), excludes: { caps: ['CAP_SYS_ADMIN'] } }),
    // clone3 passes its flags in memory the filter cannot read: ENOSYS makes libc fall back to clone.
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },

    withCap('SYS_BOOT', ['reboot']),
    withCap('SYS_CHROOT', ['chroot']),
    withCap('SYS_MODULE', ['delete_module', 'init_module', 'finit_module']),
    withCap('SYS_PACCT', ['acct']),
    withCap('SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace']),
    withCap('SYS_RAWIO', ['iopl', 'ioperm']),
    withCap('SYS_TIME', ['settimeofday', 'stime', 'clock_settime', 'clock_settime64']),
    withCap('SYS_TTY_CONFIG', ['vhangup']),
    withCap('SYS_NICE', ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node']),
    withCap('SYSLOG', ['syslog']),
    withCap('BPF', ['bpf']),
    withCap('PERFMON', ['perf_event_open']),
    // Never allowed (the default action): keyctl, add_key, request_key (the keyring is not
    // namespaced), userfaultfd, io_uring_*, kexec_*, swapon/swapoff, nfsservctl, uselib, ...
  ],
};
