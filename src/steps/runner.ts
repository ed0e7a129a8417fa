/**
 * Runs a list of steps over a context. In `check` mode only `check` runs: nothing is written,
 * and a step that is not done is recorded as `changed` (it would change). In `apply` mode a step
 * whose check says done is recorded `ok`, with what its check looked at; otherwise `apply` runs. A step that throws is recorded
 * as `failed` and the error is rethrown, so the list stops there. The runner prints nothing: the
 * observer (src/ui/steps.ts for the terminal) decides how to show each record.
 */
import { errorMessage } from '../errors.js';
import type { Step, StepObserver, StepRecord } from './types.js';

export type RunMode = 'check' | 'apply';

export async function runSteps<C>(steps: readonly Step<C>[], ctx: C, mode: RunMode, observer: StepObserver): Promise<StepRecord[]> {
  const records: StepRecord[] = [];
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
        keep({ id: step.id, title, status: c.done ? (c.skipped ? 'skipped' : 'ok') : 'changed', detail: c.detail, diff: c.diff, ms: ms(), evidence: c.evidence ?? [] });
        continue;
      }
      const a = await step.apply(ctx);
      keep({ id: step.id, title, status: a.status ?? 'changed', detail: a.detail, diff: c.diff, ms: a.ms ?? ms(), evidence: a.evidence ?? [] });
    } catch (err) {
      keep({ id: step.id, title, status: 'failed', detail: errorMessage(err).split('\n')[0], ms: ms(), evidence: [] });
      throw err;
    }
  }
  return records;
}
