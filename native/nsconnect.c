/* berth-nsconnect NETNS PORT: connects to localhost:PORT inside the network namespace NETNS (a
 * pod's, for the CRI's port-forward) and relays stdin to the connection and the connection to
 * stdout. The end of stdin half-closes the connection; the connection's end ends the forward (as
 * containerd's: a client need not close its side). Node cannot enter a namespace itself. Errors
 * go to stderr with exit status 1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char *what, const char *arg) {
  fprintf(stderr, "%s %s: %s\n", what, arg, strerror(errno));
  return 1;
}

/* localhost: 127.0.0.1 first, then ::1 (a server may listen on either). */
static int dial(int port) {
  struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port), .sin_addr = { htonl(INADDR_LOOPBACK) } };
  struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons((unsigned short)port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&v4, sizeof v4) == 0) return fd;
  int saved = errno;
  if (fd >= 0) close(fd);
  fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&v6, sizeof v6) == 0) return fd;
  if (fd >= 0) close(fd);
  errno = saved;
  return -1;
}

/* Copies what one read gives; 0 at the end of the input (or a broken output), 1 otherwise. */
static int copy(int from, int to) {
  static char buf[65536];
  ssize_t r = read(from, buf, sizeof buf);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (r <= 0) return 0;
  for (ssize_t off = 0; off < r;) {
    ssize_t w = write(to, buf + off, (size_t)(r - off));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return 0;
    off += w;
  }
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: berth-nsconnect NETNS PORT\n");
    return 2;
  }
  char *end;
  long port = strtol(argv[2], &end, 10);
  if (*end || port < 1 || port > 65535) {
    fprintf(stderr, "invalid port %s\n", argv[2]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int ns = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (ns < 0) return fail("open network namespace", argv[1]);
  if (setns(ns, CLONE_NEWNET) < 0) return fail("enter network namespace", argv[1]);
  close(ns);
  int sock = dial((int)port);
  if (sock < 0) return fail("connect to localhost port", argv[2]);
  int in = 0, out = 1; /* -1 once that way is done */
  while (out >= 0) {
    struct pollfd p[2] = { { in >= 0 ? 0 : -1, POLLIN, 0 }, { out >= 0 ? sock : -1, POLLIN, 0 } };
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return fail("poll", "");
    }
    if (in >= 0 && p[0].revents && !copy(0, sock)) { shutdown(sock, SHUT_WR); in = -1; }
    if (out >= 0 && p[1].revents && !copy(sock, 1)) { close(1); out = -1; }
  }
  return 0;
}
