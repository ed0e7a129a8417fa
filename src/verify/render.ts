import { Chalk, type ChalkInstance } from 'chalk';
import type { EvidenceItem } from '../evidence/store.js';
import { verifyJsonText } from '../state/verify-json.js';
import type { CheckResult, CheckStatus, VerifyReport } from './types.js';

/**
 * Three renderings of one report: the terminal checklist (--verbose adds evidence under each
 * check), the JSON of `verify --json`, and the per-check evidence files.
 */

/** Colors unless NO_COLOR is set (https://no-color.org) or the stream is not a terminal. */
export function makeChalk(stream: NodeJS.WriteStream = process.stdout): ChalkInstance {
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
  return new Chalk({ level: noColor || !stream.isTTY ? 0 : 1 });
}

const MARK: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP' };

function paint(c: ChalkInstance, s: CheckStatus, text: string): string {
  switch (s) {
    case 'pass':
      return c.green(text);
    case 'fail':
      return c.red.bold(text);
    case 'warn':
      return c.yellow(text);
    case 'skip':
      return c.gray(text);
  }
}

const ms = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n} ms`);

export function renderEvidence(items: EvidenceItem[], indent = '      '): string {
  const out: string[] = [];
  const body = (text: string) => text.replace(/\s+$/, '').split('\n').map((l) => `${indent}  ${l}`);
  for (const e of items) {
    out.push(`${indent}--- ${e.label} (${e.kind})`);
    if (e.kind === 'command') {
      out.push(`${indent}  $ ${e.command ?? ''}`);
      if (e.text?.trim()) out.push(...body(e.text));
      out.push(`${indent}  (exit ${e.exitCode ?? '?'})`);
    } else if (e.kind === 'data') out.push(...body(JSON.stringify(e.data, null, 2)));
    else out.push(...body(e.text ?? ''));
  }
  return out.join('\n');
}

export function renderCheckLine(r: CheckResult, c: ChalkInstance, idWidth = 18): string {
  return `  ${paint(c, r.status, MARK[r.status])}  ${c.bold(r.id.padEnd(idWidth))} ${r.summary} ${c.gray(`(${ms(r.ms)})`)}`;
}

export function renderChecklist(report: VerifyReport, opts: { verbose?: boolean; chalk?: ChalkInstance; heading?: string; totalMs?: number } = {}): string {
  const c = opts.chalk ?? makeChalk();
  const width = Math.max(...report.checks.map((r) => r.id.length), 10);
  const lines: string[] = [];
  if (opts.heading) lines.push(c.bold(opts.heading));
  for (const r of report.checks) {
    lines.push(renderCheckLine(r, c, width));
    if (opts.verbose) {
      lines.push(c.gray(`      ${r.title}`));
      if (r.evidence.length) lines.push(renderEvidence(r.evidence));
      lines.push('');
    }
  }
  lines.push(renderTotals(report, c, opts.totalMs));
  return lines.join('\n');
}

export function renderTotals(report: VerifyReport, c: ChalkInstance, totalMs?: number): string {
  const parts = [
    c.green(`${report.passed} passed`),
    (report.failed ? c.red.bold : c.gray)(`${report.failed} failed`),
    (report.warned ? c.yellow : c.gray)(`${report.warned} warned`),
    c.gray(`${report.skipped} skipped`),
  ];
  const sum = report.checks.reduce((a, r) => a + r.ms, 0);
  const time = totalMs !== undefined ? ` in ${ms(totalMs)} (checks' own times add up to ${ms(sum)})` : '';
  return `${report.checks.length} check${report.checks.length === 1 ? '' : 's'}: ${parts.join(', ')}${time}`;
}

/** Exactly the issue's shape: checks[{id,title,status,summary,ms,evidence}], passed, failed, warned, skipped. */
export function toJson(report: VerifyReport): string {
  const shaped = {
    checks: report.checks.map(({ id, title, status, summary, ms, evidence }) => ({ id, title, status, summary, ms, evidence })),
    passed: report.passed,
    failed: report.failed,
    warned: report.warned,
    skipped: report.skipped,
  };
  return verifyJsonText(shaped);
}

/** One check as a plain-text evidence file. */
export function renderCheckFile(r: CheckResult): string {
  return [`${r.id}: ${r.title}`, `status: ${r.status}`, `summary: ${r.summary}`, `time: ${r.ms} ms`, '', renderEvidence(r.evidence, ''), ''].join('\n');
}
