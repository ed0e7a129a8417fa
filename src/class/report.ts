/**
 * The class report: the `labctl verify --json` reports the playbook fetched (one per student
 * machine, REPORTS/st14.json), as one Markdown table of students by checks, with totals.
 * Pure: file names and texts in, Markdown out; the command reads the directory.
 */
import { isCheckStatus, type CheckStatus } from '../evidence/types.js';
import { usageError } from '../errors.js';
import { parseVerifyJson } from '../state/verify-json.js';
import { mdCode, mdText } from '../report/md-text.js';

/** One piece of a check's evidence, as verify --json prints it (see src/evidence/types.ts). */
export interface ClassEvidence {
  kind: string;
  label: string;
  command?: string;
  exitCode?: number;
  text?: string;
  data?: unknown;
}

export interface StudentCheck {
  id: string;
  title: string;
  status: CheckStatus;
  summary: string;
  evidence: ClassEvidence[];
}

export interface StudentChecks {
  student: string;
  domain?: string;
  /** The fetched report file, for the HTML page's link to it (relative to the page, or absolute). */
  file?: string;
  checks: StudentCheck[];
}

export const SYMBOL: Record<CheckStatus, string> = { pass: '✓', fail: '✖', warn: '⚠', skip: '–' };

/** One fetched report: exactly what `labctl verify --json` prints for one host (src/state/verify-json.ts), nothing guessed. */
export function parseVerifyReport(student: string, file: string, text: string): StudentChecks {
  const { checks } = parseVerifyJson(file, text);
  if (!Array.isArray(checks)) throw usageError(`${file}: not a labctl verify --json report (no "checks" list)`);
  return {
    student,
    checks: checks.map((c: unknown, i) => {
      const { id, title, status, summary } = (c ?? {}) as Record<string, unknown>;
      if (typeof id !== 'string' || typeof title !== 'string') throw usageError(`${file}: check ${i + 1} has no id or title`);
      if (!isCheckStatus(status)) throw usageError(`${file}: check ${id} has status ${JSON.stringify(status)}, not pass, fail, warn or skip`);
      return { id, title, status, summary: typeof summary === 'string' ? summary : '', evidence: parseEvidence(file, id, (c as { evidence?: unknown }).evidence) };
    }),
  };
}

/** A check's evidence list: each item needs a kind and a label; the rest is kept only when typed right. */
function parseEvidence(file: string, id: string, raw: unknown): ClassEvidence[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw usageError(`${file}: check ${id}: "evidence" is not a list`);
  return raw.map((e: unknown, i) => {
    const { kind, label, command, exitCode, text, data } = (e ?? {}) as Record<string, unknown>;
    if (typeof kind !== 'string' || typeof label !== 'string') throw usageError(`${file}: check ${id}: evidence ${i + 1} has no kind or label`);
    return {
      kind,
      label,
      ...(typeof command === 'string' ? { command } : {}),
      ...(typeof exitCode === 'number' ? { exitCode } : {}),
      ...(typeof text === 'string' ? { text } : {}),
      ...(data !== undefined ? { data } : {}),
    };
  });
}

/** Students' names, domains, titles and summaries come from the machines: escaped, one line each (md-text.ts). */
const cell = mdText;

export const CLASS_REPORT_TITLE = 'Lab 3 — class report';

/** The grid both renderings draw: students sorted by number, checks in the order they first appear. */
export function classGrid(students: StudentChecks[]): { sorted: StudentChecks[]; ids: string[]; titles: Map<string, string> } {
  const sorted = [...students].sort((a, b) => a.student.localeCompare(b.student, 'en', { numeric: true }));
  const ids: string[] = [];
  const titles = new Map<string, string>();
  for (const s of sorted) for (const c of s.checks) if (!titles.has(c.id)) (ids.push(c.id), titles.set(c.id, c.title));
  return { sorted, ids, titles };
}

/** Students in rows, checks in columns (the union, in the order they first appear), totals both ways. */
export function renderClassReport(students: StudentChecks[], title = CLASS_REPORT_TITLE): string {
  const { sorted, ids, titles } = classGrid(students);
  const count = (list: { status: CheckStatus }[], st: CheckStatus) => list.filter((c) => c.status === st).length;

  const head = ['student', 'domain', ...ids, 'passed', 'failed', 'warned', 'skipped'];
  const rows = sorted.map((s) => {
    const by = new Map(s.checks.map((c) => [c.id, c]));
    return [cell(s.student), cell(s.domain ?? ''), ...ids.map((id) => (by.has(id) ? SYMBOL[by.get(id)!.status] : '')), ...(['pass', 'fail', 'warn', 'skip'] as const).map((st) => String(count(s.checks, st)))];
  });
  const all = sorted.flatMap((s) => s.checks);
  const passedRow = ['**passed**', '', ...ids.map((id) => `${all.filter((c) => c.id === id && c.status === 'pass').length}/${all.filter((c) => c.id === id).length}`), ...(['pass', 'fail', 'warn', 'skip'] as const).map((st) => String(count(all, st)))];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;

  const out = [`# ${mdText(title)}`, '', `${sorted.length} students, ${ids.length} checks. ✓ pass, ✖ fail, ⚠ warn, – skip; an empty cell: the check did not run there.`, ''];
  out.push(line(head.map(cell)), line(head.map(() => '---')), ...rows.map(line), line(passedRow), '');
  out.push('## Checks', '', ...ids.map((id) => `- ${mdCode(id)}: ${mdText(titles.get(id)!)}`), '');
  const notPassed = sorted.flatMap((s) => s.checks.filter((c) => c.status === 'fail' || c.status === 'warn').map((c) => ({ s, c })));
  out.push('## Failed and warned', '');
  if (!notPassed.length) out.push('None.', '');
  else out.push(...notPassed.map(({ s, c }) => `- ${mdText(s.student)} ${SYMBOL[c.status]} ${mdCode(c.id)}: ${mdText(c.summary)}`), '');
  return out.join('\n');
}
