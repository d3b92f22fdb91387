/* The monitor's parts, each with its own state: monitor.c runs the init and restarts it,
 * io.c is the loop while it runs, attach.c the clients following its output, console.c the
 * handover of its terminal, teardown.c what is recorded and removed at the end. */
#ifndef BERTH_MONITOR_H
#define BERTH_MONITOR_H

#include "shim.h"
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* attach.c: attachsock PATH. Clients (berth attach, the API) connect there to follow the output,
 * framed as docker's multiplexed stream. */
#define ATTACH_MAX 8
struct attach {
  const char *path; /* NULL: no socket */
  int listener;
  int clients[ATTACH_MAX];
  char wrote[ATTACH_MAX];   /* the client sent input (the CRI's attach with stdin) */
  char in_done[ATTACH_MAX]; /* ... and then ended it: it only follows the output now */
};
int attach_open(struct attach *a, const char *path);
void attach_broadcast(struct attach *a, int stream, const char *data, size_t n);
void attach_accept(struct attach *a);
ssize_t attach_client_ready(struct attach *a, int i, char *buf, size_t cap);
void attach_answer(struct attach *a, int i, const char *msg);
/* A client's request to reopen the log file (src/engine/container/logfile.ts sends it). */
#define ATTACH_REOPEN_LOG "\0berth:reopen-log\n"
/* attach_client_ready's answer for that request. */
#define ATTACH_REQUEST (-2)

void attach_close(struct attach *a);

/* console.c: the pty master, sent by the init over a socket pair (SCM_RIGHTS) once it has made
 * its terminal; with a console socket (OCI --console-socket) handed on there. */
struct console {
  int sock;   /* our end of the pair; -1 once read */
  int master; /* the terminal we serve; -1 if none (yet, or handed on) */
  int handed; /* given to the console socket: the monitor has no terminal */
};
int console_open(struct console *c, int *child_end);
int console_receive(struct console *c, const char *consolesock, pid_t init);
int recv_fd(int sock);

/* sysinfo.c: sysinfo(2) answered from the container's cgroup, for the processes whose filter
 * sends it to us (the init's listener, handed over once it has made it). */
struct sysinfo;
struct sysinfo_view {
  int on, version;
  const char *mem, *memroot, *pids;
  const char *cpu; /* the file that joins the container's cpu cgroup (loads as lxcfs keeps them); NULL: the host's loads */
  pid_t reaper;  /* whose age is the uptime: 0 our init, -1 none (the host's pid namespace) */
  int listener;  /* the seccomp listener; -1 when none */
  int opened, memfd[16], nmem, pidsfd; /* the cgroup directories, opened at the first answer */
};
int sysinfo_setup(struct sysinfo_view *v, struct plan *p);
int sysinfo_fill(struct sysinfo_view *v, pid_t init, struct sysinfo *si);
void sysinfo_serve(struct sysinfo_view *v, pid_t init);
void sysinfo_linger(struct sysinfo_view *v, pid_t init);

/* io.c: while the init runs. Forwards signals, copies output into the log and to clients, feeds
 * the terminal our stdin, runs health probes, and notices the exit. */
struct io {
  pid_t init;
  int sfd;              /* signalfd: SIGCHLD and the forwarded signals */
  int out, err, master; /* output pipes, or the terminal; -1 when closed */
  int in;               /* our stdin, fed to the terminal or the stdin pipe; -1 if not */
  int *in_pipe;         /* the write end of the init's stdin pipe (stdinpipe); -1 if none */
  int in_hold;          /* the stdin pipe outlives our input's end */
  int nodetach;         /* no Ctrl-P Ctrl-Q detaching */
  int ctrl_p;           /* the last byte from stdin was Ctrl-P */
  int *attached;        /* our stdio still belongs to a client */
  struct logger *lg;    /* NULL: output goes to our stdout/stderr while attached */
  struct attach *at;
  struct health *hc;
  struct sysinfo_view *view;
  const char *winsize, *initpidfile;
};
int io_loop(struct io *io);

/* teardown.c */
void write_exit_file(const char *path, const char *json);
long oom_kills(const char *path);
void teardown(struct plan *p);

#endif
