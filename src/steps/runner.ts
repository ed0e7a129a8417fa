/**
 * Runs a list of steps over a context. In `check` mode only `check` runs: nothing is written,
 * and a step that is not done is recorded as `changed` (it would change), or `unknown` when its
 * check cannot tell. In `apply` mode a step
 * whose check says done is recorded `ok`, with what its check looked at; otherwise `apply` runs.
 * A step that throws is recorded as `failed` and the list stops there; with `takeBack`, the steps
 * this run changed before it are taken back, newest first, where they can say how (`undo`), and
 * the error is rethrown naming what was undone and what stays applied. The runner prints
 * nothing: the observer (src/ui/steps.ts for the terminal) decides how to show each record.
 */
import { LabError, errorMessage } from '../errors.js';
import type { Step, StepObserver, StepRecord } from './types.js';

export type RunMode = 'check' | 'apply';

export interface RunOptions {
  /** After a failure, undo what can be undone and name in the error what stays applied (configure). */
  takeBack?: boolean;
}

/** An observer that shows nothing: a run whose records the caller reads itself. */
export const QUIET: StepObserver = { record() {}, note() {} };

export async function runSteps<C>(steps: readonly Step<C>[], ctx: C, mode: RunMode, observer: StepObserver, opts: RunOptions = {}): Promise<StepRecord[]> {
  const records: StepRecord[] = [];
  const undos = new Map<StepRecord, () => Promise<string>>();
  const keep = (r: StepRecord) => {
    records.push(r);
    observer.record(r);
  };
  for (const step of steps) {
    const started = performance.now();
    const title = typeof step.title === 'function' ? step.title(ctx) : step.title;
    const ms = () => performance.now() - started;
    try {
      const c = await step.check(ctx);
      if (c.done || mode === 'check') {
        keep({ id: step.id, title, status: c.done ? (c.skipped ? 'skipped' : 'ok') : c.unknown ? 'unknown' : 'changed', detail: c.detail, diff: c.diff, ms: ms(), evidence: c.evidence ?? [] });
        continue;
      }
      const a = await step.apply(ctx);
      const record: StepRecord = { id: step.id, title, status: a.status ?? 'changed', detail: a.detail, diff: c.diff, ms: a.ms ?? ms(), evidence: a.evidence ?? [] };
      if (a.undo && record.status === 'changed') undos.set(record, a.undo);
      keep(record);
    } catch (err) {
      keep({ id: step.id, title, status: 'failed', detail: errorMessage(err).split('\n')[0], ms: ms(), evidence: [] });
      throw opts.takeBack ? await takeBack(records, undos, observer, err) : err;
    }
  }
  return records;
}

/**
 * Undoes the changed steps before a failure, newest first, and returns the error to throw: the
 * same message, its hint followed by what was undone and what stays applied.
 */
async function takeBack(records: StepRecord[], undos: Map<StepRecord, () => Promise<string>>, observer: StepObserver, err: unknown): Promise<unknown> {
  const changed = records.filter((r) => r.status === 'changed');
  if (!changed.length) return err;
  const undone: string[] = [];
  const kept: string[] = [];
  for (const r of [...changed].reverse()) {
    const undo = undos.get(r);
    if (!undo) {
      kept.unshift(`${r.title}${r.detail ? ` (${r.detail})` : ''}`);
      continue;
    }
    try {
      r.undone = await undo();
      undone.unshift(`${r.title}: ${r.undone}`);
      observer.note(`undone: ${r.title}: ${r.undone}`);
    } catch (again) {
      kept.unshift(`${r.title} (undoing it failed: ${errorMessage(again).split('\n')[0]})`);
    }
  }
  const said = [undone.length ? `undone: ${undone.join('; ')}` : '', kept.length ? `still applied: ${kept.join('; ')}` : ''].filter(Boolean).join('; ');
  if (kept.length) observer.note(`still applied: ${kept.join('; ')}`);
  if (!(err instanceof LabError)) return err;
  return new LabError(err.message, [err.hint, said].filter(Boolean).join('; '), err.exitCode);
}
