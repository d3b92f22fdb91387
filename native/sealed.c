/* The shim runs from a copy of itself that nobody can write before it creates any container
 * (the class of CVE-2019-5736). Every process the monitor clones shares its executable, so
 * inside the container /proc/PID/exe (or an image file starting `#!/proc/self/exe`, run by an
 * exec) would otherwise reach the host's berth-shim file, which a container's root could open
 * through that link and write once no process runs it any more.
 *
 * Two ways, as runc has them, the cheaper first:
 * - a read-only overlay of the binary's directory, mounted detached (no path in any mount
 *   table leads to it, and it goes away with the last process using it), and the binary run
 *   from there: a file opened through it can only be read (EROFS), and its pages are the
 *   original's page cache, shared by every monitor. About 50 us.
 * - a memfd copy sealed against writes, shrinking and growing, when overlayfs is not available.
 *   It costs a copy of the binary (~0.4 ms) and its memory in each monitor.
 * Either way the process then starts again from that file, with the same arguments,
 * environment and open descriptors. */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: executable even where vm.memfd_noexec asks otherwise */
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

/* A memfd with every seal, or any file on a read-only mount (our overlay, or a host that keeps
 * the shim on a read-only filesystem): no open through /proc/PID/exe can write it. */
static int protected_fd(int fd) {
  int s = fcntl(fd, F_GET_SEALS);
  if (s >= 0 && (s & SEALS) == SEALS) return 1;
  struct statvfs sv;
  return fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

int exe_is_protected(void) {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int r = protected_fd(fd);
  close(fd);
  return r;
}

/* A detached read-only overlay of the directory of `path` (the binary): its mount fd. Overlayfs
 * wants two lower layers when it has no upper one: the second is an empty detached tmpfs. */
static int overlay_of_dir(const char *path) {
  char dir[4096], lower2[64];
  const char *slash = strrchr(path, '/');
  if (!slash || (size_t)(slash - path) >= sizeof dir) { errno = EINVAL; return -1; }
  snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
  int tfs = -1, tmnt = -1, ofs = -1, omnt = -1;
  tfs = fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (tfs < 0 || fsconfig(tfs, FSCONFIG_SET_STRING, "size", "4k", 0) < 0 || fsconfig(tfs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) goto out;
  tmnt = fsmount(tfs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
  if (tmnt < 0) goto out;
  snprintf(lower2, sizeof lower2, "/proc/self/fd/%d", tmnt);
  ofs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (ofs < 0) goto out;
  /* "lowerdir+" (Linux 6.8) takes each path as it is; before that, one string split on ':'. */
  if (fsconfig(ofs, FSCONFIG_SET_STRING, "lowerdir+", dir, 0) < 0 || fsconfig(ofs, FSCONFIG_SET_STRING, "lowerdir+", lower2, 0) < 0) {
    char both[4200];
    if (strpbrk(dir, ":\\,") || snprintf(both, sizeof both, "%s:%s", dir, lower2) >= (int)sizeof both) { errno = EINVAL; goto out; }
    if (fsconfig(ofs, FSCONFIG_SET_STRING, "lowerdir", both, 0) < 0) goto out;
  }
  if (fsconfig(ofs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) goto out;
  omnt = fsmount(ofs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
out:;
  int e = errno;
  if (ofs >= 0) close(ofs);
  if (tmnt >= 0) close(tmnt);
  if (tfs >= 0) close(tfs);
  errno = e;
  return omnt;
}

static int sealed_copy(int self) {
  int mfd = memfd_create("berth-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (mfd < 0 && errno == EINVAL) mfd = memfd_create("berth-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) return -1;
  struct stat st;
  if (fstat(self, &st) < 0) goto fail;
  /* In the kernel, from the page cache to the memfd: no copy through our memory. */
  for (off_t off = 0; off < st.st_size;) {
    ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { if (n == 0) errno = EIO; goto fail; }
  }
  if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0) goto fail;
  return mfd;
fail:;
  int e = errno;
  close(mfd);
  errno = e;
  return -1;
}

/* Returns 0 at once when we already run from a protected file (the copy itself, a health probe
 * it started); otherwise returns only on failure, with errno set. */
int exe_protect_and_reexec(char **argv) {
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0) return -1;
  if (protected_fd(self)) { close(self); return 0; }
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n > 0) path[n] = '\0';
  const char *slash = n > 0 ? strrchr(path, '/') : NULL;
  if (slash) {
    const char *name = slash + 1;
    int mnt = overlay_of_dir(path);
    int fd = mnt < 0 ? -1 : openat(mnt, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    /* Checked as the new process will check itself: otherwise it would start again, forever.
     * Run by its name in the mount, not as an fd, so that the process keeps its name (comm). */
    if (fd >= 0 && protected_fd(fd)) {
      close(fd);
      fd = -1;
      syscall(SYS_execveat, mnt, name, argv, environ, 0);
    }
    int e = errno;
    if (fd >= 0) close(fd);
    if (mnt >= 0) close(mnt);
    errno = e;
  }
  int fd = sealed_copy(self);
  int e = errno;
  close(self);
  if (fd < 0) { errno = e; return -1; }
  /* An empty path runs the descriptor itself; close-on-exec is fine for an ELF binary. */
  syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
  e = errno;
  close(fd);
  errno = e;
  return -1;
}
