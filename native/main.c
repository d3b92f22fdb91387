/* berth-shim MODE ...
 *   run     plan on fd 3 (length-prefixed), reports as JSON lines on fd 3; exit status is the
 *           container's (125 setup failure, 126 cannot invoke, 127 not found, 128+n signal).
 *   fsops DIR   layer file operations from stdin (see fsops.c).
 *   xattrs DIR  every extended attribute under DIR, as records on stdout (see xattrs.c).
 *   netns add|del PATH   a persistent network namespace bind-mounted on PATH, or its removal (netns.c).
 *   layer mount|umount ...   layer images mounted on their directories, or unmounted (layers.c).
 *   peerread MS   waits until the peer of the socket on fd 0 has read what we sent (peerread.c).
 *   sysinfo VERSION MEMDIR MEMROOT PIDSDIR [REAPER]   the sysinfo a container would get, as JSON (sysinfo.c).
 *   views MNT DIR FILE...   the resource views' files of an lxcfs, prepared for containers to bind (views.c).
 * Run as docker-init (bound into a container for --init): the container's init (init.c). */
#include "shim.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libgen.h>

int main(int argc, char **argv) {
  if (argc >= 1 && !strcmp(basename(argv[0]), "docker-init")) return init_main(argc - 1, argv + 1);
  if (argc >= 2 && !strcmp(argv[1], "run")) {
    struct plan p;
    report_set_fd(3);
    /* Before anything else: from here on, every process we start runs the sealed copy. */
    if (exe_protect_and_reexec(argv) < 0) die_report("seal", "/proc/self/exe", errno);
    crash_init();
    if (plan_read_fd(3, 1, &p) < 0) die_report("plan", "fd 3", errno);
    const char *bad, *why;
    if (plan_check(&p, &bad, &why) < 0) { report_error("plan", bad, errno, why); return 125; }
    return monitor_run(&p);
  }
  if (argc >= 3 && !strcmp(argv[1], "fsops")) return fsops_main(argv[2]);
  if (argc >= 3 && !strcmp(argv[1], "xattrs")) return xattrs_main(argv[2]);
  if (argc >= 4 && !strcmp(argv[1], "netns")) return netns_main(argv[2], argv[3]);
  if (argc >= 3 && !strcmp(argv[1], "layer")) return layers_main(argc - 2, argv + 2);
  if (argc >= 3 && !strcmp(argv[1], "peerread")) return peerread_main(argv[2]);
  if (argc >= 6 && !strcmp(argv[1], "sysinfo")) return sysinfo_main(argc - 2, argv + 2);
  if (argc >= 2 && !strcmp(argv[1], "views")) return views_main(argc - 2, argv + 2);
  fprintf(stderr, "usage: berth-shim run | fsops DIR | xattrs DIR | netns add|del PATH | layer mount|umount ... | peerread MS | sysinfo ... | views ...\n");
  return 125;
}
