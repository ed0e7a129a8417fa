import { promises as fs } from 'node:fs';
import path from 'node:path';
import { paths } from '../paths.js';
import { readJson, writeJson } from '../system/files.js';

/** One piece of evidence: what ran and what it printed, a transcript, headers, log lines. */
export interface EvidenceItem {
  kind: 'command' | 'transcript' | 'headers' | 'log' | 'text' | 'file' | 'data';
  label: string;
  /** For kind 'command': the command line as run. */
  command?: string;
  exitCode?: number;
  /** The text itself (output, transcript lines, headers). */
  text?: string;
  /** Structured data (kind 'data'), e.g. a signature record or drill figures. */
  data?: unknown;
}

/** One record per step or check: area/id name it, e.g. install/1c-signature or verify/3b-local-delivery. */
export interface EvidenceRecord {
  area: 'install' | 'configure' | 'verify' | 'lab' | 'drill';
  id: string;
  title: string;
  status: string;
  summary?: string;
  /** Lab host the record is about, when it is about one (st14, st18). */
  host?: string;
  at: string; // ISO time
  ms?: number;
  evidence: EvidenceItem[];
}

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

/** Every newest record, optionally with the history of each item. */
export async function loadAllEvidence(withHistory = false): Promise<EvidenceRecord[]> {
  const out: EvidenceRecord[] = [];
  const areas = await fs.readdir(paths.evidenceDir).catch(() => [] as string[]);
  for (const area of areas) {
    const items = await fs.readdir(path.join(paths.evidenceDir, area)).catch(() => [] as string[]);
    for (const item of items) {
      const dir = path.join(paths.evidenceDir, area, item);
      const latest = await readJson<EvidenceRecord>(path.join(dir, 'latest.json')).catch(() => undefined);
      if (latest) out.push(latest);
      if (!withHistory) continue;
      for (const h of await fs.readdir(path.join(dir, 'history')).catch(() => [] as string[])) {
        const rec = await readJson<EvidenceRecord>(path.join(dir, 'history', h)).catch(() => undefined);
        if (rec) out.push(rec);
      }
    }
  }
  return out;
}
