/**
 * The evidence contract: exactly two status vocabularies, one for steps (what a command did to
 * the machine) and one for checks (what verification found), and the typed payloads that a
 * producer writes and the report reads.
 */

/** A step: `ok` (already so), `changed` (it changed something; in check mode: would change), `failed`, `skipped`. */
export const STEP_STATUSES = ['ok', 'changed', 'failed', 'skipped'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** A check: `pass`, `fail`, `warn` (works, but not as the lab asks), `skip` (does not apply here). */
export const CHECK_STATUSES = ['pass', 'fail', 'warn', 'skip'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];
