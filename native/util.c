#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Resolves path as if rootfd were "/": symlinks and ".." can never leave the root (the class of
 * CVE-2021-30465 and the /proc-symlink CVEs). Magic links (/proc/self/fd/...) are refused. */
int open_in_root(int rootfd, const char *path, int flags, unsigned long long resolve) {
  struct open_how how = {
    .flags = (unsigned long long)(flags | O_CLOEXEC),
    .mode = 0,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve,
  };
  while (*path == '/') path++;
  if (!*path) path = ".";
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

static int rm_one(const char *p, const struct stat *sb, int type, struct FTW *ftw) {
  (void)sb; (void)ftw;
  int r = (type == FTW_DP) ? rmdir(p) : unlink(p);
  if (r < 0 && errno != ENOENT) return -1;
  return 0;
}

/* Depth-first removal that never crosses into another filesystem (FTW_MOUNT) and never follows
 * symlinks (FTW_PHYS): a container directory may hold anything the container wrote. */
int rmtree(const char *path) {
  int r = nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
  if (r < 0 && errno == ENOENT) return 0;
  return r;
}

/* A client that leaves (detached, or the container exits for a restart) leaves our stdio too. */
void stdio_to_null(void) {
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int k = 0; k <= 2 && null >= 0; k++) dup2(null, k);
  if (null > 2) close(null);
}

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
