/* The monitor: clones the container's init into its namespaces (the child then joins its
 * cgroups itself), forwards signals, reports progress as JSON lines, records the exit status
 * durably and runs the teardown the plan asks for. It is the container's parent for the container's whole life. */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}

#define ATTACH_MAX 8

/* One frame of docker's multiplexed stream to every attached client; a client that cannot keep
 * up (its socket buffer is full) is dropped rather than allowed to stall the container. */
static void broadcast(int *clients, int stream, const char *data, size_t n) {
  unsigned char hdr[8] = { (unsigned char)(stream ? 2 : 1), 0, 0, 0,
                           (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n };
  for (int i = 0; i < ATTACH_MAX; i++) {
    if (clients[i] < 0) continue;
    struct iovec iov[2] = { { hdr, 8 }, { (void *)data, n } };
    ssize_t w = writev(clients[i], iov, 2);
    if (w != (ssize_t)(n + 8)) { close(clients[i]); clients[i] = -1; }
  }
}

static int recv_fd(int sock) {
  char byte;
  struct iovec iov = { &byte, 1 };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) { errno = EPROTO; return -1; }
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

static const char *field(struct plan *p, const char *name) {
  for (int i = 0; i < p->n; i++)
    if (p->r[i].n > 1 && !strcmp(p->r[i].f[0], name)) return p->r[i].f[1];
  return NULL;
}

/* Exit status durably: temp + fsync + rename, so a reader sees the old state or the whole new
 * one, never a torn file, even if the machine dies right after. */
static void write_exit_file(const char *path, const char *json) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, json, strlen(json)) < 0 || fsync(fd) < 0) { close(fd); unlink(tmp); return; }
  close(fd);
  rename(tmp, path);
}

static long oom_kills(const char *path) {
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

static void teardown(struct plan *p) {
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
      /* The root's scope goes with its last container: one try, another container keeps it busy. */
      char scope[4096];
      const char *slash = strrchr(r->f[1], '/');
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

static int exit_code_for_errno(const char *step, int err) {
  if (strcmp(step, "exec")) return 125;
  return err == ENOENT ? 127 : 126;
}

/* winsize PATH: "ROWS COLS" written by a client that resizes the terminal through us. */
static int read_winsize(const char *path, struct winsize *ws) {
  char buf[64];
  int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  unsigned rows = 0, cols = 0;
  if (sscanf(buf, "%u %u", &rows, &cols) != 2 || !rows || !cols || rows > 65535 || cols > 65535) return -1;
  *ws = (struct winsize){ (unsigned short)rows, (unsigned short)cols, 0, 0 };
  return 0;
}

/* Whose namespaces a health probe enters: our child, or with `initpidfile PATH` (another
 * runtime's `run` is our child) the init that runtime wrote there, if it is that child's child.
 * -1 (no probe now) otherwise: a stale pid must never send a probe into another process. */
static pid_t health_target(const char *file, pid_t child) {
  if (!file) return child;
  char buf[64];
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  pid_t inner = (pid_t)atoi(buf);
  char path[64], stat[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)inner);
  fd = inner > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  n = fd < 0 ? -1 : read(fd, stat, sizeof stat - 1);
  if (fd >= 0) close(fd);
  if (n <= 0) return -1;
  stat[n] = '\0';
  char *close_paren = strrchr(stat, ')');
  int ppid = 0;
  if (!close_paren || sscanf(close_paren + 2, "%*c %d", &ppid) != 1) return -1;
  return ppid == child ? inner : -1;
}

/* Signals the monitor handles through its loop: SIGCHLD, and those it forwards to the container. */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

int monitor_run(struct plan *p) {
  const char *ns = field(p, "ns");
  int flags = ns ? (int)num(ns) : 0;
  int sync_pipe[2], err_pipe[2], out_pipe[2] = { -1, -1 }, errout_pipe[2] = { -1, -1 };
  struct logger lg;
  int logging = 0;
  for (int i = 0; i < p->n; i++) {
    struct record *r = &p->r[i];
    if (r->n >= 3 && !strcmp(r->f[0], "log")) {
      /* log PATH TEE [MAXSIZE MAXFILES]: the container's stdout/stderr go through us into PATH
       * (and to our own stdout/stderr with TEE=1, for an attached client), rotated by size. */
      long long max_size = r->n >= 5 ? num(r->f[3]) : 0;
      int max_files = r->n >= 5 ? (int)num(r->f[4]) : 1;
      if (log_open(&lg, r->f[1], r->f[2][0] == '1', max_size, max_files) < 0) { teardown(p); die_report("log", r->f[1], errno); }
      logging = 1;
    }
  }
  /* Signals arrive through a signalfd in the loop below, never asynchronously. */
  sigset_t mask, oldmask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaddset(&mask, forwarded[i]);
  sigprocmask(SIG_BLOCK, &mask, &oldmask);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) die_report("signalfd", "", errno);
  static struct health hc; /* large: kept off the stack */
  if (health_init(&hc, p, &oldmask) < 0) die_report("health", "", errno);
  /* A client that died must not kill the monitor when it reports: writes get EPIPE instead. */
  signal(SIGPIPE, SIG_IGN);

  /* exec into a running container: the pid namespace can only be entered by children, so the
   * monitor enters it (it stays in its own; only its future children are born there). */
  const char *pidns = field(p, "pidns");
  if (pidns) {
    int fd = open(pidns, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWPID) < 0) die_report("pidns", pidns, errno);
    close(fd);
  }

  /* restart POLICY / restartmax N / stopmarker PATH / pidfile PATH: docker's restart policies,
   * carried out here so they work without any daemon. The init is cloned again with the same
   * plan (a fresh set of namespaces over the same upper directory); a stop marker written by
   * `berth stop` means the user stopped it and it stays down. */
  const char *policy = field(p, "restart"), *stopmark = field(p, "stopmarker"), *pidfile = field(p, "pidfile");
  const char *maxs = field(p, "restartmax");
  long max_restarts = maxs ? num(maxs) : 0;
  int restarts = 0, attached = 1;
  /* stdinpipe [hold]: the container's stdin is a pipe the monitor feeds from its own stdin (a
   * socket, from the API daemon): programs such as cat treat a socket unlike a pipe (splice).
   * `hold`: the pipe stays open when our input ends (docker's OpenStdin without StdinOnce), so
   * the container keeps its stdin whoever comes and goes. */
  const char *stdinpipe = field(p, "console") ? NULL : field(p, "stdinpipe");
  int in_pipe[2] = { -1, -1 };
  if (stdinpipe && pipe2(in_pipe, O_CLOEXEC) < 0) die_report("pipe", "stdin", errno);
  /* The monitor keeps the read end for restarts: a container that never reads must not block
   * it, so input beyond what the pipe holds is dropped. */
  if (in_pipe[1] >= 0) fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
  unsigned delay_ms = 100;
  /* attachsock PATH: clients (berth attach, later the API) connect here to follow the output,
   * framed as docker's multiplexed stream (8-byte header: stream, 0, 0, 0, big-endian size).
   * A path under the container's 0700 directory, never an abstract socket (CVE-2020-15257). */
  const char *attachsock = field(p, "attachsock");
  int listener = -1, clients[ATTACH_MAX];
  for (int i = 0; i < ATTACH_MAX; i++) clients[i] = -1;
  if (attachsock) {
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(attachsock) >= sizeof sa.sun_path) die_report("attachsock", attachsock, ENAMETOOLONG);
    strcpy(sa.sun_path, attachsock);
    unlink(attachsock);
    listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(attachsock, 0600) < 0 || listen(listener, ATTACH_MAX) < 0)
      die_report("attachsock", attachsock, errno);
  }
  /* devcg DIR PROGRAM: the device program goes on the cgroup before anything runs in it. */
  for (int i = 0; i < p->n; i++) {
    struct record *r = &p->r[i];
    if (r->n >= 3 && !strcmp(r->f[0], "devcg") && devcg_attach(r->f[1], r->f[2]) < 0) { teardown(p); die_report("devcg", r->f[1], errno); }
  }
restart:
  if (pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) die_report("pipe", "", errno);
  /* With a terminal, the child opens the pty inside the container's own devpts and hands the
   * master back over this socket (SCM_RIGHTS). */
  int tty = field(p, "console") != NULL, console[2] = { -1, -1 };
  int interactive = field(p, "stdin") != NULL && attached;
  if (tty && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, console) < 0) die_report("socketpair", "", errno);
  if (logging && !tty && (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(errout_pipe, O_CLOEXEC) < 0)) die_report("pipe", "", errno);

  /* Fork-style clone: the shim is single-threaded, so the child may keep running C code.
   * The child joins its cgroups itself (the plan's `join` steps) and enters its cgroup
   * namespace after that (`cgroupns`), so the namespace is rooted at its own cgroup. */
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(flags & ~CLONE_NEWCGROUP) | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) { teardown(p); die_report("clone", ns ? ns : "", errno); }
  if (pid == 0) {
    close(sync_pipe[1]);
    close(err_pipe[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    /* Non-dumpable until exec: nothing in the container can open this process's /proc entries
     * (exe, fds, mem) while it still runs monitor code (the CVE-2019-5736 class). */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* Ignored signals and the signal mask survive execve: the container starts clean. */
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    if (logging && !tty) {
      dup2(out_pipe[1], 1);
      dup2(errout_pipe[1], 2);
    }
    if (in_pipe[0] >= 0) dup2(in_pipe[0], 0);
    console_fd = console[1];
    report_pipe = err_pipe[1];
    /* Wait until the monitor is ready for us ("g" and our host pid, for hooks); EOF means it
     * died before PDEATHSIG was set. */
    char go[32];
    const char *step = "sync", *arg = "";
    ssize_t k;
    while ((k = read(sync_pipe[0], go, sizeof go - 1)) < 0 && errno == EINTR) {}
    sync_fd = sync_pipe[0]; /* kept (close-on-exec) for `hooksync` */
    if (k >= 1 && go[0] == 'g') {
      go[k] = '\0';
      host_pid = (pid_t)atoi(go + 1);
      step = "setsid";
      if (setsid() >= 0) container_setup_and_exec(p, &step, &arg);
    } else {
      errno = EPIPE;
    }
    char msg[4600];
    int e = errno;
    int len = snprintf(msg, sizeof msg, "%d\t%s\t%s", e, step, arg);
    if (write(err_pipe[1], msg, (size_t)len) < 0) {}
    _exit(exit_code_for_errno(step, e));
  }
  struct timespec started;
  clock_gettime(CLOCK_MONOTONIC, &started);
  close(sync_pipe[0]);
  close(err_pipe[1]);
  if (logging && !tty) {
    close(out_pipe[1]);
    close(errout_pipe[1]);
  }
  if (tty) close(console[1]);

  char buf[65536];
  int status_unused;
  snprintf(buf, sizeof buf, "{\"pid\":%d,\"restarts\":%d}", pid, restarts);
  if (pidfile) write_exit_file(pidfile, buf);
  if (restarts == 0) report_raw(buf);
  host_pid = pid;
  char go[32];
  int golen = snprintf(go, sizeof go, "g%d", (int)pid);
  if (write(sync_pipe[1], go, (size_t)golen) < 0) {}

  /* EOF on the error pipe means execve succeeded (it is close-on-exec); data means a step failed.
   * Two marker bytes come first when asked for (OCI create):
   * - 0x02: the init has made its mounts and waits before pivot_root: the prestart and
   *   createRuntime hooks run now (in our namespaces, with its cgroups and root ready), then it
   *   is released through the sync pipe;
   * - 0x01: the init is created and waits at its exec fifo: the terminal, if any, is handed to
   *   the console socket now, and we wait on for the exec. */
  ssize_t n, got = 0;
  int master = -1;
  const char *consolesock = field(p, "consolesock");
  while ((n = read(err_pipe[0], buf + got, 4700 - 1 - (size_t)got)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    got += n;
    while (got > 0 && (buf[0] == 1 || buf[0] == 2)) {
      char marker = buf[0];
      memmove(buf, buf + 1, (size_t)--got);
      if (marker == 2) {
        const char *hook = "";
        if (run_hooks(p, "monitor", &hook) < 0) {
          int e = errno;
          kill(pid, SIGKILL);
          close(sync_pipe[1]);
          while (waitpid(pid, &status_unused, 0) < 0 && errno == EINTR) {}
          report_error("hook", hook, e, NULL);
          teardown(p);
          return 125;
        }
        if (write(sync_pipe[1], "h", 1) < 0) {}
        continue;
      }
      if (tty && master < 0) {
        master = recv_fd(console[0]);
        close(console[0]);
        if (master >= 0 && consolesock) {
          if (send_console(consolesock, master) < 0) { int e = errno; kill(pid, SIGKILL); report_error("consolesock", consolesock, e, NULL); }
          close(master);
          master = -1;
          tty = 0;
          interactive = 0;
        }
      }
      report_raw("{\"created\":true}");
    }
  }
  close(sync_pipe[1]);
  close(err_pipe[0]);
  int status = 0;
  if (got > 0) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    buf[got] = '\0';
    char *step = strchr(buf, '\t');
    char *arg = step ? strchr(step + 1, '\t') : NULL;
    if (step) *step++ = '\0';
    if (arg) *arg++ = '\0';
    int e = atoi(buf);
    report_error(step ? step : "?", arg ? arg : "", e, NULL);
    teardown(p);
    return exit_code_for_errno(step ? step : "", e);
  }
  if (tty && master < 0) {
    master = recv_fd(console[0]);
    close(console[0]);
    if (master < 0) { kill(pid, SIGKILL); waitpid(pid, &status, 0); teardown(p); die_report("console", "", errno); }
    /* An exec's terminal for an OCI caller: its master goes to the console socket. */
    if (consolesock) {
      if (send_console(consolesock, master) < 0) { int e = errno; kill(pid, SIGKILL); report_error("consolesock", consolesock, e, NULL); }
      close(master);
      master = -1;
      tty = 0;
      interactive = 0;
    }
  }
  if (restarts == 0) report_raw("{\"started\":true}");
  health_container_started(&hc);

  /* The loop: forward signals, copy output into the log, notice the exit. It ends when the
   * container's init has exited and its output pipes are drained (all writers are gone once
   * the pid namespace is torn down with its init). */
  struct pollfd fds[7 + ATTACH_MAX] = {
    { sfd, POLLIN, 0 },
    { logging && !tty ? out_pipe[0] : -1, POLLIN, 0 },
    { logging && !tty ? errout_pipe[0] : -1, POLLIN, 0 },
    { master, POLLIN, 0 },
    { (tty && interactive) || in_pipe[1] >= 0 ? 0 : -1, POLLIN, 0 },
    { listener, POLLIN, 0 },
  };
  int exited = 0, ctrl_p = 0, nodetach = field(p, "nodetach") != NULL;
  const char *initpidfile = field(p, "initpidfile");
  while (!exited || fds[1].fd >= 0 || fds[2].fd >= 0 || fds[3].fd >= 0) {
    for (int i = 0; i < ATTACH_MAX; i++) fds[6 + i] = (struct pollfd){ clients[i], POLLIN, 0 };
    fds[6 + ATTACH_MAX] = (struct pollfd){ hc.out, POLLIN, 0 };
    /* Another runtime's init may not be there yet (or be between restarts): look again soon. */
    pid_t target = exited || !hc.enabled ? -1 : health_target(initpidfile, pid);
    int timeout = exited ? -1 : target > 0 ? health_tick(&hc, target) : hc.enabled ? 100 : -1;
    if (poll(fds, 7 + ATTACH_MAX, timeout) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          /* Our children: the init, and a health probe now and then. */
          int st;
          for (pid_t w; (w = waitpid(-1, &st, WNOHANG)) > 0;) {
            if (w == pid && !exited) { status = st; exited = 1; }
            else if (w == hc.pid) health_done(&hc, st);
          }
        } else if (si.ssi_signo == SIGWINCH && master >= 0) {
          /* The client's terminal changed size: the pty follows (the kernel then signals the
           * container's foreground process group). A client without a terminal of ours (the
           * API daemon, whose stdio are pipes) writes the size into the winsize file first. */
          struct winsize ws;
          if (read_winsize(field(p, "winsize"), &ws) == 0 || ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0)
            ioctl(master, TIOCSWINSZ, &ws);
        } else if (!exited) {
          kill(pid, (int)si.ssi_signo);
        }
      }
    }
    for (int s = 1; s <= 3; s++) {
      if (fds[s].fd < 0 || !(fds[s].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = read(fds[s].fd, buf, sizeof buf);
      int stream = s == 2;
      if (r > 0) {
        if (logging) log_feed(&lg, stream, buf, (size_t)r);
        else if (attached) write_all(stream ? 2 : 1, buf, (size_t)r);
        broadcast(clients, stream, buf, (size_t)r);
      } else if (r == 0 || errno != EINTR) { /* a pty master reads EIO once the last slave closed */
        if (logging) log_flush(&lg, stream);
        close(fds[s].fd);
        fds[s].fd = -1;
      }
    }
    if (hc.out >= 0 && (fds[6 + ATTACH_MAX].revents & (POLLIN | POLLHUP | POLLERR))) health_read(&hc);
    if (listener >= 0 && (fds[5].revents & POLLIN)) {
      int cfd = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      int slot = -1;
      for (int i = 0; i < ATTACH_MAX && cfd >= 0; i++) if (clients[i] < 0) { slot = i; break; }
      if (slot >= 0) clients[slot] = cfd;
      else if (cfd >= 0) close(cfd); /* full: the client sees EOF at once */
    }
    for (int i = 0; i < ATTACH_MAX; i++) {
      /* Clients only listen for now; their input is read and dropped, EOF ends them. */
      if (clients[i] < 0 || !(fds[6 + i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char drop[512];
      ssize_t r = read(clients[i], drop, sizeof drop);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) { close(clients[i]); clients[i] = -1; }
    }
    if (in_pipe[1] >= 0 && fds[4].fd >= 0 && (fds[4].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = read(0, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r > 0) { write_all(in_pipe[1], buf, (size_t)r); continue; }
      fds[4].fd = -1;
      if (strcmp(stdinpipe, "hold")) { close(in_pipe[1]); in_pipe[1] = -1; }
      continue;
    }
    if (fds[4].fd >= 0 && (fds[4].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = read(0, buf, sizeof buf);
      if (r <= 0) { fds[4].fd = -1; continue; }
      /* Ctrl-P Ctrl-Q detaches the client; the container keeps running, its output logged.
       * (`nodetach`: not for a berth command run for a remote client; its own run or exec
       * decides about the keys.) */
      for (ssize_t i = 0; i < r && !nodetach; i++) {
        if (ctrl_p && buf[i] == 0x11) {
          if (i > 1) write_all(master, buf, (size_t)(i - 1));
          report_raw("{\"detached\":true}");
          attached = 0;
          lg.tee = 0;
          fds[4].fd = -1;
          int null = open("/dev/null", O_RDWR | O_CLOEXEC);
          for (int k = 0; k <= 2 && null >= 0; k++) dup2(null, k);
          break;
        }
        ctrl_p = buf[i] == 0x10;
      }
      if (attached) write_all(master, buf, (size_t)r);
    }
  }
  if (hc.pid > 0) { /* a probe of a container that is gone tells nothing */
    kill(hc.pid, SIGKILL);
    waitpid(hc.pid, NULL, 0);
    hc.pid = -1;
    if (hc.out >= 0) { close(hc.out); hc.out = -1; }
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  long ooms = oom_kills(field(p, "oom"));
  snprintf(buf, sizeof buf, "{\"exit\":%d,\"signal\":%d,\"oom\":%s}", code,
           WIFSIGNALED(status) ? WTERMSIG(status) : 0, ooms > 0 ? "true" : "false");
  const char *exitfile = field(p, "exitfile");
  if (exitfile) write_exit_file(exitfile, buf);
  if (restarts == 0) report_raw(buf);
  int again = policy && (!strcmp(policy, "always") || !strcmp(policy, "unless-stopped") ||
                         (!strcmp(policy, "on-failure") && code != 0 && (max_restarts == 0 || restarts < max_restarts)));
  if (again && !(stopmark && access(stopmark, F_OK) == 0)) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - started.tv_sec >= 10) delay_ms = 100;
    /* An attached client had its exit and is leaving: later runs are logged only. */
    if (attached) {
      attached = 0;
      lg.tee = 0;
      int null = open("/dev/null", O_RDWR | O_CLOEXEC);
      for (int k = 0; k <= 2 && null >= 0; k++) dup2(null, k);
    }
    /* docker's back-off: 100 ms, doubling, at most a minute; a run of 10 s or more resets it.
     * Signals meanwhile (a stop) are read off the signalfd and end the wait. */
    struct pollfd w = { sfd, POLLIN, 0 };
    if (poll(&w, 1, (int)delay_ms) > 0) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {}
    }
    delay_ms = delay_ms * 2 > 60000 ? 60000 : delay_ms * 2;
    if (!(stopmark && access(stopmark, F_OK) == 0)) {
      restarts++;
      goto restart;
    }
  }
  /* The container is gone for good: attached clients see the end of the stream. */
  for (int i = 0; i < ATTACH_MAX; i++) if (clients[i] >= 0) close(clients[i]);
  if (listener >= 0) { close(listener); unlink(attachsock); }
  /* Teardown waits until the client closes the report socket (or dies, which closes it too):
   * the client may still be writing into the container's directory. */
  for (;;) {
    ssize_t r = read(3, buf, sizeof buf);
    if (r == 0 || (r < 0 && errno != EINTR)) break;
  }
  teardown(p);
  return code;
}
