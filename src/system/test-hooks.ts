/**
 * The one seam where a test can stand in for a crash: with LABCTL_TEST_HOOK=<point> in the
 * environment, the process kills itself with SIGKILL (no cleanup, no exit handlers) when it
 * reaches that point. The e2e tests use it to prove a run interrupted there recovers on the next
 * run. Points in use:
 * - `kill-before-reload`: configure, after the new configuration is swapped in, before the
 *   daemon is reloaded on it (src/config/steps/configure-file.ts);
 * - `kill-before-restart`: install, after the new binary is installed, before the daemon is
 *   restarted on it (src/install/steps/service.ts).
 */
export type CrashPoint = 'kill-before-reload' | 'kill-before-restart';

/**
 * The hooks that change what a step does rather than crash it. Points in use:
 * - `gpgv-without-signer`: install leaves the signer's key out of gpgv's keyring, so gpgv and
 *   OpenPGP.js disagree (src/source/verify-tarball.ts; e2e 01-install proves the install stops).
 */
export type TestHook = 'gpgv-without-signer';

export function testHookSet(hook: TestHook): boolean {
  return process.env.LABCTL_TEST_HOOK === hook;
}

export function crashPointForTests(point: CrashPoint): void {
  if (process.env.LABCTL_TEST_HOOK === point) process.kill(process.pid, 'SIGKILL');
}
