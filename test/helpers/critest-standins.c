/*
 * The programs critest's images hold, as small stand-ins built here (one static binary, chosen by
 * the name it runs under), so the suite needs no image from the internet:
 *   nginx             pid 1 named "nginx: master process ..." that writes /var/run/nginx.pid and
 *                     serves HTTP with busybox httpd on $NGINX_PORT (80), as the e2e nginx and
 *                     cri-tools' hostnet-nginx (12003) images do
 *   httpd-foreground  apache's start line on stderr ("Command line: 'httpd -D FOREGROUND'"), then
 *                     busybox httpd on port 80, as the e2e httpd image
 *   nnp               prints "Effective uid: N" (installed setuid root), as the e2e nonewprivs image
 *   pause             waits for SIGTERM/SIGINT and reaps children: the sandbox image for containerd
 * A parent stays as pid 1 because busybox httpd as pid 1 would ignore SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;
static volatile sig_atomic_t stop;

static void forward(int sig) {
  stop = 1;
  if (child > 0) kill(child, sig);
}

static void handle_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGQUIT, &sa, NULL);
}

/* Runs busybox httpd in the foreground as our child; returns its exit status. */
static int serve(const char *port, const char *root) {
  handle_signals(); /* before fork: exec resets them to default in the child */
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1;
  }
  if (pid == 0) {
    execl("/bin/busybox", "httpd", "-f", "-p", port, "-h", root, (char *)NULL);
    perror("exec /bin/busybox httpd");
    _exit(127);
  }
  child = pid;
  for (;;) {
    int status;
    pid_t p = wait(&status);
    if (p == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (p < 0 && errno != EINTR) return 1;
  }
}

static const char MASTER[] = "nginx: master process nginx -g daemon off;";

static int nginx(char **argv) {
  /* Run again under nginx's own process title (kept in /proc/1/cmdline); executing the file by
     its name (not /proc/self/exe) keeps the command name "nginx" that pidof looks for. */
  if (strcmp(argv[0], MASTER) != 0) {
    char *args[] = {(char *)MASTER, NULL};
    execv("/usr/sbin/nginx", args);
    perror("exec /usr/sbin/nginx");
    return 127;
  }
  const char *port = getenv("NGINX_PORT");
  char pid[32];
  int fd = open("/var/run/nginx.pid", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (write(fd, pid, (size_t)n) != n) perror("write /var/run/nginx.pid");
    close(fd);
  }
  return serve(port && *port ? port : "80", "/usr/share/nginx/html");
}

static int pause_forever(void) {
  handle_signals();
  while (!stop) {
    if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD) pause();
  }
  return 0;
}

int main(int argc, char **argv) {
  (void)argc;
  const char *name = strrchr(argv[0], '/');
  name = name ? name + 1 : argv[0];
  if (strncmp(name, "nginx", 5) == 0) return nginx(argv);
  if (strcmp(name, "httpd-foreground") == 0) {
    fprintf(stderr, "[mpm_event:notice] AH00489: Apache/2.4.39 (Unix) configured -- resuming normal operations\n"
                    "[core:notice] AH00094: Command line: 'httpd -D FOREGROUND'\n");
    return serve("80", "/usr/local/apache2/htdocs");
  }
  if (strcmp(name, "nnp") == 0) {
    printf("Effective uid: %d\n", (int)geteuid());
    return 0;
  }
  if (strcmp(name, "pause") == 0) return pause_forever();
  fprintf(stderr, "standins: unknown program name %s\n", name);
  return 2;
}
