/**
 * The advisory table (src/source/advisories.json) against the releases' own doc/ChangeLog, read
 * from the tarballs of the test mirror: $LABCTL_TEST_MIRROR/exim4 (default build/mirror/exim4)
 * must hold exim-4.96, exim-4.98.2 and exim-4.100.1 .tar.xz. Needs no root and changes nothing
 * on the machine; it fails, not skips, when the tarballs are missing.
 *
 * A fix is looked for in the ChangeLog section of the release the table names: `fixedIn`, or
 * `changelog.release` for fixes made on a side branch (4.96.1, 4.96.2, 4.97.1 have no section of
 * their own and are recorded under the next main release). The text looked for is the id, or
 * `changelog.text` where the ChangeLog does not name it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { offlineMirror, repoRoot } from '../helpers/cli.js';
import { advisories, type Advisory } from '../../src/source/advisories.js';
import { compareVersions } from '../../src/source/versions.js';

const RELEASES = ['4.96', '4.98.2', '4.100.1'] as const;
type Release = (typeof RELEASES)[number];

const mirror = process.env.LABCTL_TEST_MIRROR ?? path.join(repoRoot, 'build/mirror');
const tarball = (v: Release) => path.join(mirror, 'exim4', `exim-${v}.tar.xz`);

/** ChangeLog text split at its "Exim version X" headings: release -> that section's text. */
function sections(changelog: string): Map<string, string> {
  const out = new Map<string, string>();
  const headings = [...changelog.matchAll(/^Exim version (\S+)\n-+$/gm)];
  headings.forEach((h, i) => out.set(h[1], changelog.slice(h.index, headings[i + 1]?.index ?? changelog.length)));
  return out;
}

const recordedIn = (a: Advisory) => a.changelog?.release ?? a.fixedIn;
const recordedAs = (a: Advisory) => a.changelog?.text ?? a.id;
// CVE-2026-40684, GCVE-25-2026-09-50-1 (a GCVE id is not read as a CVE id: no word boundary after G).
const ADVISORY_ID = /\b(?:GCVE-\d+-\d{4}-\d+-\d+-\d+|CVE-\d{4}-\d{4,})\b/g;

const missing = () => RELEASES.map(tarball).filter((f) => !existsSync(f));
const missingMessage = (files: string[]) =>
  `release tarballs missing from the test mirror: ${files.join(', ')}. ` +
  `Lay out the mirror (labctl mirror DIR, or scripts/mirror-from-debian.sh DIR), or point LABCTL_TEST_MIRROR at a directory whose exim4/ holds exim-${RELEASES.join(', exim-')} .tar.xz`;

describe('the advisory table against the releases\' ChangeLogs', () => {
  let tmp: string | undefined;
  const loaded = new Map<Release, Map<string, string>>();
  /** The release's ChangeLog sections; fails the test, with what to do, when its tarball is missing. */
  const changelogs = {
    get(v: Release): Map<string, string> {
      const log = loaded.get(v);
      if (!log) throw new Error(missing().length ? missingMessage(missing()) : `the ChangeLog of ${v} was not read`);
      return log;
    },
  };

  beforeAll(async () => {
    // The same mirror 01-install uses, laid out from Debian's archive when it is not there yet.
    if (!process.env.LABCTL_TEST_MIRROR) await offlineMirror();
    if (missing().length) return; // every test fails with the message; see changelogs.get
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-advisories-'));
    for (const v of RELEASES) {
      const member = `exim-${v}/doc/ChangeLog`;
      const r = await execa('tar', ['-xJf', tarball(v), '-C', tmp, member], { reject: false });
      if (r.exitCode !== 0) throw new Error(`tar could not extract ${member} from ${tarball(v)}: ${r.stderr}`);
      const parsed = sections(await fs.readFile(path.join(tmp, member), 'utf8'));
      if (!parsed.has(v)) throw new Error(`${member} has no "Exim version ${v}" section`);
      loaded.set(v, parsed);
    }
  }, 120_000);

  afterAll(async () => {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('finds the release tarballs in the test mirror', () => {
    expect(missing(), missingMessage(missing())).toEqual([]);
  });

  for (const v of ['4.98.2', '4.100.1'] as const) {
    it(`every advisory fixed by ${v} is recorded in ${v}'s ChangeLog, in the section the table names`, () => {
      const log = changelogs.get(v);
      const due = advisories().filter((a) => compareVersions(a.fixedIn, v) <= 0);
      expect(due.length).toBeGreaterThan(0);
      for (const a of due) {
        const section = log.get(recordedIn(a));
        expect(section, `${a.id}: ${v}'s ChangeLog has no section for ${recordedIn(a)}`).toBeDefined();
        expect(section, `${a.id}: "${recordedAs(a)}" is not in the ${recordedIn(a)} section of ${v}'s ChangeLog`).toContain(recordedAs(a));
        if (recordedAs(a) !== a.id) {
          expect(section, `${a.id}: the ${recordedIn(a)} section names the id itself now; drop changelog.text`).not.toContain(a.id);
        }
        if (recordedIn(a) !== a.fixedIn) {
          expect(log.has(a.fixedIn), `${a.id}: ${a.fixedIn} has a section of its own; record the fix there`).toBe(false);
          expect(compareVersions(recordedIn(a), a.fixedIn), `${a.id}: recorded under ${recordedIn(a)}, before its fix in ${a.fixedIn}`).toBeGreaterThan(0);
        }
      }
    });
  }

  it('the 4.100.1 ChangeLog names every CVE id the table has (none with fixedIn <= 4.100.1 left out by mistake)', () => {
    const log = [...changelogs.get('4.100.1').values()].join('\n');
    const unnamed = advisories()
      .filter((a) => compareVersions(a.fixedIn, '4.100.1') <= 0 && !log.includes(a.id))
      .map((a) => `${a.id} (recorded as "${a.changelog?.text ?? '?'}")`);
    // Only these are named otherwise: CVE-2023-42119 as CVE-2023-42219 (upstream's misprint),
    // CVE-2024-39929 as Bug 3099, CVE-2025-67896 as Exim-Security-2025-12-09.1.
    expect(unnamed).toEqual([
      'CVE-2023-42119 (recorded as "CVE-2023-42219")',
      'CVE-2024-39929 (recorded as "Bug 3099")',
      'CVE-2025-67896 (recorded as "Exim-Security-2025-12-09.1")',
    ]);
  });

  it('every advisory id the ChangeLog names for releases after 4.96 is in the table', () => {
    const known = new Set(advisories().flatMap((a) => [a.id, recordedAs(a)]));
    let named = 0;
    for (const [release, text] of changelogs.get('4.100.1')) {
      if (compareVersions(release, '4.96') <= 0) continue;
      for (const [id] of text.matchAll(ADVISORY_ID)) {
        named++;
        expect(known.has(id), `${id} (Exim ${release} section) is not in the advisory table`).toBe(true);
      }
    }
    // The ChangeLog sections after 4.96 name most of the table's advisories: a section split or an
    // id pattern that matched nothing would otherwise pass here having compared nothing.
    expect(named).toBeGreaterThanOrEqual(advisories().length - 5);
  });

  for (const v of ['4.96', '4.98.2'] as const) {
    it(`${v} does not carry the fixes the table dates after it`, () => {
      const log = [...changelogs.get(v).values()].join('\n');
      const later = advisories().filter((a) => compareVersions(a.fixedIn, v) > 0);
      expect(later.length).toBeGreaterThan(0);
      for (const a of later) expect(log, `${a.id}: "${recordedAs(a)}" is already in ${v}'s ChangeLog, so it was fixed by ${v}`).not.toContain(recordedAs(a));
    });
  }
});
