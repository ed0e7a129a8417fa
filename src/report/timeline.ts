/**
 * The backup-MX drill over time (messages sent, held on the backup, delivered), read from the
 * `drill/backup-mx` record: its figures and its per-message timeline.
 */
import type { EvidenceRecord } from '../evidence/store.js';
import { dataOf, isObj, pick, pickNumber, pickString, toEpochMs, type Obj } from './fields.js';

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

export interface DrillFigures {
  sent?: number;
  heldOnBackup?: number;
  delivered?: number;
  lost?: number;
  duplicates?: number;
  heldSeconds?: number;
  recoverySeconds?: number;
}

export interface DrillTimeline {
  figures: DrillFigures;
  messages: DrillMessage[];
  /** Host stopped, host started, forced queue run ... */
  events: DrillEvent[];
  /** The primary's outage, when the record says when it went down and came back. */
  outage?: { from: number; to?: number };
  start: number;
  end: number;
}

const FIGURES: (keyof DrillFigures)[] = ['sent', 'heldOnBackup', 'delivered', 'lost', 'duplicates', 'heldSeconds', 'recoverySeconds'];

/** The primary host's name, when the drill's data names it (figures carry `primary`). */
function primaryOf(record: EvidenceRecord | undefined): string | undefined {
  for (const d of dataOf(record)) {
    const p = pickString(d, 'primary');
    if (p) return p;
  }
  return undefined;
}

export function figuresFrom(record: EvidenceRecord | undefined): DrillFigures {
  const figures: DrillFigures = {};
  for (const d of dataOf(record)) {
    const src = isObj(pick(d, 'figures', 'result', 'summary')) ? (pick(d, 'figures', 'result', 'summary') as Obj) : d;
    for (const f of FIGURES) {
      const v = pickNumber(src, f);
      if (v !== undefined && figures[f] === undefined) figures[f] = v;
    }
  }
  return figures;
}

function messagesIn(d: Obj): unknown[] | undefined {
  for (const key of ['timeline', 'messages', 'perMessage', 'messageTimeline']) {
    const v = pick(d, key);
    if (Array.isArray(v) && v.some(isObj)) return v;
    if (isObj(v)) {
      const inner = pick(v, 'messages');
      if (Array.isArray(inner)) return inner;
    }
  }
  return undefined;
}

function eventsIn(d: Obj, base: number | undefined, primaryName?: string): DrillEvent[] {
  const out: DrillEvent[] = [];
  const v = pick(d, 'events', 'phases', 'marks');
  if (Array.isArray(v)) {
    for (const e of v) {
      const at = toEpochMs(pick(e, 'at', 'time', 'ts', 'start'), base);
      const label = pickString(e, 'label', 'event', 'name', 'phase', 'what');
      if (at !== undefined && label) out.push({ label, at });
    }
  } else if (isObj(v)) {
    for (const [label, t] of Object.entries(v)) {
      const at = toEpochMs(t, base);
      if (at !== undefined) out.push({ label, at });
    }
  }
  // Flat fields: labctl's drill records downAt and returnedAt (epoch ms) beside its messages.
  const primary = pickString(d, 'primary') ?? primaryName ?? 'primary';
  for (const [key, label] of [
    ['downAt', `${primary} stopped`],
    ['primaryStoppedAt', `${primary} stopped`],
    ['stoppedAt', `${primary} stopped`],
    ['returnedAt', `${primary} started again`],
    ['primaryStartedAt', `${primary} started again`],
    ['restartedAt', `${primary} started again`],
    ['forcedAt', 'forced queue run (exim -qff)'],
  ] as const) {
    const at = toEpochMs(pick(d, key), base);
    if (at !== undefined && !out.some((e) => e.label === label)) out.push({ label, at });
  }
  return out.sort((a, b) => a.at - b.at);
}

/** The drill's timeline, or undefined when the record holds no per-message times. */
export function timelineFrom(record: EvidenceRecord | undefined): DrillTimeline | undefined {
  const figures = figuresFrom(record);
  for (const d of dataOf(record)) {
    const raw = messagesIn(d);
    if (!raw) continue;
    const recordAt = record ? Date.parse(record.at) : NaN;
    const base = toEpochMs(pick(d, 'startedAt', 'start', 't0', 'began')) ?? (Number.isFinite(recordAt) ? recordAt : undefined);
    const messages: DrillMessage[] = raw.filter(isObj).map((m) => ({
      messageId: pickString(m, 'messageId', 'message_id', 'msgid', 'mid', 'id'),
      sent: toEpochMs(pick(m, 'sent', 'sentAt', 'accepted', 'acceptedAt'), base),
      held: toEpochMs(pick(m, 'held', 'heldAt', 'queued', 'queuedAt', 'onBackup'), base),
      delivered: toEpochMs(pick(m, 'delivered', 'deliveredAt', 'arrived', 'arrivedAt'), base),
    }));
    const events = eventsIn(d, base, primaryOf(record));
    const times = [
      ...messages.flatMap((m) => [m.sent, heldFrom(m), m.delivered]),
      ...events.map((e) => e.at),
    ].filter((t): t is number => t !== undefined);
    if (times.length === 0) continue;
    const start = Math.min(...times);
    const end = Math.max(...times);
    const down = events.find((e) => /stop|down|kill/i.test(e.label));
    const up = events.find((e) => /start|\bup\b|back|return/i.test(e.label) && (!down || e.at >= down.at));
    return {
      figures,
      messages,
      events,
      outage: down ? { from: down.at, to: up?.at } : undefined,
      start,
      // A little room after the last delivery, so the final step is not on the frame.
      end: end > start ? end + (end - start) * 0.04 : start + 1000,
    };
  }
  return undefined;
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
