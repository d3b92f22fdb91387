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

#define CLOSE_KEEP_ERRNO(fd) do { if ((fd) >= 0) { int e_ = errno; close(fd); errno = e_; } } while (0)

static int rootfd = -1;
static struct monitor_link mon = { 0, -1, -1, -1, -1 };

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
  if (send_fd(mon.console_fd, m) < 0) goto fail;
  close(m);
  close(mon.console_fd);
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

/* Trees cloned by treeopen (a bind with shared propagation), each taken once by a treein. */
static struct { const char *src; int fd; } trees[64];
static int ntrees;

static int take_tree(const char *src) {
  for (int i = 0; i < ntrees; i++) {
    if (trees[i].fd < 0 || strcmp(trees[i].src, src)) continue;
    int fd = trees[i].fd;
    trees[i].fd = -1;
    return fd;
  }
  errno = ENOENT;
  return -1;
}

static int step_mountin(char **f, int bind) {
  /* mountin SRC TARGET FSTYPE FLAGS DATA | bindin SRC TARGET FLAGS KIND | treein SRC TARGET FLAGS KIND */
  unsigned long flags = (unsigned long)num(bind ? f[3] : f[4]);
  char kind = bind ? f[4][0] : 'd';
  /* KIND "?": like the source (an OCI bundle's mounts do not say). Its type never changes, so
   * the cached one does (AT_STATX_DONT_SYNC): no round trip to a FUSE or network filesystem's
   * server for it (the resource views' lxcfs files would each cost one, per start). */
  struct statx sst;
  if (kind == '?') kind = statx(AT_FDCWD, f[1], AT_STATX_DONT_SYNC, STATX_TYPE, &sst) == 0 && !S_ISDIR(sst.stx_mode) ? 'f' : 'd';
  /* System mounts (proc, sys, dev...) must not sit on a symlink at all: an image whose /proc
   * is a symlink is refused rather than followed. */
  int fd = target_in_root(f[2], kind, bind ? 0 : RESOLVE_NO_SYMLINKS);
  if (fd < 0) return -1;
  int r;
  if (bind) {
    /* FLAGS: MS_REC for a recursive bind (rbind); the rest is applied by a remount of the new
     * mount (a bind ignores them). */
    unsigned long rest = flags & ~(unsigned long)(MS_REC | MS_BIND);
    if (f[0][0] == 't') {
      /* treein: the clone treeopen made is attached here; it is still a peer of the host's
       * shared mount, so mounts made on either side reach the other. */
      int tree = take_tree(f[1]);
      r = tree < 0 ? -1 : move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
      CLOSE_KEEP_ERRNO(tree);
    } else {
      r = mount(f[1], fd_path(fd), NULL, MS_BIND | (flags & MS_REC), NULL);
    }
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
   * its monitor (unless it is handed off: then it outlives the monitor). */
  return handoff ? 0 : prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

/* Returns the syscall's result: 0, or with SECCOMP_FILTER_FLAG_NEW_LISTENER the listener's fd. */
static int step_seccomp(const char *hex, unsigned long flags) {
  size_t len = strlen(hex) / 2;
  if (len == 0 || len % sizeof(struct sock_filter)) { errno = EINVAL; return -1; }
  unsigned char *bytes = malloc(len);
  if (!bytes) return -1;
  for (size_t i = 0; i < len; i++) sscanf(hex + 2 * i, "%2hhx", &bytes[i]);
  struct sock_fprog prog = { (unsigned short)(len / sizeof(struct sock_filter)), (struct sock_filter *)bytes };
  int r = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  int e = errno;
  free(bytes);
  errno = e;
  return r;
}

/* notify PROGRAM: a filter that sends some syscalls (sysinfo) to the monitor, which answers them
 * for the container (sysinfo.c); its listener goes to the monitor and is not kept here. Without
 * a monitor to serve it (none asked for one), or where the kernel cannot make a listener (too
 * old: EINVAL; a listener already up the tree: EBUSY), no filter: a notification nobody answers
 * would fail the syscall with ENOSYS. */
static int step_notify(const char *hex) {
  if (mon.notify_fd < 0) return 0;
  int listener = step_seccomp(hex, SECCOMP_FILTER_FLAG_NEW_LISTENER);
  if (listener < 0) return errno == EINVAL || errno == EBUSY ? 0 : -1;
  int r = send_fd(mon.notify_fd, listener);
  CLOSE_KEEP_ERRNO(listener);
  CLOSE_KEEP_ERRNO(mon.notify_fd);
  mon.notify_fd = -1;
  return r;
}

/* The handlers of native/steps.c, one per step: r->f[0] is the step's name, r->f[1..] its
 * arguments (their count already checked against the table); *arg names what failed, if it is
 * not the first argument. */
#define F (r->f)

int do_mount(struct record *r, const char **arg) {
  *arg = F[2];
  return mount(F[1], F[2], F[3], (unsigned long)num(F[4]), *F[5] ? F[5] : NULL);
}
int do_propagation(struct record *r, const char **arg) { (void)arg; return mount(NULL, "/", NULL, (unsigned long)num(F[1]), NULL); }
int do_root(struct record *r, const char **arg) {
  (void)arg;
  rootfd = open(F[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
  return rootfd < 0 ? -1 : 0;
}
int do_mountin(struct record *r, const char **arg) { *arg = F[2]; return step_mountin(F, 0); }
int do_bindin(struct record *r, const char **arg) { *arg = F[2]; return step_mountin(F, 1); }
int do_treein(struct record *r, const char **arg) { *arg = F[2]; return step_mountin(F, 1); }

/* treeopen SRC FLAGS: a bind whose propagation is shared, cloned while our namespace's mounts
 * are still peers of the host's (before the namespace turns rslave, which would make the bind a
 * slave with a peer group of its own: nothing the container mounts there would reach the host).
 * The detached clone of a shared mount joins its peer group; treein attaches it in the root.
 * FLAGS: the bind's, MS_REC for a recursive clone. */
int do_treeopen(struct record *r, const char **arg) {
  (void)arg;
  if (ntrees == (int)(sizeof trees / sizeof *trees)) { errno = E2BIG; return -1; }
  unsigned int rec = ((unsigned long)num(F[2]) & MS_REC) ? AT_RECURSIVE : 0;
  int fd = open_tree(AT_FDCWD, F[1], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
  if (fd < 0) return -1;
  trees[ntrees].src = F[1];
  trees[ntrees++].fd = fd;
  return 0;
}
int do_maskin(struct record *r, const char **arg) { (void)arg; return step_mask(F[1], 0); }
int do_roin(struct record *r, const char **arg) { (void)arg; return step_mask(F[1], 1); }
int do_mknodin(struct record *r, const char **arg) { (void)arg; return step_at_parent(F, r->n, 'n'); }
int do_symlinkin(struct record *r, const char **arg) { *arg = F[2]; return step_at_parent(F, r->n, 's'); }
int do_usernsmap(struct record *r, const char **arg) { (void)arg; return step_usernsmap(F[1], F[2]); }
int do_idmount(struct record *r, const char **arg) { *arg = F[2]; return step_idmount(F[1], F[2]); }
int do_usernsopen(struct record *r, const char **arg) { (void)arg; return step_usernsopen(F[1]); }
int do_userns(struct record *r, const char **arg) { (void)r; (void)arg; return step_userns(); }
int do_pivot(struct record *r, const char **arg) { (void)r; (void)arg; return step_pivot(); }

/* No mount namespace of our own (an OCI bundle without one): pivot_root would move the host's
 * root for every process in it, so the root is entered with chroot instead. */
int do_chroot(struct record *r, const char **arg) {
  (void)r; (void)arg;
  if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) return -1;
  close(rootfd);
  rootfd = AT_FDCWD;
  return 0;
}

int do_loopback(struct record *r, const char **arg) { (void)r; (void)arg; return step_loopback(); }

/* Writing "0" moves the calling thread. On cgroup v1 `tasks`, moving only oneself skips the
 * global threadgroup lock whose write side waits for an RCU grace period (~10 ms per
 * container); we are single-threaded, so the thread is the whole process. */
int do_join(struct record *r, const char **arg) {
  (void)arg;
  int fd = open(F[1], O_WRONLY | O_CLOEXEC);
  int res = fd < 0 ? -1 : (write(fd, "0", 1) < 0 ? -1 : 0);
  CLOSE_KEEP_ERRNO(fd);
  return res;
}

int do_cgroupns(struct record *r, const char **arg) { (void)r; (void)arg; return unshare(CLONE_NEWCGROUP); }
int do_tty(struct record *r, const char **arg) { (void)arg; return step_tty(F); }

/* setns PATH [TYPE]: join one namespace (of a running container for an exec, or a path an OCI
 * config names); with TYPE (a CLONE_NEW* flag) the kernel refuses another kind. */
int do_setns(struct record *r, const char **arg) {
  (void)arg;
  int fd = open(F[1], O_RDONLY | O_CLOEXEC);
  int res = fd < 0 ? -1 : setns(fd, r->n > 2 ? (int)num(F[2]) : 0);
  CLOSE_KEEP_ERRNO(fd);
  return res;
}

int do_hostname(struct record *r, const char **arg) { (void)arg; return sethostname(F[1], strlen(F[1])); }
int do_domainname(struct record *r, const char **arg) { (void)arg; return setdomainname(F[1], strlen(F[1])); }
int do_umask(struct record *r, const char **arg) { (void)arg; umask((mode_t)num(F[1])); return 0; }

/* propin TARGET FLAGS: a mount's propagation (shared, slave, private, unbindable). */
int do_propin(struct record *r, const char **arg) {
  (void)arg;
  int fd = open_in_root(rootfd, F[1], O_PATH, 0);
  int res = fd < 0 ? -1 : mount(NULL, fd_path(fd), NULL, (unsigned long)num(F[2]), NULL);
  CLOSE_KEEP_ERRNO(fd);
  return res;
}

int do_fifo(struct record *r, const char **arg) { (void)arg; return step_fifo(F[1]); }
int do_fifowait(struct record *r, const char **arg) { (void)r; (void)arg; return step_fifowait(mon.report_pipe); }
int do_hooksync(struct record *r, const char **arg) { (void)r; (void)arg; return step_hooksync(mon.report_pipe, mon.sync_fd); }

/* Hooks for "container" run here (createContainer before pivot_root, startContainer after the
 * fifo); the monitor runs the others. */
int do_hook(struct record *r, const char **arg) {
  *arg = F[4];
  return strcmp(F[1], "container") ? 0 : run_hook(F, r->n, mon.host_pid);
}

int do_rlimit(struct record *r, const char **arg) {
  (void)arg;
  struct rlimit rl = { num(F[2]) < 0 ? RLIM_INFINITY : (rlim_t)num(F[2]), num(F[3]) < 0 ? RLIM_INFINITY : (rlim_t)num(F[3]) };
  return setrlimit((int)num(F[1]), &rl);
}

/* sysctlin PATH VALUE: PATH under the container's /proc/sys, written before it turns read-only. */
int do_sysctlin(struct record *r, const char **arg) {
  (void)arg;
  int fd = open_in_root(rootfd, F[1], O_WRONLY, RESOLVE_NO_SYMLINKS);
  int res = fd < 0 ? -1 : (write(fd, F[2], strlen(F[2])) < 0 ? -1 : 0);
  CLOSE_KEEP_ERRNO(fd);
  return res;
}

int do_oomscore(struct record *r, const char **arg) {
  (void)arg;
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  int res = fd < 0 ? -1 : (write(fd, F[1], strlen(F[1])) < 0 ? -1 : 0);
  CLOSE_KEEP_ERRNO(fd);
  return res;
}

int do_capbset(struct record *r, const char **arg) { (void)arg; return step_capbset(strtoull(F[1], NULL, 16)); }
int do_keepcaps(struct record *r, const char **arg) { (void)r; (void)arg; return prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0); }
int do_user(struct record *r, const char **arg) { (void)arg; return step_user(F); }
int do_capset(struct record *r, const char **arg) {
  (void)arg;
  return capset_sets(strtoull(F[1], NULL, 16), strtoull(F[2], NULL, 16), strtoull(F[3], NULL, 16));
}
int do_ambient(struct record *r, const char **arg) { (void)arg; return step_ambient(strtoull(F[1], NULL, 16)); }
int do_nonewprivs(struct record *r, const char **arg) { (void)r; (void)arg; return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
int do_seccomp(struct record *r, const char **arg) { *arg = ""; return step_seccomp(F[1], 0); }
int do_notify(struct record *r, const char **arg) { *arg = ""; return step_notify(F[1]); }

int do_cwd(struct record *r, const char **arg) {
  /* The working directory is created if missing when the container starts, as docker does, and
   * must resolve inside the container (we are past pivot_root, so "/" is the container's root).
   * An exec (no root of ours: rootfd is still -1) gets runc's answer instead, "no such file". */
  int res = chdir(F[1]);
  if (res < 0 && errno == ENOENT && rootfd != -1 && mkdirs_in_root(F[1], 0755) == 0) res = chdir(F[1]);
  /* A cwd reached through a leaked fd (/proc/self/fd/N) could be outside the container's root
   * (CVE-2024-21626): the kernel then reports it as unreachable. Refuse that. */
  char here[4096];
  if (res == 0 && (getcwd(here, sizeof here) == NULL || here[0] != '/')) { errno = EPERM; *arg = "cwd outside the container's root"; res = -1; }
  return res;
}

static char *envp[4096];
static int nenv;

int do_env(struct record *r, const char **arg) {
  (void)arg;
  if (nenv < 4095) envp[nenv++] = F[1];
  return 0;
}

/* hold: instead of a command, keep this mount namespace (a stopped container's root, mounted
 * for `cp`) alive until our stdin closes. Closing every fd above stdio closes the error pipe,
 * which tells the monitor setup is done; the engine then works through /proc/PID/root and ends
 * us by closing the pipe. */
int do_hold(struct record *r, const char **arg) {
  (void)r; (void)arg;
  syscall(SYS_close_range, 3, ~0U, 0);
  char c;
  for (;;) {
    ssize_t n = read(0, &c, 1);
    if (n == 0 || (n < 0 && errno != EINTR)) break;
  }
  _exit(0);
}

int do_exec(struct record *r, const char **arg) {
  if (r->n < 2) { errno = EINVAL; *arg = "no command"; return -1; }
  envp[nenv] = NULL;
  environ = envp;
  /* Only stdio reaches the command: every other inherited fd closes at exec (including the
   * error pipe, whose EOF tells the monitor the exec succeeded). */
  syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  execvp(F[1], F + 1);
  return -1;
}

/* The plan's init steps in plan order; the monitor's records are skipped. The monitor checked
 * the plan against the table (plan_check) before the clone. */
int container_setup_and_exec(struct plan *p, const struct monitor_link *to_monitor, const char **failed_step, const char **failed_arg) {
  mon = *to_monitor;
  for (int i = 0; i < p->n; i++) {
    struct record *r = &p->r[i];
    const struct step_def *d = step_find(r->f[0]);
    *failed_step = r->f[0];
    *failed_arg = r->n > 1 ? r->f[1] : "";
    if (!d) { errno = EINVAL; *failed_arg = "unknown step"; return -1; }
    if (d->run && d->run(r, failed_arg) < 0) return -1;
  }
  errno = EINVAL;
  *failed_step = "exec";
  *failed_arg = "plan has no exec step";
  return -1;
}
