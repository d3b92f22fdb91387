#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <stdio.h>
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
