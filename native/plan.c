#include "shim.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_full(int fd, char *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(fd, buf + got, len - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) { errno = EPIPE; return -1; }
    got += (size_t)r;
  }
  return 0;
}

/* Each field is '=' + value + NUL (so empty values survive); a lone NUL ends a record. */
static int parse(char *buf, size_t len, struct plan *out) {
  int nrec = 0;
  for (size_t i = 0; i < len; i++)
    if (buf[i] == '\0' && (i == 0 || buf[i - 1] == '\0' || (i + 1 < len && buf[i + 1] == '\0'))) nrec++;
  out->r = calloc((size_t)nrec + 2, sizeof(struct record));
  if (!out->r) return -1;
  out->n = 0;
  size_t i = 0;
  while (i < len && out->n <= nrec) {
    struct record *rec = &out->r[out->n];
    int nf = 0;
    for (size_t j = i; j < len && buf[j] == '='; j += strlen(buf + j) + 1) nf++;
    rec->f = calloc((size_t)nf + 1, sizeof(char *));
    if (!rec->f) return -1;
    while (i < len && buf[i] == '=') {
      rec->f[rec->n++] = buf + i + 1;
      i += strlen(buf + i) + 1;
    }
    if (i < len && buf[i] != '\0') { errno = EINVAL; return -1; } /* not our format */
    i++;
    if (rec->n > 0) out->n++;
  }
  return 0;
}

/* Reads a plan: with length_prefixed, "<decimal length>\n<payload>" (the report socket stays
 * open afterwards, so EOF cannot mark the end); otherwise everything until EOF. */
int plan_read_fd(int fd, int length_prefixed, struct plan *out) {
  size_t len = 0, cap = 0;
  char *buf = NULL;
  if (length_prefixed) {
    char c;
    for (;;) {
      if (read_full(fd, &c, 1) < 0) return -1;
      if (c == '\n') break;
      if (c < '0' || c > '9') { errno = EINVAL; return -1; }
      len = len * 10 + (size_t)(c - '0');
      if (len > (64u << 20)) { errno = E2BIG; return -1; }
    }
    buf = malloc(len + 1);
    if (!buf || read_full(fd, buf, len) < 0) return -1;
  } else {
    for (;;) {
      if (len + 65536 > cap) {
        cap = cap ? cap * 2 : 65536;
        char *nb = realloc(buf, cap + 1);
        if (!nb) return -1;
        buf = nb;
      }
      ssize_t r = read(fd, buf + len, cap - len);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return -1;
      if (r == 0) break;
      len += (size_t)r;
    }
    if (!buf && !(buf = malloc(1))) return -1;
  }
  buf[len] = '\0';
  out->buf = buf;
  return parse(buf, len, out);
}

long long num(const char *s) { return strtoll(s, NULL, 10); }
