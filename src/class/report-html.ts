/**
 * The class report as one self-contained HTML page (`labctl report --class DIR`): students by
 * checks (✓ ✖ ⚠ –), each cell a link to that student's evidence for the check further down the
 * page, each student a link to the fetched verify report file; a summary row per check under the
 * grid, and a table with one row per check. Every string from a report (student, check ids and
 * titles, summaries, evidence) is escaped: a report is data a student's machine produced.
 * Anchors are made from positions (s1-c3), never from those strings.
 * Pure: students in, HTML out; the command reads the files and the stylesheet.
 */
import type { CheckStatus } from '../evidence/types.js';
import { CLASS_REPORT_TITLE, classGrid, SYMBOL, type ClassEvidence, type StudentChecks } from './report.js';

const STATUSES = ['pass', 'fail', 'warn', 'skip'] as const satisfies readonly CheckStatus[];
const WORD: Record<CheckStatus, string> = { pass: 'passed', fail: 'failed', warn: 'warned', skip: 'skipped' };

/** Text and attribute values: the five characters that can end or open markup. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A link to a file: each path segment percent-encoded, so no name can become a scheme or break out. */
export function fileHref(file: string): string {
  const segments = file.split('/').map((seg) => (seg === '' || seg === '.' || seg === '..' ? seg : encodeURIComponent(seg)));
  const joined = segments.join('/');
  return file.startsWith('/') ? `file://${joined}` : joined.startsWith('.') ? joined : `./${joined}`;
}

export interface ClassHtmlOptions {
  title?: string;
  /** The stylesheet to inline (templates/report/class.css). */
  css: string;
  /** A line under the title, such as when and from which directory the page was made. */
  subtitle?: string;
}

function evidenceHtml(e: ClassEvidence): string {
  const lines: string[] = [];
  if (e.command !== undefined) lines.push(`<span class="prompt">$ ${escapeHtml(e.command)}</span>`);
  if (e.text !== undefined && e.text !== '') lines.push(escapeHtml(e.text));
  if (e.data !== undefined) lines.push(escapeHtml(JSON.stringify(e.data, null, 2) ?? String(e.data)));
  if (e.exitCode !== undefined && e.exitCode !== 0) lines.push(`<span class="exit">exit ${e.exitCode}</span>`);
  return [
    `<figure class="evidence evidence-${e.kind.replace(/[^a-z0-9-]/gi, '_')}">`,
    `<figcaption>${escapeHtml(e.label)} <span class="kind">(${escapeHtml(e.kind)})</span></figcaption>`,
    `<pre class="evidence-text">${lines.join('\n') || '<span class="none">(empty)</span>'}</pre>`,
    '</figure>',
  ].join('\n');
}

export function renderClassHtml(students: StudentChecks[], opts: ClassHtmlOptions): string {
  const title = opts.title ?? CLASS_REPORT_TITLE;
  const { sorted, ids, titles } = classGrid(students);
  const col = new Map(ids.map((id, i) => [id, i + 1]));
  const sAnchor = (si: number) => `s${si + 1}`;
  const cAnchor = (si: number, id: string) => `s${si + 1}-c${col.get(id)}`;
  const all = sorted.flatMap((s) => s.checks);
  const count = (list: { status: CheckStatus }[], st: CheckStatus) => list.filter((c) => c.status === st).length;
  const ofCheck = (id: string) => all.filter((c) => c.id === id);
  const out: string[] = [];

  out.push(
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Nothing on this page may load or run anything: the evidence is other machines' output.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>\n${opts.css}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(title)}</h1>`,
  );
  if (opts.subtitle) out.push(`<p class="meta">${escapeHtml(opts.subtitle)}</p>`);
  out.push(
    `<p class="meta">${sorted.length} students, ${ids.length} checks: ${STATUSES.map((st) => `${count(all, st)} ${WORD[st]}`).join(', ')}. ` +
      `<span class="st st-pass">✓</span> pass, <span class="st st-fail">✖</span> fail, <span class="st st-warn">⚠</span> warn, <span class="st st-skip">–</span> skip; ` +
      'an empty cell: the check did not run there. Each mark links to its evidence.</p>',
  );

  // The grid: students × checks.
  out.push('<div class="table-wrap">', '<table id="class-grid" class="grid">', '<thead>', '<tr><th scope="col">student</th><th scope="col">domain</th>');
  ids.forEach((id, i) => out.push(`<th scope="col" class="check" id="col-c${i + 1}" title="${escapeHtml(titles.get(id) ?? '')}"><a href="#check-c${i + 1}"><span>${escapeHtml(id)}</span></a></th>`));
  out.push(...STATUSES.map((st) => `<th scope="col" class="total st-${st}" title="${WORD[st]}">${SYMBOL[st]}</th>`), '</tr>', '</thead>', '<tbody>');
  sorted.forEach((s, si) => {
    const by = new Map(s.checks.map((c) => [c.id, c]));
    const cells = ids.map((id) => {
      const c = by.get(id);
      if (!c) return '<td class="cell cell-none"></td>';
      const tip = `${s.student} ${id}: ${c.status}${c.summary ? ` — ${c.summary}` : ''}`;
      return `<td class="cell cell-${c.status}"><a href="#${cAnchor(si, id)}" title="${escapeHtml(tip)}">${SYMBOL[c.status]}</a></td>`;
    });
    out.push(
      `<tr id="row-${sAnchor(si)}"><th scope="row" class="student"><a href="#${sAnchor(si)}">${escapeHtml(s.student)}</a></th>` +
        `<td class="domain">${escapeHtml(s.domain ?? '')}</td>${cells.join('')}` +
        STATUSES.map((st) => `<td class="total">${count(s.checks, st)}</td>`).join('') +
        '</tr>',
    );
  });
  out.push('</tbody>', '<tfoot>');
  // The summary row per check: how many students passed it, of those where it ran, and the rest.
  out.push(
    '<tr class="summary" id="summary-row"><th scope="row">passed</th><td></td>' +
      ids.map((id) => `<td class="sum">${count(ofCheck(id), 'pass')}/${ofCheck(id).length}</td>`).join('') +
      STATUSES.map((st) => `<td class="total">${count(all, st)}</td>`).join('') +
      '</tr>',
  );
  for (const st of ['fail', 'warn', 'skip'] as const) {
    out.push(`<tr class="summary summary-${st}"><th scope="row">${WORD[st]}</th><td></td>${ids.map((id) => `<td class="sum">${count(ofCheck(id), st) || ''}</td>`).join('')}<td colspan="4"></td></tr>`);
  }
  out.push('</tfoot>', '</table>', '</div>');

  // One row per check: its title, its counts, and who did not pass it.
  out.push('<h2 id="checks">Checks</h2>', '<div class="table-wrap">', '<table id="check-summary" class="checks">');
  out.push(`<thead><tr><th scope="col">check</th><th scope="col">title</th>${STATUSES.map((st) => `<th scope="col">${WORD[st]}</th>`).join('')}<th scope="col">failed or warned on</th></tr></thead>`, '<tbody>');
  ids.forEach((id, i) => {
    const notPassed = sorted.flatMap((s, si) => s.checks.filter((c) => c.id === id && (c.status === 'fail' || c.status === 'warn')).map((c) => `<a href="#${cAnchor(si, id)}" class="st st-${c.status}">${SYMBOL[c.status]} ${escapeHtml(s.student)}</a>`));
    out.push(
      `<tr id="check-c${i + 1}"><th scope="row"><code>${escapeHtml(id)}</code></th><td>${escapeHtml(titles.get(id) ?? '')}</td>` +
        STATUSES.map((st) => `<td class="total">${count(ofCheck(id), st)}</td>`).join('') +
        `<td>${notPassed.join(' ') || '—'}</td></tr>`,
    );
  });
  out.push('</tbody>', '</table>', '</div>');

  // The evidence, student by student, check by check.
  out.push('<h2 id="evidence">Evidence</h2>');
  sorted.forEach((s, si) => {
    out.push(`<section class="student" id="${sAnchor(si)}">`, `<h3>${escapeHtml(s.student)}${s.domain ? ` <span class="domain">${escapeHtml(s.domain)}</span>` : ''}</h3>`);
    const totals = STATUSES.map((st) => `${count(s.checks, st)} ${WORD[st]}`).join(', ');
    out.push(`<p class="meta">${totals}.${s.file ? ` The fetched report: <a class="report-file" href="${escapeHtml(fileHref(s.file))}">${escapeHtml(s.file.split('/').pop()!)}</a>.` : ''}</p>`);
    for (const c of [...s.checks].sort((a, b) => col.get(a.id)! - col.get(b.id)!)) {
      out.push(
        `<div class="item status-${c.status}" id="${cAnchor(si, c.id)}">`,
        `<h4><span class="badge badge-${c.status}">${c.status}</span> <code>${escapeHtml(c.id)}</code> ${escapeHtml(c.title)}</h4>`,
        `<p class="summary-text">${escapeHtml(c.summary)}</p>`,
        ...c.evidence.map(evidenceHtml),
        `<p class="back"><a href="#row-${sAnchor(si)}">back to the grid</a></p>`,
        '</div>',
      );
    }
    out.push('</section>');
  });
  out.push('</body>', '</html>', '');
  return out.join('\n');
}
