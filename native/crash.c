/* Test-only crash points, the shim's side of src/util/crash.ts: with BERTH_TEST_CRASH=1 and
 * BERTH_CRASH_AT=shim:<step> in its environment (the engine passes them on only when it has
 * them itself), the monitor SIGKILLs itself when it reaches <step>, so tests can check what a
 * monitor dying there leaves (test/integration/crashpoints-shim.test.ts). Both are needed, and
 * both are taken out of the environment at once: nothing the monitor starts inherits them. */
#define _GNU_SOURCE
#include "shim.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char crash_at[64];

void crash_init(void) {
  const char *on = getenv("BERTH_TEST_CRASH"), *at = getenv("BERTH_CRASH_AT");
  if (on && !strcmp(on, "1") && at && !strncmp(at, "shim:", 5) && strlen(at + 5) < sizeof crash_at)
    strcpy(crash_at, at + 5);
  unsetenv("BERTH_TEST_CRASH");
  unsetenv("BERTH_CRASH_AT");
}

void crash_point(const char *step) {
  if (crash_at[0] && !strcmp(crash_at, step)) kill(getpid(), SIGKILL);
}
