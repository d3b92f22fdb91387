/* Attached clients: a unix socket under the container's 0700 directory, never an abstract one
 * (CVE-2020-15257). Each frame is docker's: 8-byte header (stream, 0, 0, 0, big-endian size). */
#define _GNU_SOURCE
#include "monitor.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

int attach_open(struct attach *a, const char *path) {
  a->path = path;
  a->listener = -1;
  for (int i = 0; i < ATTACH_MAX; i++) a->clients[i] = -1;
  if (!path) return 0;
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof sa.sun_path) { errno = ENAMETOOLONG; return -1; }
  strcpy(sa.sun_path, path);
  unlink(path);
  a->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (a->listener < 0 || bind(a->listener, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0600) < 0 || listen(a->listener, ATTACH_MAX) < 0) return -1;
  return 0;
}

/* One frame to every client; a client that cannot keep up (its socket buffer is full) is
 * dropped rather than allowed to stall the container. */
void attach_broadcast(struct attach *a, int stream, const char *data, size_t n) {
  unsigned char hdr[8] = { (unsigned char)(stream ? 2 : 1), 0, 0, 0,
                           (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n };
  for (int i = 0; i < ATTACH_MAX; i++) {
    if (a->clients[i] < 0) continue;
    struct iovec iov[2] = { { hdr, 8 }, { (void *)data, n } };
    ssize_t w = writev(a->clients[i], iov, 2);
    if (w != (ssize_t)(n + 8)) { close(a->clients[i]); a->clients[i] = -1; }
  }
}

void attach_accept(struct attach *a) {
  int cfd = accept4(a->listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (cfd < 0) return;
  for (int i = 0; i < ATTACH_MAX; i++)
    if (a->clients[i] < 0) { a->clients[i] = cfd; a->wrote[i] = a->in_done[i] = 0; return; }
  close(cfd); /* full: the client sees EOF at once */
}

/* A client's input, for the caller to give the container (> 0); 0 when a client that sent input
 * ends it (it keeps following the output: the end of its stdin is not the end of its interest);
 * -1 otherwise: a client that never sent input and reaches its end is gone. One message is a
 * request instead (the engine's, in one write, before any input): ATTACH_REOPEN_LOG, answered by
 * attach_answer; ATTACH_REQUEST for it. */
ssize_t attach_client_ready(struct attach *a, int i, char *buf, size_t cap) {
  ssize_t r = read(a->clients[i], buf, cap);
  if (!a->wrote[i] && r == (ssize_t)sizeof ATTACH_REOPEN_LOG - 1 && !memcmp(buf, ATTACH_REOPEN_LOG, sizeof ATTACH_REOPEN_LOG - 1)) return ATTACH_REQUEST;
  if (r > 0) { a->wrote[i] = 1; return r; }
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return -1;
  if (r == 0 && a->wrote[i] && !a->in_done[i]) { a->in_done[i] = 1; return 0; }
  close(a->clients[i]);
  a->clients[i] = -1;
  return -1;
}

/* The answer to a request: one frame on stream 3 (docker's "system error" stream, which output
 * never uses), then the end of that client's stream. */
void attach_answer(struct attach *a, int i, const char *msg) {
  size_t n = strlen(msg);
  unsigned char hdr[8] = { 3, 0, 0, 0, (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n };
  struct iovec iov[2] = { { hdr, 8 }, { (void *)msg, n } };
  if (writev(a->clients[i], iov, 2) < 0) {}
  close(a->clients[i]);
  a->clients[i] = -1;
}

/* The container is gone for good: clients see the end of the stream. */
void attach_close(struct attach *a) {
  for (int i = 0; i < ATTACH_MAX; i++) if (a->clients[i] >= 0) { close(a->clients[i]); a->clients[i] = -1; }
  if (a->listener >= 0) { close(a->listener); a->listener = -1; unlink(a->path); }
}
