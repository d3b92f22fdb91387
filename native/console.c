/* The container's terminal: the init opens a pty inside the container's own devpts and sends
 * the master back over a socket pair; the monitor serves it, or hands it to the OCI caller's
 * console socket and keeps none. */
#define _GNU_SOURCE
#include "monitor.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int recv_fd(int sock) {
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

/* The pair; *child_end goes to the init. */
int console_open(struct console *c, int *child_end) {
  int sv[2];
  *c = (struct console){ -1, -1, 0 };
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -1;
  c->sock = sv[0];
  *child_end = sv[1];
  return 0;
}

/* Takes the master, once: when the init says it is created (OCI create) or else after its exec.
 * 0 when we have it, or handed it on; -1 if none came. A console socket that refuses it ends
 * the init: its caller would never get its terminal. */
int console_receive(struct console *c, const char *consolesock, pid_t init) {
  if (c->sock < 0) return c->master >= 0 || c->handed ? 0 : -1;
  c->master = recv_fd(c->sock);
  int e = errno;
  close(c->sock);
  c->sock = -1;
  if (c->master < 0) { errno = e; return -1; }
  if (consolesock) {
    if (send_console(consolesock, c->master) < 0) { e = errno; kill(init, SIGKILL); report_error("consolesock", consolesock, e, NULL); }
    close(c->master);
    c->master = -1;
    c->handed = 1;
  }
  return 0;
}
