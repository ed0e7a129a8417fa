/**
 * `labctl uninstall`: labctl's Exim removed as install put it there, in three steps that each
 * know when they are done, so a second run changes nothing and an interrupted one is finished by
 * the next. What the lab's work lives in is kept (src/uninstall/kept.ts).
 */
import { EXIT, LabError } from '../errors.js';
import { loadState as loadLabState } from '../lab/state.js';
import { runSteps } from '../steps/runner.js';
import type { Step, StepObserver, StepRecord } from '../steps/types.js';
import { dependentsIn, MTA_PACKAGE, mtaPackagePresent, mtaPackageRemovalRefusal } from '../system/mta-package.js';
import { uninstallContext, type UninstallContext } from './context.js';
import { keptFacts, keptItems, type KeptItem } from './kept.js';
import { mtaPackage } from './steps/package.js';
import { programs } from './steps/programs.js';
import { service } from './steps/service.js';

export const UNINSTALL_STEPS: readonly Step<UninstallContext>[] = [service, mtaPackage, programs];

export interface UninstallResult {
  records: StepRecord[];
  kept: KeptItem[];
  queued?: number;
}

const isRoot = () => process.getuid?.() === 0;

/**
 * What would stop the run, found before any step changes anything (so no daemon is left stopped
 * by a run that cannot finish): the lab's hosts run this Exim, or dpkg would refuse to remove the
 * package because another package needs a mail-transport-agent.
 */
async function blockers(): Promise<LabError[]> {
  const found: LabError[] = [];
  if (await loadLabState()) found.push(new LabError("the lab is up: its hosts run labctl's Exim", 'run labctl lab down first, then labctl uninstall', EXIT.preflight));
  if (await mtaPackagePresent()) {
    const refusal = await mtaPackageRemovalRefusal();
    if (refusal) {
      const names = dependentsIn(refusal);
      const first = names.length ? `apt-get remove ${names.join(' ')}` : 'remove the package that needs a mail-transport-agent';
      found.push(new LabError(`dpkg would not remove ${MTA_PACKAGE}: ${refusal}`, `${first} first (or install another MTA, which replaces ${MTA_PACKAGE}), then run labctl uninstall again`, EXIT.preflight));
    }
  }
  return found;
}

async function finish(ctx: UninstallContext, records: StepRecord[]): Promise<UninstallResult> {
  const facts = await keptFacts(ctx.configureFile);
  return { records, kept: keptItems(facts), ...(facts.queued !== undefined ? { queued: facts.queued } : {}) };
}

/** The plan: every step's check, nothing changed, no root needed; what would stop the run is noted. */
export async function planUninstall(observer: StepObserver): Promise<UninstallResult> {
  const ctx = await uninstallContext(true, (t) => observer.note(t));
  for (const b of await blockers()) observer.note(`would stop here: ${b.message} (${b.hint})`);
  return finish(ctx, await runSteps(UNINSTALL_STEPS, ctx, 'check', observer));
}

export async function uninstall(observer: StepObserver): Promise<UninstallResult> {
  if (!isRoot()) throw new LabError('labctl uninstall must run as root', 'run it with sudo, or use --dry-run to see the plan', EXIT.preflight);
  const ctx = await uninstallContext(false, (t) => observer.note(t));
  const [first] = await blockers();
  if (first) throw first;
  return finish(ctx, await runSteps(UNINSTALL_STEPS, ctx, 'apply', observer));
}
