import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAllEvidence, migrateRecord, type EvidenceRecord } from '../../../src/evidence/store.js';
import { buildReport } from '../../../src/report/build.js';
import { allItems } from '../../../src/report/model.js';
import { fixtureStore } from './fixture-store.js';

describe('the evidence store reads records an older labctl wrote', () => {
  let store: Awaited<ReturnType<typeof fixtureStore>>;
  beforeEach(async () => {
    store = await fixtureStore();
  });
  afterEach(async () => {
    await store.cleanup();
  });

  const rewrite = async (rel: string, status: string) => {
    const file = path.join(store.evidenceDir, rel);
    const rec = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    await fs.writeFile(file, JSON.stringify({ ...rec, status }));
    return file;
  };

  it('reads done (install and configure steps) and up (the lab topology) as changed, latest and history alike', async () => {
    const build = await rewrite('install/build/latest.json', 'done');
    await rewrite('install/1c-signature/history/2025-11-26T20_40_03.120Z.json', 'done');
    await rewrite('lab/topology/latest.json', 'up');
    const records = await loadAllEvidence(true);
    expect(records.filter((r) => r.area === 'install' && r.id === '1c-signature').map((r) => r.status)).toEqual(['changed', 'changed']);
    expect(records.find((r) => r.id === 'build')!.status).toBe('changed');
    expect(records.find((r) => r.id === 'topology')!.status).toBe('changed');
    // Read, not rewritten.
    expect(JSON.parse(await fs.readFile(build, 'utf8')).status).toBe('done');
    const r = buildReport(records, { history: true });
    expect(allItems(r).find((i) => i.key === 'install/build')!.status).toBe('pass');
  });

  it('leaves every other status to the report, which refuses one it does not know', async () => {
    await rewrite('install/build/latest.json', 'planned');
    const records = await loadAllEvidence();
    expect(records.find((r) => r.id === 'build')!.status).toBe('planned');
    expect(() => buildReport(records)).toThrow(/install\/build .* has the status "planned"/);
  });

  it('migrates only the status', () => {
    const rec = { area: 'install', id: 'deps', title: 't', status: 'done', summary: 's', at: '2025-11-27T20:00:00Z', evidence: [] } as unknown as EvidenceRecord;
    expect(migrateRecord(rec)).toEqual({ ...rec, status: 'changed' });
    const today: EvidenceRecord = { ...rec, status: 'ok' };
    expect(migrateRecord(today)).toBe(today);
  });
});
