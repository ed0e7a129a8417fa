/**
 * From step records to evidence records, for every command that runs steps (install, configure):
 * one record per step on every run, so the report never takes a step that ran for one that did not.
 * Each record is made by evidenceRecord (src/evidence/record.ts), as every producer's is.
 */
import { evidenceRecord, saveOutcome, type Outcome, type StepArea } from '../evidence/record.js';
import { loadLatestEvidence } from '../evidence/store.js';
import type { EvidenceRecord, StepStatus } from '../evidence/types.js';
import type { StepRecord } from './types.js';

/**
 * A step that found its work done and has nothing of its own to show keeps the record of the run
 * that did the work: that run's evidence, `doneBy` its time, and a summary that says so. Without
 * such a run on record (the work was done before labctl, or by a labctl that kept no record), it
 * records what its check found. `earlier` gives the newest record of a step id.
 */
export function stepOutcomes(records: readonly StepRecord[], earlier: (id: string) => EvidenceRecord | undefined): Outcome<StepStatus>[] {
  return records.map((r): Outcome<StepStatus> => {
    // Only a plan (check mode) records `unknown`, and a plan is not evidence.
    if (r.status === 'unknown') throw new Error(`step ${r.id}: a plan's unknown record is not evidence`);
    const own: Outcome<StepStatus> = { id: r.id, title: r.title, status: r.status, summary: r.detail, ms: r.ms, evidence: r.evidence };
    if (r.status !== 'ok' || r.evidence.length) return own;
    const before = earlier(r.id);
    if (!before || before.status === 'failed' || !before.evidence.length) return own;
    const doneBy = before.doneBy ?? before.at;
    return { ...own, summary: `${r.detail ? `${r.detail}; ` : ''}already done by the run of ${doneBy}, whose evidence this is`, evidence: before.evidence, doneBy };
  });
}

/** A run's step records as evidence records (see stepOutcomes). */
export function stepEvidence(area: StepArea, records: readonly StepRecord[], at: string, earlier: (id: string) => EvidenceRecord | undefined): EvidenceRecord[] {
  return stepOutcomes(records, earlier).map((o) => evidenceRecord(area, o, at));
}

/**
 * Saves a run's step records as evidence (see stepOutcomes). Each step's record lives in its own
 * directory, so the steps are read and written side by side (their fsyncs overlap); outcomes of
 * one id, should a run have two, are saved in their order.
 */
export async function saveStepEvidence(area: StepArea, records: readonly StepRecord[]): Promise<void> {
  const at = new Date().toISOString();
  const ids = [...new Set(records.map((r) => r.id))];
  const loaded = await Promise.all(ids.map((id) => loadLatestEvidence(area, id)));
  const earlier = new Map(ids.map((id, i) => [id, loaded[i]]));
  const byId = new Map<string, Outcome<StepStatus>[]>();
  for (const o of stepOutcomes(records, (id) => earlier.get(id))) byId.set(o.id, [...(byId.get(o.id) ?? []), o]);
  await Promise.all(
    [...byId.values()].map(async (outcomes) => {
      for (const o of outcomes) await saveOutcome(area, o, at);
    }),
  );
}
