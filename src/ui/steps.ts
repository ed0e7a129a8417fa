import chalk from 'chalk';
import { errorMessage } from '../errors.js';
import type { StepRecord, StepObserver } from '../steps/types.js';
import type { RunMode } from '../steps/runner.js';

/** What a step did: `done` (changed something), `ok` (already so), `skipped`, `failed`, `planned` (dry run). */
export type StepStatus = 'done' | 'ok' | 'skipped' | 'failed' | 'planned';

export interface StepResult {
  id: string;
  title: string;
  status: StepStatus;
  detail?: string;
  ms: number;
  /** Data the evidence store keeps (commands, outputs); never secrets. */
  data?: Record<string, unknown>;
}

export interface StepOutcome {
  status: Exclude<StepStatus, 'failed'>;
  detail?: string;
  data?: Record<string, unknown>;
  /** The step's own measure of its duration, when its work ran inside another step. */
  ms?: number;
}

const LABEL: Record<StepStatus, string> = {
  done: 'done',
  ok: 'already done',
  skipped: 'skipped',
  failed: 'FAILED',
  planned: 'would run',
};

const paint: Record<StepStatus, (s: string) => string> = {
  done: chalk.green,
  ok: chalk.green,
  skipped: chalk.yellow,
  failed: chalk.red,
  planned: chalk.cyan,
};

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Runs named steps in order and prints one line per step with its status and duration (or
 * collects them for --json). A step that throws is recorded as failed and the error rethrown.
 */
export class StepRunner {
  readonly results: StepResult[] = [];

  constructor(private readonly quiet = false, private readonly out: NodeJS.WriteStream = process.stdout) {}

  async step(id: string, title: string, fn: () => Promise<StepOutcome>): Promise<StepOutcome> {
    const started = performance.now();
    try {
      const outcome = await fn();
      this.record({ id, title, ...outcome, ms: outcome.ms ?? performance.now() - started });
      return outcome;
    } catch (err) {
      this.record({ id, title, status: 'failed', detail: errorMessage(err).split('\n')[0], ms: performance.now() - started });
      throw err;
    }
  }

  /** Prints a line of context under the current step (a URL, a log path). */
  note(text: string): void {
    if (!this.quiet) this.out.write(`    ${chalk.dim(text)}\n`);
  }

  private record(r: StepResult): void {
    this.results.push(r);
    if (this.quiet) return;
    const status = paint[r.status](LABEL[r.status].padEnd(12));
    const detail = r.detail ? `  ${chalk.dim(r.detail)}` : '';
    this.out.write(`${r.title.padEnd(34)} ${status} ${formatMs(r.ms).padStart(8)}${detail}\n`);
  }
}

/** How a step record reads on the terminal, in a real run and in a plan (check mode). */
const RECORD_LABEL: Record<RunMode, Record<StepRecord['status'], string>> = {
  apply: { changed: 'done', ok: 'already done', skipped: 'skipped', failed: 'FAILED', unknown: 'unknown' },
  check: { changed: 'would run', ok: 'already done', skipped: 'skipped', failed: 'FAILED', unknown: 'unknown' },
};
const RECORD_PAINT: Record<StepRecord['status'], (s: string) => string> = { changed: chalk.green, ok: chalk.green, skipped: chalk.yellow, failed: chalk.red, unknown: chalk.yellow };

/**
 * The terminal view of the step runner (src/steps/runner.ts): one line per step with its status,
 * duration and detail, notes indented under it. Quiet (for --json) it only collects the records.
 */
export class StepLines implements StepObserver {
  readonly records: StepRecord[] = [];

  constructor(
    private readonly mode: RunMode = 'apply',
    private readonly quiet = false,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {}

  note(text: string): void {
    if (!this.quiet) this.out.write(`    ${chalk.dim(text)}\n`);
  }

  record(r: StepRecord): void {
    this.records.push(r);
    if (this.quiet) return;
    const label = this.mode === 'check' && r.status === 'changed' ? chalk.cyan : RECORD_PAINT[r.status];
    const status = label(RECORD_LABEL[this.mode][r.status].padEnd(12));
    const detail = r.detail ? `  ${chalk.dim(r.detail)}` : '';
    this.out.write(`${r.title.padEnd(34)} ${status} ${formatMs(r.ms).padStart(8)}${detail}\n`);
  }
}
