/* berth-shim: executes plans computed by the TypeScript engine. It never decides policy:
 * every path, flag, limit and id arrives in the plan; this code only performs the steps in
 * order and reports exactly which one failed and why. */
#ifndef BERTH_SHIM_H
#define BERTH_SHIM_H

#include <stddef.h>

/* A plan is a list of records; a record is a list of fields, each '=' + value + NUL, ended by
 * a lone NUL. Field 0 names the step. */
struct record {
  int n;
  char **f;
};

struct plan {
  int n;
  struct record *r;
  char *buf; /* owns the field strings */
};

/* plan.c */
int plan_read_fd(int fd, int length_prefixed, struct plan *out);
long long num(const char *s);

/* report.c: one JSON object per line on the report fd (fd 3), conmon-style. */
void report_set_fd(int fd);
void report_raw(const char *json);
void report_error(const char *step, const char *arg, int err, const char *detail);
void die_report(const char *step, const char *arg, int err) __attribute__((noreturn));
size_t json_escape(char *out, size_t cap, const char *s);

/* container.c: runs in the cloned child; returns only on failure (errno set, *failed_step,
 * *failed_arg describe it). */
extern int console_fd; /* where the `tty` step sends the pty master */
int send_fd(int sock, int fd);
int container_setup_and_exec(struct plan *p, const char **failed_step, const char **failed_arg);

/* logger.c */
#define LOG_LINE_MAX 16384
struct logger {
  int fd, tee;
  const char *path;
  long long size, max_size; /* max_size 0: never rotate */
  int max_files;
  size_t len[2];
  char buf[2][LOG_LINE_MAX];
};
int log_open(struct logger *lg, const char *path, int tee, long long max_size, int max_files);
void log_feed(struct logger *lg, int stream, const char *data, size_t n);
void log_flush(struct logger *lg, int stream);

/* health.c: health checks run by the monitor */
#include <signal.h>
#include <sys/types.h>
struct health {
  int enabled, retries, streak, nlog, timed_out, out;
  long long interval, timeout, start_period, started, next, deadline, begun;
  pid_t pid;
  sigset_t child_mask;
  char plan[65536], file[4096], status[16], begin_iso[40], output[1024];
  size_t outlen, plan_len;
  char log[5][1400];
};
int health_init(struct health *h, struct plan *p, const sigset_t *child_mask);
void health_container_started(struct health *h);
int health_tick(struct health *h, pid_t init);
void health_read(struct health *h);
void health_done(struct health *h, int status);

/* oci.c: hooks and the exec fifo of the OCI runtime's create/start */
#include <sys/types.h>
extern pid_t host_pid;
extern int report_pipe;
extern int sync_fd;
int step_hooksync(void);
int run_hook(char **f, int n);
int run_hooks(struct plan *p, const char *where, const char **failed);
int step_fifo(const char *path);
int step_fifowait(void);
int send_console(const char *path, int master);

/* monitor.c */
int monitor_run(struct plan *p);

/* devices.c: load an eBPF device program (hex) and attach it to a cgroup v2 directory. */
int devcg_attach(const char *cgroup_dir, const char *hex);

/* fsops.c */
int fsops_main(const char *dir);

/* xattrs.c */
int xattrs_main(const char *dir);

/* layers.c */
int layers_main(int argc, char **argv);
int init_main(int argc, char **argv);

/* netns.c */
int netns_main(const char *op, const char *path);

/* util */
int open_in_root(int rootfd, const char *path, int flags, unsigned long long resolve);
int step_usernsmap(const char *uidmap, const char *gidmap);
int step_idmount(const char *src, const char *dst);
int step_usernsopen(const char *path);
int step_userns(void);
int rmtree(const char *path);

#endif
