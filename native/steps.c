/* The steps a plan may hold: one row each, with its argument count, where it runs and, for the
 * container's init, its handler. src/runtime/steps.ts has the same table for the plan builders;
 * test/unit/steps.test.ts reads this file and checks that the two agree, so keep one row per
 * line in the form below. */
#include "shim.h"
#include <errno.h>
#include <string.h>

static const struct step_def steps[] = {
  /* The monitor, before the clone. */
  { "ns", 1, 1, STEP_PARENT, NULL },
  { "pidns", 1, 1, STEP_PARENT, NULL },
  { "console", 1, 1, STEP_PARENT, NULL },
  { "stdin", 1, 1, STEP_PARENT, NULL },
  { "stdinpipe", 1, 1, STEP_PARENT, NULL },
  { "log", 2, 5, STEP_PARENT, NULL },
  { "attachsock", 1, 1, STEP_PARENT, NULL },
  { "devcg", 2, 2, STEP_PARENT, NULL },
  { "shm", 2, 2, STEP_PARENT, NULL },
  { "health", 6, 6, STEP_PARENT, NULL },
  { "handoff", 1, 1, STEP_PARENT, NULL },
  { "sysinfo", 4, 5, STEP_PARENT, NULL },
  { "sysloads", 1, 1, STEP_PARENT, NULL },
  /* The monitor, while the container runs and after it exited. */
  { "winsize", 1, 1, STEP_MONITOR, NULL },
  { "nodetach", 1, 1, STEP_MONITOR, NULL },
  { "consolesock", 1, 1, STEP_MONITOR, NULL },
  { "initpidfile", 1, 1, STEP_MONITOR, NULL },
  { "restart", 1, 1, STEP_MONITOR, NULL },
  { "restartmax", 1, 1, STEP_MONITOR, NULL },
  { "restartfile", 1, 1, STEP_MONITOR, NULL },
  { "stopmarker", 1, 1, STEP_MONITOR, NULL },
  { "pidfile", 1, 1, STEP_MONITOR, NULL },
  { "oom", 1, 1, STEP_MONITOR, NULL },
  { "exitfile", 1, 1, STEP_MONITOR, NULL },
  { "rmdir", 1, 2, STEP_MONITOR, NULL },
  { "rmscope", 1, 1, STEP_MONITOR, NULL },
  { "rmtree", 1, 1, STEP_MONITOR, NULL },
  { "umount", 1, 1, STEP_MONITOR, NULL },
  { "release", 0, -1, STEP_MONITOR, NULL },
  /* The init, with the host's filesystem still in view. */
  { "join", 1, 1, STEP_BEFORE_PIVOT, do_join },
  { "cgroupns", 0, 0, STEP_BEFORE_PIVOT, do_cgroupns },
  { "setns", 1, 2, STEP_BEFORE_PIVOT, do_setns },
  { "usernsmap", 2, 2, STEP_BEFORE_PIVOT, do_usernsmap },
  { "usernsopen", 1, 1, STEP_BEFORE_PIVOT, do_usernsopen },
  { "idmount", 2, 2, STEP_BEFORE_PIVOT, do_idmount },
  { "treeopen", 2, 2, STEP_BEFORE_PIVOT, do_treeopen },
  { "mount", 5, 5, STEP_BEFORE_PIVOT, do_mount },
  { "root", 1, 1, STEP_BEFORE_PIVOT, do_root },
  { "mountin", 5, 5, STEP_BEFORE_PIVOT, do_mountin },
  { "bindin", 4, 4, STEP_BEFORE_PIVOT, do_bindin },
  { "treein", 4, 4, STEP_BEFORE_PIVOT, do_treein },
  { "propin", 2, 2, STEP_BEFORE_PIVOT, do_propin },
  { "sysctlin", 2, 2, STEP_BEFORE_PIVOT, do_sysctlin },
  { "mknodin", 4, 6, STEP_BEFORE_PIVOT, do_mknodin },
  { "symlinkin", 2, 2, STEP_BEFORE_PIVOT, do_symlinkin },
  { "maskin", 1, 1, STEP_BEFORE_PIVOT, do_maskin },
  { "roin", 1, 1, STEP_BEFORE_PIVOT, do_roin },
  { "hooksync", 0, 0, STEP_BEFORE_PIVOT, do_hooksync },
  { "fifo", 1, 1, STEP_BEFORE_PIVOT, do_fifo },
  /* Either side of the pivot (the monitor runs the hooks whose WHERE is "monitor"). */
  { "hook", 5, -1, STEP_CHILD, do_hook },
  { "propagation", 1, 1, STEP_CHILD, do_propagation },
  { "pivot", 0, 0, STEP_PIVOT, do_pivot },
  { "chroot", 0, 0, STEP_PIVOT, do_chroot },
  /* The init, inside its root. */
  { "loopback", 0, 0, STEP_AFTER_PIVOT, do_loopback },
  { "hostname", 1, 1, STEP_AFTER_PIVOT, do_hostname },
  { "domainname", 1, 1, STEP_AFTER_PIVOT, do_domainname },
  { "rlimit", 3, 3, STEP_AFTER_PIVOT, do_rlimit },
  { "oomscore", 1, 1, STEP_AFTER_PIVOT, do_oomscore },
  { "userns", 0, 0, STEP_AFTER_PIVOT, do_userns },
  { "tty", 3, 3, STEP_AFTER_PIVOT, do_tty },
  { "cwd", 1, 1, STEP_AFTER_PIVOT, do_cwd },
  { "umask", 1, 1, STEP_AFTER_PIVOT, do_umask },
  { "fifowait", 0, 0, STEP_AFTER_PIVOT, do_fifowait },
  { "seccomp", 1, 1, STEP_AFTER_PIVOT, do_seccomp },
  { "notify", 1, 1, STEP_AFTER_PIVOT, do_notify },
  { "capbset", 1, 1, STEP_AFTER_PIVOT, do_capbset },
  { "keepcaps", 0, 0, STEP_AFTER_PIVOT, do_keepcaps },
  { "user", 3, 3, STEP_AFTER_PIVOT, do_user },
  { "capset", 3, 3, STEP_AFTER_PIVOT, do_capset },
  { "ambient", 1, 1, STEP_AFTER_PIVOT, do_ambient },
  { "nonewprivs", 0, 0, STEP_AFTER_PIVOT, do_nonewprivs },
  { "env", 1, 1, STEP_AFTER_PIVOT, do_env },
  { "hold", 0, 0, STEP_AFTER_PIVOT, do_hold },
  { "exec", 0, -1, STEP_AFTER_PIVOT, do_exec },
};

const struct step_def *step_find(const char *name) {
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
    if (!strcmp(steps[i].name, name)) return &steps[i];
  return NULL;
}

/* The whole plan, checked by the monitor before it clones anything: a plan the engine got wrong
 * fails here with the step and the reason, not half-way through the init's setup. */
int plan_check(struct plan *p, const char **bad_step, const char **why) {
  int pivot = -1;
  for (int i = 0; i < p->n; i++) {
    struct record *r = &p->r[i];
    const struct step_def *d = step_find(r->f[0]);
    int args = r->n - 1;
    *bad_step = r->f[0];
    *why = NULL;
    if (!d) *why = "unknown step";
    else if (args < d->min || (d->max >= 0 && args > d->max)) *why = "wrong number of arguments";
    else if (d->phase == STEP_PIVOT && pivot >= 0) *why = "a second pivot";
    else if (d->phase == STEP_PIVOT) pivot = i;
    else if (d->phase == STEP_BEFORE_PIVOT && pivot >= 0) *why = "after the pivot";
    if (*why) { errno = EINVAL; return -1; }
  }
  for (int i = 0; i < pivot; i++) {
    if (step_find(p->r[i].f[0])->phase != STEP_AFTER_PIVOT) continue;
    *bad_step = p->r[i].f[0];
    *why = "before the pivot";
    errno = EINVAL;
    return -1;
  }
  return 0;
}
