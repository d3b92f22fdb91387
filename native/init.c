/* berth-shim as a container's init (docker's --init; bound into the container as
 * /sbin/docker-init and run as `docker-init -- CMD ARGS...`): pid 1 starts the command as its
 * child, forwards every signal it gets to it, reaps every zombie the container's orphans leave,
 * and exits with the command's status (128+n for a signal), as tini does. */
#include "shim.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int init_main(int argc, char **argv) {
  int first = argc >= 1 && !strcmp(argv[0], "--") ? 1 : 0;
  if (first >= argc) {
    fprintf(stderr, "docker-init: usage: docker-init -- COMMAND [ARGS...]\n");
    return 125;
  }
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t child = fork();
  if (child < 0) {
    perror("docker-init: fork");
    return 125;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    /* Its own process group, foreground on the terminal if there is one: ^C reaches it. */
    setpgid(0, 0);
    if (isatty(0)) {
      signal(SIGTTOU, SIG_IGN);
      tcsetpgrp(0, getpid());
      signal(SIGTTOU, SIG_DFL);
    }
    execvp(argv[first], argv + first);
    int e = errno;
    fprintf(stderr, "docker-init: exec %s failed: %s\n", argv[first], strerror(e));
    _exit(e == ENOENT ? 127 : 126);
  }
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    int status;
    for (pid_t w; (w = waitpid(-1, &status, WNOHANG)) > 0;) {
      if (w != child) continue; /* an orphan's zombie: reaped, nothing more */
      /* The command is gone: what it left behind goes too, as when a container's pid 1 exits
       * (only as pid 1 of its own namespace: with the host's pids, -1 would be everyone). */
      if (getpid() == 1) {
        kill(-1, SIGKILL);
        while (waitpid(-1, NULL, 0) > 0) {}
      }
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
}
