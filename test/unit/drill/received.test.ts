import { describe, expect, it } from 'vitest';
import { heldSeconds, receivedHops } from '../../../src/drill/received.js';
import { backupDrillId, backupDrillSummary } from '../../../src/drill/backup-record.js';
import { readPayload, payloadItem } from '../../../src/evidence/payloads.js';

// A message as st14 delivers it after st18 held it: st14's Received: on top, st18's below, folded as Exim writes them.
const HEADERS = [
  'Return-path: <postmaster@st14.sne24.ru>',
  'Received: from mail.st18.sne24.ru ([10.77.0.12])',
  '\tby mail.st14.sne24.ru with esmtps  TLS1.3 (Exim 4.98.2)',
  '\tid 1vRm4D-000123-AB; Sat, 05 Dec 2026 23:40:17 +0000',
  'Received: from mail.st14.sne24.ru ([10.77.0.11])',
  '\tby mail.st18.sne24.ru with esmtps  TLS1.3 (Exim 4.98.2)',
  '\tid 1vRm3x-000099-CD; Sat, 05 Dec 2026 23:39:58 +0000',
  'Message-ID: <labx-1@mail.st14.sne24.ru>',
].join('\n');

describe('the time a message waited on the backup, from its own Received: headers', () => {
  it('reads both hops, newest first, with the host that received each', () => {
    const hops = receivedHops(HEADERS);
    expect(hops.map((h) => h.by)).toEqual(['mail.st14.sne24.ru', 'mail.st18.sne24.ru']);
    expect(hops[0]!.at - hops[1]!.at).toBe(19_000);
    expect(heldSeconds(HEADERS)).toBe(19);
  });

  it('has no answer with one hop, or a date it cannot read', () => {
    expect(heldSeconds('Received: from a by b; Sat, 05 Dec 2026 23:40:17 +0000')).toBeUndefined();
    expect(heldSeconds('Received: from a by b; not a date\nReceived: from c by d; neither')).toBeUndefined();
  });
});

describe('the backup drill record in both worlds', () => {
  const figures = { sent: 3, heldOnBackup: 3, delivered: 3, lost: 0, duplicates: 0, heldSeconds: 19, recoverySeconds: 2.5, phases: { send: 1 }, acceptRate: 3, primary: 'mail.st14.sne24.ru', backup: 'mail.st18.sne24.ru' };
  it('keeps 4c (the retry) and 5c (forced: -qff or ETRN) under two ids', () => {
    expect(backupDrillId({ ...figures, forced: true })).toBe('backup-mx');
    expect(backupDrillId({ ...figures, forced: false })).toBe('backup-mx-retry');
  });
  it('reads the figures payload from either record, and writes a sentence, not JSON, as the summary', () => {
    for (const id of ['backup-mx', 'backup-mx-retry']) {
      const rec = { area: 'drill' as const, id, title: '', status: 'pass' as const, at: '2026-12-05T23:00:00Z', evidence: [payloadItem('backupFigures', { ...figures, forced: id === 'backup-mx', world: 'machines', flush: 'etrn' })] };
      expect(readPayload(rec, 'backupFigures')).toMatchObject({ sent: 3, world: 'machines' });
    }
    expect(backupDrillSummary({ ...figures, forced: true })).toBe('3 of 3 delivered, 0 lost, 0 duplicated; 3 held on mail.st18.sne24.ru, up to 19 s; all in 2.5 s after mail.st14.sne24.ru returned');
  });
});

describe('the report of a drill between two machines', () => {
  it('says where it ran, how the backup was made to deliver, and the held time per message', async () => {
    const { backupDrillBlocks } = await import('../../../src/report/payload-blocks.js');
    const f = { sent: 2, heldOnBackup: 2, delivered: 2, lost: 0, duplicates: 0, heldSeconds: 19, recoverySeconds: 1.2, phases: { send: 1 }, acceptRate: 2, forced: true, primary: 'mail.st14.sne24.ru', backup: 'mail.st18.sne24.ru', world: 'machines' as const, flush: 'etrn' as const, heldPerMessage: [18, 19] };
    const rec = { area: 'drill' as const, id: 'backup-mx', title: '', status: 'pass' as const, at: '2026-12-05T23:00:00Z', evidence: [payloadItem('backupFigures', f)] };
    const table = backupDrillBlocks(rec).find((b) => b.kind === 'table') as { rows: string[][] };
    expect(table.rows.map((r) => r.slice(0, 2))).toEqual(expect.arrayContaining([['where', 'two real machines'], ['delivery', 'ETRN (5c)'], ['held per message', '18-19']]));
  });
});
