import { promises as fs } from 'node:fs';
import { keepBackup } from '../system/backup.js';
import { readIfExists, writeAtomic } from '../system/files.js';

/**
 * The write-up's 1.3c: `/etc/aliases` carries `postmaster: <user>` exactly once. Every other
 * line (comments, other aliases, their continuation lines) is kept as it was.
 */

const HEADER = '# Aliases for Exim (system_aliases router). postmaster is set by labctl configure.\n';

/** True for the first line of an alias entry for `name` (case-insensitive, as Exim's lsearch). */
const entryOf = (line: string, name: string) => new RegExp(`^${name}\\s*:`, 'i').test(line);

/** The aliases text with exactly one `postmaster: <user>` entry, where the first one was. */
export function withPostmaster(text: string | undefined, user: string): string {
  const wanted = `postmaster: ${user}`;
  if (text === undefined || text === '') return `${HEADER}\n${wanted}\n`;
  const lines = text.split('\n');
  const trailingNewline = text.endsWith('\n');
  if (trailingNewline) lines.pop();
  const out: string[] = [];
  let placed = false;
  let skippingContinuation = false;
  for (const line of lines) {
    if (skippingContinuation && /^[ \t]+\S/.test(line)) continue;
    skippingContinuation = false;
    if (entryOf(line, 'postmaster')) {
      skippingContinuation = true;
      if (!placed) out.push(wanted);
      placed = true;
      continue;
    }
    out.push(line);
  }
  if (!placed) out.push(wanted);
  return out.join('\n') + '\n';
}

export interface AliasesResult {
  changed: boolean;
  backup?: string;
}

/** Writes the aliases file when it needs the change, keeping the previous one as a backup. */
export async function ensurePostmasterAlias(file: string, user: string): Promise<AliasesResult> {
  const before = await readIfExists(file);
  const after = withPostmaster(before, user);
  if (after === before) return { changed: false };
  const st = await fs.stat(file).catch(() => undefined);
  const backup = await keepBackup(file);
  await writeAtomic(file, after, { mode: st ? st.mode & 0o7777 : 0o644, uid: st?.uid ?? 0, gid: st?.gid ?? 0 });
  return { changed: true, backup };
}
