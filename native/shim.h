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
/* A plan with `handoff`: the process is our caller's once it is created (or, for an exec,
 * running), the monitor leaves, and nothing kills the process when it does (monitor.c). */
extern int handoff;
void report_error(const char *step, const char *arg, int err, const char *detail);
void die_report(const char *step, const char *arg, int err) __attribute__((noreturn));
size_t json_escape(char *out, size_t cap, const char *s);

/* steps.c: the table of plan steps (src/runtime/steps.ts is its twin, checked by a unit test). */
enum step_phase { STEP_PARENT, STEP_MONITOR, STEP_CHILD, STEP_BEFORE_PIVOT, STEP_PIVOT, STEP_AFTER_PIVOT };
struct step_def {
  const char *name;
  int min, max; /* arguments after the name; max -1: no limit */
  enum step_phase phase;
  /* An init step's handler (container.c); NULL for the monitor's records. */
  int (*run)(struct record *r, const char **failed_arg);
};
const struct step_def *step_find(const char *name);
int plan_check(struct plan *p, const char **bad_step, const char **why);
#define STEP_HANDLER(name) int do_##name(struct record *r, const char **failed_arg);
STEP_HANDLER(join) STEP_HANDLER(cgroupns) STEP_HANDLER(setns) STEP_HANDLER(usernsmap) STEP_HANDLER(usernsopen)
STEP_HANDLER(idmount) STEP_HANDLER(mount) STEP_HANDLER(root) STEP_HANDLER(mountin) STEP_HANDLER(bindin)
STEP_HANDLER(propin) STEP_HANDLER(sysctlin) STEP_HANDLER(mknodin) STEP_HANDLER(symlinkin) STEP_HANDLER(maskin)
STEP_HANDLER(roin) STEP_HANDLER(hooksync) STEP_HANDLER(fifo) STEP_HANDLER(hook) STEP_HANDLER(propagation)
STEP_HANDLER(pivot) STEP_HANDLER(chroot) STEP_HANDLER(loopback) STEP_HANDLER(hostname) STEP_HANDLER(domainname)
STEP_HANDLER(rlimit) STEP_HANDLER(oomscore) STEP_HANDLER(userns) STEP_HANDLER(tty) STEP_HANDLER(cwd)
STEP_HANDLER(umask) STEP_HANDLER(fifowait) STEP_HANDLER(seccomp) STEP_HANDLER(capbset) STEP_HANDLER(keepcaps)
STEP_HANDLER(user) STEP_HANDLER(capset) STEP_HANDLER(ambient) STEP_HANDLER(nonewprivs) STEP_HANDLER(env)
STEP_HANDLER(hold) STEP_HANDLER(exec) STEP_HANDLER(treeopen) STEP_HANDLER(treein) STEP_HANDLER(notify)
#undef STEP_HANDLER

/* The init's line to its monitor, handed to it once, right after the clone. */
#include <sys/types.h>
struct monitor_link {
  pid_t host_pid;  /* the init's pid as the host sees it (hooks get it in their state) */
  int report_pipe; /* the error pipe: a 0x01 byte means "created", 0x02 "run the hooks" */
  int sync_fd;     /* the monitor's sync pipe, read end */
  int console_fd;  /* where the `tty` step sends the pty master */
  int notify_fd;   /* where the `notify` step sends its seccomp listener; -1: nobody serves it */
};

/* container.c: runs in the cloned child; returns only on failure (errno set, *failed_step,
 * *failed_arg describe it). */
int send_fd(int sock, int fd);
/* Our stdio onto /dev/null (a client that left). */
void stdio_to_null(void);
int container_setup_and_exec(struct plan *p, const struct monitor_link *link, const char **failed_step, const char **failed_arg);

/* logger.c */
#define LOG_LINE_MAX 16384
struct logger {
  int fd, tee;
  int cri; /* the CRI's format (crilog.c) instead of json-file: one record per line, no rotation */
  const char *path;
  long long size, max_size; /* max_size 0: never rotate */
  int max_files;
  size_t len[2];
  char buf[2][LOG_LINE_MAX];
};
int log_open(struct logger *lg, const char *path, int tee, long long max_size, int max_files, int cri);
void log_feed(struct logger *lg, int stream, const char *data, size_t n);
void log_flush(struct logger *lg, int stream);
/* crilog.c: the kubelet's log format, and reopening the file it renamed away. */
void cri_entry(struct logger *lg, int stream, const char *p, size_t n, int partial);
int log_reopen(struct logger *lg);

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
int step_hooksync(int report_pipe, int sync_fd);
int run_hook(char **f, int n, pid_t host_pid);
int run_hooks(struct plan *p, const char *where, pid_t host_pid, const char **failed);
int step_fifo(const char *path);
int step_fifowait(int report_pipe);
int send_console(const char *path, int master);

/* sealed.c: the shim runs a plan only from a copy of itself that nobody can write. */
int exe_is_protected(void);
int exe_protect_and_reexec(char **argv);

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

/* sysinfo.c: the monitor's sysinfo answer for a cgroup, printed (tests). */
int sysinfo_main(int argc, char **argv);
/* views.c: the resource views' files of an lxcfs, bound once for every start to bind from. */
int views_main(int argc, char **argv);

/* peerread.c */
int peerread_main(const char *ms);

/* netns.c */
int netns_main(const char *op, const char *path);

/* util */
int open_in_root(int rootfd, const char *path, int flags, unsigned long long resolve);
int step_usernsmap(const char *uidmap, const char *gidmap);
int step_idmount(const char *src, const char *dst);
int step_usernsopen(const char *path);
int step_userns(void);
int rmtree(const char *path);

/* crash.c: test-only crash points (BERTH_TEST_CRASH=1, BERTH_CRASH_AT=shim:<step>). */
void crash_init(void);
void crash_point(const char *step);

#endif
