import chalk from 'chalk';
import type { StepRecord, StepObserver } from '../steps/types.js';
import type { RunMode } from '../steps/runner.js';

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
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
