import type { CheckResult, CheckStatus, EvidenceItem } from '../evidence/types.js';
import type { HostView } from '../system/hostview.js';
import type { Facts } from './facts.js';
import type { LabSide, PartnerDelivery, VerifyTarget } from './host.js';

/** The check vocabulary and a check's result belong to the evidence contract (src/evidence/types.ts). */
export type { CheckResult, CheckStatus };

/** The whole run: the shape `labctl verify --json` prints. */
export interface VerifyReport {
  checks: CheckResult[];
  passed: number;
  failed: number;
  warned: number;
  skipped: number;
}

/** How checks reach the host under test: the one HostView (src/system/hostview.ts), the machine's or a lab host's. */
export type { HostView };

/** The host under test (src/verify/host.ts, which facts.ts reads too). */
export type { LabSide, PartnerDelivery, VerifyTarget };

export interface CheckContext {
  target: VerifyTarget;
  /** Evidence collected so far; the runner keeps it even when the check times out. */
  evidence: EvidenceItem[];
  /** Aborted when the check runs past its timeout: close sockets, stop waiting. */
  signal: AbortSignal;
  /** Milliseconds left before the timeout. */
  remainingMs(): number;
  facts: Facts;
}

/** What a check's run returns: its status and one line; the runner adds the id, title, evidence and time (CheckResult). */
export type CheckVerdict = Pick<CheckResult, 'status' | 'summary'>;

export interface CheckDef {
  id: string;
  title: string;
  run(ctx: CheckContext): Promise<CheckVerdict>;
}

export interface RunChecksOptions {
  only?: string[];
  skip?: string[];
  /** Per-check timeout; default 10 s. */
  timeoutMs?: number;
  /** How many checks run at once; default 4. */
  concurrency?: number;
  /** Called as each check finishes (live progress). */
  onResult?: (r: CheckResult) => void;
}
