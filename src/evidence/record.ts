/**
 * The one way an evidence record is made: every producer (install's and configure's steps, lab
 * up, verify, each drill) hands its outcome to `evidenceRecord` or `saveOutcome`, and nothing else
 * assembles a record or calls saveEvidence (test/unit/evidence-owner.test.ts holds it). Here the
 * contract of ./types.ts is enforced once: a step's area records a step status and a check's area
 * a check status, a summary is a sentence (figures go in a typed payload, ./payloads.ts, never as
 * JSON in the summary), and a payload in its record's slot has its type's shape.
 */
import { PAYLOAD_SLOTS, payloadFits, type PayloadName } from './payloads.js';
import { saveEvidence } from './store.js';
import { isCheckStatus, isStepStatus, type CheckStatus, type EvidenceArea, type EvidenceItem, type EvidenceRecord, type StepStatus } from './types.js';

/** Areas whose records are steps (what a command did), and areas whose records are checks (what was found). */
export type StepArea = 'install' | 'configure' | 'lab';
export type CheckArea = Exclude<EvidenceArea, StepArea>;
const STEP_AREAS: Record<EvidenceArea, boolean> = { install: true, configure: true, lab: true, verify: false, drill: false };

/** The status vocabulary of an area. */
export type AreaStatus<A extends EvidenceArea> = A extends StepArea ? StepStatus : CheckStatus;

/** What a step, a check or a drill found: the record less its area and time. */
export interface Outcome<S extends string = StepStatus | CheckStatus> {
  id: string;
  title: string;
  status: S;
  /** One sentence a person reads; structured figures go in a payload item (payloadItem). */
  summary?: string;
  /** The lab host the outcome is about, when it is about one. */
  host?: string;
  ms?: number;
  /** A step that found its work done: the run that did it, whose evidence this outcome keeps. */
  doneBy?: string;
  /** In the order the report shows them; typed payloads made with payloadItem among them. */
  evidence?: readonly EvidenceItem[];
}

/** A summary that is a JSON object or array: figures that belong in a typed payload. */
function isJsonText(summary: string): boolean {
  const t = summary.trim();
  if (!/^[[{]/.test(t)) return false;
  try {
    return typeof JSON.parse(t) === 'object';
  } catch {
    return false;
  }
}

/** The payloads whose slot is this record (area, id and, per item, the label). */
const slotsOf = (area: EvidenceArea, id: string) =>
  (Object.keys(PAYLOAD_SLOTS) as PayloadName[]).filter((n) => PAYLOAD_SLOTS[n].area === area && (PAYLOAD_SLOTS[n].id === id || !!PAYLOAD_SLOTS[n].alsoIn?.includes(id)));

/**
 * The record of an outcome. Throws (a producer's bug, not a user's) on a status of the other
 * vocabulary (a plan's `unknown` included: a plan is not evidence), on a summary that is JSON, and
 * on a payload of the wrong shape in its slot, which the report would not read.
 */
export function evidenceRecord<A extends EvidenceArea>(area: A, o: Outcome<AreaStatus<A>>, at: string): EvidenceRecord {
  const where = `${area}/${o.id}`;
  const step = STEP_AREAS[area];
  if (step ? !isStepStatus(o.status) : !isCheckStatus(o.status)) throw new Error(`${where}: ${JSON.stringify(o.status)} is not a ${step ? 'step' : 'check'} status`);
  if (o.summary !== undefined && isJsonText(o.summary)) throw new Error(`${where}: the summary is JSON; put the figures in a typed payload (src/evidence/payloads.ts)`);
  const evidence = [...(o.evidence ?? [])];
  for (const name of slotsOf(area, o.id)) {
    const bad = evidence.find((i) => i.kind === 'data' && i.label === PAYLOAD_SLOTS[name].label && !payloadFits(name, i.data));
    if (bad) throw new Error(`${where}: the "${bad.label}" item is not a ${name} payload`);
  }
  return {
    area,
    id: o.id,
    title: o.title,
    status: o.status,
    ...(o.summary !== undefined ? { summary: o.summary } : {}),
    ...(o.host !== undefined ? { host: o.host } : {}),
    at,
    ...(o.ms !== undefined ? { ms: Math.round(o.ms) } : {}),
    ...(o.doneBy !== undefined ? { doneBy: o.doneBy } : {}),
    evidence,
  };
}

/** Saves an outcome as the newest record of its item (earlier ones stay in its history) and returns the record. */
export async function saveOutcome<A extends EvidenceArea>(area: A, o: Outcome<AreaStatus<A>>, at = new Date().toISOString()): Promise<EvidenceRecord> {
  const record = evidenceRecord(area, o, at);
  await saveEvidence(record);
  return record;
}
