/**
 * The backup-MX drill's record, the same in both worlds (the namespace lab, two real machines):
 * 5c (a forced delivery: exim -qff on the backup, or ETRN from the primary) is drill/backup-mx,
 * 4c (the backup's own retry) is drill/backup-mx-retry, so one never hides the other. The figures
 * and the timeline are typed payloads; the summary is a sentence.
 */
import { payloadItem, type BackupDrill } from '../evidence/payloads.js';
import { saveOutcome } from '../evidence/record.js';
import type { EvidenceItem } from '../evidence/types.js';

export const backupDrillId = (figures: BackupDrill['figures']) => (figures.forced ? 'backup-mx' : 'backup-mx-retry');

export function backupDrillSummary(f: BackupDrill['figures']): string {
  return `${f.delivered} of ${f.sent} delivered, ${f.lost} lost, ${f.duplicates} duplicated; ${f.heldOnBackup} held on ${f.backup}, up to ${f.heldSeconds} s; all in ${f.recoverySeconds} s after ${f.primary} returned`;
}

export async function saveBackupDrill(d: BackupDrill & { title: string; evidence: EvidenceItem[] }): Promise<void> {
  const f = d.figures;
  await saveOutcome('drill', {
    id: backupDrillId(f),
    title: d.title,
    status: f.lost === 0 && f.duplicates === 0 ? 'pass' : 'fail',
    summary: backupDrillSummary(f),
    ms: Object.values(f.phases).reduce((a, b) => a + b, 0) * 1000,
    evidence: [...d.evidence, payloadItem('backupFigures', f), payloadItem('backupTimeline', d.timeline)],
  }, new Date(d.timeline.downAt).toISOString());
}
