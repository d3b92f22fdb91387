/* Health checks, run by the monitor so that they need no daemon. A probe is the shim itself,
 * started again (/proc/self/exe run) with an exec plan the engine wrote at start; "%PID%" in it
 * becomes the current init's pid (it changes when a restart policy restarts the container).
 * Results go to a JSON file the engine reads: status, failing streak, the last five probes. */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void iso_now(char *out, size_t n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  /* strftime for the date: snprintf's %d of each field could, as far as the compiler knows, be
   * 11 characters wide, and it warns of truncation. */
  size_t len = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + len, n - len, ".%09uZ", (unsigned)(ts.tv_nsec % 1000000000));
}

/* health PLANFILE INTERVAL_MS TIMEOUT_MS RETRIES START_PERIOD_MS HEALTHFILE */
int health_init(struct health *h, struct plan *p, const sigset_t *child_mask) {
  /* h is zero-initialised static storage: no memset, so its large buffers are never touched
   * (and cost no memory) in the many containers without a health check. */
  h->pid = -1;
  h->out = -1;
  for (int i = 0; i < p->n; i++) {
    struct record *r = &p->r[i];
    if (r->n < 7 || strcmp(r->f[0], "health")) continue;
    int fd = open(r->f[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, h->plan, sizeof h->plan - 1);
    close(fd);
    if (n <= 0) return -1;
    h->plan[n] = '\0';
    h->plan_len = (size_t)n; /* the plan holds NULs: its length, not strlen */
    h->interval = num(r->f[2]);
    h->timeout = num(r->f[3]);
    h->retries = (int)num(r->f[4]);
    h->start_period = num(r->f[5]);
    snprintf(h->file, sizeof h->file, "%s", r->f[6]);
    h->child_mask = *child_mask;
    h->enabled = 1;
    snprintf(h->status, sizeof h->status, "starting");
  }
  return 0;
}

void health_container_started(struct health *h) {
  h->started = now_ms();
  h->next = h->started + h->interval;
}

static void save(struct health *h) {
  char json[16384];
  size_t o = (size_t)snprintf(json, sizeof json, "{\"Status\":\"%s\",\"FailingStreak\":%d,\"Log\":[", h->status, h->streak);
  for (int i = 0; i < h->nlog; i++) o += (size_t)snprintf(json + o, sizeof json - o, "%s%s", i ? "," : "", h->log[i]);
  snprintf(json + o, sizeof json - o, "]}");
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", h->file);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, json, strlen(json)) >= 0) rename(tmp, h->file);
  close(fd);
}

/* Starts a probe when one is due; returns the poll timeout (ms) until the next event. */
int health_tick(struct health *h, pid_t init) {
  if (!h->enabled || init <= 0) return -1;
  long long t = now_ms();
  if (h->pid > 0) {
    if (t >= h->deadline) { kill(h->pid, SIGKILL); h->timed_out = 1; }
    return (int)(h->deadline > t ? h->deadline - t : 10);
  }
  if (t < h->next) return (int)(h->next - t);
  /* The plan with the init's pid filled in, length-prefixed as `berth-shim run` reads it. */
  char plan[sizeof h->plan + 64], pidstr[16];
  size_t o = 0;
  snprintf(pidstr, sizeof pidstr, "%d", init);
  for (size_t i = 0; i < h->plan_len && o < sizeof plan - 16;) {
    if (i + 5 <= h->plan_len && !memcmp(h->plan + i, "%PID%", 5)) { o += (size_t)snprintf(plan + o, sizeof plan - o, "%s", pidstr); i += 5; }
    else plan[o++] = h->plan[i++];
  }
  int sv[2], out[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return (int)h->interval;
  if (pipe2(out, O_CLOEXEC) < 0) { close(sv[0]); close(sv[1]); return (int)h->interval; }
  pid_t pid = fork();
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &h->child_mask, NULL);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    dup2(sv[1], 3);
    execl("/proc/self/exe", "berth-shim", "run", (char *)NULL);
    _exit(127);
  }
  close(sv[1]);
  close(out[1]);
  char head[32];
  int hl = snprintf(head, sizeof head, "%zu\n", o);
  if (write(sv[0], head, (size_t)hl) < 0 || write(sv[0], plan, o) < 0) {}
  close(sv[0]); /* its reports are not needed: its exit status is the probe's */
  h->pid = pid;
  h->out = out[0];
  h->outlen = 0;
  h->timed_out = 0;
  h->begun = t;
  iso_now(h->begin_iso, sizeof h->begin_iso);
  h->deadline = t + h->timeout;
  return (int)h->timeout;
}

void health_read(struct health *h) {
  char buf[4096];
  ssize_t n = read(h->out, buf, sizeof buf);
  if (n <= 0) { close(h->out); h->out = -1; return; }
  size_t room = sizeof h->output - 1 - h->outlen;
  if ((size_t)n > room) n = (ssize_t)room;
  memcpy(h->output + h->outlen, buf, (size_t)n);
  h->outlen += (size_t)n;
}

/* A probe exited: record it, update the status, schedule the next one. */
void health_done(struct health *h, int status) {
  while (h->out >= 0) health_read(h);
  h->output[h->outlen] = '\0';
  int code = h->timed_out ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  long long t = now_ms();
  if (code == 0) {
    h->streak = 0;
    snprintf(h->status, sizeof h->status, "healthy");
  } else if (t - h->started >= h->start_period) {
    /* Failures during the start period do not count (docker). */
    if (++h->streak >= h->retries) snprintf(h->status, sizeof h->status, "unhealthy");
  }
  char end[40], out[1100];
  iso_now(end, sizeof end);
  json_escape(out, sizeof out, h->timed_out ? "Health check exceeded timeout" : h->output);
  if (h->nlog == 5) { memmove(h->log[0], h->log[1], sizeof h->log[0] * 4); h->nlog = 4; }
  snprintf(h->log[h->nlog++], sizeof h->log[0], "{\"Start\":\"%s\",\"End\":\"%s\",\"ExitCode\":%d,\"Output\":\"%s\"}", h->begin_iso, end, code, out);
  h->pid = -1;
  h->next = t + h->interval;
  save(h);
}
