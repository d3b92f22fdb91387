/* The monitor's loop while the init runs: signals arrive through a signalfd, output through
 * pipes or the terminal, clients through the attach socket, probes through the health pipe.
 * Each source has a named poll slot. */
#define _GNU_SOURCE
#include "monitor.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

enum { SLOT_SIGNALS, SLOT_OUT, SLOT_ERR, SLOT_MASTER, SLOT_STDIN, SLOT_LISTENER, SLOT_HEALTH, SLOT_NOTIFY, SLOT_CLIENTS, SLOTS = SLOT_CLIENTS + ATTACH_MAX };

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
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

/* Returns whether the init has exited (its wait status in *status). */
static int on_signals(struct io *io, int exited, int *status) {
  struct signalfd_siginfo si;
  while (read(io->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
    if (si.ssi_signo == SIGCHLD) {
      /* Our children: the init, and a health probe now and then. */
      int st;
      for (pid_t w; (w = waitpid(-1, &st, WNOHANG)) > 0;) {
        if (w == io->init && !exited) { *status = st; exited = 1; }
        else if (w == io->hc->pid) health_done(io->hc, st);
      }
    } else if (si.ssi_signo == SIGWINCH && io->master >= 0) {
      /* The client's terminal changed size: the pty follows (the kernel then signals the
       * container's foreground process group). A client without a terminal of ours (the API
       * daemon, whose stdio are pipes) writes the size into the winsize file first. */
      struct winsize ws;
      if (read_winsize(io->winsize, &ws) == 0 || ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0)
        ioctl(io->master, TIOCSWINSZ, &ws);
    } else if (!exited) {
      kill(io->init, (int)si.ssi_signo);
    }
  }
  return exited;
}

/* Output from the init: into the log (or our own stdio), and to every attached client. */
static void on_output(struct io *io, int *fd, int stream, char *buf, size_t cap) {
  ssize_t r = read(*fd, buf, cap);
  if (r > 0) {
    if (io->lg) log_feed(io->lg, stream, buf, (size_t)r);
    else if (*io->attached) write_all(stream ? 2 : 1, buf, (size_t)r);
    attach_broadcast(io->at, stream, buf, (size_t)r);
  } else if (r == 0 || errno != EINTR) { /* a pty master reads EIO once the last slave closed */
    if (io->lg) log_flush(io->lg, stream);
    close(*fd);
    *fd = -1;
  }
}

/* The log file again, at its path (the kubelet renamed it): what is buffered of a line goes
 * on in the new file. The answer says whether it worked. */
static void on_reopen(struct io *io, int client) {
  char msg[128];
  if (!io->lg) snprintf(msg, sizeof msg, "error: the container has no log file");
  else if (log_reopen(io->lg) < 0) snprintf(msg, sizeof msg, "error: %s", strerror(errno));
  else snprintf(msg, sizeof msg, "reopened");
  attach_answer(io->at, client, msg);
}

/* Our stdin into the terminal. Ctrl-P Ctrl-Q detaches the client; the container keeps running,
 * its output logged. (`nodetach`: not for a berth command run for a remote client; its own run
 * or exec decides about the keys.) */
static void on_stdin(struct io *io, char *buf, size_t cap) {
  ssize_t r = read(0, buf, cap);
  if (*io->in_pipe >= 0) { /* no terminal: into the init's stdin pipe */
    if (r < 0 && errno == EINTR) return;
    if (r > 0) { write_all(*io->in_pipe, buf, (size_t)r); return; }
    io->in = -1;
    if (!io->in_hold) { close(*io->in_pipe); *io->in_pipe = -1; }
    return;
  }
  if (r <= 0) { io->in = -1; return; }
  for (ssize_t i = 0; i < r && !io->nodetach; i++) {
    if (io->ctrl_p && buf[i] == 0x11) {
      if (i > 1) write_all(io->master, buf, (size_t)(i - 1));
      report_raw("{\"detached\":true}");
      *io->attached = 0;
      if (io->lg) io->lg->tee = 0;
      io->in = -1;
      stdio_to_null();
      return;
    }
    io->ctrl_p = buf[i] == 0x10;
  }
  write_all(io->master, buf, (size_t)r);
}

/* An attached client's input (the CRI's attach with stdin): into the terminal, or the stdin pipe,
 * which its end closes unless the pipe is held (StdinOnce, as for our own stdin). */
static void on_client(struct io *io, int i, char *buf, size_t cap) {
  ssize_t r = attach_client_ready(io->at, i, buf, cap);
  if (r == ATTACH_REQUEST) { on_reopen(io, i); return; }
  int to = io->master >= 0 ? io->master : *io->in_pipe;
  if (r > 0 && to >= 0) write_all(to, buf, (size_t)r);
  if (r == 0 && io->master < 0 && *io->in_pipe >= 0 && !io->in_hold) { close(*io->in_pipe); *io->in_pipe = -1; }
}

/* Ends when the init has exited and its output is drained (all writers are gone once the pid
 * namespace is torn down with its init). Returns the init's wait status. */
int io_loop(struct io *io) {
  static char buf[65536];
  struct pollfd fds[SLOTS];
  int exited = 0, status = 0;
  while (!exited || io->out >= 0 || io->err >= 0 || io->master >= 0) {
    fds[SLOT_SIGNALS] = (struct pollfd){ io->sfd, POLLIN, 0 };
    fds[SLOT_OUT] = (struct pollfd){ io->out, POLLIN, 0 };
    fds[SLOT_ERR] = (struct pollfd){ io->err, POLLIN, 0 };
    fds[SLOT_MASTER] = (struct pollfd){ io->master, POLLIN, 0 };
    fds[SLOT_STDIN] = (struct pollfd){ io->in, POLLIN, 0 };
    fds[SLOT_LISTENER] = (struct pollfd){ io->at->listener, POLLIN, 0 };
    fds[SLOT_HEALTH] = (struct pollfd){ io->hc->out, POLLIN, 0 };
    fds[SLOT_NOTIFY] = (struct pollfd){ io->view->listener, POLLIN, 0 };
    for (int i = 0; i < ATTACH_MAX; i++) fds[SLOT_CLIENTS + i] = (struct pollfd){ io->at->clients[i], io->at->in_done[i] ? 0 : POLLIN, 0 };
    /* Another runtime's init may not be there yet (or be between restarts): look again soon. */
    pid_t target = exited || !io->hc->enabled ? -1 : health_target(io->initpidfile, io->init);
    int timeout = exited ? -1 : target > 0 ? health_tick(io->hc, target) : io->hc->enabled ? 100 : -1;
    if (poll(fds, SLOTS, timeout) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    const short ready = POLLIN | POLLHUP | POLLERR;
    if (fds[SLOT_SIGNALS].revents & POLLIN) exited = on_signals(io, exited, &status);
    if (io->out >= 0 && (fds[SLOT_OUT].revents & ready)) on_output(io, &io->out, 0, buf, sizeof buf);
    if (io->err >= 0 && (fds[SLOT_ERR].revents & ready)) on_output(io, &io->err, 1, buf, sizeof buf);
    if (io->master >= 0 && (fds[SLOT_MASTER].revents & ready)) on_output(io, &io->master, 0, buf, sizeof buf);
    if (io->hc->out >= 0 && (fds[SLOT_HEALTH].revents & ready)) health_read(io->hc);
    if (io->at->listener >= 0 && (fds[SLOT_LISTENER].revents & POLLIN)) attach_accept(io->at);
    /* A syscall waits for our answer; POLLHUP: no process uses the filter any more. */
    if (io->view->listener >= 0 && (fds[SLOT_NOTIFY].revents & POLLIN)) sysinfo_serve(io->view, io->init);
    else if (io->view->listener >= 0 && (fds[SLOT_NOTIFY].revents & (POLLHUP | POLLERR | POLLNVAL))) { close(io->view->listener); io->view->listener = -1; }
    for (int i = 0; i < ATTACH_MAX; i++)
      if (io->at->clients[i] >= 0 && fds[SLOT_CLIENTS + i].fd == io->at->clients[i] && (fds[SLOT_CLIENTS + i].revents & ready)) on_client(io, i, buf, sizeof buf);
    if (io->in >= 0 && (fds[SLOT_STDIN].revents & ready)) on_stdin(io, buf, sizeof buf);
  }
  if (io->hc->pid > 0) { /* a probe of a container that is gone tells nothing */
    kill(io->hc->pid, SIGKILL);
    waitpid(io->hc->pid, NULL, 0);
    io->hc->pid = -1;
    if (io->hc->out >= 0) { close(io->hc->out); io->hc->out = -1; }
  }
  return status;
}
