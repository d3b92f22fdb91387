/* What the OCI runtime's lifecycle needs from the shim: hooks (run with the container's state on
 * their stdin, killed at their timeout), and the exec fifo that holds a created container's init
 * until `start` opens the other end. */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fifo_fd = -1;

/* hook WHERE STATE TIMEOUT PATH ARGC ARGS... ENV...: STATE has %PID% where the init's host pid
 * goes. The hook's own status decides: non-zero (or killed at the timeout) fails the step. */
int run_hook(char **f, int n, pid_t host_pid) {
  if (n < 6) { errno = EINVAL; return -1; }
  int argc = (int)num(f[5]);
  if (argc < 0 || 6 + argc > n) { errno = EINVAL; return -1; }
  char state[16384], *o = state;
  const char *s = f[2];
  for (const char *mark; (mark = strstr(s, "%PID%")) != NULL; s = mark + 5) {
    size_t k = (size_t)(mark - s);
    if ((size_t)(o - state) + k + 24 >= sizeof state) { errno = E2BIG; return -1; }
    memcpy(o, s, k);
    o += k;
    o += snprintf(o, 24, "%d", (int)host_pid);
  }
  if ((size_t)(o - state) + strlen(s) >= sizeof state) { errno = E2BIG; return -1; }
  strcpy(o, s);
  char *argv[256], *envp[256];
  int na = 0, ne = 0;
  for (int i = 0; i < argc && na < 255; i++) argv[na++] = f[6 + i];
  if (na == 0) argv[na++] = f[4];
  argv[na] = NULL;
  for (int i = 6 + argc; i < n && ne < 255; i++) envp[ne++] = f[i];
  envp[ne] = NULL;
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0) return -1;
  pid_t c = fork();
  if (c < 0) { close(in[0]); close(in[1]); return -1; }
  if (c == 0) {
    dup2(in[0], 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    syscall(SYS_close_range, 3, ~0U, 0);
    execve(f[4], argv, envp);
    _exit(127);
  }
  close(in[0]);
  /* A hook that never reads its stdin must not block us: the pipe holds far more than a state. */
  if (write(in[1], state, strlen(state)) < 0) {}
  close(in[1]);
  long long timeout = num(f[3]); /* seconds; 0 = none */
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int status = 0;
  for (;;) {
    pid_t w = waitpid(c, &status, timeout > 0 ? WNOHANG : 0);
    if (w == c) break;
    if (w < 0 && errno != EINTR) return -1;
    if (w == 0) {
      clock_gettime(CLOCK_MONOTONIC, &now);
      if ((now.tv_sec - t0.tv_sec) >= timeout) {
        kill(c, SIGKILL);
        waitpid(c, &status, 0);
        errno = ETIMEDOUT;
        return -1;
      }
      usleep(5000);
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  errno = ECANCELED;
  return -1;
}

/* Runs the plan's hooks for WHERE ("monitor": createRuntime/prestart, in the runtime's
 * namespaces), in plan order; the first failure stops them. */
int run_hooks(struct plan *p, const char *where, pid_t host_pid, const char **failed) {
  for (int i = 0; i < p->n; i++) {
    struct record *r = &p->r[i];
    if (r->n < 6 || strcmp(r->f[0], "hook") || strcmp(r->f[1], where)) continue;
    *failed = r->f[4];
    if (run_hook(r->f, r->n, host_pid) < 0) return -1;
  }
  return 0;
}

/* hooksync: the root is ready (mounts made, before pivot_root): the monitor runs the prestart
 * and createRuntime hooks now, and lets us go on once they succeeded (if one fails it kills us). */
int step_hooksync(int report_pipe, int sync_fd) {
  char go = 2;
  if (report_pipe < 0 || sync_fd < 0 || write(report_pipe, &go, 1) != 1) { errno = EPIPE; return -1; }
  ssize_t n;
  while ((n = read(sync_fd, &go, 1)) < 0 && errno == EINTR) {}
  if (n != 1) { errno = EPIPE; return -1; }
  return 0;
}

/* fifo PATH: opened (O_PATH) while the host's filesystem is still visible. */
int step_fifo(const char *path) {
  fifo_fd = open(path, O_PATH | O_CLOEXEC);
  return fifo_fd < 0 ? -1 : 0;
}

/* fifowait: tell the monitor the container is created, then block until `start` opens the
 * fifo's read end. Reopened through our own fd, not by a path the container could replace. */
int step_fifowait(int report_pipe) {
  if (fifo_fd < 0) { errno = EINVAL; return -1; }
  char created = 1;
  if (report_pipe >= 0 && write(report_pipe, &created, 1) < 0) return -1;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fifo_fd);
  int fd;
  while ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 && errno == EINTR) {}
  if (fd < 0) return -1;
  ssize_t w = write(fd, "0", 1);
  int e = errno;
  close(fd);
  close(fifo_fd);
  fifo_fd = -1;
  errno = e;
  return w == 1 ? 0 : -1;
}

/* consolesock PATH: the pty master goes to whoever listens there (the OCI --console-socket). */
int send_console(const char *path, int master) {
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof sa.sun_path) { errno = ENAMETOOLONG; return -1; }
  strcpy(sa.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  int r = connect(s, (struct sockaddr *)&sa, sizeof sa) < 0 || send_fd(s, master) < 0 ? -1 : 0;
  int e = errno;
  close(s);
  errno = e;
  return r;
}
