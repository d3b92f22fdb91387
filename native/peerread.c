/* berth-shim peerread MS: waits until the peer of the unix stream socket on fd 0 has read all
 * we sent on it (its send queue is empty: SIOCOUTQ counts what the peer has not consumed yet),
 * at most MS milliseconds. The API daemon asks this after a `101 UPGRADED`: some clients (the
 * python docker SDK) read those headers through a buffered reader and then read the raw socket
 * under it, so bytes that were already queued behind the headers would be lost to them.
 * Exit 0: read; 1: not within MS; 2: not a socket we can ask. */
#define _GNU_SOURCE
#include "shim.h"
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <time.h>

int peerread_main(const char *ms) {
  long long left_us = num(ms) * 1000;
  for (;;) {
    int queued = 0;
    if (ioctl(0, SIOCOUTQ, &queued) < 0) return 2;
    if (queued == 0) return 0;
    if (left_us <= 0) return 1;
    struct timespec step = { 0, 200 * 1000 }; /* 0.2 ms: a client usually reads within a few */
    nanosleep(&step, NULL);
    left_us -= 200;
  }
}
