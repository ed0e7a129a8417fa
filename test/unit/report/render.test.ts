import { beforeAll, describe, expect, it } from 'vitest';
import type { EvidenceRecord } from '../../../src/evidence/store.js';
import { buildReport } from '../../../src/report/build.js';
import { renderHtml } from '../../../src/report/html.js';
import { blockMarkdown, githubAnchor, renderMarkdown } from '../../../src/report/markdown.js';
import { mdText } from '../../../src/report/md-text.js';
import { allSections } from '../../../src/report/model.js';
import { fixtureRecords, DRILL_MESSAGE_ID, SIGNER_FPR } from './fixture-store.js';

let records: EvidenceRecord[];
beforeAll(async () => {
  records = await fixtureRecords(true);
});
const NOW = new Date('2025-11-27T21:00:00Z');

describe('Markdown', () => {
  it('has every section heading, the evidence the e2e test looks for, and both Mermaid pictures', () => {
    const report = buildReport(records, { now: NOW });
    const md = renderMarkdown(report);
    expect(md.startsWith('# Lab 3: MTA (Exim), lab report\n')).toBe(true);
    for (const s of report.sections) expect(md).toContain(`\n## ${s.title.replace(/([*_<>[\]])/g, '\\$1')}\n`);
    for (const s of allSections(report)) expect(md).toContain(`](#${githubAnchor(s.title)})`);
    expect(md).toContain(SIGNER_FPR);
    expect(md).toContain(DRILL_MESSAGE_ID);
    expect(md).toMatch(/\n -> STARTTLS\n/);
    expect(md.match(/```mermaid\nflowchart TB\n/g)).toHaveLength(1);
    // One timeline for each backup drill run kept: 4c (the retry) and 5c (forced).
    expect(md.match(/```mermaid\ngantt\n/g)).toHaveLength(2);
    expect(md).not.toMatch(/\bport 456\b|\(port 456\)/);
  });

  it('lists missing items with their commands', () => {
    const md = renderMarkdown(buildReport(records.filter((r) => r.area !== 'drill'), { now: NOW }));
    expect(md).toContain('No evidence recorded yet. Run `labctl lab drill backup-mx --force` to produce it.');
    expect(md).toContain('drill/tls: TLS drill');
    expect(md).toMatch(/\*\*missing\*\* · `drill\/backup-mx`/);
  });

  it('keeps evidence inside its fence and table cells intact', () => {
    const code = blockMarkdown({ kind: 'code', label: 'odd', text: 'a\n```\nb', command: 'cat x', exitCode: 3 });
    expect(code).toBe('*odd* (exit code 3)\n\n````text\n$ cat x\na\n```\nb\n````');
    const table = blockMarkdown({ kind: 'table', headers: ['a|b', 'c'], rows: [['<x@y> | z', 'multi\nline']] });
    expect(table).toBe('| a\\|b | c |\n| --- | --- |\n| `<x@y> \\| z` | multi line |');
  });
});

describe('Markdown from evidence', () => {
  it('a multi-line SMTP reply in a summary, host or label opens no heading, fence, list or HTML', () => {
    const reply = '550-5.7.1 refused\n# Injected heading\n```\n<script>alert(1)</script>\n- item\n1. item';
    const evil: EvidenceRecord = {
      area: 'verify', id: '6-starttls', title: 'TLS', status: 'fail', summary: reply, at: '2025-11-27T20:00:00Z', host: 'st14\n# host',
      evidence: [{ kind: 'transcript', label: 'label\n### injected', text: reply }],
    };
    const md = renderMarkdown(buildReport([evil], { now: NOW }));
    // What lies outside the fenced evidence: the lines a reader's Markdown turns into structure.
    const outside = md.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '').split('\n');
    expect(outside.filter((l) => /^#+ .*(Injected heading|injected$|# host)/.test(l))).toEqual([]);
    expect(outside.filter((l) => /^(- item|1\. item|`{3})/.test(l))).toEqual([]);
    expect(outside.join('\n')).not.toMatch(/(?<!\\)<script>/);
    // The reply is kept, on one line, escaped; inside the evidence's fence it stays as it was.
    expect(outside).toContain('550-5.7.1 refused # Injected heading \\`\\`\\` \\<script\\>alert(1)\\</script\\> - item 1. item');
    expect(md).toMatch(/\n````text\n550-5\.7\.1 refused\n# Injected heading\n```\n/);
    expect(md).toMatch(/· host st14 # host ·/);
  });

  it('escapes a block marker only where the text starts a line', () => {
    expect(mdText('# x')).toBe('\\# x');
    expect(mdText('1. x\n2. y')).toBe('1\\. x 2. y');
    expect(mdText('--- ')).toBe('\\---');
    expect(mdText('> q')).toBe('\\> q');
    expect(mdText('`a|b` and a|b')).toBe('`a|b` and a\\|b');
  });
});

describe('HTML', () => {
  it('is one self-contained file: styles inline, no scripts, nothing fetched', async () => {
    const html = await renderHtml(buildReport(records, { now: NOW }));
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toMatch(/<style>[\s\S]*@media print[\s\S]*<\/style>/);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\((?!#)/i);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//i);
    // Every href is an in-page anchor to a section that exists.
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);
    expect(hrefs.length).toBeGreaterThan(10);
    for (const h of hrefs) {
      expect(h.startsWith('#')).toBe(true);
      expect(html).toContain(`id="${h.slice(1)}"`);
    }
  });

  it('has a heading per section, both SVG pictures, and the evidence as wrapped monospace', async () => {
    const report = buildReport(records, { now: NOW });
    const html = await renderHtml(report);
    for (const s of allSections(report)) expect(html).toMatch(new RegExp(`<h[23] id="${s.id}-h" class="section-heading">`));
    expect(html.match(/<svg [^>]*id="topology-svg"/g)).toHaveLength(1);
    expect(html.match(/<svg [^>]*id="timeline-svg"/g)).toHaveLength(1);
    expect(html).toContain(SIGNER_FPR);
    expect(html).toContain(`<td>${DRILL_MESSAGE_ID}</td>`);
    expect(html).toMatch(/<pre class="evidence-text">[^<]*<span class="prompt">\$ \/usr\/exim\/bin\/exim -bV<\/span>/);
    expect(html).toMatch(/pre\.evidence-text \{[^}]*white-space: pre-wrap;[^}]*overflow-wrap: anywhere;/);
    expect(html).toMatch(/\n -&gt; STARTTLS\n/);
  });

  it('escapes evidence: a transcript cannot inject markup', async () => {
    const evil: EvidenceRecord = {
      area: 'verify', id: '6-starttls', title: '<b>t</b>', status: 'fail', summary: '<img src=x onerror=alert(1)>', at: '2025-11-27T20:00:00Z',
      evidence: [{ kind: 'transcript', label: '<i>l</i>', text: '<script>alert(1)</script>' }],
    };
    const html = await renderHtml(buildReport([evil], { now: NOW }));
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
