/**
 * The lab report as data: sections following the write-up's tasks, items built from evidence
 * records, and blocks that the Markdown and HTML renderers draw. Nothing here knows about
 * Markdown or HTML.
 */
import type { EvidenceRecord } from '../evidence/types.js';
import type { TopologyView } from './topology.js';
import type { DrillTimeline } from './timeline.js';

/**
 * What an item shows: a check's status, a step's read as one (src/report/select.ts), or
 * `missing` when the store has no record.
 */
export type ItemStatus = 'pass' | 'fail' | 'warn' | 'skip' | 'missing' | 'info';

export type Block =
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  /** `mono`: values are machine text (fingerprints, Message-IDs, addresses), shown monospace. */
  | { kind: 'table'; caption?: string; headers: string[]; rows: string[][]; mono?: boolean }
  /** Monospace evidence: command output, transcript, headers, log lines, a unit file. */
  | { kind: 'code'; label: string; text: string; command?: string; exitCode?: number }
  | { kind: 'topology'; topology: TopologyView }
  | { kind: 'timeline'; timeline: DrillTimeline };

/** One earlier run of the same item (shown with `--history`). */
export interface PastRun {
  at: string;
  status: ItemStatus;
  summary?: string;
  host?: string;
}

export interface ReportItem {
  /** area/id of the record(s) it came from, e.g. verify/6-starttls. */
  key: string;
  title: string;
  status: ItemStatus;
  summary?: string;
  host?: string;
  at?: string;
  ms?: number;
  /** For a missing item whose command has not run: the command that produces its evidence. */
  command?: string;
  /** For a missing item whose command ran: why it left no record. */
  why?: string;
  blocks: Block[];
  history: PastRun[];
}

export interface ReportSection {
  /** Anchor, e.g. task-1-installation. */
  id: string;
  title: string;
  /** Text written by labctl around the evidence (explanations, answers). */
  intro: Block[];
  items: ReportItem[];
  subsections: ReportSection[];
}

export interface ReportCounts {
  pass: number;
  fail: number;
  warn: number;
  skip: number;
  missing: number;
  info: number;
}

export interface Report {
  title: string;
  generatedAt: string;
  /** The lab host the report is about, when `--host` chose one. */
  host?: string;
  /** How many records the report was built from. */
  recordCount: number;
  sections: ReportSection[];
  counts: ReportCounts;
  /** Items that have no evidence: the command to produce each, or why the command that ran left none. */
  missing: { key: string; title: string; command?: string; why?: string }[];
}

export type { EvidenceRecord };

export const STATUS_LABEL: Record<ItemStatus, string> = {
  pass: 'pass',
  fail: 'FAIL',
  warn: 'warn',
  skip: 'skipped',
  missing: 'missing',
  info: 'recorded',
};

/** Every section and subsection, depth first (the headings a reader sees). */
export function allSections(report: Report): ReportSection[] {
  const out: ReportSection[] = [];
  const walk = (s: ReportSection) => {
    out.push(s);
    s.subsections.forEach(walk);
  };
  report.sections.forEach(walk);
  return out;
}

export function allItems(report: Report): ReportItem[] {
  return allSections(report).flatMap((s) => s.items);
}
