/* pause: the process that holds a CRI pod sandbox's namespaces (berth's own pause image, /pause).
 * As pid 1 of the pod's pid namespace it reaps the zombies other containers' orphans leave
 * there; it does nothing else and exits 0 on SIGTERM or SIGINT (a pod is stopped with those).
 * Signals are blocked and taken with sigwaitinfo: a blocked signal is queued even for a pid 1,
 * whose default dispositions the kernel would otherwise ignore. Built apart from the shim,
 * static, so the image needs no other file. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "-v")) {
    puts("berth pause");
    return 0;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
    perror("pause: sigprocmask");
    return 1;
  }
  for (;;) {
    int sig = sigwaitinfo(&set, NULL);
    if (sig < 0) {
      if (errno == EINTR) continue;
      perror("pause: sigwaitinfo");
      return 1;
    }
    if (sig == SIGTERM || sig == SIGINT) return 0;
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
  }
}
