/**
 * Quotes the report lifts out of recorded evidence: the STARTTLS upgrade in an SMTP transcript
 * (6b) and the Received header of a message that came over TLS (7c).
 */
import { readPayload } from '../evidence/payloads.js';
import type { EvidenceItem, EvidenceRecord } from '../evidence/types.js';

/** Every item a record holds, the TLS drill's checks' evidence included. */
export function recordItems(record: EvidenceRecord | undefined): EvidenceItem[] {
  if (!record) return [];
  const checks = readPayload(record, 'tlsDrill')?.checks ?? [];
  return [...(record.evidence ?? []), ...checks.flatMap((c) => c.evidence)];
}

/** Every text a record holds, for searching it. */
export function recordTexts(record: EvidenceRecord | undefined): string[] {
  return recordItems(record).map((i) => i.text ?? '').filter(Boolean);
}

/** The Received header of a message that came over TLS, from whichever record shows one. */
export function findTlsReceived(records: (EvidenceRecord | undefined)[]): string | undefined {
  for (const rec of records) {
    for (const text of recordTexts(rec)) {
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        if (!/^Received:/i.test(lines[i])) continue;
        const block = [lines[i]];
        for (let j = i + 1; j < lines.length && /^[ \t]/.test(lines[j]); j++) block.push(lines[j]);
        const joined = block.join('\n');
        if (/esmtps|\btls\b|TLS1|TLSv1/i.test(joined)) return joined;
      }
    }
  }
  return undefined;
}

/**
 * The transcript lines that show the upgrade to TLS: the server's STARTTLS offer, the command,
 * its 220 reply, and the first exchange inside TLS (~> / <~).
 */
export function starttlsLines(rec: EvidenceRecord | undefined): string | undefined {
  for (const item of recordItems(rec)) {
    const lines = (item.text ?? '').split('\n');
    const cmd = lines.findIndex((l) => /^\s*->\s*STARTTLS\s*$/i.test(l));
    if (cmd < 0) continue;
    const offer = lines.findIndex((l, i) => i < cmd && /^\s*<-\s*250[- ]STARTTLS/i.test(l));
    const firstTls = lines.findIndex((l, i) => i > cmd && /^\s*~>/.test(l));
    const head = offer < 0 ? [] : offer === cmd - 1 ? [lines[offer]!] : [lines[offer]!, '    [...]'];
    const tail = lines.slice(cmd, firstTls < 0 ? cmd + 3 : firstTls + 2);
    return [...head, ...tail].join('\n');
  }
  return undefined;
}
