/* Device access on cgroup v2: the engine compiles the allowed devices into an eBPF program
 * (BPF_PROG_TYPE_CGROUP_DEVICE); this loads it and attaches it to the container's cgroup
 * before the container's init exists, so no process in the cgroup ever runs without it. The
 * attachment holds the program; the fd is closed here. */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int devcg_attach(const char *cgroup_dir, const char *hex) {
  size_t len = strlen(hex) / 2;
  if (len == 0 || len % 8 || len > 8 * 4096 || strlen(hex) % 2) { errno = EINVAL; return -1; }
  unsigned char *insns = malloc(len);
  if (!insns) return -1;
  for (size_t i = 0; i < len; i++) {
    if (sscanf(hex + 2 * i, "%2hhx", &insns[i]) != 1) { free(insns); errno = EINVAL; return -1; }
  }
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (unsigned long)insns;
  a.insn_cnt = (unsigned)(len / 8);
  a.license = (unsigned long)"Apache-2.0";
  int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
  int saved = errno;
  free(insns);
  if (prog < 0) { errno = saved; return -1; }
  int cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) { saved = errno; close(prog); errno = saved; return -1; }
  memset(&a, 0, sizeof a);
  a.target_fd = (unsigned)cg;
  a.attach_bpf_fd = (unsigned)prog;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  int r = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof a);
  saved = errno;
  close(cg);
  close(prog);
  errno = saved;
  return r;
}
