// Test-only crash points: with BERTH_TEST_CRASH=1 and BERTH_CRASH_AT=<step>, the process kills
// itself with SIGKILL when it reaches that named step, so tests can check that whatever a crash
// at that step leaves, the next command finds consistent (test/integration/crashpoints.test.ts).
// Both variables are needed, so a stray BERTH_CRASH_AT in a user's environment does nothing.
const at = process.env.BERTH_TEST_CRASH === '1' ? process.env.BERTH_CRASH_AT : undefined;

export function crashPoint(step: string): void {
  if (at === step) process.kill(process.pid, 'SIGKILL');
}

/**
 * The environment the shim starts with (it gets none of ours): the switch again when its step is
 * one of the shim's (shim:<step>, native/crash.c), so a test can kill a container's monitor too.
 */
export function shimCrashEnv(): NodeJS.ProcessEnv {
  return at?.startsWith('shim:') ? { BERTH_TEST_CRASH: '1', BERTH_CRASH_AT: at } : {};
}
