/**
 * dpkg's package states, read once per state of its database: one `dpkg-query -W` lists every
 * package dpkg knows with its status and version, and later questions in the same process (the
 * foreign-MTA pre-flight, the build dependencies, labctl's own package) are answered from that
 * list while the database is unchanged. "Unchanged" is the identity (inode, size, mtime) of
 * /var/lib/dpkg/status and of its journal directory /var/lib/dpkg/updates: dpkg writes the
 * journal during every change and replaces the status file when it finishes, so any install or
 * removal (ours or anybody's) makes the next question run `dpkg-query` again.
 */
import { promises as fs } from 'node:fs';
import { run } from './run.js';

export interface PackageState {
  /** dpkg's status abbreviation, e.g. `ii `, `rc `. */
  status: string;
  version: string;
}

const DB_FILES = ['/var/lib/dpkg/status', '/var/lib/dpkg/updates'];

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

/** Whether a package name matches a dpkg-query pattern made of literal characters, `*` and `?`. */
export function globMatches(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name);
}

/** Patterns this module can match itself (dpkg's `[...]` classes are left to dpkg-query). */
export const simplePatterns = (patterns: readonly string[]) => patterns.every((p) => !/[[\]]/.test(p));

async function dbIdentity(): Promise<string> {
  const parts = await Promise.all(
    DB_FILES.map((f) => fs.stat(f, { bigint: true }).then((s) => `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`, () => '-')),
  );
  return parts.join('|');
}

let snapshot: { identity: string; states: Map<string, PackageState> } | undefined;

/** Every package dpkg knows, with status and version, as of dpkg's database now. */
export async function packageStates(): Promise<Map<string, PackageState>> {
  const identity = await dbIdentity();
  if (snapshot?.identity === identity) return snapshot.states;
  const r = await run('dpkg-query', ['-W', '-f', '${Package}\\t${db:Status-Abbrev}\\t${Version}\\n'], { allowFailure: true });
  const states = parsePackageStates(r.stdout);
  // Keep it only when the database did not change while dpkg-query read it.
  snapshot = identity === (await dbIdentity()) ? { identity, states } : undefined;
  return states;
}
