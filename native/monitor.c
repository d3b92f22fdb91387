/* The monitor: clones the container's init into its namespaces (the child then joins its
 * cgroups itself), reports progress as JSON lines, records the exit status durably, restarts
 * the init as the restart policy asks, and runs the teardown the plan asks for. It is the
 * container's parent for the container's whole life. Its parts: one life of the init here
 * (start_init, wait_setup), the loop while it runs (io.c), the restart loop (monitor_run). */
#define _GNU_SOURCE
#include "monitor.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int handoff;

static const char *field(struct plan *p, const char *name) {
  for (int i = 0; i < p->n; i++)
    if (p->r[i].n > 1 && !strcmp(p->r[i].f[0], name)) return p->r[i].f[1];
  return NULL;
}

static int exit_code_for_errno(const char *step, int err) {
  if (strcmp(step, "exec")) return 125;
  return err == ENOENT ? 127 : 126;
}

/* Signals the monitor handles through its loop: SIGCHLD, and those it forwards to the container. */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

/* What lasts across the init's restarts. */
struct monitor {
  struct plan *p;
  int clone_flags;
  sigset_t child_mask; /* the signal mask the init (and each probe) starts with */
  int sfd;
  struct logger lg;
  int logging;
  struct health *hc;
  struct attach at;
  int attached; /* our stdio still belongs to the client that started us */
  int restarts;
  /* stdinpipe close|hold: the init's stdin is a pipe we feed from our own stdin (a socket, from
   * the API daemon): programs such as cat treat a socket unlike a pipe (splice). `hold`: the
   * pipe stays open when our input ends (docker's OpenStdin without StdinOnce), so the container
   * keeps its stdin whoever comes and goes. Kept across restarts; -1 when none (or closed).
   * attach|attach-once: a detached start's (the CRI's stdin): only attached clients feed the
   * pipe, never our own stdin; `attach` holds it, `attach-once` closes it at the end of the
   * first client's input (StdinOnce). */
  int in_pipe[2];
  int in_hold;
  int in_attach;
  /* pidns: the namespace the init is born in, and ours, restored after each clone (-1: none). */
  int pidns_fd, own_pidns_fd;
  struct sysinfo_view view; /* sysinfo answered for the container (a listener per life) */
};

/* One life of the init. */
struct life {
  pid_t pid;
  int sync_w, err_r; /* the sync pipe's write end, the error pipe's read end */
  int out, err;      /* output pipes when logged without a terminal */
  struct console con;
  int tty;
  int notify_sock; /* where the init sends its seccomp listener; -1 if it has none to send */
  struct timespec started;
};

/* In the clone: wait for the monitor's go (with our host pid, for hooks), then run the plan.
 * Only returns by exiting. */
__attribute__((noreturn)) static void child_main(struct monitor *m, int sync_r, int err_w, int out_w, int errout_w, int console_w, int notify_w) {
  /* Handed off, the process outlives the monitor (its caller, a subreaper such as containerd's
   * shim, becomes its parent); an exit of the monitor before the go still ends it (EOF below). */
  if (!handoff) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* Non-dumpable until exec: nothing in the container can open this process's /proc entries
   * (exe, fds, mem) while it still runs monitor code (the CVE-2019-5736 class). */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  /* Ignored signals and the signal mask survive execve: the container starts clean. */
  signal(SIGPIPE, SIG_DFL);
  sigprocmask(SIG_SETMASK, &m->child_mask, NULL);
  if (out_w >= 0) {
    dup2(out_w, 1);
    dup2(errout_w, 2);
  }
  if (m->in_pipe[0] >= 0) dup2(m->in_pipe[0], 0);
  struct monitor_link link = { 0, err_w, sync_r, console_w, notify_w };
  /* EOF instead of the go means the monitor died before PDEATHSIG was set. */
  char go[32];
  const char *step = "sync", *arg = "";
  ssize_t k;
  while ((k = read(sync_r, go, sizeof go - 1)) < 0 && errno == EINTR) {}
  if (k >= 1 && go[0] == 'g') {
    go[k] = '\0';
    link.host_pid = (pid_t)atoi(go + 1);
    step = "setsid";
    if (setsid() >= 0) container_setup_and_exec(m->p, &link, &step, &arg);
  } else {
    errno = EPIPE;
  }
  char msg[4600];
  int e = errno;
  int len = snprintf(msg, sizeof msg, "%d\t%s\t%s", e, step, arg);
  /* A monitor that handed us off no longer reads: EPIPE, not death by SIGPIPE, so the exit
   * status still says what failed (127: not found, 126: cannot run). */
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigprocmask(SIG_BLOCK, &pipe_only, NULL);
  if (write(err_w, msg, (size_t)len) < 0) {}
  _exit(exit_code_for_errno(step, e));
}

static int start_init(struct monitor *m, struct life *l) {
  struct plan *p = m->p;
  int sync_pipe[2], err_pipe[2], out_pipe[2] = { -1, -1 }, errout_pipe[2] = { -1, -1 }, console_w = -1, notify_pair[2] = { -1, -1 };
  l->tty = field(p, "console") != NULL;
  l->con = (struct console){ -1, -1, 0 };
  if (pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) die_report("pipe", "", errno);
  if (l->tty && console_open(&l->con, &console_w) < 0) die_report("socketpair", "", errno);
  if (m->logging && !l->tty && (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(errout_pipe, O_CLOEXEC) < 0)) die_report("pipe", "", errno);
  /* Handed off, nobody would serve the listener: the init then installs no filter. */
  if (m->view.on && !handoff && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, notify_pair) < 0) die_report("socketpair", "notify", errno);
  l->notify_sock = notify_pair[0];

  /* Fork-style clone: the shim is single-threaded, so the child may keep running C code.
   * The child joins its cgroups itself (the plan's `join` steps) and enters its cgroup
   * namespace after that (`cgroupns`), so the namespace is rooted at its own cgroup. */
  if (m->pidns_fd >= 0 && setns(m->pidns_fd, CLONE_NEWPID) < 0) { teardown(p); die_report("pidns", field(p, "pidns"), errno); }
  l->pid = (pid_t)syscall(SYS_clone, (unsigned long)(m->clone_flags & ~CLONE_NEWCGROUP) | SIGCHLD, 0, 0, 0, 0);
  int clone_errno = errno;
  /* Only the init is born in the joined namespace: what we start later (health probes, the
   * releases at teardown, hooks) stays out of the container's sight and out of its fate (a
   * pod's pid 1 that exits kills everything in its namespace, and waits until it is reaped). */
  if (m->pidns_fd >= 0 && l->pid != 0 && setns(m->own_pidns_fd, CLONE_NEWPID) < 0) { teardown(p); die_report("pidns", "/proc/self/ns/pid", errno); }
  errno = clone_errno;
  if (l->pid < 0) { teardown(p); die_report("clone", field(p, "ns") ? field(p, "ns") : "", errno); }
  if (l->pid == 0) {
    close(sync_pipe[1]);
    close(err_pipe[0]);
    if (l->tty) close(l->con.sock);
    if (notify_pair[0] >= 0) close(notify_pair[0]);
    child_main(m, sync_pipe[0], err_pipe[1], out_pipe[1], errout_pipe[1], console_w, notify_pair[1]);
  }
  clock_gettime(CLOCK_MONOTONIC, &l->started);
  close(sync_pipe[0]);
  close(err_pipe[1]);
  if (out_pipe[1] >= 0) { close(out_pipe[1]); close(errout_pipe[1]); }
  if (console_w >= 0) close(console_w);
  if (notify_pair[1] >= 0) close(notify_pair[1]);
  l->sync_w = sync_pipe[1];
  l->err_r = err_pipe[0];
  l->out = out_pipe[0];
  l->err = errout_pipe[0];

  char buf[128];
  snprintf(buf, sizeof buf, "{\"pid\":%d,\"restarts\":%d}", l->pid, m->restarts);
  /* The first init's pid is in the engine's state already: only a restart's needs recording. */
  const char *pidfile = field(p, "pidfile");
  if (pidfile && m->restarts > 0) write_exit_file(pidfile, buf);
  if (m->restarts == 0) report_raw(buf);
  crash_point("cloned");
  int golen = snprintf(buf, sizeof buf, "g%d", (int)l->pid);
  if (write(l->sync_w, buf, (size_t)golen) < 0) {}
  return 0;
}

/* Until the init's exec: EOF on the error pipe means execve succeeded (it is close-on-exec);
 * data means a step failed. Two marker bytes come first when asked for (OCI create):
 * - 0x02: the init has made its mounts and waits before pivot_root: the prestart and
 *   createRuntime hooks run now (in our namespaces, with its cgroups and root ready), then it
 *   is released through the sync pipe;
 * - 0x01: the init is created and waits at its exec fifo: the terminal, if any, is handed to
 *   the console socket now, and we wait on for the exec.
 * Returns -1 when the init is running its command, else the exit code for a failed setup
 * (reported, torn down). */
static int wait_setup(struct monitor *m, struct life *l) {
  struct plan *p = m->p;
  const char *consolesock = field(p, "consolesock");
  char buf[4700];
  ssize_t n, got = 0;
  int status;
  while ((n = read(l->err_r, buf + got, sizeof buf - 1 - (size_t)got)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    got += n;
    while (got > 0 && (buf[0] == 1 || buf[0] == 2)) {
      char marker = buf[0];
      memmove(buf, buf + 1, (size_t)--got);
      if (marker == 2) {
        const char *hook = "";
        if (run_hooks(p, "monitor", l->pid, &hook) < 0) {
          int e = errno;
          kill(l->pid, SIGKILL);
          close(l->sync_w);
          while (waitpid(l->pid, &status, 0) < 0 && errno == EINTR) {}
          report_error("hook", hook, e, NULL);
          teardown(p);
          return 125;
        }
        if (write(l->sync_w, "h", 1) < 0) {}
        continue;
      }
      if (l->tty) console_receive(&l->con, consolesock, l->pid);
      report_raw("{\"created\":true}");
      /* OCI create under a supervisor: the init waits at its fifo and becomes the child of the
       * nearest subreaper once we are gone; `delete` removes what the teardown would. */
      if (handoff) _exit(0);
    }
  }
  close(l->sync_w);
  close(l->err_r);
  if (got > 0) {
    while (waitpid(l->pid, &status, 0) < 0 && errno == EINTR) {}
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
  /* An exec's terminal for an OCI caller: its master goes to the console socket. */
  if (l->tty && console_receive(&l->con, consolesock, l->pid) < 0) {
    int e = errno;
    kill(l->pid, SIGKILL);
    waitpid(l->pid, &status, 0);
    teardown(p);
    die_report("console", "", e);
  }
  return -1;
}

/* docker's restart policies: whether this exit starts the init again. A stop marker written by
 * `berth stop` means the user stopped it and it stays down. */
static int restart_wanted(struct monitor *m, int code) {
  const char *policy = field(m->p, "restart"), *stopmark = field(m->p, "stopmarker"), *maxs = field(m->p, "restartmax");
  long max = maxs ? num(maxs) : 0;
  /* restartfile PATH: "POLICY MAX" as `update` last set it, read at each exit so that a change
   * applies at once; the plan's records until there is one. */
  const char *file = field(m->p, "restartfile");
  char line[64], name[32];
  int fd = file ? open(file, O_RDONLY | O_CLOEXEC) : -1;
  ssize_t n = fd < 0 ? -1 : read(fd, line, sizeof line - 1);
  if (fd >= 0) close(fd);
  if (n > 0) {
    line[n] = '\0';
    if (sscanf(line, "%31s %ld", name, &max) == 2) policy = name;
  }
  int again = policy && (!strcmp(policy, "always") || !strcmp(policy, "unless-stopped") ||
                         (!strcmp(policy, "on-failure") && code != 0 && (max == 0 || m->restarts < max)));
  return again && !(stopmark && access(stopmark, F_OK) == 0);
}

/* docker's back-off: 100 ms, doubling, at most a minute; a run of 10 s or more resets it.
 * Signals meanwhile (a stop) are read off the signalfd and end the wait. */
static void back_off(struct monitor *m, const struct life *l, unsigned *delay_ms) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (now.tv_sec - l->started.tv_sec >= 10) *delay_ms = 100;
  struct pollfd w = { m->sfd, POLLIN, 0 };
  if (poll(&w, 1, (int)*delay_ms) > 0) {
    struct signalfd_siginfo si;
    while (read(m->sfd, &si, sizeof si) == (ssize_t)sizeof si) {}
  }
  *delay_ms = *delay_ms * 2 > 60000 ? 60000 : *delay_ms * 2;
}

/* Everything the monitor holds for the container's whole life, made before the first clone. */
static void monitor_setup(struct monitor *m, struct plan *p) {
  m->p = p;
  handoff = field(p, "handoff") != NULL;
  const char *ns = field(p, "ns");
  m->clone_flags = ns ? (int)num(ns) : 0;
  m->attached = 1;
  for (int i = 0; i < p->n; i++) {
    struct record *r = &p->r[i];
    if (r->n >= 3 && !strcmp(r->f[0], "log")) {
      /* log PATH TEE [MAXSIZE MAXFILES [FORMAT]]: the container's stdout/stderr go through us
       * into PATH (and to our own stdout/stderr with TEE=1, for an attached client), rotated by
       * size; FORMAT `cri` writes the kubelet's format (it rotates the file itself). */
      long long max_size = r->n >= 5 ? num(r->f[3]) : 0;
      int max_files = r->n >= 5 ? (int)num(r->f[4]) : 1;
      int cri = r->n >= 6 && !strcmp(r->f[5], "cri");
      if (log_open(&m->lg, r->f[1], r->f[2][0] == '1', max_size, max_files, cri) < 0) { teardown(p); die_report("log", r->f[1], errno); }
      m->logging = 1;
    }
  }
  /* Signals arrive through a signalfd in the loop, never asynchronously. */
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaddset(&mask, forwarded[i]);
  sigprocmask(SIG_BLOCK, &mask, &m->child_mask);
  m->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (m->sfd < 0) die_report("signalfd", "", errno);
  static struct health hc; /* large: kept off the stack */
  m->hc = &hc;
  if (health_init(m->hc, p, &m->child_mask) < 0) die_report("health", "", errno);
  /* A client that died must not kill the monitor when it reports: writes get EPIPE instead. */
  signal(SIGPIPE, SIG_IGN);
  /* exec into a running container, or a container sharing another's pids: the pid namespace
   * can only be entered by children, so the monitor enters it around each clone of the init (it
   * stays in its own; setns checks the type here, once). */
  const char *pidns = field(p, "pidns");
  m->pidns_fd = m->own_pidns_fd = -1;
  if (pidns) {
    m->pidns_fd = open(pidns, O_RDONLY | O_CLOEXEC);
    m->own_pidns_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (m->pidns_fd < 0 || setns(m->pidns_fd, CLONE_NEWPID) < 0) die_report("pidns", pidns, errno);
    if (m->own_pidns_fd < 0 || setns(m->own_pidns_fd, CLONE_NEWPID) < 0) die_report("pidns", "/proc/self/ns/pid", errno);
  }
  const char *stdinpipe = field(p, "console") ? NULL : field(p, "stdinpipe");
  m->in_pipe[0] = m->in_pipe[1] = -1;
  m->in_hold = stdinpipe && (!strcmp(stdinpipe, "hold") || !strcmp(stdinpipe, "attach"));
  m->in_attach = stdinpipe && !strncmp(stdinpipe, "attach", 6);
  if (stdinpipe && pipe2(m->in_pipe, O_CLOEXEC) < 0) die_report("pipe", "stdin", errno);
  /* We keep the read end for restarts: a container that never reads must not block us, so
   * input beyond what the pipe holds is dropped. */
  if (m->in_pipe[1] >= 0) fcntl(m->in_pipe[1], F_SETFL, O_NONBLOCK);
  if (attach_open(&m->at, field(p, "attachsock")) < 0) die_report("attachsock", field(p, "attachsock"), errno);
  sysinfo_setup(&m->view, p);
  /* devcg DIR PROGRAM: the device program goes on the cgroup before anything runs in it. */
  for (int i = 0; i < p->n; i++) {
    struct record *r = &p->r[i];
    if (r->n >= 3 && !strcmp(r->f[0], "devcg") && devcg_attach(r->f[1], r->f[2]) < 0) { teardown(p); die_report("devcg", r->f[1], errno); }
    /* shm DIR OPTIONS: a shareable IPC namespace's /dev/shm lives in the host's mount namespace
     * (another container's mounts cannot be bound from its namespace), for the containers that
     * join it to bind too. A stale one (a monitor killed before its teardown) goes first. */
    if (r->n >= 3 && !strcmp(r->f[0], "shm")) {
      if (umount2(r->f[1], MNT_DETACH) < 0) {}
      if ((mkdir(r->f[1], 0700) < 0 && errno != EEXIST) || mount("shm", r->f[1], "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, r->f[2]) < 0) {
        teardown(p);
        die_report("shm", r->f[1], errno);
      }
    }
  }
}

int monitor_run(struct plan *p) {
  static struct monitor m; /* holds the logger's buffers: kept off the stack */
  monitor_setup(&m, p);
  crash_point("setup");
  unsigned delay_ms = 100;
  int code;
  for (;;) {
    struct life l;
    start_init(&m, &l);
    int failed = wait_setup(&m, &l);
    if (l.notify_sock >= 0) {
      /* Sent before the exec, so it is there (or the init made none: EOF, as its end closed). */
      m.view.listener = failed >= 0 ? -1 : recv_fd(l.notify_sock);
      close(l.notify_sock);
    }
    if (failed >= 0) return failed;
    if (m.restarts == 0) report_raw("{\"started\":true}");
    crash_point("started");
    /* A detached OCI exec: the process is our caller's (its subreaper's) from now on. */
    if (handoff) _exit(0);
    health_container_started(m.hc);
    struct io io = {
      .init = l.pid, .sfd = m.sfd, .out = l.out, .err = l.err, .master = l.con.master,
      .in = (l.con.master >= 0 && field(p, "stdin") && m.attached) || (m.in_pipe[1] >= 0 && !m.in_attach) ? 0 : -1,
      .in_pipe = &m.in_pipe[1], .in_hold = m.in_hold,
      .nodetach = field(p, "nodetach") != NULL, .attached = &m.attached, .lg = m.logging ? &m.lg : NULL,
      .at = &m.at, .hc = m.hc, .view = &m.view, .winsize = field(p, "winsize"), .initpidfile = field(p, "initpidfile"),
    };
    int status = io_loop(&io);
    sysinfo_linger(&m.view, l.pid);
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    crash_point("exited");
    char json[128];
    snprintf(json, sizeof json, "{\"exit\":%d,\"signal\":%d,\"oom\":%s}", code,
             WIFSIGNALED(status) ? WTERMSIG(status) : 0, oom_kills(field(p, "oom")) > 0 ? "true" : "false");
    const char *exitfile = field(p, "exitfile");
    if (exitfile) write_exit_file(exitfile, json);
    crash_point("exit-recorded");
    if (m.restarts == 0) report_raw(json);
    if (!restart_wanted(&m, code)) break;
    /* An attached client had its exit and is leaving: later runs are logged only. */
    if (m.attached) {
      m.attached = 0;
      m.lg.tee = 0;
      stdio_to_null();
    }
    back_off(&m, &l, &delay_ms);
    if (!restart_wanted(&m, code)) break;
    m.restarts++;
  }
  attach_close(&m.at);
  /* Teardown waits until the client closes the report socket (or dies, which closes it too):
   * the client may still be writing into the container's directory. */
  char buf[4096];
  for (;;) {
    ssize_t r = read(3, buf, sizeof buf);
    if (r == 0 || (r < 0 && errno != EINTR)) break;
  }
  teardown(p);
  return code;
}
