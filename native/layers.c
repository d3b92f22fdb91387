/* Layer images (EROFS files) mounted read-only on their directories in the layer store, once
 * per boot and shared by every container that uses the layer (one page cache, as with plain
 * directories). The image file is locked meanwhile, so two processes starting containers of one
 * image never stack two mounts on the directory.
 *   layer mount IMAGE DIR [IMAGE DIR...]
 *   layer umount DIR...      every mount on DIR, detached (containers running keep theirs) */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int mounted(const char *dir) {
  struct statx st;
  if (statx(AT_FDCWD, dir, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st) < 0) return -1;
  return (st.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (st.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* Where the image file's file system refuses a file-backed EROFS mount (tmpfs: "Block device
 * required"), the image goes through a loop device: read-only, with autoclear, so the device is
 * released with the last unmount (or with our fd, if the mount fails) and never leaks. */
static int mount_via_loop(int image, const char *dir) {
  int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0) return -1;
  for (int tries = 0; tries < 16; tries++) {
    int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0) break;
    char dev[32];
    snprintf(dev, sizeof dev, "/dev/loop%d", n);
    int loop = open(dev, O_RDONLY | O_CLOEXEC);
    if (loop < 0) break;
    struct loop_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.fd = (unsigned)image;
    cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
    if (ioctl(loop, LOOP_CONFIGURE, &cfg) < 0) {
      int e = errno;
      close(loop);
      if (e == EBUSY) continue; /* another process took this one first */
      errno = e;
      break;
    }
    int r = mount(dev, dir, "erofs", MS_RDONLY, NULL);
    int e = errno;
    close(loop); /* the mount holds the device now; without one, autoclear releases it */
    errno = e;
    close(ctl);
    return r;
  }
  int e = errno;
  close(ctl);
  errno = e;
  return -1;
}

static int fail(const char *op, const char *path) {
  fprintf(stderr, "berth-shim: layer %s %s: %s\n", op, path, strerror(errno));
  return 1;
}

int layers_main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[0], "mount") && argc % 2 == 1) {
    for (int i = 1; i + 1 < argc; i += 2) {
      int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
      if (fd < 0) return fail("open", argv[i]);
      if (flock(fd, LOCK_EX) < 0) return fail("lock", argv[i]);
      int m = mounted(argv[i + 1]);
      if (m < 0) return fail("stat", argv[i + 1]);
      if (!m && mount(argv[i], argv[i + 1], "erofs", MS_RDONLY, NULL) < 0 &&
          (errno != ENOTBLK || mount_via_loop(fd, argv[i + 1]) < 0)) return fail("mount", argv[i + 1]);
      close(fd);
    }
    return 0;
  }
  if (argc >= 2 && !strcmp(argv[0], "umount")) {
    for (int i = 1; i < argc; i++) {
      int m;
      while ((m = mounted(argv[i])) == 1) if (umount2(argv[i], MNT_DETACH | UMOUNT_NOFOLLOW) < 0) return fail("umount", argv[i]);
      if (m < 0 && errno != ENOENT) return fail("stat", argv[i]);
    }
    return 0;
  }
  fprintf(stderr, "usage: berth-shim layer mount IMAGE DIR... | layer umount DIR...\n");
  return 125;
}
