/**
 * Known Exim security advisories (src/source/advisories.json) and which of them apply to a
 * release. The table is read and validated once, on first use; `labctl install` shows what
 * applies to the release it is about to build, and verify's `1b-current-release` what applies to
 * the installed one. The lookup goes by version number only: a distribution's package may carry
 * backported fixes that its version does not show.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LabError, errorMessage } from '../errors.js';
import { compareVersions, isValidVersion } from './versions.js';

export type TlsLibrary = 'openssl' | 'gnutls' | 'none';
export type Libc = 'glibc' | 'musl';

/** The build facts an advisory can depend on (`onlyIf` in the table). */
export interface BuildProfile {
  tls: TlsLibrary;
  libc: Libc;
}

/** What labctl builds: OpenSSL (src/install/makefile.ts), on Debian, so glibc. */
export const LABCTL_BUILD: Readonly<BuildProfile> = { tls: 'openssl', libc: 'glibc' };

export interface Advisory {
  id: string;
  /** First affected release; undefined = every release before `fixedIn`. */
  introducedIn?: string;
  fixedIn: string;
  affects: string;
  /** Which lab configuration it matters to. */
  lab: string;
  /** Build facts without which it does not apply. */
  onlyIf?: Partial<BuildProfile>;
  /** Where doc/ChangeLog records the fix, when not as `id` in the `fixedIn` section. */
  changelog?: { release?: string; text?: string };
}

const TABLE_FILE = new URL('../../src/source/advisories.json', import.meta.url);

const ID = /^(CVE-\d{4}-\d{4,}|GCVE-\d+-\d{4}-\d+-\d+-\d+)$/;
const ONLY_IF: { [K in keyof BuildProfile]: readonly BuildProfile[K][] } = { tls: ['openssl', 'gnutls', 'none'], libc: ['glibc', 'musl'] };
const FIELDS = new Set(['id', 'introducedIn', 'fixedIn', 'affects', 'lab', 'onlyIf', 'changelog']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '' && !v.includes('\n');
const isRelease = (v: unknown): v is string => typeof v === 'string' && isValidVersion(v);

/** Checks the table's shape; throws naming the entry and the field at fault. */
export function parseAdvisories(data: unknown): Advisory[] {
  if (!isObject(data) || !Array.isArray(data.advisories)) throw new Error('expected an object with an "advisories" array');
  const seen = new Set<string>();
  return data.advisories.map((entry: unknown, i: number) => {
    const where = `advisory ${i + 1}${isObject(entry) && typeof entry.id === 'string' ? ` (${entry.id})` : ''}`;
    const bad = (what: string) => new Error(`${where}: ${what}`);
    if (!isObject(entry)) throw bad('not an object');
    const unknown = Object.keys(entry).filter((k) => !FIELDS.has(k));
    if (unknown.length) throw bad(`unknown field ${unknown.join(', ')}`);
    const { id, introducedIn, fixedIn, affects, lab, onlyIf, changelog } = entry;
    if (typeof id !== 'string' || !ID.test(id)) throw bad('id must be a CVE or GCVE id');
    if (seen.has(id)) throw bad('listed twice');
    seen.add(id);
    if (!isRelease(fixedIn)) throw bad('fixedIn must be a release version');
    if (introducedIn !== undefined && (!isRelease(introducedIn) || compareVersions(introducedIn, fixedIn) >= 0)) {
      throw bad('introducedIn must be a release version before fixedIn');
    }
    if (!isText(affects)) throw bad('affects must be one line of text');
    if (!isText(lab)) throw bad('lab must be one line of text');
    if (onlyIf !== undefined) {
      if (!isObject(onlyIf) || !Object.keys(onlyIf).length) throw bad('onlyIf must be an object with at least one condition');
      for (const [key, value] of Object.entries(onlyIf)) {
        const allowed = (ONLY_IF as Record<string, readonly string[]>)[key];
        if (!allowed) throw bad(`onlyIf.${key} is not a build fact (${Object.keys(ONLY_IF).join(', ')})`);
        if (!allowed.includes(value as string)) throw bad(`onlyIf.${key} must be one of ${allowed.join(', ')}`);
      }
    }
    if (changelog !== undefined) {
      if (!isObject(changelog) || (changelog.release === undefined && changelog.text === undefined)) throw bad('changelog must give release, text or both');
      if (changelog.release !== undefined && !isRelease(changelog.release)) throw bad('changelog.release must be a release version');
      if (changelog.text !== undefined && !isText(changelog.text)) throw bad('changelog.text must be one line of text');
    }
    return {
      id,
      ...(introducedIn !== undefined && { introducedIn: introducedIn as string }),
      fixedIn,
      affects,
      lab,
      ...(onlyIf !== undefined && { onlyIf: onlyIf as Partial<BuildProfile> }),
      ...(changelog !== undefined && { changelog: changelog as Advisory['changelog'] }),
    };
  });
}

let table: readonly Advisory[] | undefined;

/** The shipped table, read and validated on first use. */
export function advisories(): readonly Advisory[] {
  if (!table) {
    try {
      table = Object.freeze(parseAdvisories(JSON.parse(readFileSync(TABLE_FILE, 'utf8'))));
    } catch (err) {
      throw new LabError(`the advisory table ${fileURLToPath(TABLE_FILE)} is broken: ${errorMessage(err)}`, 'reinstall labctl, or fix the file from the repository');
    }
  }
  return table;
}

/** Whether `version` lies in the advisory's range (introducedIn <= version < fixedIn), whatever the build. */
export function inAffectedRange(advisory: Advisory, version: string): boolean {
  if (advisory.introducedIn && compareVersions(version, advisory.introducedIn) < 0) return false;
  return compareVersions(version, advisory.fixedIn) < 0;
}

/** Whether the build meets the advisory's `onlyIf` conditions (always, when it has none). */
export function buildMatches(advisory: Advisory, build: BuildProfile): boolean {
  return Object.entries(advisory.onlyIf ?? {}).every(([key, value]) => build[key as keyof BuildProfile] === value);
}

/**
 * The advisories that apply to `version`, oldest fix first. Build facts not given are labctl's
 * own (LABCTL_BUILD): `advisoriesFor('4.98.2', { tls: 'gnutls' })` is a GnuTLS build on glibc.
 */
export function advisoriesFor(version: string, build: Partial<BuildProfile> = {}, list: readonly Advisory[] = advisories()): Advisory[] {
  const profile: BuildProfile = { ...LABCTL_BUILD, ...build };
  return list.filter((a) => inAffectedRange(a, version) && buildMatches(a, profile)).sort((a, b) => compareVersions(a.fixedIn, b.fixedIn));
}

/** The lowest release that fixes every advisory in `list`; undefined for an empty list. */
export function fixingRelease(list: readonly Advisory[]): string | undefined {
  return list.reduce<string | undefined>((max, a) => (max === undefined || compareVersions(a.fixedIn, max) > 0 ? a.fixedIn : max), undefined);
}

/** One line for the terminal: id, the release that fixes it, what it affects, whom it concerns. */
export function formatAdvisory(a: Advisory, idWidth = a.id.length): string {
  return `${a.id.padEnd(idWidth)}  fixed in ${a.fixedIn.padEnd(7)}  ${a.affects}  [lab: ${a.lab}]`;
}

/** One aligned line per advisory. */
export function formatAdvisories(list: readonly Advisory[]): string[] {
  const width = Math.max(0, ...list.map((a) => a.id.length));
  return list.map((a) => formatAdvisory(a, width));
}
