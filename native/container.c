/* The container's init before execve: a linear list of steps from the plan, in plan order.
 * Runs in the cloned child, already inside the new namespaces and cgroup. */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

static int rootfd = -1;
int console_fd = -1;

/* One fd over a unix socket (SCM_RIGHTS), with one byte of data. */
int send_fd(int sock, int fd) {
  char byte = 0;
  struct iovec iov = { &byte, 1 };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, 0) < 0 ? -1 : 0;
}

/* tty UID ROWS COLS: a pty from the container's own devpts becomes the controlling terminal
 * and stdio; the master goes to the monitor. Opened via TIOCGPTPEER, not by a path the
 * container could have replaced. */
static int step_tty(char **f) {
  int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return -1;
  int unlock = 0, s = -1;
  if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || (s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY)) < 0) goto fail;
  if (fchown(s, (uid_t)num(f[1]), (gid_t)-1) < 0) goto fail;
  struct winsize ws = { (unsigned short)num(f[2]), (unsigned short)num(f[3]), 0, 0 };
  if (ws.ws_row && ws.ws_col && ioctl(s, TIOCSWINSZ, &ws) < 0) goto fail;
  if (send_fd(console_fd, m) < 0) goto fail;
  close(m);
  close(console_fd);
  if (ioctl(s, TIOCSCTTY, 0) < 0) return -1;
  for (int i = 0; i <= 2; i++) if (dup2(s, i) < 0) return -1;
  if (s > 2) close(s);
  return 0;
fail:;
  int e = errno;
  close(m);
  if (s >= 0) close(s);
  errno = e;
  return -1;
}

static char fdpath[64];
static const char *fd_path(int fd) {
  snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
  return fdpath;
}

/* mkdir -p inside the root, each component resolved in the root. */
static int mkdirs_in_root(const char *path, mode_t mode) {
  char buf[4096];
  if (!*path) return 0;
  if (strlen(path) >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
  strcpy(buf, path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      char *slash = strrchr(buf, '/');
      const char *parent = slash && slash != buf ? buf : "/";
      const char *name = slash ? slash + 1 : buf;
      if (slash && slash != buf) *slash = '\0';
      int pfd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY, 0);
      if (slash && slash != buf) *slash = '/';
      if (pfd < 0) return -1;
      int r = *name ? mkdirat(pfd, name, mode) : 0;
      int e = errno;
      close(pfd);
      if (r < 0 && e != EEXIST) { errno = e; return -1; }
      *p = saved;
      if (!saved) break;
    }
  }
  return 0;
}

/* Opens (creating if missing) a mount target inside the root. kind 'd' = directory, 'f' = file. */
static int target_in_root(const char *path, char kind, unsigned long long resolve) {
  int fd = open_in_root(rootfd, path, O_PATH, resolve);
  if (fd >= 0 || errno != ENOENT) return fd;
  if (kind == 'd') {
    if (mkdirs_in_root(path, 0755) < 0) return -1;
  } else {
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    const char *name = path;
    if (slash) { *slash = '\0'; name = slash + 1; if (mkdirs_in_root(parent, 0755) < 0) return -1; }
    int pfd = open_in_root(rootfd, slash ? parent : "/", O_PATH | O_DIRECTORY, 0);
    if (pfd < 0) return -1;
    int f = openat(pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    close(pfd);
    if (f < 0 && errno != EEXIST) return -1;
    if (f >= 0) close(f);
  }
  return open_in_root(rootfd, path, O_PATH, resolve);
}

/* An fd opened before a bind mount still points at the mount underneath; flags must be
 * changed on the new mount, so the path is opened again. */
static int remount_top(const char *path, unsigned long long resolve, unsigned long flags) {
  int fd = open_in_root(rootfd, path, O_PATH, resolve);
  if (fd < 0) return -1;
  int r = mount(NULL, fd_path(fd), NULL, MS_REMOUNT | MS_BIND | flags, NULL);
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

static int step_mountin(char **f, int bind) {
  /* mountin SRC TARGET FSTYPE FLAGS DATA | bindin SRC TARGET FLAGS KIND */
  unsigned long flags = (unsigned long)num(bind ? f[3] : f[4]);
  char kind = bind ? f[4][0] : 'd';
  /* KIND "?": like the source (an OCI bundle's mounts do not say). */
  struct stat sst;
  if (kind == '?') kind = stat(f[1], &sst) == 0 && !S_ISDIR(sst.st_mode) ? 'f' : 'd';
  /* System mounts (proc, sys, dev...) must not sit on a symlink at all: an image whose /proc
   * is a symlink is refused rather than followed. */
  int fd = target_in_root(f[2], kind, bind ? 0 : RESOLVE_NO_SYMLINKS);
  if (fd < 0) return -1;
  int r;
  if (bind) {
    /* FLAGS: MS_REC for a recursive bind (rbind); the rest is applied by a remount of the new
     * mount (a bind ignores them). */
    unsigned long rest = flags & ~(unsigned long)(MS_REC | MS_BIND);
    r = mount(f[1], fd_path(fd), NULL, MS_BIND | (flags & MS_REC), NULL);
    if (r == 0 && rest) r = remount_top(f[2], 0, rest);
  } else {
    r = mount(f[1], fd_path(fd), f[3], flags, *f[5] ? f[5] : NULL);
  }
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

/* maskin PATH: hide it (masked paths); roin PATH: make it read-only. Missing paths are fine. */
static int step_mask(const char *path, int readonly) {
  int fd = open_in_root(rootfd, path, O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
  if (fd < 0) return (errno == ENOENT || errno == ELOOP) ? 0 : -1;
  struct stat st;
  int r = fstat(fd, &st);
  if (r == 0 && readonly) {
    r = mount(fd_path(fd), fd_path(fd), NULL, MS_BIND | MS_REC, NULL);
    if (r == 0) r = remount_top(path, 0, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  } else if (r == 0 && S_ISDIR(st.st_mode)) {
    r = mount("tmpfs", fd_path(fd), "tmpfs", MS_RDONLY, "size=0");
  } else if (r == 0) {
    r = mount("/dev/null", fd_path(fd), NULL, MS_BIND, NULL);
  }
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

static int step_at_parent(char **f, int n, int op) {
  /* mknodin PATH MODE MAJOR MINOR [UID GID] | symlinkin TARGET PATH */
  const char *path = op == 'n' ? f[1] : f[2];
  char parent[4096];
  snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  const char *name = slash ? path + (slash - parent) + 1 : path;
  if (slash) *slash = '\0';
  /* A device's parent may not exist yet (--device /dev/net/tun on the fresh /dev tmpfs). */
  if (op == 'n' && slash && *parent && mkdirs_in_root(parent, 0755) < 0) return -1;
  int pfd = open_in_root(rootfd, slash && *parent ? parent : "/", O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
  if (pfd < 0) return -1;
  int r = op == 'n' ? mknodat(pfd, name, (mode_t)num(f[2]), makedev(num(f[3]), num(f[4])))
                    : symlinkat(f[1], pfd, name);
  if (r == 0 && op == 'n') r = fchmodat(pfd, name, (mode_t)num(f[2]) & 07777, 0);
  /* mknodin ... UID GID: a host device keeps its owner (a tty group, a video group). */
  if (r == 0 && op == 'n' && n >= 7) r = fchownat(pfd, name, (uid_t)num(f[5]), (gid_t)num(f[6]), AT_SYMLINK_NOFOLLOW);
  /* A node the container's own layer already has (a restart, or the image's) is kept, as runc
   * does: what it may open is decided by the device rules, not by the node. */
  else if (r < 0 && op == 'n' && errno == EEXIST) r = 0;
  int e = errno;
  close(pfd);
  errno = e;
  return r;
}

static int step_pivot(void) {
  /* pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only the
   * container's tree, with no path back to the host. */
  if (fchdir(rootfd) < 0) return -1;
  if (syscall(SYS_pivot_root, ".", ".") < 0) return -1;
  if (umount2(".", MNT_DETACH) < 0) return -1;
  if (chdir("/") < 0) return -1;
  close(rootfd);
  rootfd = AT_FDCWD;
  return 0;
}

/* A new network namespace starts with lo down; docker's "none" network has it up. */
static int step_loopback(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct ifreq ifr = { 0 };
  strcpy(ifr.ifr_name, "lo");
  int r = ioctl(s, SIOCGIFFLAGS, &ifr);
  if (r == 0) { ifr.ifr_flags |= IFF_UP | IFF_RUNNING; r = ioctl(s, SIOCSIFFLAGS, &ifr); }
  int e = errno;
  close(s);
  errno = e;
  return r;
}

static int capset_sets(unsigned long long eff, unsigned long long perm, unsigned long long inh) {
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2] = {
    { (unsigned)eff, (unsigned)perm, (unsigned)inh },
    { (unsigned)(eff >> 32), (unsigned)(perm >> 32), (unsigned)(inh >> 32) },
  };
  return (int)syscall(SYS_capset, &h, d);
}

static int step_capbset(unsigned long long keep) {
  for (int cap = 0; cap < 64; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) break; /* past the kernel's last capability */
      return -1;
    }
  }
  return 0;
}

static int step_ambient(unsigned long long amb) {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return -1;
  /* The kernel raises an ambient capability only if it is both permitted and inheritable. A
   * config asking for one it cannot have (runc's default spec lists ambient capabilities but no
   * inheritable ones) gets the others, as runc does: failing to grant is never less safe. */
  for (int cap = 0; cap < 64; cap++)
    if ((amb & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EPERM) return -1;
  return 0;
}

static int step_user(char **f) {
  /* user UID GID GROUPS(comma-separated, may be empty) */
  gid_t groups[256];
  int ng = 0;
  for (char *g = f[3]; *g && ng < 256;) {
    groups[ng++] = (gid_t)strtoul(g, &g, 10);
    if (*g == ',') g++;
  }
  if (setgroups((size_t)ng, groups) < 0) return -1;
  if (setresgid((gid_t)num(f[2]), (gid_t)num(f[2]), (gid_t)num(f[2])) < 0) return -1;
  if (setresuid((uid_t)num(f[1]), (uid_t)num(f[1]), (uid_t)num(f[1])) < 0) return -1;
  /* Changing credentials clears the parent-death signal; the container must still die with
   * its monitor. */
  return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

static int step_seccomp(const char *hex) {
  size_t len = strlen(hex) / 2;
  if (len == 0 || len % sizeof(struct sock_filter)) { errno = EINVAL; return -1; }
  unsigned char *bytes = malloc(len);
  if (!bytes) return -1;
  for (size_t i = 0; i < len; i++) sscanf(hex + 2 * i, "%2hhx", &bytes[i]);
  struct sock_fprog prog = { (unsigned short)(len / sizeof(struct sock_filter)), (struct sock_filter *)bytes };
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

int container_setup_and_exec(struct plan *p, const char **failed_step, const char **failed_arg) {
  static char *envp[4096];
  int nenv = 0;
  for (int i = 0; i < p->n; i++) {
    char **f = p->r[i].f;
    int n = p->r[i].n;
    const char *s = f[0];
    int r = 0;
    *failed_step = s;
    *failed_arg = n > 1 ? f[1] : "";
#define NEED(k) if (n < (k)) { errno = EINVAL; return -1; }
    if (!strcmp(s, "mount")) { NEED(6); r = mount(f[1], f[2], f[3], (unsigned long)num(f[4]), *f[5] ? f[5] : NULL); }
    else if (!strcmp(s, "propagation")) { NEED(2); r = mount(NULL, "/", NULL, (unsigned long)num(f[1]), NULL); }
    else if (!strcmp(s, "root")) { NEED(2); rootfd = open(f[1], O_PATH | O_DIRECTORY | O_CLOEXEC); r = rootfd < 0 ? -1 : 0; }
    else if (!strcmp(s, "mountin")) { NEED(6); *failed_arg = f[2]; r = step_mountin(f, 0); }
    else if (!strcmp(s, "bindin")) { NEED(5); *failed_arg = f[2]; r = step_mountin(f, 1); }
    else if (!strcmp(s, "maskin")) { NEED(2); r = step_mask(f[1], 0); }
    else if (!strcmp(s, "roin")) { NEED(2); r = step_mask(f[1], 1); }
    else if (!strcmp(s, "mknodin")) { NEED(5); r = step_at_parent(f, n, 'n'); }
    else if (!strcmp(s, "usernsmap")) { NEED(3); r = step_usernsmap(f[1], f[2]); }
    else if (!strcmp(s, "idmount")) { NEED(3); *failed_arg = f[2]; r = step_idmount(f[1], f[2]); }
    else if (!strcmp(s, "usernsopen")) { NEED(2); r = step_usernsopen(f[1]); }
    else if (!strcmp(s, "userns")) r = step_userns();
    else if (!strcmp(s, "symlinkin")) { NEED(3); *failed_arg = f[2]; r = step_at_parent(f, n, 's'); }
    else if (!strcmp(s, "pivot")) r = step_pivot();
    else if (!strcmp(s, "chroot")) {
      /* No mount namespace of our own (an OCI bundle without one): pivot_root would move the
       * host's root for every process in it, so the root is entered with chroot instead. */
      r = fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0 ? -1 : 0;
      if (r == 0) { close(rootfd); rootfd = AT_FDCWD; }
    }
    else if (!strcmp(s, "loopback")) r = step_loopback();
    else if (!strcmp(s, "join")) {
      /* Writing "0" moves the calling thread. On cgroup v1 `tasks`, moving only oneself skips
       * the global threadgroup lock whose write side waits for an RCU grace period (~10 ms per
       * container); we are single-threaded, so the thread is the whole process. */
      NEED(2);
      int fd = open(f[1], O_WRONLY | O_CLOEXEC);
      r = fd < 0 ? -1 : (write(fd, "0", 1) < 0 ? -1 : 0);
      if (fd >= 0) { int e = errno; close(fd); errno = e; }
    }
    else if (!strcmp(s, "cgroupns")) r = unshare(CLONE_NEWCGROUP);
    else if (!strcmp(s, "tty")) { NEED(4); r = step_tty(f); }
    else if (!strcmp(s, "setns")) {
      /* setns PATH [TYPE]: join one namespace (of a running container for an exec, or a path an
       * OCI config names); with TYPE (a CLONE_NEW* flag) the kernel refuses another kind. */
      NEED(2);
      int fd = open(f[1], O_RDONLY | O_CLOEXEC);
      r = fd < 0 ? -1 : setns(fd, n > 2 ? (int)num(f[2]) : 0);
      if (fd >= 0) { int e = errno; close(fd); errno = e; }
    }
    else if (!strcmp(s, "hostname")) { NEED(2); r = sethostname(f[1], strlen(f[1])); }
    else if (!strcmp(s, "domainname")) { NEED(2); r = setdomainname(f[1], strlen(f[1])); }
    else if (!strcmp(s, "umask")) { NEED(2); umask((mode_t)num(f[1])); }
    else if (!strcmp(s, "propin")) {
      /* propin TARGET FLAGS: a mount's propagation (shared, slave, private, unbindable). */
      NEED(3);
      int fd = open_in_root(rootfd, f[1], O_PATH, 0);
      r = fd < 0 ? -1 : mount(NULL, fd_path(fd), NULL, (unsigned long)num(f[2]), NULL);
      if (fd >= 0) { int e = errno; close(fd); errno = e; }
    }
    else if (!strcmp(s, "fifo")) { NEED(2); r = step_fifo(f[1]); }
    else if (!strcmp(s, "fifowait")) r = step_fifowait();
    else if (!strcmp(s, "hooksync")) r = step_hooksync();
    else if (!strcmp(s, "hook")) {
      /* Hooks for "container" run here (createContainer before pivot_root, startContainer after
       * the fifo); the monitor runs the others. */
      NEED(6);
      *failed_arg = f[4];
      if (!strcmp(f[1], "container")) r = run_hook(f, n);
    }
    else if (!strcmp(s, "rlimit")) {
      NEED(4);
      struct rlimit rl = { num(f[2]) < 0 ? RLIM_INFINITY : (rlim_t)num(f[2]), num(f[3]) < 0 ? RLIM_INFINITY : (rlim_t)num(f[3]) };
      r = setrlimit((int)num(f[1]), &rl);
    }
    else if (!strcmp(s, "sysctlin")) {
      /* sysctlin PATH VALUE: PATH under the container's /proc/sys, written before it turns read-only. */
      NEED(3);
      int fd = open_in_root(rootfd, f[1], O_WRONLY, RESOLVE_NO_SYMLINKS);
      r = fd < 0 ? -1 : (write(fd, f[2], strlen(f[2])) < 0 ? -1 : 0);
      if (fd >= 0) { int e = errno; close(fd); errno = e; }
    }
    else if (!strcmp(s, "oomscore")) {
      NEED(2);
      int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
      r = fd < 0 ? -1 : (write(fd, f[1], strlen(f[1])) < 0 ? -1 : 0);
      if (fd >= 0) close(fd);
    }
    else if (!strcmp(s, "capbset")) { NEED(2); r = step_capbset(strtoull(f[1], NULL, 16)); }
    else if (!strcmp(s, "keepcaps")) r = prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
    else if (!strcmp(s, "user")) { NEED(4); r = step_user(f); }
    else if (!strcmp(s, "capset")) { NEED(4); r = capset_sets(strtoull(f[1], NULL, 16), strtoull(f[2], NULL, 16), strtoull(f[3], NULL, 16)); }
    else if (!strcmp(s, "ambient")) { NEED(2); r = step_ambient(strtoull(f[1], NULL, 16)); }
    else if (!strcmp(s, "nonewprivs")) r = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    else if (!strcmp(s, "seccomp")) { NEED(2); *failed_arg = ""; r = step_seccomp(f[1]); }
    else if (!strcmp(s, "cwd")) {
      NEED(2);
      /* The working directory is created if missing, as docker does, and must resolve inside
       * the container (we are past pivot_root, so "/" is the container's root). */
      r = chdir(f[1]);
      if (r < 0 && errno == ENOENT && mkdirs_in_root(f[1], 0755) == 0) r = chdir(f[1]);
      /* A cwd reached through a leaked fd (/proc/self/fd/N) could be outside the container's root
       * (CVE-2024-21626): the kernel then reports it as unreachable. Refuse that. */
      char here[4096];
      if (r == 0 && (getcwd(here, sizeof here) == NULL || here[0] != '/')) { errno = EPERM; *failed_arg = "cwd outside the container's root"; r = -1; }
    }
    else if (!strcmp(s, "env")) { NEED(2); if (nenv < 4095) envp[nenv++] = f[1]; }
    else if (!strcmp(s, "hold")) {
      /* hold: instead of a command, keep this mount namespace (a stopped container's root,
       * mounted for `cp`) alive until our stdin closes. Closing every fd above stdio closes the
       * error pipe, which tells the monitor setup is done; the engine then works through
       * /proc/PID/root and ends us by closing the pipe. */
      syscall(SYS_close_range, 3, ~0U, 0);
      char c;
      for (;;) {
        ssize_t n = read(0, &c, 1);
        if (n == 0 || (n < 0 && errno != EINTR)) break;
      }
      _exit(0);
    }
    else if (!strcmp(s, "exec")) {
      NEED(2);
      envp[nenv] = NULL;
      environ = envp;
      /* Only stdio reaches the command: every other inherited fd closes at exec (including the
       * error pipe, whose EOF tells the monitor the exec succeeded). */
      syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
      execvp(f[1], f + 1);
      return -1;
    }
    else if (!strcmp(s, "ns") || !strcmp(s, "oom") || !strcmp(s, "log") || !strcmp(s, "pidns") || !strcmp(s, "console") || !strcmp(s, "stdin") || !strcmp(s, "stdinpipe") ||
             !strcmp(s, "restart") || !strcmp(s, "restartmax") || !strcmp(s, "stopmarker") || !strcmp(s, "pidfile") || !strcmp(s, "attachsock") || !strcmp(s, "health") || !strcmp(s, "rmdir") ||
             !strcmp(s, "rmtree") || !strcmp(s, "exitfile") || !strcmp(s, "winsize") || !strcmp(s, "devcg") || !strcmp(s, "consolesock") || !strcmp(s, "umount") || !strcmp(s, "initpidfile") || !strcmp(s, "nodetach") || !strcmp(s, "rmscope")) { /* monitor's records */ }
    else { errno = EINVAL; *failed_arg = "unknown step"; return -1; }
    if (r < 0) return -1;
  }
  errno = EINVAL;
  *failed_step = "exec";
  *failed_arg = "plan has no exec step";
  return -1;
}
