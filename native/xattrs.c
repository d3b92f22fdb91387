/* berth-shim xattrs DIR: every extended attribute under DIR (without following symlinks), as
 * records on stdout: path (relative), name, value in hex. Node cannot read xattrs, and a
 * committed layer needs them: overlayfs marks opaque directories with one, and file
 * capabilities live in security.capability. */
#define _GNU_SOURCE
#include "shim.h"
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

static size_t root_len;

static void field(const char *s) {
  putchar('=');
  fputs(s, stdout);
  putchar('\0');
}

static int visit(const char *p, const struct stat *sb, int type, struct FTW *ftw) {
  (void)sb; (void)type; (void)ftw;
  char names[65536];
  ssize_t n = llistxattr(p, names, sizeof names);
  if (n <= 0) return 0;
  const char *rel = p[root_len] == '/' ? p + root_len + 1 : ".";
  for (char *name = names; name < names + n; name += strlen(name) + 1) {
    unsigned char value[65536];
    ssize_t len = lgetxattr(p, name, value, sizeof value);
    if (len < 0) continue;
    field(rel);
    field(name);
    putchar('=');
    for (ssize_t i = 0; i < len; i++) printf("%02x", value[i]);
    putchar('\0');
    putchar('\0');
  }
  return 0;
}

int xattrs_main(const char *dir) {
  root_len = strlen(dir);
  if (nftw(dir, visit, 32, FTW_PHYS | FTW_MOUNT) < 0) {
    fprintf(stderr, "berth-shim: xattrs %s: %s\n", dir, strerror(errno));
    return 1;
  }
  return fflush(stdout) == 0 ? 0 : 1;
}
