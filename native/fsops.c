/* File operations Node has no API for (mknod, setxattr), applied to an unpacked layer. Records
 * arrive on stdin; every path is resolved inside DIR without following any symlink, so a
 * hostile layer cannot point an operation outside itself. */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static int fail(const char *op, const char *path) {
  fprintf(stderr, "berth-shim: fsops %s %s: %s\n", op, path, strerror(errno));
  return 1;
}

/* Makes the parent of path the cwd; returns the last component. */
static const char *enter_parent(int dirfd, char *path) {
  char *slash = strrchr(path, '/');
  const char *parent = ".";
  if (slash) { *slash = '\0'; parent = path; }
  int pfd = open_in_root(dirfd, parent, O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
  if (slash) *slash = '/';
  if (pfd < 0) return NULL;
  int r = fchdir(pfd);
  close(pfd);
  return r < 0 ? NULL : (slash ? slash + 1 : path);
}

int fsops_main(const char *dir) {
  struct plan p;
  if (plan_read_fd(0, 0, &p) < 0) return fail("read", "stdin");
  int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return fail("open", dir);
  umask(0);
  for (int i = 0; i < p.n; i++) {
    char **f = p.r[i].f;
    int n = p.r[i].n;
    if (n < 2) continue;
    const char *name = enter_parent(dirfd, f[1]);
    if (!name || !*name || !strcmp(name, "..")) { if (!errno) errno = EINVAL; return fail(f[0], f[1]); }
    if (!strcmp(f[0], "mknod") && n >= 9) {
      /* mknod PATH MODE(with type bits) MAJOR MINOR UID GID MTIME_SEC MTIME_NSEC */
      mode_t mode = (mode_t)num(f[2]);
      unlinkat(AT_FDCWD, name, 0);
      if (mknodat(AT_FDCWD, name, mode, makedev(num(f[3]), num(f[4]))) < 0) return fail("mknod", f[1]);
      if (fchownat(AT_FDCWD, name, (uid_t)num(f[5]), (gid_t)num(f[6]), AT_SYMLINK_NOFOLLOW) < 0) return fail("chown", f[1]);
      if (fchmodat(AT_FDCWD, name, mode & 07777, 0) < 0) return fail("chmod", f[1]);
      struct timespec ts[2] = { { num(f[7]), num(f[8]) }, { num(f[7]), num(f[8]) } };
      if (utimensat(AT_FDCWD, name, ts, AT_SYMLINK_NOFOLLOW) < 0) return fail("utimes", f[1]);
    } else if (!strcmp(f[0], "xattr") && n >= 4) {
      /* xattr PATH NAME HEXVALUE: values are binary (security.capability). */
      size_t len = strlen(f[3]) / 2;
      unsigned char *v = malloc(len + 1);
      if (!v) return fail("xattr", f[1]);
      for (size_t k = 0; k < len; k++) sscanf(f[3] + 2 * k, "%2hhx", &v[k]);
      if (lsetxattr(name, f[2], v, len, 0) < 0) return fail("xattr", f[1]);
      free(v);
    } else {
      errno = EINVAL;
      return fail(f[0], f[1]);
    }
  }
  return 0;
}
