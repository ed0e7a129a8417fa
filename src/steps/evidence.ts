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

/** Saves a run's step records as evidence (see stepOutcomes). */
export async function saveStepEvidence(area: StepArea, records: readonly StepRecord[]): Promise<void> {
  const at = new Date().toISOString();
  const earlier = new Map<string, EvidenceRecord | undefined>();
  for (const r of records) earlier.set(r.id, await loadLatestEvidence(area, r.id));
  for (const o of stepOutcomes(records, (id) => earlier.get(id))) await saveOutcome(area, o, at);
}
