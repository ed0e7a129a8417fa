import { promises as fs } from 'node:fs';
import path from 'node:path';
import { paths } from '../paths.js';
import { readJson, writeJson } from '../system/files.js';
import type { EvidenceRecord, StepStatus } from './types.js';

export type { EvidenceArea, EvidenceItem, EvidenceRecord } from './types.js';

/** Keys and other secrets must never reach the store. */
const SECRET = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;

export function redact<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replace(SECRET, '[private key withheld]')) as T;
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

function recordDir(area: string, id: string, host?: string): string {
  return path.join(paths.evidenceDir, slug(area), slug(host ? `${host}--${id}` : id));
}

/**
 * Saves a record as the newest for its item; earlier runs stay beside it (history/) so
 * `labctl report --history` can show them.
 */
export async function saveEvidence(record: EvidenceRecord): Promise<void> {
  const dir = recordDir(record.area, record.id, record.host);
  const latest = path.join(dir, 'latest.json');
  const previous = await readJson<EvidenceRecord>(latest).catch(() => undefined);
  if (previous) await writeJson(path.join(dir, 'history', `${slug(previous.at)}.json`), previous);
  await writeJson(latest, redact(record));
}

/**
 * Statuses an older labctl wrote, read as today's step status. This is the only place they are
 * translated; nothing on disk is rewritten. `done`: what install and configure wrote for a step
 * that changed something, before the step runner (src/steps). `up`: what lab up wrote for the
 * topology record, before it ran as steps.
 */
const OLD_STEP_STATUSES: Readonly<Record<string, StepStatus>> = { done: 'changed', up: 'changed' };

/** A stored record as today's contract reads it. */
export function migrateRecord(record: EvidenceRecord): EvidenceRecord {
  const status = OLD_STEP_STATUSES[record.status as string];
  return status ? { ...record, status } : record;
}

async function readRecord(file: string): Promise<EvidenceRecord | undefined> {
  const record = await readJson<EvidenceRecord>(file).catch(() => undefined);
  return record && migrateRecord(record);
}

/** The newest record of one item, if any. */
export async function loadLatestEvidence(area: string, id: string, host?: string): Promise<EvidenceRecord | undefined> {
  return readRecord(path.join(recordDir(area, id, host), 'latest.json'));
}

/** Every newest record, optionally with the history of each item. */
export async function loadAllEvidence(withHistory = false): Promise<EvidenceRecord[]> {
  const out: EvidenceRecord[] = [];
  const areas = await fs.readdir(paths.evidenceDir).catch(() => [] as string[]);
  for (const area of areas) {
    const items = await fs.readdir(path.join(paths.evidenceDir, area)).catch(() => [] as string[]);
    for (const item of items) {
      const dir = path.join(paths.evidenceDir, area, item);
      const latest = await readRecord(path.join(dir, 'latest.json'));
      if (latest) out.push(latest);
      if (!withHistory) continue;
      for (const h of await fs.readdir(path.join(dir, 'history')).catch(() => [] as string[])) {
        const rec = await readRecord(path.join(dir, 'history', h));
        if (rec) out.push(rec);
      }
    }
  }
  return out;
}
