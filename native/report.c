#include "shim.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int report_fd = -1;

void report_set_fd(int fd) { report_fd = fd; }

size_t json_escape(char *out, size_t cap, const char *s) {
  size_t o = 0;
  for (; *s && o + 7 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; }
    else if (c < 0x20) o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
    else out[o++] = (char)c;
  }
  out[o] = '\0';
  return o;
}

void report_raw(const char *json) {
  if (report_fd < 0) return;
  size_t len = strlen(json);
  char line[8192];
  if (len + 2 > sizeof line) return;
  memcpy(line, json, len);
  line[len++] = '\n';
  /* One write per line so a reader never sees half a message. */
  while (write(report_fd, line, len) < 0 && errno == EINTR) {}
}

void report_error(const char *step, const char *arg, int err, const char *detail) {
  char s[256], a[4096], d[512], msg[5200];
  json_escape(s, sizeof s, step);
  json_escape(a, sizeof a, arg ? arg : "");
  json_escape(d, sizeof d, detail ? detail : strerror(err));
  snprintf(msg, sizeof msg, "{\"error\":{\"step\":\"%s\",\"arg\":\"%s\",\"errno\":%d,\"message\":\"%s\"}}", s, a, err, d);
  report_raw(msg);
  if (report_fd < 0) fprintf(stderr, "berth-shim: %s %s: %s\n", step, arg ? arg : "", detail ? detail : strerror(err));
}

void die_report(const char *step, const char *arg, int err) {
  report_error(step, arg, err, NULL);
  exit(125);
}
