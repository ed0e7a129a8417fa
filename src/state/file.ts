/**
 * The one way a state file is read and written: JSON with a `schemaVersion`, written atomically
 * (src/system/files.ts writeAtomic). A file from an older labctl without a version reads as
 * version 1; a file from a newer schema is an error, not a guess.
 */
import { LabError } from '../errors.js';
import { readIfExists, writeJson } from '../system/files.js';

/**
 * A state file's text as its record: the schema version checked and dropped. `file` names it in
 * the one-line errors; `remedy` says what to do about a corrupt file (default: write it again).
 */
export function parseState<T>(file: string, text: string, schema: number, remedy = 'remove it and run the command that writes it again'): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new LabError(`${file} is not valid JSON (${(err as Error).message.split('\n')[0]})`, remedy);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new LabError(`${file} is not a labctl state file (not a JSON object)`, remedy);
  const { schemaVersion, ...state } = raw as { schemaVersion?: unknown };
  const version = schemaVersion ?? 1;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) throw new LabError(`${file} has schema version ${JSON.stringify(version)}, not a whole number`, remedy);
  if (version > schema) throw new LabError(`${file} has schema version ${version}; this labctl reads up to ${schema}`, 'use the labctl that wrote it, or remove the file');
  return state as T;
}

export async function loadState<T>(file: string, schema: number): Promise<T | undefined> {
  const text = await readIfExists(file);
  return text === undefined ? undefined : parseState<T>(file, text, schema);
}

/** The record as saved: its schema version first. */
export const withSchema = <T extends object>(schema: number, state: T) => ({ schemaVersion: schema, ...state });

export async function saveState<T extends object>(file: string, schema: number, state: T): Promise<void> {
  await writeJson(file, withSchema(schema, state));
}
