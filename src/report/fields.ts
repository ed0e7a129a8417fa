/**
 * Small readers for the loosely typed `data` the producers store: they accept the few spellings
 * a field may have (messageId / message_id / msgid) so a renamed field degrades to "not shown"
 * instead of a crash.
 */
import type { EvidenceRecord } from '../evidence/store.js';

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first of `names` present on `o` (case- and separator-insensitive). */
export function pick(o: unknown, ...names: string[]): unknown {
  if (!isObj(o)) return undefined;
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const wanted = names.map(norm);
  for (const w of wanted) {
    for (const [k, v] of Object.entries(o)) if (norm(k) === w && v !== undefined && v !== null) return v;
  }
  return undefined;
}

export function pickString(o: unknown, ...names: string[]): string | undefined {
  const v = pick(o, ...names);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function pickNumber(o: unknown, ...names: string[]): number | undefined {
  const v = pick(o, ...names);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export function pickArray(o: unknown, ...names: string[]): unknown[] | undefined {
  const v = pick(o, ...names);
  return Array.isArray(v) ? v : undefined;
}

/** Every structured payload of a record: its 'data' items (and any item carrying data). */
export function dataOf(record: EvidenceRecord | undefined): Obj[] {
  if (!record) return [];
  const out: Obj[] = [];
  for (const item of record.evidence ?? []) {
    if (isObj(item.data)) out.push(item.data);
    else if (item.kind === 'data' && typeof item.text === 'string') {
      try {
        const parsed: unknown = JSON.parse(item.text);
        if (isObj(parsed)) out.push(parsed);
      } catch {
        /* not JSON: shown as text */
      }
    }
  }
  return out;
}

/**
 * A time the producers wrote as an ISO string, epoch seconds or epoch milliseconds, in ms since
 * the epoch; small numbers are seconds relative to `base` (a drill's start).
 */
export function toEpochMs(v: unknown, base?: number): number | undefined {
  if (typeof v === 'string') {
    if (/^\d+(\.\d+)?$/.test(v.trim())) return toEpochMs(Number(v), base);
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  if (v > 1e12) return v;
  if (v > 1e9) return v * 1000;
  return base !== undefined ? base + v * 1000 : undefined;
}
