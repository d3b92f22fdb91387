/* sysinfo(2) as the container sees it, served by the monitor through seccomp user notification
 * (as Incus does): the init installs a filter that sends sysinfo here (`notify` step) and hands
 * us its listener; we answer with the totals of the container's cgroup, the numbers lxcfs puts
 * in its /proc/meminfo and /proc/uptime, and the load averages of its /proc/loadavg, so that
 * `free` and `uptime` agree with those files.
 * Any doubt (the caller is gone, a file is missing, its memory cannot be written) lets the real
 * syscall run instead (SECCOMP_USER_NOTIF_FLAG_CONTINUE): the host's numbers, never an error.
 *
 * sysinfo VERSION MEMDIR MEMROOT PIDSDIR [REAPER]: the cgroup version (file names differ), the
 * container's memory cgroup and its hierarchy's root (limits are the lowest on the way up), the
 * pids cgroup ("" if none), and the process whose age is the uptime (default: our init).
 * sysloads CPUJOIN: the file that joins the container's cpu cgroup (view_loads); without it,
 * or with the host's pid namespace (REAPER -1), the loads are the host's. */
#define _GNU_SOURCE
#include "monitor.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UNLIMITED UINT64_MAX

/* A small file whole, NUL-terminated; -1 if none. Cgroup files stay open after their first
 * read and are read again from offset 0 (a fresh value each time): opening a cgroup file costs
 * more than reading it, and an answer reads a dozen. */
static struct { int dirfd; const char *name; int fd; } files[48];
static int nfiles;

static ssize_t read_small(int dirfd, const char *path, char *buf, size_t cap) {
  int slot = -1;
  for (int i = 0; i < nfiles && slot < 0; i++)
    if (files[i].dirfd == dirfd && files[i].name == path) slot = i;
  int fd = slot >= 0 ? files[slot].fd : openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (slot < 0 && dirfd != AT_FDCWD && nfiles < (int)(sizeof files / sizeof *files)) files[slot = nfiles++] = (typeof(files[0])){ dirfd, path, fd };
  ssize_t n = pread(fd, buf, cap - 1, 0);
  if (slot < 0) close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  return n;
}

/* The cached files go with the directories (a lingering copy closed them all). */
static void forget_files(void) {
  nfiles = 0;
}

/* One small cgroup file as a number; "max" (v2) and v1's huge "no limit" are UNLIMITED. */
static int read_u64(int dirfd, const char *file, uint64_t *out) {
  char buf[64];
  if (dirfd < 0 || read_small(dirfd, file, buf, sizeof buf) < 0) return -1;
  if (!strncmp(buf, "max", 3)) { *out = UNLIMITED; return 0; }
  char *end;
  errno = 0;
  unsigned long long v = strtoull(buf, &end, 10);
  if (errno || end == buf) return -1;
  *out = v >= (1ULL << 62) ? UNLIMITED : v;
  return 0;
}

/* The cgroup directories, opened once (O_PATH): a lookup of a cgroup file's whole path costs
 * more than reading it, and an answer reads a dozen. mem[0] is the container's, then each
 * ancestor up to the hierarchy's root. */
static void view_open(struct sysinfo_view *v) {
  if (v->opened) return;
  v->opened = 1;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", v->mem);
  size_t rootlen = strlen(v->memroot);
  while (*dir && v->nmem < (int)(sizeof v->memfd / sizeof *v->memfd)) {
    v->memfd[v->nmem++] = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    char *slash = strrchr(dir, '/');
    if (strlen(dir) <= rootlen || !slash || slash == dir) break;
    *slash = '\0';
  }
  v->pidsfd = *v->pids ? open(v->pids, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
}

/* The lowest limit from the container's cgroup up to the hierarchy's root (a pod's or a parent's
 * limit binds too); UNLIMITED if none. */
static uint64_t min_limit(const struct sysinfo_view *v, const char *file) {
  uint64_t lowest = UNLIMITED, x;
  for (int i = 0; i < v->nmem; i++)
    if (read_u64(v->memfd[i], file, &x) == 0 && x < lowest) lowest = x;
  return lowest;
}

/* "KEY N" from memory.stat. */
static uint64_t stat_value(int dirfd, const char *key) {
  char buf[8192];
  if (dirfd < 0 || read_small(dirfd, "memory.stat", buf, sizeof buf) < 0) return 0;
  size_t k = strlen(key);
  for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (!strncmp(line, key, k) && line[k] == ' ') return strtoull(line + k + 1, NULL, 10);
  return 0;
}

/* Seconds since the reaper started (its start time in /proc is in clock ticks since boot). */
static long age_of(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (read_small(AT_FDCWD, path, buf, sizeof buf) < 0) return -1;
  char *p = strrchr(buf, ')');
  unsigned long long start = 0;
  /* After the command: state (field 3) ... starttime (field 22). */
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &start) != 1) return -1;
  struct timespec now;
  clock_gettime(CLOCK_BOOTTIME, &now);
  long age = now.tv_sec - (long)(start / (unsigned long long)sysconf(_SC_CLK_TCK));
  return age < 0 ? 0 : age;
}

/* "1.05" as sysinfo's fixed point (1/65536ths), rounded up so that a reader's two decimals
 * ((x & 0xffff) * 100 >> 16, as busybox and procps print them) come out as the text's. */
static unsigned long load_of(const char *s, char **end) {
  unsigned long whole = strtoul(s, end, 10), hundredths = 0;
  const char *f = *end;
  if (*f == '.') {
    f++;
    for (int k = 0; k < 2; k++) hundredths = hundredths * 10 + (*f >= '0' && *f <= '9' ? (unsigned long)(*f++ - '0') : 0);
    while (*f >= '0' && *f <= '9') f++;
  }
  *end = (char *)f;
  return (whole << 16) + (hundredths * 65536 + 99) / 100;
}

/* The container's load averages as its own /proc/loadavg shows them: lxcfs (-l) keeps a load per
 * cpu cgroup and answers a reader in the host's pid namespace with its own cgroup's (one in a
 * container's with the container's), so a child of ours joins the container's cpu cgroup and
 * reads that file through the container's root (`pid`'s); without lxcfs there the file is the
 * kernel's, whose loads are the host's, as sysinfo's already are. The child, short-lived,
 * is not dumpable (nobody attaches to a process of the host's with our privileges). Any doubt
 * (the cgroup or the container gone) leaves `loads` as they are: the host's. */
static void view_loads(const char *cpu_join, pid_t pid, unsigned long loads[3]) {
  char file[64], buf[128];
  snprintf(file, sizeof file, "/proc/%d/root/proc/loadavg", (int)pid);
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return;
  pid_t c = fork();
  if (c == 0) {
    close(p[0]);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    int j = open(cpu_join, O_WRONLY | O_CLOEXEC), fd = -1;
    ssize_t n = -1;
    if (j >= 0 && write(j, "0", 1) == 1 && (fd = open(file, O_RDONLY | O_CLOEXEC)) >= 0) n = read(fd, buf, sizeof buf - 1);
    if (n > 0 && write(p[1], buf, (size_t)n) < 0) {}
    _exit(0);
  }
  close(p[1]);
  /* At most 200 ms, then it is killed (if not gone already): a child that joined a frozen cgroup
   * (v2: a paused container) would wait for its thaw, one reading a stuck lxcfs for its answer,
   * and the monitor must not. SIGKILL ends a frozen process and a FUSE request all the same. */
  ssize_t n = 0, r;
  struct pollfd pf = { p[0], POLLIN, 0 };
  while (c > 0 && n < (ssize_t)sizeof buf - 1 && poll(&pf, 1, 200) > 0 && ((r = read(p[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0 || (r < 0 && errno == EINTR))) if (r > 0) n += r;
  close(p[0]);
  if (c > 0) kill(c, SIGKILL);
  if (c > 0) while (waitpid(c, NULL, 0) < 0 && errno == EINTR) {}
  if (n <= 0) return;
  buf[n] = '\0';
  unsigned long l[3];
  char *s = buf, *end;
  for (int i = 0; i < 3; i++) {
    while (*s == ' ') s++;
    if (*s < '0' || *s > '9') return;
    l[i] = load_of(s, &end);
    s = end;
  }
  memcpy(loads, l, sizeof l);
}

int sysinfo_fill(struct sysinfo_view *v, pid_t init, struct sysinfo *si) {
  if (sysinfo(si) < 0) return -1;
  view_open(v);
  int mem = v->nmem ? v->memfd[0] : -1;
  pid_t whose = v->reaper > 0 ? v->reaper : init;
  if (v->cpu && v->reaper >= 0) view_loads(v->cpu, whose, si->loads);
  uint64_t unit = si->mem_unit ? si->mem_unit : 1;
  uint64_t host_ram = (uint64_t)si->totalram * unit, host_swap = (uint64_t)si->totalswap * unit;
  int v2 = v->version == 2;
  if (*v->mem) {
    uint64_t usage, raw = min_limit(v, v2 ? "memory.max" : "memory.limit_in_bytes");
    if (read_u64(mem, v2 ? "memory.current" : "memory.usage_in_bytes", &usage) < 0) return -1;
    uint64_t limit = raw < host_ram ? raw : host_ram;
    /* Swap as lxcfs 5 counts it: on v1 the memsw limit (memory + swap) beyond the memory limit,
     * plus the memory shown; on v2 swap.max; then at most the host's swap, and none beyond what
     * is used for a cgroup with swappiness 0. (lxcfs shows no swap at all for a v2 swap.max of
     * "max"; here that is the host's swap, which such a container may really use.) */
    uint64_t swlimit = min_limit(v, v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes"), swusage = 0, sw;
    uint64_t swtotal = swlimit == UNLIMITED || v2 ? swlimit : (swlimit > raw ? swlimit - raw : 0) + limit;
    if (read_u64(mem, v2 ? "memory.swap.current" : "memory.memsw.usage_in_bytes", &sw) == 0)
      swusage = v2 ? sw : sw > usage ? sw - usage : 0;
    if (swtotal > host_swap) swtotal = host_swap;
    uint64_t swappiness = 1;
    if (!v2 && read_u64(mem, "memory.swappiness", &swappiness) == 0 && swappiness == 0) swtotal = swusage;
    si->mem_unit = 1;
    si->totalram = limit;
    si->freeram = usage < limit ? limit - usage : 0;
    si->sharedram = stat_value(mem, v2 ? "shmem" : "total_shmem");
    si->bufferram = 0; /* lxcfs: Buffers 0, the page cache is Cached (read from its meminfo) */
    si->totalswap = swtotal;
    si->freeswap = swusage < swtotal ? swtotal - swusage : 0;
    si->totalhigh = si->freehigh = 0;
  }
  uint64_t procs;
  if (read_u64(v->pidsfd, "pids.current", &procs) == 0) si->procs = (unsigned short)(procs > 65535 ? 65535 : procs);
  long age = age_of(whose);
  if (v->reaper >= 0 && age >= 0) si->uptime = age;
  return 0;
}

int sysinfo_setup(struct sysinfo_view *v, struct plan *p) {
  memset(v, 0, sizeof *v);
  v->listener = -1;
  for (int i = 0; i < p->n; i++) {
    struct record *r = &p->r[i];
    if (strcmp(r->f[0], "sysinfo") || r->n < 5) continue;
    v->on = 1;
    v->version = (int)num(r->f[1]);
    v->mem = r->f[2];
    v->memroot = r->f[3];
    v->pids = r->f[4];
    /* REAPER: a pid, or -1 for the host's pid namespace (its uptime is the host's). */
    v->reaper = r->n > 5 ? (pid_t)num(r->f[5]) : 0;
  }
  for (int i = 0; i < p->n; i++)
    if (!strcmp(p->r[i].f[0], "sysloads") && p->r[i].n >= 2) v->cpu = p->r[i].f[1];
  return v->on;
}

/* One notification: answered from the cgroup if it is a sysinfo of a caller still waiting,
 * else continued (the real syscall runs). The kernel wants the receive buffer zeroed. */
void sysinfo_serve(struct sysinfo_view *v, pid_t init) {
  static struct seccomp_notif_sizes sizes;
  static void *req_buf, *resp_buf;
  if (!req_buf) {
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) return;
    req_buf = calloc(1, sizes.seccomp_notif > sizeof(struct seccomp_notif) ? sizes.seccomp_notif : sizeof(struct seccomp_notif));
    resp_buf = calloc(1, sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp) ? sizes.seccomp_notif_resp : sizeof(struct seccomp_notif_resp));
    if (!req_buf || !resp_buf) { free(req_buf); req_buf = NULL; return; }
  }
  struct seccomp_notif *req = req_buf;
  struct seccomp_notif_resp *resp = resp_buf;
  memset(req, 0, sizes.seccomp_notif);
  /* ENOENT: the caller was killed since poll saw it. */
  if (ioctl(v->listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) return;
  memset(resp, 0, sizes.seccomp_notif_resp);
  resp->id = req->id;
  resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  struct sysinfo si;
  memset(&si, 0, sizeof si);
  /* The id still valid means req->pid is still that caller (not a reused pid): only then is its
   * memory written. */
  if (req->data.nr == __NR_sysinfo && req->data.arch == AUDIT_ARCH_X86_64 && sysinfo_fill(v, init, &si) == 0 &&
      ioctl(v->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0) {
    struct iovec local = { &si, sizeof si }, remote = { (void *)(uintptr_t)req->data.args[0], sizeof si };
    if (process_vm_writev(req->pid, &local, 1, &remote, 1, 0) == (ssize_t)sizeof si) resp->flags = 0;
  }
  if (ioctl(v->listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0) {} /* the caller is gone: nothing to answer */
}

/* The listener's users are gone (POLLHUP): every process of the filter has exited and been reaped. */
static int hung_up(int listener, int timeout) {
  struct pollfd p = { listener, POLLIN, 0 };
  while (poll(&p, 1, timeout) < 0) if (errno != EINTR) return 1;
  return !(p.revents & POLLIN) && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/* At the end of a life, processes of the filter may live on (an exec's command that left a child
 * behind, or a container that shares the host's pids): a process of ours answers them until the
 * last is gone, since a listener closed under them would fail their sysinfo with ENOSYS. It keeps
 * only the listener (nobody waits for its end: no report socket, no stdio). */
void sysinfo_linger(struct sysinfo_view *v, pid_t init) {
  if (v->listener < 0) return;
  if (!hung_up(v->listener, 0) && fork() == 0) {
    stdio_to_null();
    if (dup2(v->listener, 3) < 0) _exit(1);
    syscall(SYS_close_range, 4, ~0U, 0);
    v->listener = 3;
    v->opened = v->nmem = 0; /* its directories and files were closed with the rest: opened again */
    forget_files();
    while (!hung_up(v->listener, -1)) sysinfo_serve(v, init);
    _exit(0);
  }
  close(v->listener);
  v->listener = -1;
}

/* berth-shim sysinfo VERSION MEMDIR MEMROOT PIDSDIR [REAPER]: what a container with this record
 * would be told, as JSON (for tests: the cgroup trees of both versions, made in a directory). */
int sysinfo_main(int argc, char **argv) {
  if (argc < 4) return 125;
  struct sysinfo_view v = { .on = 1, .version = (int)num(argv[0]), .mem = argv[1], .memroot = argv[2], .pids = argv[3], .reaper = argc > 4 ? (pid_t)num(argv[4]) : 0, .listener = -1 };
  struct sysinfo si;
  if (sysinfo_fill(&v, getpid(), &si) < 0) { perror("sysinfo"); return 1; }
  printf("{\"uptime\":%ld,\"totalram\":%lu,\"freeram\":%lu,\"sharedram\":%lu,\"bufferram\":%lu,"
         "\"totalswap\":%lu,\"freeswap\":%lu,\"procs\":%u,\"mem_unit\":%u}\n",
         si.uptime, si.totalram, si.freeram, si.sharedram, si.bufferram, si.totalswap, si.freeswap, (unsigned)si.procs, si.mem_unit);
  return 0;
}
