/**
 * install.json as labctl install writes it (src/state/install.ts owns the file): the record of a
 * build, and the "restart pending" mark that spans the window in which the binary is replaced
 * but the daemon still runs the old one.
 *
 *   make install   marked before it starts (the record before it, plus the mark)
 *   exim -bV ok    the new build recorded, still marked: a rerun finds nothing to rebuild
 *   daemon greets  on the new binary: the record saved without the mark (src/install/index.ts)
 *
 * A run killed anywhere in between leaves the mark, and its rerun restarts the daemon.
 */
import { saveInstallState, type InstallState } from '../state/install.js';
import { buildPaths, makefileOptions, releaseOf, type InstallContext } from './context.js';
import { labSettings } from './makefile.js';

/** The record of this run's build: what was built, from what, and where it went. */
export function installRecord(ctx: InstallContext): InstallState {
  const r = releaseOf(ctx);
  const upToDate = !!ctx.upToDate;
  const previous = ctx.previous;
  // A build this run did not make keeps the record of the run that made it.
  const ccache = upToDate ? previous?.ccache : ctx.ccache;
  return {
    version: r.version,
    inputsKey: ctx.inputsKey!,
    tarballUrl: r.tarballUrl,
    signature: r.signature,
    ...(r.gpgvAgreement ? { gpgvAgreed: r.gpgvAgreement } : {}),
    settings: labSettings(makefileOptions(ctx.o)).map(({ name, op, value }) => ({ name, op, value })),
    binary: ctx.binary,
    configureFile: ctx.o.configureFile,
    buildLog: buildPaths(r.version).buildLog,
    installedAt: upToDate && previous ? previous.installedAt : new Date().toISOString(),
    origin: r.origin,
    ...(ccache ? { ccache } : {}),
    previousVersion: !upToDate && ctx.installedBefore && ctx.installedBefore !== r.version ? ctx.installedBefore : previous?.previousVersion,
  };
}

/**
 * Before make install: the state keeps describing the build that is installed (or, on a first
 * install, this one with no inputs key, so nothing counts as built) and carries the mark.
 */
export async function markRestartPending(ctx: InstallContext): Promise<void> {
  ctx.restartPending = { version: releaseOf(ctx).version, inputsKey: ctx.inputsKey!, since: new Date().toISOString() };
  const base = ctx.previous ?? { ...installRecord(ctx), inputsKey: '' };
  await saveInstallState({ ...base, restartPending: ctx.restartPending });
}

/** After exim -bV accepted the new binary: the new build is recorded, the restart still pending. */
export async function recordInstalledBinary(ctx: InstallContext): Promise<void> {
  await saveInstallState({ ...installRecord(ctx), restartPending: ctx.restartPending });
}

/** The binary was pointed back at the release the daemon runs: the state goes back to what it said before. */
export async function restoreRecord(ctx: InstallContext): Promise<void> {
  if (ctx.previous) await saveInstallState(ctx.previous);
  ctx.restartPending = ctx.previous?.restartPending;
}

