/**
 * One function from outcomes to evidence records (src/evidence/record.ts): every command and drill
 * hands its outcome there, and no other file calls saveEvidence or writes a record as an object
 * literal. The lint reads each file with the TypeScript compiler (test/lint/evidence-owner.ts);
 * the fixtures under test/fixtures/lint/evidence/ prove it catches what it claims.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../lint/imports.js';
import { recordOffences } from '../lint/evidence-owner.js';

const SRC = path.resolve(import.meta.dirname, '../../src');
const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/lint/evidence/src');
/** The owner, and the store that defines saveEvidence. */
const OWNERS = [path.join('evidence', 'record.ts'), path.join('evidence', 'store.ts')];

const offences = (root: string) =>
  sourceFiles(root)
    .map((f) => path.relative(root, f))
    .filter((rel) => !OWNERS.includes(rel))
    .flatMap((rel) => recordOffences(path.join(root, rel)).map((o) => `${rel}:${o.line} ${o.what}: ${o.code}`));

describe('one maker of evidence records', () => {
  it('outside src/evidence/record.ts, no file calls saveEvidence or writes a record literal', () => {
    const list = offences(SRC);
    expect(list, list.join('\n')).toEqual([]);
  });

  it('the owner is where the records are made: it calls saveEvidence, and so do no others', () => {
    const calls = sourceFiles(SRC).filter((f) => recordOffences(f).some((o) => o.what === 'saveEvidence')).map((f) => path.relative(SRC, f));
    expect(calls).toEqual([path.join('evidence', 'record.ts')]);
  });

  it('catches the planted hand-made records in its fixtures, and nothing in clean code or the owner', () => {
    expect(offences(FIXTURE)).toEqual([
      'lab/drills/hand-made.ts:2 saveEvidence: saveEvidence',
      'lab/drills/hand-made.ts:3 saveEvidence: saveEvidence as keep',
      "lab/drills/hand-made.ts:7 record literal: { area: 'drill', id: 'x', title: 'x', status: 'pass', summar",
      "lab/drills/hand-made.ts:8 record literal: { area: 'drill' as const, id: 'y', title: 'y', status: 'fail",
      'lab/drills/hand-made.ts:10 saveEvidence: store.saveEvidence',
    ]);
  });

  it('reads code, not text: comments, strings and type-only imports are no offence', () => {
    const at = (code: string) => recordOffences('/x/src/lab/t.ts', code).map((o) => `${o.what}: ${o.code}`);
    expect(at("// saveEvidence({ area, status, evidence })\nconst s = 'saveEvidence({ area: 1, status: 2, evidence: [] })';\nimport type { saveEvidence } from './store.js';\nimport { type saveEvidence as S } from './store.js';")).toEqual([]);
    expect(at("const { area, status, evidence } = rec;\nconst r = { area, status, evidence };")).toEqual(['record literal: { area, status, evidence }']);
    expect(at("const m = await import('./store.js');\nawait m.saveEvidence(r);")).toEqual(['saveEvidence: m.saveEvidence']);
  });
});
