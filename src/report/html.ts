/**
 * The report as one self-contained HTML file: EJS templates from templates/report/, the
 * stylesheet inlined, the pictures as inline SVG. Nothing is loaded at view time.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import { paths } from '../paths.js';
import { STATUS_LABEL, type ItemStatus, type Report } from './model.js';
import { esc } from './svg.js';
import { timelineSvg } from './svg-timeline.js';
import { topologySvg } from './svg-topology.js';
import type { TopologyView } from './topology.js';
import type { DrillTimeline } from './timeline.js';

/** templates/report/ of the package: two levels up from src/report/ or dist/report/. */
export const TEMPLATE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../templates/report');

/** Paragraph text: HTML-escaped, `code spans` as <code>. */
export function inlineHtml(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => (part.length > 1 && part.startsWith('`') && part.endsWith('`') ? `<code>${esc(part.slice(1, -1))}</code>` : esc(part)))
    .join('');
}

function when(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC');
}

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export async function renderHtml(report: Report, templateDir = TEMPLATE_DIR): Promise<string> {
  const file = path.join(templateDir, 'report.ejs');
  const [template, css] = await Promise.all([fs.readFile(file, 'utf8'), fs.readFile(path.join(templateDir, 'report.css'), 'utf8')]);
  // Each picture gets its own id, so a second drawing of the same kind keeps ids unique.
  let topologies = 0;
  let timelines = 0;
  const helpers = {
    statusLabel: (s: ItemStatus) => STATUS_LABEL[s] ?? s,
    when,
    duration,
    inline: inlineHtml,
    evidenceDir: paths.evidenceDir,
    topologySvg: (t: TopologyView) => topologySvg(t, topologies++ === 0 ? 'topology-svg' : `topology-svg-${topologies}`),
    timelineSvg: (t: DrillTimeline) => timelineSvg(t, timelines++ === 0 ? 'timeline-svg' : `timeline-svg-${timelines}`),
  };
  return ejs.render(template, { report, css, h: helpers }, { filename: file, async: false });
}
