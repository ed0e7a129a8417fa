import path from 'node:path';
import { saveOutcome } from '../evidence/record.js';
import { redact } from '../evidence/store.js';
import { verifyJsonFile } from '../state/verify-json.js';
import { ensureDir, writeAtomic } from '../system/files.js';
import { renderCheckFile, toJson } from './render.js';
import type { VerifyReport } from './types.js';

/** --evidence DIR: one text file per check plus verify.json (src/state/verify-json.ts); private keys never written. */
export async function writeEvidenceDir(dir: string, report: VerifyReport): Promise<string[]> {
  await ensureDir(dir);
  const safe = redact(report);
  const written: string[] = [];
  for (const r of safe.checks) {
    const file = path.join(dir, `${r.id}.txt`);
    await writeAtomic(file, renderCheckFile(r));
    written.push(file);
  }
  const json = verifyJsonFile(dir);
  await writeAtomic(json, toJson(safe) + '\n');
  written.push(json);
  return written;
}

/** The latest run, kept under the state directory for `labctl report` (area 'verify'). */
export async function storeReport(report: VerifyReport, host?: string): Promise<void> {
  const at = new Date().toISOString();
  for (const r of report.checks) {
    await saveOutcome('verify', { ...r, host }, at);
  }
}
