/**
 * dpkg's package states, read once per state of its database: one `dpkg-query -W` lists every
 * package dpkg knows with its status and version, and later questions in the same process (the
 * foreign-MTA pre-flight, the build dependencies, labctl's own package) are answered from that
 * list while the database is unchanged. "Unchanged" is the identity (inode, size, mtime) of
 * /var/lib/dpkg/status and of its journal directory /var/lib/dpkg/updates: dpkg writes the
 * journal during every change and replaces the status file when it finishes, so any install or
 * removal (ours or anybody's) makes the next question run `dpkg-query` again.
 *
 * The list is kept between runs too, with that identity, beside the lock in /run/labctl (tmpfs,
 * where every run, a dry run too, records itself as the lock's holder): a run that finds
 * dpkg's database as the last listing left it (a warm `labctl install`) reads the kept list
 * instead of running dpkg-query. A kept list of another identity, or none, or one that cannot be
 * read, is no list: dpkg-query runs, and (as root) its list is kept.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { paths } from '../paths.js';
import { writeAtomic } from './files.js';
import { run } from './run.js';

export interface PackageState {
  /** dpkg's status abbreviation, e.g. `ii `, `rc `. */
  status: string;
  version: string;
}

const ADMIN_DIR = '/var/lib/dpkg';
const DB_FILES = [`${ADMIN_DIR}/status`, `${ADMIN_DIR}/updates`];

/**
 * The files dpkg records for an installed package, as `dpkg-query -L` lists them: its own list,
 * info/PACKAGE.list (a package of architecture all, or native, has no `:arch` in that name).
 * Undefined when dpkg does not have the package installed (`ii`) or keeps no such list: ask
 * dpkg-query then.
 */
export async function installedPackageFiles(pkg: string): Promise<string[] | undefined> {
  if (!(await packageStates()).get(pkg)?.status.startsWith('ii')) return undefined;
  const text = await fs.readFile(`${ADMIN_DIR}/info/${pkg}.list`, 'utf8').catch(() => undefined);
  return text?.split('\n').filter(Boolean);
}

/** The states in `dpkg-query -W -f '${Package}\t${db:Status-Abbrev}\t${Version}\n'` output. */
export function parsePackageStates(out: string): Map<string, PackageState> {
  const states = new Map<string, PackageState>();
  for (const line of out.split('\n')) {
    const [name, status, version = ''] = line.split('\t');
    // Multi-arch packages appear once per architecture under one name: an installed one wins.
    if (name && status !== undefined && !states.get(name)?.status.startsWith('ii')) states.set(name, { status, version: version.trim() });
  }
  return states;
}

/** A dpkg-query pattern made of literal characters, `*` and `?`, as a regular expression (made once, tested on every package). */
export function globPattern(pattern: string): RegExp {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`);
}

/** Patterns this module can match itself (dpkg's `[...]` classes are left to dpkg-query). */
export const simplePatterns = (patterns: readonly string[]) => patterns.every((p) => !/[[\]]/.test(p));

async function dbIdentity(): Promise<string> {
  const parts = await Promise.all(
    DB_FILES.map((f) => fs.stat(f, { bigint: true }).then((s) => `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`, () => '-')),
  );
  return parts.join('|');
}

interface Snapshot {
  identity: string;
  states: Map<string, PackageState>;
}

let snapshot: Snapshot | undefined;

const KEPT_FILE = 'dpkg-states.json';
const KEPT_SCHEMA = 1;

/** The kept list as written: its identity and `[name, status, version]` rows. */
export function keptSnapshotText(s: Snapshot): string {
  return JSON.stringify({ schemaVersion: KEPT_SCHEMA, identity: s.identity, states: [...s.states].map(([name, st]) => [name, st.status, st.version]) });
}

/** The kept list when it was made for `identity`, else undefined (another identity, another schema, or not a list). */
export function keptSnapshotFor(text: string | undefined, identity: string): Snapshot | undefined {
  try {
    const data = text ? (JSON.parse(text) as { schemaVersion?: number; identity?: string; states?: unknown }) : undefined;
    if (data?.schemaVersion !== KEPT_SCHEMA || data.identity !== identity || !Array.isArray(data.states)) return undefined;
    const states = new Map<string, PackageState>();
    for (const row of data.states) {
      if (!Array.isArray(row) || row.length !== 3 || !row.every((f) => typeof f === 'string')) return undefined;
      states.set(row[0] as string, { status: row[1] as string, version: row[2] as string });
    }
    return { identity, states };
  } catch {
    return undefined;
  }
}

const keptFile = () => path.join(paths.lockDir, KEPT_FILE);

/** Every package dpkg knows, with status and version, as of dpkg's database now. */
export async function packageStates(): Promise<Map<string, PackageState>> {
  const identity = await dbIdentity();
  if (snapshot?.identity === identity) return snapshot.states;
  const kept = keptSnapshotFor(await fs.readFile(keptFile(), 'utf8').catch(() => undefined), identity);
  if (kept) {
    snapshot = kept;
    return kept.states;
  }
  const r = await run('dpkg-query', ['-W', '-f', '${Package}\\t${db:Status-Abbrev}\\t${Version}\\n'], { allowFailure: true });
  const states = parsePackageStates(r.stdout);
  // Keep it only when the database did not change while dpkg-query read it.
  snapshot = r.exitCode === 0 && identity === (await dbIdentity()) ? { identity, states } : undefined;
  // Kept for the next run where this user may write there (root); anyone else goes without.
  if (snapshot) await writeAtomic(keptFile(), keptSnapshotText(snapshot)).catch(() => undefined);
  return states;
}
