import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAllEvidence, type EvidenceRecord } from '../../../src/evidence/store.js';
import { buildReport } from '../../../src/report/build.js';
import { renderHtml } from '../../../src/report/html.js';
import { renderMarkdown } from '../../../src/report/markdown.js';
import { allItems, allSections, type Report, type ReportItem } from '../../../src/report/model.js';
import { itemStatus } from '../../../src/report/select.js';
import { findTlsReceived, starttlsLines } from '../../../src/report/transcripts.js';
import { LabError } from '../../../src/errors.js';
import { fixtureRecords, fixtureStore, SIGNER_FPR } from './fixture-store.js';

const item = (r: Report, key: string): ReportItem => {
  const found = allItems(r).find((i) => i.key === key);
  if (!found) throw new Error(`no item ${key}`);
  return found;
};

describe('buildReport from the fixture store', () => {
  let records: EvidenceRecord[];
  beforeEach(async () => {
    records = await fixtureRecords(true);
  });

  it('follows the write-up: tasks in order, with their lettered parts', () => {
    const r = buildReport(records);
    expect(r.sections.map((s) => s.title)).toEqual([
      'Summary',
      'Task 1: Installation',
      'Task 2: Mail backup',
      'Task 3: Transport encryption',
      'Task 7: SPF and DKIM',
      'Beyond the write-up: DMARC, DANE, MTA-STS, TLS-RPT, PTR',
    ]);
    const titles = allSections(r).map((s) => s.title);
    for (const part of ['1a.', '1b.', '1c.', '1d.', '2. Configuration', '3a.', '3b.', '3c.', '4a, 5a.', '4b, 4c, 5b, 5c.', '6a.', '6b.', '7a.', '7b.', '7c.', '15.']) {
      expect(titles.some((t) => t.startsWith(part)), part).toBe(true);
    }
    const ids = allSections(r).map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^[a-z]/.test(id))).toBe(true);
  });

  it('uses every fixture item and finds nothing missing', () => {
    const r = buildReport(records);
    expect(r.missing).toEqual([]);
    expect(r.counts.missing).toBe(0);
    expect(r.counts.pass).toBeGreaterThan(25);
    expect(allSections(r).some((s) => s.id === 's-other-evidence')).toBe(false);
  });

  it('shows the signature with signer and fingerprint as a table', () => {
    const sig = item(buildReport(records), 'install/1c-signature');
    expect(sig.status).toBe('pass');
    const table = sig.blocks.find((b) => b.kind === 'table');
    expect(table && table.kind === 'table' && table.rows).toEqual(expect.arrayContaining([['signer', 'Jeremy Harris <jgh146exb@wizmail.org>'], ['primary fingerprint', SIGNER_FPR]]));
  });

  it("shows 7c on the wire: the three messages side by side, tshark's packet lines and the capture", () => {
    const w = item(buildReport(records), 'drill/wire');
    expect(w.status).toBe('pass');
    const table = w.blocks.find((b) => b.kind === 'table');
    expect(table && table.kind === 'table' && table.headers).toEqual(['', 'STARTTLS (port 25)', 'control: TLS off', 'SMTPS (port 465)']);
    const rows = table && table.kind === 'table' ? table.rows : [];
    expect(rows.find((r) => r[0] === 'marker found in the capture')).toEqual(['marker found in the capture', 'no', expect.stringMatching(/^yes: packet \d+, offset \d+$/), 'no']);
    expect(rows.find((r) => r[0] === 'after that')?.[1]).toBe('only TLS records');
    const code = w.blocks.filter((b) => b.kind === 'code').map((b) => (b.kind === 'code' ? b.text : ''));
    expect(code.some((t) => /TLSv1\.3 .*Server Hello/.test(t))).toBe(true);
    expect(code.some((t) => /\.pcap$/.test(t))).toBe(true);
  });

  it('keeps the newest run and lists older ones only with history', () => {
    expect(item(buildReport(records), 'install/1c-signature').history).toEqual([]);
    const withHistory = item(buildReport(records, { history: true }), 'install/1c-signature');
    expect(withHistory.history).toHaveLength(1);
    expect(withHistory.history[0]!.at).toBe('2025-11-26T20:40:03.120Z');
    expect(Date.parse(withHistory.at!)).toBeGreaterThan(Date.parse(withHistory.history[0]!.at));
  });

  it('points to --host when checks also ran on lab hosts', () => {
    const summary = (r: Report) => r.sections[0]!.intro.map((b) => (b.kind === 'paragraph' ? b.text : '')).join('\n');
    expect(summary(buildReport(records))).toContain('lab hosts st14, st18');
    expect(summary(buildReport(records))).toContain('`labctl report --host st14`');
    expect(summary(buildReport(records, { host: 'st14' }))).not.toContain('--host');
  });

  it('prefers records about --host and falls back to the local machine\'s', () => {
    const st18 = item(buildReport(records, { host: 'st18' }), 'verify/6-starttls');
    expect(st18.host).toBe('st18');
    expect(st18.summary).toContain('mail.st18.sne24.ru');
    const local = item(buildReport(records), 'verify/6-starttls');
    expect(local.host).toBeUndefined();
    // No st18 record for 7a-smtps: the machine's own is shown.
    expect(item(buildReport(records, { host: 'st18' }), 'verify/7a-smtps').status).toBe('pass');
  });

  it('draws the topology and the drill timeline from the lab records', () => {
    const r = buildReport(records);
    expect(item(r, 'lab/topology').blocks.some((b) => b.kind === 'topology')).toBe(true);
    const drill = item(r, 'drill/backup-mx');
    expect(drill.blocks.some((b) => b.kind === 'timeline')).toBe(true);
    const figures = drill.blocks.find((b) => b.kind === 'table' && b.caption === 'Drill figures');
    expect(figures && figures.kind === 'table' && figures.rows.find((row) => row[0] === 'lost')?.[1]).toBe('0');
  });

  it('answers 6a, 6b and 15 without the write-up\'s errors', () => {
    const r = buildReport(records);
    const text = (title: string) =>
      allSections(r)
        .find((s) => s.title.startsWith(title))!
        .intro.map((b) => (b.kind === 'paragraph' ? b.text : b.kind === 'code' ? b.text : ''))
        .join('\n');
    const a6 = text('6a.');
    expect(a6).toMatch(/465/);
    expect(a6).not.toMatch(/456/);
    expect(a6).toMatch(/same connection/);
    expect(a6).toMatch(/port 25[^.]*or 587/);
    const a6b = text('6b.');
    expect(a6b).toMatch(/STARTTLS on port 25/);
    expect(a6b).toMatch(/->\s*STARTTLS/);
    expect(text('7b.')).toMatch(/connect-time ACL cannot/i);
    expect(text('7b.')).toMatch(/encrypted = \*/);
    const a15 = text('15.');
    expect(a15).toMatch(/forward/);
    expect(a15).toMatch(/DKIM/);
    expect(a15).toMatch(/DMARC/);
  });

  it('quotes the Received header of a message that came over TLS', () => {
    const received = findTlsReceived(records.filter((r) => r.area === 'drill'));
    expect(received).toMatch(/^Received: from mail\.st18\.sne24\.ru/);
    expect(received).toMatch(/esmtps/);
    // The plaintext 3b delivery's Received header is not taken for a TLS one.
    expect(findTlsReceived(records.filter((r) => r.id === '3b-local-delivery'))).toBeUndefined();
    const upgrade = starttlsLines(records.find((r) => r.id === '6-starttls' && !r.host))!;
    expect(upgrade.split('\n')[0]).toBe(' <- 250-STARTTLS');
    expect(upgrade).toMatch(/ -> STARTTLS\n <- 220 TLS go ahead\n/);
    expect(upgrade).toMatch(/ ~> EHLO labctl-verify\n <~ 250-mail\.st14\.sne24\.ru/);
  });
});

describe('missing and odd evidence', () => {
  let store: Awaited<ReturnType<typeof fixtureStore>>;
  beforeEach(async () => {
    store = await fixtureStore();
  });
  afterEach(async () => {
    await store.cleanup();
  });

  it('lists a step that never ran as missing, with the command that produces it', async () => {
    await fs.rm(path.join(store.evidenceDir, 'drill/backup-mx'), { recursive: true });
    await fs.rm(path.join(store.evidenceDir, 'drill/backup-mx-retry'), { recursive: true });
    await fs.rm(path.join(store.evidenceDir, 'verify/6-starttls'), { recursive: true });
    await fs.rm(path.join(store.evidenceDir, 'verify/st14--6-starttls'), { recursive: true });
    await fs.rm(path.join(store.evidenceDir, 'verify/st18--6-starttls'), { recursive: true });
    const r = buildReport(await loadAllEvidence());
    const drill = item(r, 'drill/backup-mx');
    expect(drill.status).toBe('missing');
    expect(drill.command).toBe('labctl lab drill backup-mx --force');
    expect(item(r, 'verify/6-starttls').command).toBe('labctl verify --only 6-starttls');
    expect(item(buildReport(await loadAllEvidence(), { host: 'st14' }), 'verify/6-starttls').command).toBe('labctl verify --lab --only 6-starttls');
    expect(item(r, 'drill/backup-mx-retry').command).toBe('labctl lab drill backup-mx');
    expect(r.missing.map((m) => m.key)).toEqual(['drill/backup-mx-retry', 'drill/backup-mx', 'verify/6-starttls']);
    expect(r.counts.missing).toBe(3);
  });

  it('quotes the STARTTLS upgrade from another run when the shown one had TLS off', async () => {
    const file = path.join(store.evidenceDir, 'verify/6-starttls/latest.json');
    const rec = JSON.parse(await fs.readFile(file, 'utf8')) as EvidenceRecord;
    rec.status = 'skip';
    rec.evidence = rec.evidence.filter((e) => e.kind !== 'transcript');
    await fs.writeFile(file, JSON.stringify(rec));
    // Only the machine's own run: a lab host's pass would be shown in its place.
    const records = (await loadAllEvidence()).filter((x) => !(x.id === '6-starttls' && x.host));
    const r = buildReport(records);
    const b6 = allSections(r).find((s) => s.title.startsWith('6b.'))!;
    expect(item(r, 'verify/6-starttls').status).toBe('skip');
    expect(b6.intro.some((b) => b.kind === 'code' && / -> STARTTLS\n/.test(b.text))).toBe(true);
  });

  it("shows a lab host's pass in place of the machine's own warn or skip, never in place of a failure", async () => {
    const records = await loadAllEvidence();
    const own = records.find((x) => x.area === 'verify' && x.id === '6-starttls' && !x.host)!;
    const lab = records.find((x) => x.area === 'verify' && x.id === '6-starttls' && x.host === 'st14')!;
    expect(itemStatus(lab.status)).toBe('pass');
    for (const [status, shown] of [['warn', 'st14'], ['skip', 'st14'], ['fail', undefined], ['pass', undefined]] as const) {
      own.status = status;
      const r = buildReport(records);
      expect(item(r, 'verify/6-starttls').host, status).toBe(shown);
    }
  });

  it('says why a step of a command that ran has no record, and asks to run no command that ran', async () => {
    // What a labctl that kept no record of a step that found its work done left behind.
    for (const id of ['1a-preflight', 'deps', 'exim-user']) await fs.rm(path.join(store.evidenceDir, 'install', id), { recursive: true });
    const r = buildReport(await loadAllEvidence());
    const preflight = item(r, 'install/1a-preflight');
    expect(preflight.status).toBe('missing');
    expect(preflight.command).toBeUndefined();
    expect(preflight.why).toMatch(/^labctl install ran \(last on \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\) but kept no record of this step: /);
    expect(r.missing.map((m) => [m.key, m.command])).toEqual([['install/1a-preflight', undefined], ['install/deps', undefined], ['install/exim-user', undefined]]);
    const md = renderMarkdown(r);
    expect(md).not.toMatch(/run `labctl install/i);
    expect(md).toContain('Not recorded although the command that produces them ran');
    expect(md).toContain(`No record: ${preflight.why}.`);
    const html = await renderHtml(r);
    expect(html).toContain(`No record: ${preflight.why}.`);
    expect(html).not.toContain('Run <code>labctl install</code>');
  });

  it('builds a report of missing items from an empty store', () => {
    const r = buildReport([]);
    expect(r.recordCount).toBe(0);
    expect(r.counts.pass).toBe(0);
    expect(r.missing.find((m) => m.key === 'install/1c-signature')?.command).toBe('labctl install');
    expect(r.missing.find((m) => m.key === 'configure/*')?.command).toBe('labctl configure');
    expect(r.missing.find((m) => m.key === 'lab/topology')?.command).toBe('labctl lab up');
  });

  it('shows a record whose data has an unexpected shape as recorded, without throwing', () => {
    const odd: EvidenceRecord[] = [
      { area: 'drill', id: 'backup-mx', title: 'drill', status: 'failed', at: '2025-11-27T20:00:00Z', evidence: [{ kind: 'data', label: 'figures', data: { sent: 'ten', timeline: 'later' } }, { kind: 'log', label: 'log' }] },
      { area: 'lab', id: 'topology', title: 'topology', status: 'changed', at: '2025-11-27T20:00:00Z', evidence: [{ kind: 'data', label: 'topology', data: [1, 2, 3] }] },
      { area: 'verify', id: 'brand-new-check', title: 'a check no section knows', status: 'warn', at: '2025-11-27T20:00:00Z', evidence: [] },
      { area: 'verify', id: 'queue', title: 'queue', status: 'pass', at: 'not a date', evidence: undefined as unknown as [] },
    ];
    const r = buildReport(odd);
    expect(item(r, 'drill/backup-mx').status).toBe('fail');
    expect(item(r, 'drill/backup-mx').blocks.some((b) => b.kind === 'timeline')).toBe(false);
    expect(item(r, 'lab/topology').blocks.some((b) => b.kind === 'code')).toBe(true);
    expect(allSections(r).find((s) => s.id === 's-other-evidence')?.items.map((i) => i.key)).toEqual(['verify/brand-new-check']);
  });

  it('reads the step and check vocabularies, and nothing else', () => {
    expect((['ok', 'changed', 'failed', 'skipped'] as const).map(itemStatus)).toEqual(['pass', 'pass', 'fail', 'skip']);
    expect((['pass', 'fail', 'warn', 'skip'] as const).map(itemStatus)).toEqual(['pass', 'fail', 'warn', 'skip']);
  });

  it('rejects a record whose status is in neither vocabulary, naming it and the command that records it again', () => {
    for (const status of ['done', 'up', 'planned', 'PASS', '', undefined]) {
      const rec = { area: 'drill', id: 'backup-mx', title: 'drill', status, at: '2025-11-27T20:00:00Z', evidence: [] } as unknown as EvidenceRecord;
      expect(() => buildReport([rec]), String(status)).toThrow(LabError);
      expect(() => buildReport([rec]), String(status)).toThrow(/drill\/backup-mx .* has the status "[^"]*", which labctl does not write/);
    }
    const lab = { area: 'verify', id: '6-starttls', host: 'st14', title: 't', status: 'passed', at: '2025-11-27T20:00:00Z', evidence: [] } as unknown as EvidenceRecord;
    try {
      buildReport([lab]);
      expect.unreachable();
    } catch (err) {
      expect((err as LabError).message).toContain('verify/6-starttls for st14');
      expect((err as LabError).hint).toContain('`labctl verify --lab --only 6-starttls` records it again');
    }
  });
});

describe('summaries and data written by the producers', () => {
  it('shows a summary as its producer wrote it: figures live in typed payloads, never JSON read back from a summary', () => {
    const at = '2026-12-06T00:00:00.000Z';
    const rec: EvidenceRecord = { area: 'install', id: '1a-preflight', title: 'pre-flight', status: 'ok', summary: '{"sent":20,"lost":0}', at, evidence: [] };
    expect(item(buildReport([rec]), 'install/1a-preflight').summary).toBe('{"sent":20,"lost":0}');
  });

  it('shows epoch-ms times under time-like keys as UTC and flat nested objects as tables', async () => {
    const { dataBlocks } = await import('../../../src/report/blocks.js');
    const blocks = dataBlocks('timeline', { runId: 'lab1', downAt: 1764276303200, phases: { send: 1.1, held: 0.2 } });
    expect(blocks[0]).toMatchObject({ kind: 'table', rows: [['run id', 'lab1'], ['down at', '2025-11-27T20:45:03.200Z']] });
    expect(blocks[1]).toMatchObject({ kind: 'table', caption: 'timeline: phases', rows: [['send', '1.1'], ['held', '0.2']] });
  });
});
