/**
 * `labctl report` end to end: load the evidence store, build the report, write Markdown and
 * HTML. The command file only parses flags and prints what this returns.
 */
import path from 'node:path';
import { loadAllEvidence } from '../evidence/store.js';
import { writeAtomic } from '../system/files.js';
import { buildReport } from './build.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { Report } from './model.js';
import type { Answers } from './answers-file.js';

export interface WriteReportOptions {
  /** Markdown file; '-' prints it to standard output; undefined writes none. */
  out?: string;
  /** HTML file; undefined writes none. */
  html?: string;
  host?: string;
  history?: boolean;
  /** The student's answers (src/report/answers-file.ts). */
  answers?: Answers;
}

export interface WriteReportResult {
  report: Report;
  markdown: string;
  html?: string;
  written: string[];
}

export async function writeReport(opts: WriteReportOptions): Promise<WriteReportResult> {
  const records = await loadAllEvidence(!!opts.history);
  const report = buildReport(records, { host: opts.host, history: opts.history, answers: opts.answers });
  const markdown = renderMarkdown(report);
  const written: string[] = [];
  if (opts.out && opts.out !== '-') {
    await writeAtomic(path.resolve(opts.out), markdown);
    written.push(path.resolve(opts.out));
  }
  let html: string | undefined;
  if (opts.html) {
    html = await renderHtml(report);
    await writeAtomic(path.resolve(opts.html), html);
    written.push(path.resolve(opts.html));
  }
  return { report, markdown, html, written };
}
