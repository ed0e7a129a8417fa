/**
 * The one way a state file is read and written: JSON with a `schemaVersion`, written atomically
 * (src/system/files.ts writeAtomic). A file from an older labctl without a version reads as
 * version 1; a file from a newer schema is an error, not a guess.
 */
import { EXIT, LabError } from '../errors.js';
import { readIfExists, writeJson } from '../system/files.js';

export interface ParseHow {
  /** What to do about a corrupt file (default: remove it and write it again). */
  remedy?: string;
  /** What to do about a file of a newer schema (default: use the labctl that wrote it). */
  newer?: string;
  /** The exit code of the error (default: a failure; a file given on the command line: usage). */
  exitCode?: number;
}

/**
 * A state file's text as its record: the schema version checked and dropped. `file` names it in
 * the one-line errors; `how` says what to do about them.
 */
export function parseState<T>(file: string, text: string, schema: number, how: ParseHow = {}): T {
  const remedy = how.remedy ?? 'remove it and run the command that writes it again';
  const refuse = (message: string, hint = remedy) => new LabError(message, hint, how.exitCode ?? EXIT.failure);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw refuse(`${file} is not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw refuse(`${file} is not a labctl state file (not a JSON object)`);
  const { schemaVersion, ...state } = raw as { schemaVersion?: unknown };
  const version = schemaVersion ?? 1;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) throw refuse(`${file} has schema version ${JSON.stringify(version)}, not a whole number`);
  if (version > schema) throw refuse(`${file} has schema version ${version}; this labctl reads up to ${schema}`, how.newer ?? 'use the labctl that wrote it, or remove the file');
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
