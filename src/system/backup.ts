import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Timestamped backups beside a file: `<name>.<UTC time>.bak`, newest kept, older pruned.
 * The timestamp sorts as text, so the newest are the last names in order.
 */
export function backupStamp(now = new Date()): string {
  return now.toISOString().replace(/[-:.]/g, '');
}

export const backupPattern = (file: string) =>
  new RegExp(`^${path.basename(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d{8}T\\d{9}Z(?:-\\d+)?\\.bak$`);

/** The backups of `file`, oldest first. */
export async function listBackups(file: string): Promise<string[]> {
  const dir = path.dirname(file);
  const re = backupPattern(file);
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => re.test(n)).sort();
  return names.map((n) => path.join(dir, n));
}

/**
 * Copies `file` to a new backup (same mode) and removes all but the newest `keep`.
 * Returns the backup's path, or undefined when there was no file to back up.
 */
export async function keepBackup(file: string, keep = 5): Promise<string | undefined> {
  const st = await fs.stat(file).catch(() => undefined);
  if (!st) return undefined;
  const base = `${file}.${backupStamp()}`;
  let target = `${base}.bak`;
  for (let n = 1; await fs.stat(target).then(() => true, () => false); n++) target = `${base}-${n}.bak`;
  await fs.copyFile(file, target);
  await fs.chmod(target, st.mode & 0o7777);
  await fs.chown(target, st.uid, st.gid).catch(() => undefined);
  const all = await listBackups(file);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) await fs.rm(old, { force: true });
  return target;
}
