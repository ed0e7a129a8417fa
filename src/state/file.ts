/**
 * The one way a state file is read and written: JSON with a `schemaVersion`, written atomically
 * (src/system/files.ts writeAtomic). A file from an older labctl without a version reads as
 * version 1; a file from a newer schema is an error, not a guess.
 */
import { LabError } from '../errors.js';
import { readJson, writeJson } from '../system/files.js';

export async function loadState<T>(file: string, schema: number): Promise<T | undefined> {
  let raw: (T & { schemaVersion?: number }) | undefined;
  try {
    raw = await readJson<T & { schemaVersion?: number }>(file);
  } catch (err) {
    throw new LabError(`${file} is not valid JSON (${(err as Error).message.split('\n')[0]})`, 'remove it and run the command that writes it again');
  }
  if (raw === undefined) return undefined;
  const version = raw.schemaVersion ?? 1;
  if (version > schema) throw new LabError(`${file} has schema version ${version}; this labctl reads up to ${schema}`, 'use the labctl that wrote it, or remove the file');
  const { schemaVersion: _ignored, ...state } = raw;
  return state as T;
}

export async function saveState<T extends object>(file: string, schema: number, state: T): Promise<void> {
  await writeJson(file, { schemaVersion: schema, ...state });
}
