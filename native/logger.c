/* Container output in docker's json-file format: one JSON object per line of output,
 * {"log":"...\n","stream":"stdout","time":"RFC3339Nano"}. Lines longer than the buffer are
 * split into several entries (as docker does at 16 KiB). Optionally the raw bytes are also
 * copied to the monitor's own stdout/stderr, for a client attached in the foreground. */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
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

/* docker's json-file rotation: PATH becomes PATH.1, PATH.1 becomes PATH.2, ... up to
 * max_files - 1 old files; with max_files 1 the log just starts over. */
static void rotate(struct logger *lg) {
  char from[4200], to[4200];
  for (int i = lg->max_files - 1; i >= 1; i--) {
    if (i == 1) snprintf(from, sizeof from, "%s", lg->path);
    else snprintf(from, sizeof from, "%s.%d", lg->path, i - 1);
    snprintf(to, sizeof to, "%s.%d", lg->path, i);
    rename(from, to);
  }
  int fd = open(lg->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return; /* keep writing to the old one rather than lose output */
  close(lg->fd);
  lg->fd = fd;
  lg->size = 0;
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
  lg->size += (long long)o;
  if (lg->max_size > 0 && lg->size >= lg->max_size) rotate(lg);
}

int log_open(struct logger *lg, const char *path, int tee, long long max_size, int max_files, int cri) {
  memset(lg, 0, sizeof *lg);
  lg->cri = cri;
  lg->tee = tee;
  lg->path = path;
  lg->max_size = max_size;
  lg->max_files = max_files < 1 ? 1 : max_files;
  lg->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (lg->fd < 0) return -1;
  if (cri) fchmod(lg->fd, 0640); /* the kubelet's expectation, whatever our umask */
  struct stat st;
  if (fstat(lg->fd, &st) == 0) lg->size = st.st_size;
  return 0;
}

void log_feed(struct logger *lg, int stream, const char *data, size_t n) {
  if (lg->tee) write_all(stream ? 2 : 1, data, n);
  char *buf = lg->buf[stream];
  for (size_t i = 0; i < n; i++) {
    buf[lg->len[stream]++] = data[i];
    if (data[i] == '\n' || lg->len[stream] == LOG_LINE_MAX) {
      if (lg->cri) cri_entry(lg, stream, buf, lg->len[stream] - (data[i] == '\n'), data[i] != '\n');
      else entry(lg, stream, buf, lg->len[stream]);
      lg->len[stream] = 0;
    }
  }
}

void log_flush(struct logger *lg, int stream) {
  if (lg->len[stream] && lg->cri) cri_entry(lg, stream, lg->buf[stream], lg->len[stream], 1); /* the unterminated rest */
  else if (lg->len[stream]) entry(lg, stream, lg->buf[stream], lg->len[stream]);
  lg->len[stream] = 0;
}
