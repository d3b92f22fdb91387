/* Persistent network namespaces for containers on CNI networks: the namespace outlives any
 * process in it because it is bind-mounted on a file (as `ip netns add` does), so the engine can
 * run CNI ADD against it before the container exists, the container's init joins it (`setns`
 * step), a restart policy's new init joins the same one, and CNI DEL still finds the container's
 * interfaces after the container is gone. */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *what, const char *path) {
  fprintf(stderr, "%s %s: %s\n", what, path, strerror(errno));
  return 1;
}

/* lo up: docker's containers have loopback; doing it here keeps it off the container's start. */
static void loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return;
  struct ifreq ifr = { 0 };
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) { ifr.ifr_flags |= IFF_UP | IFF_RUNNING; ioctl(s, SIOCSIFFLAGS, &ifr); }
  close(s);
}

int netns_main(const char *op, const char *path) {
  if (!strcmp(op, "add")) {
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) return fail("create", path);
    close(fd);
    /* This process is single-threaded and exits right after: unsharing it is harmless. */
    if (unshare(CLONE_NEWNET) < 0 || mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0) {
      int e = errno;
      unlink(path);
      errno = e;
      return fail("netns", path);
    }
    loopback_up();
    return 0;
  }
  if (!strcmp(op, "del")) {
    /* Lazy: a process still inside keeps the namespace alive, but the name is gone. */
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) return fail("umount", path);
    if (unlink(path) < 0 && errno != ENOENT) return fail("unlink", path);
    return 0;
  }
  fprintf(stderr, "usage: berth-shim netns add|del PATH\n");
  return 125;
}
