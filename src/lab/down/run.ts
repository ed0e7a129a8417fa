import path from 'node:path';
import { LabError } from '../../errors.js';
import { QUIET, runSteps } from '../../steps/runner.js';
import type { StepObserver, StepRecord } from '../../steps/types.js';
import { describeLeftovers, findLeftovers } from './leftovers.js';
import { checkKeepSpool, type SpoolRecord } from './spools.js';
import { labDownSteps, type DownContext, type DownReport } from './steps.js';

export type { DownReport };

export interface DownOptions {
  /** Copy each host's spool (queue, message logs, hints, logs) to DIR/<host> before removing it. */
  keepSpool?: string;
  /** Told each host's queue before anything is removed. */
  onSpool?: (s: SpoolRecord) => void;
  /** Told each step's record (lab down prints its own summary instead). */
  observer?: StepObserver;
}


/** `labctl lab down`: the steps of ./steps.ts, then a search that must find nothing left behind. */
export async function labDown(o: DownOptions = {}): Promise<DownReport> {
  const keepSpool = o.keepSpool === undefined ? undefined : path.resolve(o.keepSpool);
  if (keepSpool) await checkKeepSpool(keepSpool);
  const ctx: DownContext = {
    before: await findLeftovers(),
    keepSpool,
    onSpool: o.onSpool,
    report: { killed: 0, namespaces: [], removedEtc: [], removedDir: false, spools: [] },
  };
  await runSteps(labDownSteps, ctx, 'apply', o.observer ?? QUIET);
  const left = describeLeftovers(await findLeftovers());
  if (left.length) throw new LabError(`lab down left things behind: ${left.join('; ')}`, 'run labctl lab down again; report it if it persists');
  return ctx.report;
}

/** What `lab down --dry-run` shows: each step's check (what it would stop, count, delete), nothing removed. */
export async function planLabDown(o: Pick<DownOptions, 'keepSpool'>, observer: StepObserver): Promise<{ records: StepRecord[]; leftovers: string[] }> {
  const keepSpool = o.keepSpool === undefined ? undefined : path.resolve(o.keepSpool);
  if (keepSpool) await checkKeepSpool(keepSpool);
  const before = await findLeftovers();
  const ctx: DownContext = { before, keepSpool, report: { killed: 0, namespaces: [], removedEtc: [], removedDir: false, spools: [] } };
  const records = await runSteps(labDownSteps, ctx, 'check', observer);
  return { records, leftovers: describeLeftovers(before) };
}
