/**
 * Builds the report from evidence records: the write-up's structure (./outline.ts) task by task,
 * each item from the record ./select.ts picks for it, a missing record listed with the command
 * that produces it, records no section asked for under "Other evidence", and a summary.
 */
import type { EvidenceRecord } from '../evidence/types.js';
import type { Answers } from './answers-file.js';
import { recordBlocks } from './blocks.js';
import type { Block, Report, ReportCounts, ReportItem, ReportSection } from './model.js';
import { outline, para, type ItemSpec, type SectionSpec } from './outline.js';
import { checkStatuses, itemStatus, Selection, type SelectOptions } from './select.js';

export interface BuildOptions extends SelectOptions {
  /** Show earlier runs of each item. */
  history?: boolean;
  now?: Date;
  /** The student's answers (labctl report --answers FILE). */
  answers?: Answers;
}

function recordItem(rec: EvidenceRecord, title: string, blocks: Block[], sel: Selection, history: boolean): ReportItem {
  return {
    key: `${rec.area}/${rec.id}`,
    title,
    status: itemStatus(rec.status),
    summary: rec.summary,
    host: rec.host,
    at: rec.at,
    ms: rec.ms,
    blocks,
    history: history ? sel.history(rec) : [],
  };
}

function makeItem(spec: ItemSpec, sel: Selection, history: boolean): ReportItem {
  const rec = sel.pick(spec.area, spec.id);
  if (!rec) {
    const why = sel.whyMissing(spec.area);
    return { key: `${spec.area}/${spec.id}`, title: spec.title, status: 'missing', ...(why ? { why } : { command: spec.command ?? sel.command(spec.area, spec.id) }), blocks: [], history: [] };
  }
  sel.used.add(rec);
  return recordItem(rec, spec.title, spec.render ? spec.render(rec) : recordBlocks(rec), sel, history);
}

const slugify = (s: string) =>
  s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

function buildSection(spec: SectionSpec, sel: Selection, history: boolean, ids: Set<string>): ReportSection {
  // HTML ids that start with a letter, so they also work as CSS selectors (#s-1a-...).
  let id = `s-${slugify(spec.title) || 'section'}`;
  while (ids.has(id)) id += '-x';
  ids.add(id);
  const items = spec.items.map((i) => makeItem(i, sel, history));
  if (spec.areaRest) {
    const rest = sel.ids(spec.areaRest.area).sort();
    if (rest.length === 0) {
      items.push({ key: `${spec.areaRest.area}/*`, title: spec.areaRest.title, status: 'missing', command: spec.areaRest.command, blocks: [], history: [] });
    }
    for (const rid of rest) {
      const rec = sel.pick(spec.areaRest.area, rid);
      items.push(makeItem({ area: spec.areaRest.area, id: rid, title: rec?.title || rid }, sel, history));
    }
  }
  return {
    id,
    title: spec.title,
    intro: spec.intro ? spec.intro(sel) : [],
    items,
    subsections: (spec.subsections ?? []).map((s) => buildSection(s, sel, history, ids)),
  };
}

/** Records no section asked for (a new check, a record for another host): the newest of each, shown as recorded. */
function otherEvidence(records: EvidenceRecord[], sel: Selection, opts: BuildOptions): ReportSection | undefined {
  const shown = new Set([...sel.used].map((r) => `${r.area}/${r.id}`));
  const others = new Map<string, EvidenceRecord>();
  for (const r of records) {
    if (!r || typeof r.area !== 'string' || shown.has(`${r.area}/${r.id}`)) continue;
    if (opts.host && r.host && r.host !== opts.host) continue;
    const key = `${r.area}/${r.id}${r.host ? `@${r.host}` : ''}`;
    const seen = others.get(key);
    if (!seen || Date.parse(seen.at) < Date.parse(r.at)) others.set(key, r);
  }
  if (others.size === 0) return undefined;
  return {
    id: 's-other-evidence',
    title: 'Other evidence',
    intro: [para('Records in the evidence store that the sections above do not use.')],
    items: [...others.values()]
      .sort((a, b) => `${a.area}/${a.id}`.localeCompare(`${b.area}/${b.id}`))
      .map((r) => recordItem(r, r.title || r.id, recordBlocks(r), sel, !!opts.history)),
    subsections: [],
  };
}

function walkItems(secs: ReportSection[], visit: (i: ReportItem) => void): void {
  for (const s of secs) {
    s.items.forEach(visit);
    walkItems(s.subsections, visit);
  }
}

export function buildReport(records: EvidenceRecord[], opts: BuildOptions = {}): Report {
  checkStatuses(records);
  const sel = new Selection(records, opts);
  const ids = new Set<string>();
  const built = outline(opts.answers).map((s) => buildSection(s, sel, !!opts.history, ids));
  const other = otherEvidence(records, sel, opts);
  if (other) built.push(other);

  const counts: ReportCounts = { pass: 0, fail: 0, warn: 0, skip: 0, missing: 0, info: 0 };
  const missing: Report['missing'] = [];
  walkItems(built, (i) => {
    counts[i.status]++;
    if (i.status === 'missing') missing.push({ key: i.key, title: i.title, ...(i.why ? { why: i.why } : { command: i.command }) });
  });
  const labHosts = [...new Set(records.filter((r) => r?.area === 'verify' && r.host).map((r) => r.host as string))].sort();
  const summary: ReportSection = {
    id: 's-summary',
    title: 'Summary',
    intro: summaryBlocks(counts, missing, records.length, opts, labHosts),
    items: [],
    subsections: [],
  };

  return {
    title: `Lab 3: MTA (Exim), lab report${opts.host ? ` for ${opts.host}` : ''}`,
    generatedAt: (opts.now ?? new Date()).toISOString(),
    host: opts.host,
    recordCount: records.length,
    sections: [summary, ...built],
    counts,
    missing,
  };
}

function summaryBlocks(c: ReportCounts, missing: Report['missing'], recordCount: number, opts: BuildOptions, labHosts: string[]): Block[] {
  const blocks: Block[] = [
    para(
      `Written by labctl from ${recordCount} evidence record${recordCount === 1 ? '' : 's'}${opts.host ? `, preferring those about ${opts.host}` : ''}; ` +
        'every output below is what the command printed, nothing typed by hand.',
    ),
    {
      kind: 'table',
      headers: ['pass', 'fail', 'warn', 'skipped', 'recorded', 'missing'],
      rows: [[c.pass, c.fail, c.warn, c.skip, c.info, c.missing].map(String)],
    },
  ];
  if (!opts.host && labHosts.length) {
    blocks.push(para(`The checks also ran on the lab hosts ${labHosts.join(', ')}; this report shows the machine's own runs where there are any, and a lab host's pass where the machine's own run could only warn or skip (DNS that nothing serves here, no partner to back up). For one lab host's runs throughout, run \`labctl report --host ${labHosts[0]}\`.`));
  }
  const notRun = missing.filter((m) => m.command);
  if (notRun.length) {
    blocks.push(para('Not run yet (each line: the item, then the command that produces its evidence):'));
    blocks.push({ kind: 'list', items: notRun.map((m) => `${m.key}: ${m.title}; run \`${m.command}\``) });
  }
  const unrecorded = missing.filter((m) => m.why);
  if (unrecorded.length) {
    blocks.push(para('Not recorded although the command that produces them ran (each line: the item, then why):'));
    blocks.push({ kind: 'list', items: unrecorded.map((m) => `${m.key}: ${m.title}; ${m.why}`) });
  }
  return blocks;
}
