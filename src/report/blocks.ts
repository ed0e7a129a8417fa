/**
 * Turns a record's evidence items into report blocks: commands with their output, transcripts,
 * headers and log lines as monospace blocks; structured data as tables.
 */
import type { EvidenceItem, EvidenceRecord } from '../evidence/types.js';
import type { Block } from './model.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Longer evidence is cut in the middle; the store keeps the whole text. */
export const MAX_LINES = 200;

export function clip(text: string, maxLines = MAX_LINES): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  if (lines.length <= maxLines) return lines.join('\n');
  const head = Math.ceil(maxLines * 0.4);
  const tail = maxLines - head;
  return [...lines.slice(0, head), `[... ${lines.length - maxLines} lines left out here; the evidence store has them all ...]`, ...lines.slice(-tail)].join('\n');
}

/** "primaryFingerprint" -> "primary fingerprint". */
export function humanize(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
}

/** Epoch milliseconds under a time-like key (downAt, returnedAt) read better as UTC times. */
const looksLikeTime = (key: string, v: unknown) => typeof v === 'number' && v > 1e12 && v < 1e13 && /(At|Time|time|_at)$/.test(key);

export function scalarText(v: unknown, key = ''): string {
  if (looksLikeTime(key, v)) return new Date(v as number).toISOString();
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object')) return v.map((x) => scalarText(x)).join(', ');
  return JSON.stringify(v);
}

const isScalarish = (v: unknown) => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object'));

/** Structured data as a key/value table when flat, else as indented JSON. */
export function dataBlocks(label: string, data: unknown, omit: string[] = []): Block[] {
  if (isObj(data)) {
    const entries = Object.entries(data).filter(([k]) => !omit.includes(k));
    if (entries.length === 0) return [];
    const flat = entries.filter(([, v]) => isScalarish(v));
    const nested = entries.filter(([, v]) => !isScalarish(v));
    const out: Block[] = [];
    if (flat.length) out.push({ kind: 'table', caption: label, headers: ['field', 'value'], rows: flat.map(([k, v]) => [humanize(k), scalarText(v, k)]), mono: true });
    for (const [k, v] of nested) out.push(...nestedBlocks(`${label}: ${humanize(k)}`, v));
    return out;
  }
  return nestedBlocks(label, data);
}

function nestedBlocks(label: string, v: unknown): Block[] {
  // A flat object (drill phases, TLS details) is a field/value table.
  if (isObj(v) && Object.keys(v).length > 0 && Object.values(v).every(isScalarish)) {
    return [{ kind: 'table', caption: label, headers: ['field', 'value'], rows: Object.entries(v).map(([k, x]) => [humanize(k), scalarText(x, k)]), mono: true }];
  }
  // An array of flat objects is a table (settings, hosts, queue entries).
  if (Array.isArray(v) && v.length > 0 && v.every((r) => isObj(r) && Object.values(r).every(isScalarish))) {
    const headers = [...new Set(v.flatMap((r) => Object.keys(r as object)))];
    const rows = (v as Record<string, unknown>[]).slice(0, MAX_LINES).map((r) => headers.map((h) => scalarText(r[h], h)));
    return [{ kind: 'table', caption: label, headers: headers.map(humanize), rows, mono: true }];
  }
  return [{ kind: 'code', label, text: clip(JSON.stringify(v, null, 2)) }];
}

export function itemBlocks(item: EvidenceItem): Block[] {
  const label = item.label || item.kind;
  if (item.kind === 'data' && item.data !== undefined) return dataBlocks(label, item.data);
  if (item.kind === 'command') {
    return [{ kind: 'code', label, command: item.command, exitCode: item.exitCode, text: clip(item.text ?? '') }];
  }
  const blocks: Block[] = [];
  if (item.text !== undefined && item.text !== '') {
    blocks.push({ kind: 'code', label, text: clip(item.text), command: item.command, exitCode: item.exitCode });
  } else if (item.command) {
    blocks.push({ kind: 'code', label, command: item.command, exitCode: item.exitCode, text: '' });
  }
  if (item.data !== undefined) blocks.push(...dataBlocks(label, item.data));
  return blocks;
}

export function recordBlocks(record: EvidenceRecord, skip: (item: EvidenceItem) => boolean = () => false): Block[] {
  return (record.evidence ?? []).filter((i) => !skip(i)).flatMap(itemBlocks);
}
