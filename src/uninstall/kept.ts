/**
 * What `labctl uninstall` keeps, on purpose, and says so with the paths: the configuration, the
 * spool (queued mail and logs: no mail is lost), the mailboxes, labctl's state and evidence, the
 * download cache (a later `labctl install` reuses the verified release) and the build tree. The
 * daemon of a later `labctl install` delivers what is still queued.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EXIM_DEFAULTS, MAIL_SPOOL, paths } from '../paths.js';
import { exists } from '../system/files.js';

export interface KeptItem {
  what: string;
  path: string;
  /** More about it: what is in it, why it stays. */
  note?: string;
}

export interface KeptFacts {
  configureFile: string;
  spoolDirectory: string;
  /** Messages in the queue (spool input/*-H files); undefined when the spool cannot be read. */
  queued?: number;
  /** Of those, the frozen ones: a queue run leaves them until they are thawed. */
  frozen?: number;
  /** The paths among the kept ones that exist. */
  present: ReadonlySet<string>;
}

/** The spool's queued messages: one -H (header) file each, in input/ or its split subdirectories. */
export function countQueued(names: readonly string[]): number {
  return names.filter((n) => /-H$/.test(n)).length;
}

/** A spool header file (-H) marks a frozen message with a "-frozen <time>" line. */
export const isFrozen = (header: string) => /^-frozen \d+$/m.test(header);

function queueNote(queued: number | undefined, frozen = 0): string {
  if (queued === undefined) return 'queued mail and logs';
  if (queued === 0) return 'logs; the queue is empty';
  const one = queued === 1;
  const frozenCount = frozen ? (frozen === queued ? (one ? ', frozen' : ', all frozen') : `, ${frozen} frozen`) : '';
  const thaw = frozen ? '; exim -Mt ID thaws a frozen one' : '';
  return `logs, and ${queued} queued message${one ? '' : 's'}${frozenCount}: ${one ? 'it stays' : 'they stay'}, and a later labctl install delivers ${one ? 'it' : 'them'}${thaw}`;
}

export function keptItems(f: KeptFacts): KeptItem[] {
  const queue = queueNote(f.queued, f.frozen);
  const all: KeptItem[] = [
    { what: 'configuration', path: f.configureFile, note: 'with its keys and certificates beside it' },
    { what: 'spool', path: f.spoolDirectory, note: queue },
    { what: 'mailboxes', path: MAIL_SPOOL },
    { what: 'labctl state', path: paths.stateDir, note: "configure's settings and the evidence for the report" },
    { what: 'download cache', path: paths.cacheDir, note: 'a reinstall reuses the verified release' },
    { what: 'build tree', path: paths.buildRoot, note: 'the extracted source and its build log' },
  ];
  return all.filter((k) => f.present.has(k.path));
}

export function formatKept(items: readonly KeptItem[]): string {
  if (!items.length) return 'Kept: nothing of labctl is left on this machine.';
  const width = Math.max(...items.map((k) => k.what.length));
  return ['Kept (no mail is lost):', ...items.map((k) => `  ${k.what.padEnd(width)}  ${k.path}${k.note ? ` (${k.note})` : ''}`)].join('\n');
}

async function queueIn(dir: string): Promise<{ queued?: number; frozen?: number }> {
  try {
    const headers = (await fs.readdir(dir, { recursive: true })).map(String).filter((e) => countQueued([path.basename(e)]) === 1);
    let frozen = 0;
    for (const h of headers) if (isFrozen(await fs.readFile(path.join(dir, h), 'utf8').catch(() => ''))) frozen++;
    return { queued: headers.length, frozen };
  } catch {
    return {};
  }
}

/** Reads what is there to keep. */
export async function keptFacts(configureFile: string): Promise<KeptFacts> {
  const spoolDirectory = EXIM_DEFAULTS.spoolDirectory;
  const candidates = [configureFile, spoolDirectory, MAIL_SPOOL, paths.stateDir, paths.cacheDir, paths.buildRoot];
  const present = new Set<string>();
  for (const p of candidates) if (await exists(p)) present.add(p);
  return { configureFile, spoolDirectory, ...(await queueIn(path.join(spoolDirectory, 'input'))), present };
}
