import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAllEvidence, type EvidenceRecord } from '../../../src/evidence/store.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/report/evidence');

/** The fixture records' signer fingerprint and a drill Message-ID, as the real producers record them. */
export const SIGNER_FPR = 'A986F3A6BD6377D8730958DEBCE58C8CE41F32DF';
export const DRILL_MESSAGE_ID = 'labmihr0a3f5e1c-1@client.lab';

/**
 * Copies fixtures/report/evidence into a scratch state directory and points LABCTL_STATE_DIR at
 * it, so tests read records through the real store (and may delete some to make them missing).
 */
export async function fixtureStore(): Promise<{ stateDir: string; evidenceDir: string; cleanup: () => Promise<void> }> {
  const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-report-'));
  const evidenceDir = path.join(stateDir, 'evidence');
  await fs.cp(FIXTURES, evidenceDir, { recursive: true });
  const previous = process.env.LABCTL_STATE_DIR;
  process.env.LABCTL_STATE_DIR = stateDir;
  return {
    stateDir,
    evidenceDir,
    cleanup: async () => {
      if (previous === undefined) delete process.env.LABCTL_STATE_DIR;
      else process.env.LABCTL_STATE_DIR = previous;
      await fs.rm(stateDir, { recursive: true, force: true });
    },
  };
}

export async function fixtureRecords(withHistory = false): Promise<EvidenceRecord[]> {
  const store = await fixtureStore();
  try {
    return await loadAllEvidence(withHistory);
  } finally {
    await store.cleanup();
  }
}
