import { describe, expect, it } from 'vitest';
import type { EvidenceRecord } from '../../../src/evidence/types.js';
import { stepEvidence } from '../../../src/steps/evidence.js';
import type { StepRecord } from '../../../src/steps/types.js';

const at = '2026-12-05T10:00:00.000Z';
const record = (id: string, status: StepRecord['status'], evidence: StepRecord['evidence'] = [], detail = `${id} detail`): StepRecord => ({ id, title: `step ${id}`, status, detail, ms: 12.6, evidence });
const scan = { kind: 'text' as const, label: 'pre-installed MTA scan', text: 'port 25: nothing listening' };
const built = { kind: 'command' as const, label: 'make', command: 'make -j2', text: 'built' };

describe('step records as evidence', () => {
  it('keeps one record per step, every run: a step that checked and had nothing to do records what it checked', () => {
    const out = stepEvidence('install', [record('1a-preflight', 'ok', [scan], 'no other MTA found'), record('exim-user', 'ok'), record('deps', 'changed'), record('export', 'skipped')], at, () => undefined);
    expect(out).toEqual([
      { area: 'install', id: '1a-preflight', title: 'step 1a-preflight', status: 'ok', summary: 'no other MTA found', at, ms: 13, evidence: [scan] },
      { area: 'install', id: 'exim-user', title: 'step exim-user', status: 'ok', summary: 'exim-user detail', at, ms: 13, evidence: [] },
      { area: 'install', id: 'deps', title: 'step deps', status: 'changed', summary: 'deps detail', at, ms: 13, evidence: [] },
      { area: 'install', id: 'export', title: 'step export', status: 'skipped', summary: 'export detail', at, ms: 13, evidence: [] },
    ]);
  });

  it('a step that found its work done by an earlier run keeps that run\'s evidence and says which run', () => {
    const first: EvidenceRecord = { area: 'install', id: 'build', title: 'make -j2', status: 'changed', summary: 'built', at: '2026-12-01T08:00:00.000Z', evidence: [built] };
    const [second] = stepEvidence('install', [record('build', 'ok', [], 'Exim 4.98.2 already built')], at, () => first);
    expect(second).toMatchObject({ status: 'ok', at, evidence: [built], doneBy: first.at, summary: `Exim 4.98.2 already built; already done by the run of ${first.at}, whose evidence this is` });
    // A third run still names the run that did the work, not the one that carried it.
    const [third] = stepEvidence('install', [record('build', 'ok', [], 'Exim 4.98.2 already built')], '2026-12-06T10:00:00.000Z', () => second);
    expect(third).toMatchObject({ evidence: [built], doneBy: first.at });
  });

  it('does not carry a failed run\'s evidence, nor replace a step\'s own evidence', () => {
    const failed: EvidenceRecord = { area: 'install', id: 'build', title: 'make', status: 'failed', summary: 'make failed', at: '2026-12-01T08:00:00.000Z', evidence: [built] };
    expect(stepEvidence('install', [record('build', 'ok')], at, () => failed)[0]).toMatchObject({ evidence: [], summary: 'build detail' });
    const earlier: EvidenceRecord = { ...failed, status: 'changed' };
    expect(stepEvidence('install', [record('1a-preflight', 'ok', [scan])], at, () => earlier)[0]).toMatchObject({ evidence: [scan], summary: '1a-preflight detail' });
  });
});
