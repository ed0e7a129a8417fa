/**
 * `labctl install`: write-up Task 1 (1a-1d and the service) as one ordered list of steps. The
 * real run applies them; `--dry-run` and `--json` plans run their checks over the same list.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fetchVerifiedSource } from '../source/fetch.js';
import { sameAgreement } from '../source/gpgv-agreement.js';
import { extractTarball } from '../source/extract.js';
import { loadInstallState, saveInstallState, type InstallState } from '../state/install.js';
import { eximVersion } from '../system/exim.js';
import { makeTempDir, removePath } from '../system/files.js';
import { saveStepEvidence } from '../steps/evidence.js';
import { runSteps } from '../steps/runner.js';
import type { Step, StepObserver, StepRecord } from '../steps/types.js';
import { unifiedDiff } from '../ui/diff.js';
import { binaryOf, makefileOptions, type InstallContext, type InstallOptions } from './context.js';
import { checkExportTarget } from './export-build.js';
import { fromBuildOptions } from './prebuilt.js';
import { installRecord } from './record.js';
import { labSettings, renderMakefile, settingsTable } from './makefile.js';
import { advisories } from './steps/advisories.js';
import { deps } from './steps/deps.js';
import { exportBuildStep } from './steps/export.js';
import { extract } from './steps/extract.js';
import { build, makeInstall } from './steps/make.js';
import { EDITME_LABELS, makefile } from './steps/makefile.js';
import { preflight } from './steps/preflight.js';
import { sendmail } from './steps/sendmail.js';
import { service } from './steps/service.js';
import { signature } from './steps/signature.js';
import { source } from './steps/source.js';
import { user } from './steps/user.js';
import { version } from './steps/version.js';

export type { InstallOptions } from './context.js';

export const INSTALL_STEPS: readonly Step<InstallContext>[] = [preflight, source, signature, advisories, deps, user, extract, makefile, build, makeInstall, version, service, sendmail];
/** The steps of a run: --export-build adds one at the end. */
const stepsFor = (o: InstallOptions) => (o.exportBuild ? [...INSTALL_STEPS, exportBuildStep] : INSTALL_STEPS);

async function context(given: InstallOptions, observer: StepObserver, planning: boolean): Promise<InstallContext> {
  const { o, manifest } = await fromBuildOptions(given);
  // Refused before anything is built, not after.
  if (o.exportBuild) await checkExportTarget(path.resolve(o.exportBuild));
  const binary = binaryOf(o);
  const previous = await loadInstallState().catch(() => undefined);
  const bv = await eximVersion(binary);
  return {
    o,
    binary,
    note: (t) => observer.note(t),
    planning,
    installedBefore: bv.version,
    versionBefore: bv,
    previous,
    restartPending: previous?.restartPending,
    ...(manifest ? { prebuilt: manifest } : {}),
  };
}

/** The plan: every step's check, nothing written, no root needed. */
export async function planInstall(o: InstallOptions, observer: StepObserver): Promise<StepRecord[]> {
  return runSteps(stepsFor(o), await context(o, observer, true), 'check', observer);
}

/** The real run; returns the state it recorded in install.json. */
export async function install(o: InstallOptions, observer: StepObserver): Promise<InstallState> {
  const ctx = await context(o, observer, false);
  const records = await runSteps(stepsFor(o), ctx, 'apply', observer);
  // The daemon greets on the installed binary (the service step saw to it): no restart pending.
  const state = installRecord(ctx);
  if (!ctx.upToDate || ctx.restartPending) await saveInstallState(state);
  // Nothing built, but gpgv ran on files or keys install.json has no verdict for: keep it.
  else if (ctx.previous && state.gpgvAgreed && !sameAgreement(ctx.previous.gpgvAgreed, state.gpgvAgreed)) await saveInstallState({ ...ctx.previous, gpgvAgreed: state.gpgvAgreed });
  await saveStepEvidence('install', records);
  return state;
}

/** --show-makefile: the effective settings and the diff against EDITME, from the verified source. */
export async function showMakefile(o: InstallOptions, observer: StepObserver): Promise<string> {
  const src = await fetchVerifiedSource({ source: o.source, mirror: o.mirror, version: o.version, cacheDir: o.cacheDir, keyringFile: o.keyringFile, trusted: o.trusted, allowDowngrade: true, progress: false, log: (l) => observer.note(l) });
  const tmp = await makeTempDir('labctl-editme-');
  try {
    const dir = await extractTarball(src.tarballPath, tmp, { sha256: src.sha256 });
    const editme = await fs.readFile(path.join(dir, 'src/EDITME'), 'utf8');
    const text = await renderMakefile(editme, src.version, makefileOptions(o));
    return [`Local/Makefile settings for Exim ${src.version}:`, settingsTable(labSettings(makefileOptions(o))), '', unifiedDiff(editme, text, EDITME_LABELS)].join('\n');
  } finally {
    await removePath(tmp);
  }
}
