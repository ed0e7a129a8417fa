/**
 * The backup drill's sequence, written once for both worlds (src/drill/backup-core.ts), on a
 * scripted world: pure logic (the order of the steps, the counting, the record), no Exim. The
 * real worlds run in test/e2e/04-lab (the namespace lab) and npm run test:pair (two machines).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBackupDrill, type BackupWorld } from '../../../src/drill/backup-core.js';
import type { SendRecord } from '../../../src/drill/sender.js';
import { scratchStateDir } from '../../helpers/state-dir.js';

const dir = scratchStateDir();

function scripted(o: { deliver: (ids: string[]) => string[]; failSend?: boolean }) {
  const steps: string[] = [];
  let delivered: string[] = [];
  let sentIds: string[] = [];
  const world: BackupWorld = {
    kind: 'machines', primary: 'mail.st14', backup: 'mail.st18', forcedBy: 'etrn',
    checks: async () => (steps.push('checks'), []),
    follow: async () => ({ ids: async () => delivered }),
    stopPrimary: async () => (steps.push('stop'), { restore: async () => void steps.push('restore') }),
    send: async (runId, n) => {
      steps.push('send');
      if (o.failSend) throw new Error('partner gone');
      const records: SendRecord[] = Array.from({ length: n }, (_, i) => ({ i: i + 1, messageId: `<${runId}-${i + 1}@x>`, ok: true, mx: 'mail.st18', acceptedAt: Date.now() }));
      sentIds = records.map((r) => r.messageId.slice(1, -1));
      return { records, evidence: [] };
    },
    held: async () => (steps.push('held'), { evidence: [], heldAt: new Map() }),
    flush: async (forced) => {
      steps.push(forced ? 'etrn' : 'wait');
      delivered = o.deliver(sentIds);
      return [];
    },
    times: async () => ({ evidence: [], heldAt: new Map(), deliveredAt: new Map(), heldPerMessage: [3, 4] }),
  };
  return { world, steps };
}

describe('the backup drill, one sequence for both worlds', () => {
  it('stops, sends, holds, restores, then forces; counts each message once and keeps the 5c record', async () => {
    const { world, steps } = scripted({ deliver: (ids) => [...ids, ids[0]!] });
    const r = await runBackupDrill(world, { messages: 4, forced: true, timeoutMs: 2000, title: () => 't' });
    expect(steps).toEqual(['checks', 'stop', 'send', 'held', 'restore', 'etrn']);
    expect(r.figures).toMatchObject({ sent: 4, heldOnBackup: 4, delivered: 4, lost: 0, duplicates: 1, world: 'machines', flush: 'etrn', heldPerMessage: [3, 4] });
    expect(r.ok).toBe(false);
    const rec = JSON.parse(await readFile(path.join(dir(), 'evidence/drill/backup-mx/latest.json'), 'utf8'));
    expect(rec.status).toBe('fail');
    expect(rec.summary).toMatch(/^4 of 4 delivered, 0 lost, 1 duplicated/);
  });

  it('counts what never arrived as lost, and keeps the 4c record apart', async () => {
    const { world, steps } = scripted({ deliver: (ids) => ids.slice(1) });
    const r = await runBackupDrill(world, { messages: 3, forced: false, timeoutMs: 500, title: () => 't' });
    expect(steps.at(-1)).toBe('wait');
    expect(r.figures).toMatchObject({ delivered: 2, lost: 1, duplicates: 0, flush: 'retry', forced: false });
    const rec = JSON.parse(await readFile(path.join(dir(), 'evidence/drill/backup-mx-retry/latest.json'), 'utf8'));
    expect(rec.summary).toMatch(/^2 of 3 delivered, 1 lost/);
  });

  it('starts the primary again when sending fails', async () => {
    const { world, steps } = scripted({ deliver: () => [], failSend: true });
    await expect(runBackupDrill(world, { messages: 2, forced: true, timeoutMs: 500, title: () => 't' })).rejects.toThrow('partner gone');
    expect(steps).toEqual(['checks', 'stop', 'send', 'restore']);
  });
});
