import { promises as fs } from 'node:fs';
import path from 'node:path';
import { usageError } from '../../errors.js';
import { exists } from '../../system/files.js';
import { labPaths } from '../topology.js';

/** A lab host's queue as `lab down` found it, and where its spool was copied (--keep-spool). */
export interface SpoolRecord {
  host: string;
  queued: number;
  keptIn?: string;
}

/** Messages in an Exim spool: one `-H` file each under input/ (in subdirectories when split). */
export async function countQueued(spool: string): Promise<number> {
  const count = async (dir: string): Promise<number> => {
    let n = 0;
    for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) n += await count(path.join(dir, e.name));
      else if (e.name.endsWith('-H')) n += 1;
    }
    return n;
  };
  return count(path.join(spool, 'input'));
}

/** The mail hosts whose directories are on disk; found by listing, so a lost state file does not matter. */
export async function hostsOnDisk(): Promise<string[]> {
  const dir = path.join(labPaths.root, 'hosts');
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** Where --keep-spool puts a host's spool; refused before anything is removed when it is taken. */
export async function checkKeepSpool(dir: string): Promise<void> {
  for (const host of await hostsOnDisk()) {
    const dest = path.join(dir, host);
    if (await exists(dest)) throw usageError(`--keep-spool: ${dest} already exists`, 'name an empty or new directory: a kept spool is never overwritten');
  }
}
