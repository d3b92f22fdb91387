/* The resource views' files, prepared once per lxcfs instance for every container start to bind
 * from (kernel/lxcfs.ts): a small tmpfs with each view file of the lxcfs mount bound on a file of
 * its own, read-only, nosuid, nodev, noexec.
 *
 * Why: lxcfs keeps the kernel's lookup and attribute caches of its files for 0.5 s only, so a
 * container start that binds straight from the lxcfs mount asks lxcfs (a FUSE round trip, a
 * wakeup of one of its threads) for each path component and each file's attributes: a
 * millisecond or more per start on a busy machine. A path that ends on the root of a bind mount
 * is not revalidated (the walk steps onto the mount's root without asking lxcfs), and a bind of a
 * bind inherits its flags: starts bind from here with no request to lxcfs at all.
 *
 * berth-shim views MNT DIR FILE...: DIR (an empty directory) gets the tmpfs, each FILE (a path
 * like /proc/meminfo) MNT/FILE bound on DIR/FILE; then the tree is made private (no propagation
 * to or from the host's mounts: nothing made here reaches a container's namespace by itself but
 * the binds it asks for), and DIR/ready made last: its presence says the tree is whole. On any
 * failure the tmpfs is detached again, so nothing half made stays. */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *dir, const char *what, const char *path) {
  fprintf(stderr, "berth-shim: views %s %s: %s\n", what, path, strerror(errno));
  if (umount2(dir, MNT_DETACH) < 0) {}
  return 1;
}

/* DIR/FILE's parent directories, then the file itself (an empty mount point). */
static int mount_point(const char *path) {
  char p[4096];
  if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p) { errno = ENAMETOOLONG; return -1; }
  for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
    *s = '\0';
    int r = mkdir(p, 0755);
    *s = '/';
    if (r < 0 && errno != EEXIST) return -1;
  }
  int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0444);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

int views_main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: berth-shim views MNT DIR FILE...\n");
    return 125;
  }
  const char *mnt = argv[0], *dir = argv[1];
  if (mkdir(dir, 0755) < 0 && errno != EEXIST) { perror(dir); return 1; }
  if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k") < 0) { perror(dir); return 1; }
  for (int i = 2; i < argc; i++) {
    char src[4096], dst[4096];
    if (snprintf(src, sizeof src, "%s%s", mnt, argv[i]) >= (int)sizeof src || snprintf(dst, sizeof dst, "%s%s", dir, argv[i]) >= (int)sizeof dst) {
      errno = ENAMETOOLONG;
      return fail(dir, "path", argv[i]);
    }
    if (mount_point(dst) < 0) return fail(dir, "mkdir", dst);
    if (mount(src, dst, NULL, MS_BIND, NULL) < 0) return fail(dir, "bind", src);
    if (mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) return fail(dir, "remount", dst);
  }
  if (mount(NULL, dir, NULL, MS_REC | MS_PRIVATE, NULL) < 0) return fail(dir, "private", dir);
  char ready[4096];
  snprintf(ready, sizeof ready, "%s/ready", dir);
  int fd = open(ready, O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
  if (fd < 0) return fail(dir, "create", ready);
  close(fd);
  return 0;
}
