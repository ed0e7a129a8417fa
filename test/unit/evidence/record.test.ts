/**
 * evidenceRecord and saveOutcome (src/evidence/record.ts): the one function from a step's, a
 * check's or a drill's outcome to its evidence record.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackupDrill } from '../../../src/evidence/payloads.js';
import { payloadItem } from '../../../src/evidence/payloads.js';
import { evidenceRecord, saveOutcome, type Outcome } from '../../../src/evidence/record.js';
import { loadLatestEvidence } from '../../../src/evidence/store.js';
import type { EvidenceArea } from '../../../src/evidence/types.js';
import { fixtureRecords, fixtureStore } from '../report/fixture-store.js';

const at = '2026-12-06T05:00:00.000Z';
const transcript = { kind: 'transcript' as const, label: 'SMTP transcript', text: '<- 220 ready' };
const figures: BackupDrill['figures'] = {
  sent: 10, heldOnBackup: 10, delivered: 10, lost: 0, duplicates: 0, heldSeconds: 4, recoverySeconds: 2,
  phases: { stopPrimary: 0.2, send: 1.1 }, acceptRate: 9.1, forced: false, primary: 'st14', backup: 'st18',
};
/** Bypasses the status typing, as a producer that got it wrong would at run time. */
const loose = (area: EvidenceArea, o: Record<string, unknown>) => () => evidenceRecord(area, o as unknown as Outcome<never>, at);

describe('evidenceRecord: an outcome as its record', () => {
  it('names the record by area and id, rounds ms, keeps the items in order and leaves out what the outcome has not', () => {
    const rec = evidenceRecord('drill', { id: 'backup-mx-retry', title: 'retry', status: 'pass', summary: '10 of 10 delivered', ms: 1300.0000000000002, evidence: [transcript, payloadItem('backupFigures', figures)] }, at);
    expect(rec).toStrictEqual({ area: 'drill', id: 'backup-mx-retry', title: 'retry', status: 'pass', summary: '10 of 10 delivered', at, ms: 1300, evidence: [transcript, { kind: 'data', label: 'figures', data: figures }] });
    expect(evidenceRecord('verify', { id: '2a', title: 'x', status: 'warn', host: 'st18', evidence: [] }, at)).toStrictEqual({ area: 'verify', id: '2a', title: 'x', status: 'warn', host: 'st18', at, evidence: [] });
    expect(Object.keys(evidenceRecord('install', { id: 'build', title: 'b', status: 'ok', summary: 's', host: 'h', ms: 1, doneBy: at }, at))).toEqual(['area', 'id', 'title', 'status', 'summary', 'host', 'at', 'ms', 'doneBy', 'evidence']);
  });

  it('refuses a status of the other vocabulary: steps for install, configure and lab; checks for verify and drills; never a plan\'s unknown', () => {
    expect(loose('drill', { id: 'tls', title: 't', status: 'changed' })).toThrow("drill/tls: \"changed\" is not a check status");
    expect(loose('lab', { id: 'topology', title: 't', status: 'pass' })).toThrow('lab/topology: "pass" is not a step status');
    expect(loose('install', { id: 'build', title: 't', status: 'unknown' })).toThrow('is not a step status');
    for (const s of ['ok', 'changed', 'failed', 'skipped'] as const) expect(evidenceRecord('configure', { id: 'c', title: 't', status: s }, at).status).toBe(s);
    for (const s of ['pass', 'fail', 'warn', 'skip'] as const) expect(evidenceRecord('verify', { id: 'c', title: 't', status: s }, at).status).toBe(s);
  });

  it('refuses figures as JSON in the summary (they go in a typed payload), not a sentence in brackets', () => {
    const { phases: _phases, ...flat } = figures;
    expect(() => evidenceRecord('drill', { id: 'backup-mx', title: 'b', status: 'pass', summary: JSON.stringify(flat) }, at)).toThrow('drill/backup-mx: the summary is JSON; put the figures in a typed payload');
    expect(() => evidenceRecord('drill', { id: 'wire', title: 'w', status: 'pass', summary: ' [1, 2]' }, at)).toThrow('the summary is JSON');
    expect(evidenceRecord('verify', { id: 'x', title: 'x', status: 'pass', summary: '[private key withheld] {not json}' }, at).summary).toBe('[private key withheld] {not json}');
  });

  it('refuses a payload of the wrong shape in its slot (the report would not read it), in the slot\'s other records too; the same label elsewhere is free', () => {
    const bad = { kind: 'data' as const, label: 'figures', data: { sent: 'ten' } };
    expect(() => evidenceRecord('drill', { id: 'backup-mx', title: 'b', status: 'pass', evidence: [bad] }, at)).toThrow('drill/backup-mx: the "figures" item is not a backupFigures payload');
    expect(() => evidenceRecord('drill', { id: 'backup-mx-retry', title: 'b', status: 'pass', evidence: [bad] }, at)).toThrow('not a backupFigures payload');
    expect(() => evidenceRecord('lab', { id: 'topology', title: 't', status: 'changed', evidence: [{ kind: 'data', label: 'topology', data: { spec: {} } }] }, at)).toThrow('not a topology payload');
    expect(evidenceRecord('verify', { id: 'backup-mx', title: 'b', status: 'pass', evidence: [bad] }, at).evidence).toEqual([bad]);
  });

  it('remakes every record of the report\'s fixture store exactly, payloads and all', async () => {
    const records = await fixtureRecords(true);
    expect(records.length).toBeGreaterThan(20);
    for (const r of records) expect(evidenceRecord(r.area, r as Outcome<never>, r.at), `${r.area}/${r.id}`).toStrictEqual(r);
  });
});

describe('saveOutcome: the record, saved where the report reads it', () => {
  let store: Awaited<ReturnType<typeof fixtureStore>>;
  beforeEach(async () => {
    store = await fixtureStore();
  });
  afterEach(async () => {
    await store.cleanup();
  });

  it('saves the record as the newest of its item, the one before kept in its history, and returns it', async () => {
    const before = await loadLatestEvidence('drill', 'tls');
    const rec = await saveOutcome('drill', { id: 'tls', title: 'TLS drill', status: 'fail', summary: '5/6 checks passed', evidence: [transcript] }, at);
    expect(await loadLatestEvidence('drill', 'tls')).toEqual(rec);
    const history = await fs.readdir(path.join(store.evidenceDir, 'drill', 'tls', 'history'));
    expect(history).toContain(`${before!.at.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);
  });

  it('saves nothing when the outcome is refused', async () => {
    const before = await loadLatestEvidence('drill', 'tls');
    await expect(saveOutcome('drill', { id: 'tls', title: 't', status: 'pass', summary: '{"passed":6}' }, at)).rejects.toThrow('the summary is JSON');
    expect(await loadLatestEvidence('drill', 'tls')).toEqual(before);
  });
});
