/**
 * The backup-MX drill over time (messages sent, held on the backup, delivered), read from the
 * `drill/backup-mx` record's typed payloads: its figures and its timeline.
 */
import { readPayload, type BackupDrillFigures } from '../evidence/payloads.js';
import type { EvidenceRecord } from '../evidence/types.js';

export interface DrillMessage {
  messageId?: string;
  /** Epoch ms. */
  sent?: number;
  held?: number;
  delivered?: number;
}

export interface DrillEvent {
  label: string;
  at: number;
}

export type DrillFigures = Partial<BackupDrillFigures>;

export interface DrillTimeline {
  figures: DrillFigures;
  messages: DrillMessage[];
  /** The primary stopped, and started again. */
  events: DrillEvent[];
  /** The primary's outage. */
  outage?: { from: number; to?: number };
  start: number;
  end: number;
}

/** The seven figures `--json` prints, when the record has them. */
export function figuresFrom(record: EvidenceRecord | undefined): DrillFigures {
  const f = readPayload(record, 'backupFigures');
  if (!f) return {};
  const { sent, heldOnBackup, delivered, lost, duplicates, heldSeconds, recoverySeconds } = f;
  return { sent, heldOnBackup, delivered, lost, duplicates, heldSeconds, recoverySeconds };
}

/** The drill's timeline, or undefined when the record has no timeline payload. */
export function timelineFrom(record: EvidenceRecord | undefined): DrillTimeline | undefined {
  const t = readPayload(record, 'backupTimeline');
  if (!t) return undefined;
  const primary = readPayload(record, 'backupFigures')?.primary ?? 'primary';
  const messages: DrillMessage[] = t.messages.map((m) => ({ messageId: m.messageId, sent: m.sent, held: m.held, delivered: m.delivered }));
  const events: DrillEvent[] = [
    { label: `${primary} stopped`, at: t.downAt },
    { label: `${primary} started again`, at: t.returnedAt },
  ].sort((a, b) => a.at - b.at);
  const times = [...messages.flatMap((m) => [m.sent, heldFrom(m), m.delivered]), t.downAt, t.returnedAt].filter((x): x is number => x !== undefined);
  const start = Math.min(...times);
  const end = Math.max(...times);
  return {
    figures: figuresFrom(record),
    messages,
    events,
    outage: { from: t.downAt, to: t.returnedAt >= t.downAt ? t.returnedAt : undefined },
    start,
    // A little room after the last delivery, so the final step is not on the frame.
    end: end > start ? end + (end - start) * 0.04 : start + 1000,
  };
}

/**
 * When a message is on the backup: the backup logs its reception a moment before the client's
 * own clock says it finished sending (and older logs had whole seconds only); it is held from the
 * later of the two.
 */
export function heldFrom(m: DrillMessage): number | undefined {
  return m.held === undefined ? undefined : Math.max(m.held, m.sent ?? m.held);
}

export interface CountPoint {
  /** ms since the timeline's start. */
  t: number;
  sent: number;
  held: number;
  delivered: number;
}

/**
 * Step series for the picture: after each event time, how many messages have been sent, how
 * many sit on the backup right now (held and not yet delivered), how many were delivered.
 */
export function countSeries(tl: DrillTimeline): CountPoint[] {
  const times = [...new Set(tl.messages.flatMap((m) => [m.sent, heldFrom(m), m.delivered]).filter((t): t is number => t !== undefined))].sort((a, b) => a - b);
  const points: CountPoint[] = [{ t: 0, sent: 0, held: 0, delivered: 0 }];
  for (const t of times) {
    let sent = 0, held = 0, delivered = 0;
    for (const m of tl.messages) {
      if (m.sent !== undefined && m.sent <= t) sent++;
      const isDelivered = m.delivered !== undefined && m.delivered <= t;
      if (isDelivered) delivered++;
      const from = heldFrom(m);
      if (from !== undefined && from <= t && !isDelivered) held++;
    }
    points.push({ t: t - tl.start, sent, held, delivered });
  }
  return points;
}
