/**
 * verify.json's owner (src/state/verify-json.ts): `verify --evidence DIR` writes it with its schema
 * version, and its one reader, `labctl class report`, reads it back, reads a report an older
 * labctl wrote, and refuses a newer or corrupt one with one line naming the file.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseVerifyReport } from '../../../src/class/report.js';
import { readClassReports } from '../../../src/class/write.js';
import { EXIT } from '../../../src/errors.js';
import { verifyJsonFile } from '../../../src/state/verify-json.js';
import { writeEvidenceDir } from '../../../src/verify/evidence.js';
import { summarize } from '../../../src/verify/runner.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'labctl-verify-json-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const report = summarize([
  { id: 'daemon-listening', title: 'Exim listens on port 25', status: 'pass', summary: 'as expected', ms: 12, evidence: [{ kind: 'text', label: 'greeting', text: '220 mail.st14.sne24.ru ESMTP Exim 4.98.2' }] },
  { id: 'dkim-sign', title: 'Outgoing mail is DKIM-signed', status: 'fail', summary: 'no DKIM-Signature', ms: 30, evidence: [] },
]);
const expected = [
  { id: 'daemon-listening', title: 'Exim listens on port 25', status: 'pass', summary: 'as expected', evidence: [{ kind: 'text', label: 'greeting', text: '220 mail.st14.sne24.ru ESMTP Exim 4.98.2' }] },
  { id: 'dkim-sign', title: 'Outgoing mail is DKIM-signed', status: 'fail', summary: 'no DKIM-Signature', evidence: [] },
];
const failure = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err as Error & { hint?: string; exitCode?: number };
  }
  return undefined;
};

describe('verify.json (src/state/verify-json.ts)', () => {
  it('verify --evidence DIR writes it with its schema version, and the class report reads it back', async () => {
    await writeEvidenceDir(dir, report);
    const text = await readFile(verifyJsonFile(dir), 'utf8');
    expect((JSON.parse(text) as { schemaVersion: number }).schemaVersion).toBe(1);
    expect(parseVerifyReport('st14', verifyJsonFile(dir), text).checks).toEqual(expected);
  });

  it('reads a report an older labctl wrote, without a schema version', async () => {
    await writeEvidenceDir(dir, report);
    const { schemaVersion: _dropped, ...old } = JSON.parse(await readFile(verifyJsonFile(dir), 'utf8')) as Record<string, unknown>;
    expect(parseVerifyReport('st14', 'st14.json', JSON.stringify(old)).checks).toEqual(expected);
  });

  it('refuses a newer schema with one line naming the file and what to do, exit 2', async () => {
    await writeFile(path.join(dir, 'st14.json'), JSON.stringify({ schemaVersion: 2, checks: [] }));
    const err = await readClassReports(dir).then(() => undefined, (e: Error & { hint?: string; exitCode?: number }) => e);
    expect(err?.message).toBe(`${path.join(dir, 'st14.json')} has schema version 2; this labctl reads up to 1`);
    expect(err?.hint).toMatch(/labctl class report with the labctl the machines run/);
    expect(err?.exitCode).toBe(EXIT.usage);
  });

  it('refuses a corrupt report with one line naming the file and what to do', () => {
    const err = failure(() => parseVerifyReport('st14', 'st14.json', '{"checks": [\n{"id": "daemon-listening",'));
    expect(err?.message).toMatch(/^st14\.json is not valid JSON \([^\n]*\)$/);
    expect(err?.hint).toMatch(/labctl verify --json/);
    expect(err?.exitCode).toBe(EXIT.usage);
    expect(failure(() => parseVerifyReport('st14', 'st14.json', '[1]'))?.message).toBe('st14.json is not a labctl state file (not a JSON object)');
  });
});
