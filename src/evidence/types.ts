/**
 * The evidence contract: exactly two status vocabularies, one for steps (what a command did to
 * the machine) and one for checks (what verification found), and the record every producer
 * saves. The typed payloads some records carry are in ./payloads.ts.
 */

/** A step: `ok` (already so), `changed` (it changed something; in check mode: would change), `failed`, `skipped`. */
export const STEP_STATUSES = ['ok', 'changed', 'failed', 'skipped'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** A check: `pass`, `fail`, `warn` (works, but not as the lab asks), `skip` (does not apply here). */
export const CHECK_STATUSES = ['pass', 'fail', 'warn', 'skip'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];
/** How a check's status is shown in a list of results. */
export const CHECK_MARK: Record<CheckStatus, string> = { pass: 'pass', fail: 'FAIL', warn: 'warn', skip: 'skip' };

/** What a record says: a step's status (install, configure, lab up) or a check's (verify, drills). */
export type RecordStatus = StepStatus | CheckStatus;

export const isStepStatus = (s: unknown): s is StepStatus => (STEP_STATUSES as readonly unknown[]).includes(s);
export const isCheckStatus = (s: unknown): s is CheckStatus => (CHECK_STATUSES as readonly unknown[]).includes(s);
export const isRecordStatus = (s: unknown): s is RecordStatus => isStepStatus(s) || isCheckStatus(s);

/** One piece of evidence: what ran and what it printed, a transcript, headers, log lines. */
export interface EvidenceItem {
  kind: 'command' | 'transcript' | 'headers' | 'log' | 'text' | 'file' | 'data';
  label: string;
  /** For kind 'command': the command line as run. */
  command?: string;
  exitCode?: number;
  /** The text itself (output, transcript lines, headers). */
  text?: string;
  /** Structured data (kind 'data'); the payloads the report reads are typed in ./payloads.ts. */
  data?: unknown;
}

export type EvidenceArea = 'install' | 'configure' | 'verify' | 'lab' | 'drill';

/** One record per step or check: area/id name it, e.g. install/1c-signature or verify/3b-local-delivery. */
export interface EvidenceRecord {
  area: EvidenceArea;
  id: string;
  title: string;
  status: RecordStatus;
  summary?: string;
  /** Lab host the record is about, when it is about one (st14, st18). */
  host?: string;
  at: string; // ISO time
  ms?: number;
  /** A step that found its work done: the time of the run that did it, whose evidence it keeps. */
  doneBy?: string;
  evidence: EvidenceItem[];
}

/** One check's outcome, as the verify runner returns it; `verify --json` prints exactly these fields, in this order. */
export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  summary: string;
  ms: number;
  evidence: EvidenceItem[];
}
