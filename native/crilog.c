/* The CRI's container log format, which the kubelet reads and rotates:
 *   <RFC3339Nano UTC time> <stdout|stderr> <F|P> <content>\n
 * one record per line of output, without its newline; P marks a piece of a line (a line longer
 * than the logger's buffer, or what was left unterminated when the stream ended), F the end of
 * one. The kubelet rotates by renaming the file and asking for a reopen (ReopenContainerLog):
 * log_reopen opens the path again and moves over to the new file. */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

void cri_entry(struct logger *lg, int stream, const char *p, size_t n, int partial) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char head[96];
  int hl = snprintf(head, sizeof head, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ %s %c ", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec, stream ? "stderr" : "stdout", partial ? 'P' : 'F');
  /* One write per record (O_APPEND): a reader never sees half a header before its content. */
  struct iovec iov[3] = { { head, (size_t)hl }, { (void *)p, n }, { "\n", 1 } };
  size_t total = (size_t)hl + n + 1, done = 0;
  while (done < total) {
    ssize_t w = writev(lg->fd, iov, 3);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return; /* a full disk must not stop the container */
    done += (size_t)w;
    /* A short write (rare: a full file system): carry on after what was written. */
    for (int i = 0; i < 3 && w > 0; i++) {
      size_t k = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
      iov[i].iov_base = (char *)iov[i].iov_base + k;
      iov[i].iov_len -= k;
      w -= (ssize_t)k;
    }
  }
  lg->size += (long long)total;
}

/* The path again (the kubelet renamed the file away): records go to the new file from now on;
 * the old descriptor is kept when the path cannot be opened, so no output is lost. */
int log_reopen(struct logger *lg) {
  int fd = open(lg->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return -1;
  fchmod(fd, 0640); /* whatever our umask */
  struct stat st;
  lg->size = fstat(fd, &st) == 0 ? st.st_size : 0;
  close(lg->fd);
  lg->fd = fd;
  return 0;
}
