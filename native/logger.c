/* Container output in docker's json-file format: one JSON object per line of output,
 * {"log":"...\n","stream":"stdout","time":"RFC3339Nano"}. Lines longer than the buffer are
 * split into several entries (as docker does at 16 KiB). Optionally the raw bytes are also
 * copied to the monitor's own stdout/stderr, for a client attached in the foreground. */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return; /* a full disk or a gone terminal must not stop the container */
    p += w;
    n -= (size_t)w;
  }
}

static void entry(struct logger *lg, int stream, const char *p, size_t n) {
  /* Worst case every byte becomes \u00XX (6 bytes). */
  static char out[LOG_LINE_MAX * 6 + 128];
  size_t o = 0;
  o += (size_t)snprintf(out, sizeof out, "{\"log\":\"");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    switch (c) {
      case '"': out[o++] = '\\'; out[o++] = '"'; break;
      case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
      case '\n': out[o++] = '\\'; out[o++] = 'n'; break;
      case '\r': out[o++] = '\\'; out[o++] = 'r'; break;
      case '\t': out[o++] = '\\'; out[o++] = 't'; break;
      default:
        if (c < 0x20 || c == 0x7f) o += (size_t)snprintf(out + o, 7, "\\u%04x", c);
        else out[o++] = (char)c;
    }
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  o += (size_t)snprintf(out + o, sizeof out - o, "\",\"stream\":\"%s\",\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ\"}\n",
                        stream ? "stderr" : "stdout", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                        tm.tm_min, tm.tm_sec, ts.tv_nsec);
  write_all(lg->fd, out, o);
}

int log_open(struct logger *lg, const char *path, int tee) {
  memset(lg, 0, sizeof *lg);
  lg->tee = tee;
  lg->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  return lg->fd < 0 ? -1 : 0;
}

void log_feed(struct logger *lg, int stream, const char *data, size_t n) {
  if (lg->tee) write_all(stream ? 2 : 1, data, n);
  char *buf = lg->buf[stream];
  for (size_t i = 0; i < n; i++) {
    buf[lg->len[stream]++] = data[i];
    if (data[i] == '\n' || lg->len[stream] == LOG_LINE_MAX) {
      entry(lg, stream, buf, lg->len[stream]);
      lg->len[stream] = 0;
    }
  }
}

void log_flush(struct logger *lg, int stream) {
  if (lg->len[stream]) entry(lg, stream, lg->buf[stream], lg->len[stream]);
  lg->len[stream] = 0;
}
