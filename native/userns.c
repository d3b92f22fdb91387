/* User namespaces for remapped containers (--userns remap): container root is an unprivileged
 * id range on the host. The init, still the host's root, creates the namespace with the plan's
 * maps (`usernsmap`), mounts each image layer idmapped into it (`idmount`, so the unchanged,
 * shared layers look owned by the container's own ids), does everything that needs the host's
 * root (mounts, device nodes, limits) and only then enters it (`userns`). An exec joins the
 * container's namespace by path the same way. */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

static int userns_fd = -1;

static int write_all(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = strlen(text);
  ssize_t n = write(fd, text, len);
  int e = errno;
  close(fd);
  if (n != (ssize_t)len) { errno = n < 0 ? e : EIO; return -1; }
  return 0;
}

/* usernsmap UIDMAP GIDMAP: a helper child unshares a user namespace and tells us its host pid
 * (its /proc/self, read through the host's /proc, which is still mounted); we, with the host's
 * CAP_SETUID, write its maps, keep the namespace open and let the helper go. */
int step_usernsmap(const char *uidmap, const char *gidmap) {
  int up[2], down[2];
  if (pipe2(up, O_CLOEXEC) < 0) return -1;
  if (pipe2(down, O_CLOEXEC) < 0) { close(up[0]); close(up[1]); return -1; }
  pid_t c = fork();
  if (c < 0) return -1;
  if (c == 0) {
    close(up[0]);
    close(down[1]);
    char self[32];
    ssize_t n = unshare(CLONE_NEWUSER) < 0 ? -1 : readlink("/proc/self", self, sizeof self - 1);
    if (n > 0 && write(up[1], self, (size_t)n) < 0) _exit(1);
    close(up[1]);
    char x;
    while (read(down[0], &x, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(up[1]);
  close(down[0]);
  char hostpid[32] = "";
  ssize_t n;
  while ((n = read(up[0], hostpid, sizeof hostpid - 1)) < 0 && errno == EINTR) {}
  close(up[0]);
  int r = -1, e = ECHILD;
  if (n > 0) {
    hostpid[n] = '\0';
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/uid_map", hostpid);
    r = write_all(path, uidmap);
    if (r == 0) {
      snprintf(path, sizeof path, "/proc/%s/gid_map", hostpid);
      r = write_all(path, gidmap);
    }
    if (r == 0) {
      snprintf(path, sizeof path, "/proc/%s/ns/user", hostpid);
      userns_fd = open(path, O_RDONLY | O_CLOEXEC);
      r = userns_fd < 0 ? -1 : 0;
    }
    e = errno;
  }
  close(down[1]);
  while (waitpid(c, NULL, 0) < 0 && errno == EINTR) {}
  errno = e;
  return r;
}

/* idmount SRC DST: SRC (an image layer) attached at DST, in our mount namespace only, with its
 * ids shifted into the container's user namespace. */
int step_idmount(const char *src, const char *dst) {
  if (userns_fd < 0) { errno = EINVAL; return -1; }
  int fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0) return -1;
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)userns_fd };
  int r = mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof attr);
  if (r == 0) r = move_mount(fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH);
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

/* usernsopen PATH: a running container's namespace, for an exec, opened while PATH (under the
 * host's /proc) can still be reached, before the exec joins the container's mount namespace. */
int step_usernsopen(const char *path) {
  userns_fd = open(path, O_RDONLY | O_CLOEXEC);
  return userns_fd < 0 ? -1 : 0;
}

/* userns: enter the namespace made by usernsmap (or opened by usernsopen) and become its root;
 * the `user` step then switches to the container's user. */
int step_userns(void) {
  if (userns_fd < 0) { errno = EINVAL; return -1; }
  if (setns(userns_fd, CLONE_NEWUSER) < 0) return -1;
  close(userns_fd);
  userns_fd = -1;
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) return -1;
  return 0;
}
