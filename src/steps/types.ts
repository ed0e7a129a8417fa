/**
 * The step contract, in the shape of Ansible's modules: a step can tell whether its work is
 * already done (`check`, which only reads), and can do it (`apply`). Commands (install,
 * configure, lab up) are ordered lists of steps run by src/steps/runner.ts; `--dry-run`,
 * `--diff` and `--json` plans run `check` over the same list, so a plan cannot drift from the run.
 * A value one step produces (the chosen release, the extracted tree) goes into the command's typed
 * context, which later steps read.
 */
import type { EvidenceItem } from '../evidence/store.js';
import type { StepStatus } from '../evidence/types.js';

export interface CheckOutcome {
  /** True when apply would change nothing. */
  done: boolean;
  /** The check cannot tell without acting (with `done` false): a plan records the step `unknown`, a real run applies it. Made by unknownOutcome. */
  unknown?: true;
  /** One line: what is there, or what apply would do. */
  detail?: string;
  /** A unified diff of what apply would change (configure --diff). */
  diff?: string;
  /** The step does not apply here (with `done`): recorded as `skipped`. */
  skipped?: boolean;
  /** What the check looked at (a scan, the packages present, the account found): kept as the step's evidence when it has nothing to do. */
  evidence?: EvidenceItem[];
}

/** The one answer of a check that cannot know without acting: never a plan text made up instead. */
export const unknownOutcome = (why: string): CheckOutcome => ({ done: false, unknown: true, detail: why });

/** A plan's record (check mode) may also be `unknown`; a real run's never is. */
export type PlanStatus = StepStatus | 'unknown';

export interface ApplyOutcome {
  /** Default `changed`. `ok` when apply found on closer look that nothing had to change. */
  status?: Exclude<StepStatus, 'failed'>;
  detail?: string;
  evidence?: EvidenceItem[];
  /** The step's own measure of its duration, when its work ran inside another step. */
  ms?: number;
  /**
   * Takes the change back when a later step of the same run fails, and says what it did. A step
   * without one that changed something stays applied, and the run's error says so.
   */
  undo?: () => Promise<string>;
}

export interface Step<C> {
  id: string;
  title: string | ((ctx: C) => string);
  check(ctx: C): Promise<CheckOutcome>;
  apply(ctx: C): Promise<ApplyOutcome>;
}

/** What the runner records for each step: the evidence store keeps it, the UI prints it. */
export interface StepRecord {
  id: string;
  title: string;
  status: PlanStatus;
  detail?: string;
  diff?: string;
  ms: number;
  evidence: EvidenceItem[];
  /** After a later step failed: what this step's undo took back (else its change stays applied). */
  undone?: string;
}

/** Receives each record as it is made, and notes (a URL, a log path) while a step runs. */
export interface StepObserver {
  record(r: StepRecord): void;
  note(text: string): void;
}
