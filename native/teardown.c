/* The end of a container: its exit status recorded durably, and what the plan asks to remove
 * (cgroups, mounts, its directory) or to start (the network's release) once it is gone. */
#define _GNU_SOURCE
#include "monitor.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Exit status durably: temp + fsync + rename, so a reader sees the old state or the whole new
 * one, never a torn file, even if the machine dies right after. */
void write_exit_file(const char *path, const char *json) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, json, strlen(json)) < 0 || fsync(fd) < 0) { close(fd); unlink(tmp); return; }
  close(fd);
  rename(tmp, path);
}

long oom_kills(const char *path) {
  char buf[4096];
  int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char *p = strstr(buf, "oom_kill ");
  return p ? strtol(p + 9, NULL, 10) : 0;
}

void teardown(struct plan *p) {
  for (int i = 0; i < p->n; i++) {
    struct record *r = &p->r[i];
    if (r->n < 2) continue;
    if (!strcmp(r->f[0], "rmscope")) {
      /* rmscope DIR: one try (another container keeps it busy): a scope another runtime made in
       * a hierarchy berth leaves alone, removed with its last container. */
      if (rmdir(r->f[1]) < 0) {}
    } else if (!strcmp(r->f[0], "umount")) {
      /* umount ROOT: mounts made in the host's namespace (no mount namespace of the container's
       * own) go with the container: the root's whole tree, detached. */
      if (umount2(r->f[1], MNT_DETACH) < 0) {}
    } else if (!strcmp(r->f[0], "rmdir")) {
      /* A cgroup can stay busy for a moment after its last task is reaped. */
      int gone = 0;
      for (int tries = 0; !(gone = rmdir(r->f[1]) == 0) && errno == EBUSY && tries < 50; tries++) usleep(2000);
      /* Already gone (another runtime removes its own, or a `rm -f` was first): the scope may be
       * empty now all the same. */
      if (!gone && errno == ENOENT) gone = 1;
      /* The root's scope goes with its last container: one try, another container keeps it busy.
       * `rmdir DIR leaf`: the parent is not berth's (a CgroupParent, the kubelet's): left alone. */
      char scope[4096];
      const char *slash = strrchr(r->f[1], '/');
      if (r->n >= 3 && !strcmp(r->f[2], "leaf")) slash = NULL;
      if (gone && slash && snprintf(scope, sizeof scope, "%.*s", (int)(slash - r->f[1]), r->f[1]) < (int)sizeof scope && rmdir(scope) < 0) {}
    } else if (!strcmp(r->f[0], "rmtree")) {
      /* Out of sight first (a dot name readers skip), then removed: nobody ever lists a
       * container directory that is half gone. The engine sweeps a `.rm-` one we die in. */
      char gone[4200];
      const char *slash = strrchr(r->f[1], '/');
      if (slash && snprintf(gone, sizeof gone, "%.*s/.rm-%s", (int)(slash - r->f[1]), r->f[1], slash + 1) < (int)sizeof gone &&
          rename(r->f[1], gone) == 0)
        rmtree(gone);
      else
        rmtree(r->f[1]);
    }
  }
  /* release PROGRAM ARGS...: slow work (CNI DEL of the container's network) handed to a
   * detached process, so that nobody waits for it: the monitor exits now, and a client waiting
   * for the monitor has its answer. The engine finishes the job if that process dies. */
  for (int i = 0; i < p->n; i++) {
    struct record *r = &p->r[i];
    if (r->n < 2 || strcmp(r->f[0], "release")) continue;
    pid_t c = fork();
    if (c != 0) continue;
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int k = 0; k <= 2 && null >= 0; k++) dup2(null, k);
    syscall(SYS_close_range, 3, ~0U, 0);
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    char *argv[32];
    int n = 0;
    for (int k = 1; k < r->n && n < 31; k++) argv[n++] = r->f[k];
    argv[n] = NULL;
    execv(argv[0], argv);
    _exit(127);
  }
}
