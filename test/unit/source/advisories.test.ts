import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LABCTL_BUILD,
  advisories,
  advisoriesFor,
  fixingRelease,
  formatAdvisories,
  formatAdvisory,
  parseAdvisories,
  type Advisory,
} from '../../../src/source/advisories.js';
import { compareVersions, isValidVersion } from '../../../src/source/versions.js';

const ids = (list: readonly Advisory[]) => list.map((a) => a.id);
const openssl = { tls: 'openssl' } as const;

// The advisories fixed after 4.96 up to and including 4.98.2 that apply to 4.96 itself
// (CVE-2025-26794 came with 4.98's SQLite hints and is not among them).
const FIXED_BY_4_98_2 = [
  'CVE-2023-42115', 'CVE-2023-42116', 'CVE-2023-42114', 'CVE-2023-42117', 'CVE-2023-42119',
  'CVE-2023-51766', 'CVE-2024-39929', 'CVE-2025-30232',
];

describe('the shipped advisory table', () => {
  const raw = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../../src/source/advisories.json'), 'utf8'));

  it('validates, and keeps every entry', () => {
    expect(advisories().length).toBe(raw.advisories.length);
    expect(advisories().length).toBeGreaterThanOrEqual(20);
  });

  it('has one line of text per field, valid versions and unique ids', () => {
    for (const a of advisories()) {
      expect(a.id).toMatch(/^(CVE-\d{4}-\d{4,}|GCVE-\d+-\d{4}-\d+-\d+-\d+)$/);
      expect(isValidVersion(a.fixedIn), `${a.id} fixedIn`).toBe(true);
      if (a.introducedIn) expect(compareVersions(a.introducedIn, a.fixedIn), `${a.id} introducedIn`).toBeLessThan(0);
      expect(a.affects.length).toBeGreaterThan(10);
      expect(a.lab.length).toBeGreaterThan(10);
    }
    expect(new Set(ids(advisories())).size).toBe(advisories().length);
  });

  it('covers the advisories issue 9 names, with the fixing releases the ChangeLogs give', () => {
    const fixed = Object.fromEntries(advisories().map((a) => [a.id, a.fixedIn]));
    expect(fixed).toMatchObject({
      'CVE-2023-42114': '4.96.1', 'CVE-2023-42115': '4.96.1', 'CVE-2023-42116': '4.96.1',
      'CVE-2023-42117': '4.96.2', 'CVE-2023-42119': '4.96.2',
      'CVE-2023-51766': '4.97.1', 'CVE-2024-39929': '4.98', 'CVE-2025-26794': '4.98.1', 'CVE-2025-30232': '4.98.2',
      'CVE-2025-67896': '4.99.1',
      'CVE-2026-40684': '4.99.2', 'CVE-2026-40685': '4.99.2', 'CVE-2026-40686': '4.99.2', 'CVE-2026-40687': '4.99.2',
      'CVE-2026-45185': '4.99.3', 'CVE-2026-48840': '4.99.4',
    });
  });

  it('marks the GnuTLS-only and musl-only advisories', () => {
    const only = Object.fromEntries(advisories().filter((a) => a.onlyIf).map((a) => [a.id, a.onlyIf]));
    expect(only).toEqual({
      'CVE-2026-40684': { libc: 'musl' },
      'CVE-2026-45185': { tls: 'gnutls' },
      'GCVE-25-2026-09-51-1': { tls: 'gnutls' },
    });
  });
});

describe('parseAdvisories', () => {
  const ok = { id: 'CVE-2025-30232', introducedIn: '4.96', fixedIn: '4.98.2', affects: 'use after free', lab: 'local shell users' };
  const parse = (entry: Record<string, unknown>) => () => parseAdvisories({ advisories: [entry] });

  it('accepts a good entry and returns only the known fields', () => {
    expect(parseAdvisories({ advisories: [ok] })).toEqual([ok]);
  });

  it('names the entry and field at fault', () => {
    expect(() => parseAdvisories([])).toThrow(/"advisories" array/);
    expect(parse({ ...ok, id: 'CVE-25-1' })).toThrow(/advisory 1 \(CVE-25-1\): id must be a CVE or GCVE id/);
    expect(parse({ ...ok, fixedIn: 'soon' })).toThrow(/fixedIn must be a release version/);
    expect(parse({ ...ok, introducedIn: '4.99' })).toThrow(/introducedIn must be a release version before fixedIn/);
    expect(parse({ ...ok, affects: '' })).toThrow(/affects must be one line/);
    expect(parse({ ...ok, lab: 'two\nlines' })).toThrow(/lab must be one line/);
    expect(parse({ ...ok, fixed: '4.98.2' })).toThrow(/unknown field fixed/);
    expect(parse({ ...ok, onlyIf: { tls: 'wolfssl' } })).toThrow(/onlyIf.tls must be one of openssl, gnutls, none/);
    expect(parse({ ...ok, onlyIf: { os: 'bsd' } })).toThrow(/onlyIf.os is not a build fact/);
    expect(parse({ ...ok, changelog: {} })).toThrow(/changelog must give release, text or both/);
    expect(() => parseAdvisories({ advisories: [ok, ok] })).toThrow(/advisory 2 \(CVE-2025-30232\): listed twice/);
  });
});

describe('advisoriesFor', () => {
  it('4.96: every advisory fixed in 4.96.1 to 4.98.2 applies, and the later ones', () => {
    const found = ids(advisoriesFor('4.96', openssl));
    expect(found).toEqual(expect.arrayContaining(FIXED_BY_4_98_2));
    expect(found).toEqual(expect.arrayContaining(['CVE-2026-40685', 'CVE-2026-40686', 'CVE-2026-40687', 'CVE-2026-48840', 'GCVE-25-2026-09-56-1']));
    // introducedIn: SQLite hints came with 4.98, the 4.99 heap corruption with 4.99, the BDAT bug with 4.97.
    expect(found).not.toContain('CVE-2025-26794');
    expect(found).not.toContain('CVE-2025-67896');
    expect(found).not.toContain('CVE-2026-45185');
    // Sorted by the release that fixes them.
    const fixes = advisoriesFor('4.96', openssl).map((a) => a.fixedIn);
    expect([...fixes].sort(compareVersions)).toEqual(fixes);
  });

  it('4.98: the SQLite hints injection applies from its introducing release until 4.98.1', () => {
    expect(ids(advisoriesFor('4.98', openssl))).toContain('CVE-2025-26794');
    expect(ids(advisoriesFor('4.97.1', openssl))).not.toContain('CVE-2025-26794');
    expect(ids(advisoriesFor('4.98.1', openssl))).not.toContain('CVE-2025-26794');
  });

  it('4.98.2: nothing fixed up to 4.98.2; the 4.99.x and 4.100.1 fixes still apply', () => {
    const found = advisoriesFor('4.98.2', openssl);
    for (const a of found) expect(compareVersions(a.fixedIn, '4.98.2'), a.id).toBeGreaterThan(0);
    expect(ids(found)).toEqual(expect.arrayContaining(['CVE-2026-40685', 'CVE-2026-40686', 'CVE-2026-40687', 'CVE-2026-48840', 'GCVE-25-2026-09-56-1']));
    expect(ids(found)).not.toContain('CVE-2025-67896'); // 4.99 only
  });

  it('4.99: the 4.99-only heap corruption applies, and the BDAT use after free only to GnuTLS builds', () => {
    expect(ids(advisoriesFor('4.99', openssl))).toContain('CVE-2025-67896');
    expect(ids(advisoriesFor('4.99', openssl))).not.toContain('CVE-2026-45185');
    expect(ids(advisoriesFor('4.99', { tls: 'gnutls' }))).toContain('CVE-2026-45185');
    expect(ids(advisoriesFor('4.99.1', openssl))).not.toContain('CVE-2025-67896');
    expect(ids(advisoriesFor('4.99.3', { tls: 'gnutls' }))).not.toContain('CVE-2026-45185');
  });

  it('excludes the GnuTLS-only and musl-only advisories for labctl OpenSSL/glibc build', () => {
    expect(LABCTL_BUILD).toEqual({ tls: 'openssl', libc: 'glibc' });
    const onlyOther = ['CVE-2026-40684', 'CVE-2026-45185', 'GCVE-25-2026-09-51-1'];
    for (const v of ['4.96', '4.98.2', '4.99', '4.99.2', '4.100']) {
      expect(ids(advisoriesFor(v, openssl)).filter((id) => onlyOther.includes(id)), v).toEqual([]);
      expect(ids(advisoriesFor(v)).filter((id) => onlyOther.includes(id)), `${v} (defaults)`).toEqual([]);
    }
    expect(ids(advisoriesFor('4.98.2', { tls: 'gnutls' }))).toEqual(expect.arrayContaining(['CVE-2026-45185', 'GCVE-25-2026-09-51-1']));
    expect(ids(advisoriesFor('4.98.2', { libc: 'musl' }))).toContain('CVE-2026-40684');
    expect(ids(advisoriesFor('4.98.2', { tls: 'none' }))).not.toContain('GCVE-25-2026-09-51-1');
  });

  it('4.100.1 (and anything newer): none, whatever the build', () => {
    for (const v of ['4.100.1', '4.100.2', '4.101', '5.0']) {
      expect(advisoriesFor(v, openssl), v).toEqual([]);
      expect(advisoriesFor(v, { tls: 'gnutls', libc: 'musl' }), v).toEqual([]);
    }
    // 4.100 itself still has the 4.100.1 fixes to take; 4.100 sorts after 4.99.x, not before.
    expect(advisoriesFor('4.100', openssl).map((a) => a.fixedIn)).toEqual(expect.arrayContaining(['4.100.1']));
    expect(advisoriesFor('4.100', openssl).every((a) => a.fixedIn === '4.100.1')).toBe(true);
  });
});

describe('fixingRelease', () => {
  const a = (id: string, fixedIn: string): Advisory => ({ id, fixedIn, affects: 'x', lab: 'y' });

  it('is the lowest release that fixes every advisory in the list (4.100 after 4.99.x)', () => {
    expect(fixingRelease([a('CVE-2000-0001', '4.96.1'), a('CVE-2000-0002', '4.98.2'), a('CVE-2000-0003', '4.97.1')])).toBe('4.98.2');
    expect(fixingRelease([a('CVE-2000-0001', '4.99.5'), a('CVE-2000-0002', '4.100')])).toBe('4.100');
    expect(fixingRelease([])).toBeUndefined();
  });

  it('for the shipped table: 4.96 and 4.98.2 need 4.100.1; 4.100.1 needs nothing', () => {
    expect(fixingRelease(advisoriesFor('4.96', openssl))).toBe('4.100.1');
    expect(fixingRelease(advisoriesFor('4.98.2', openssl))).toBe('4.100.1');
    expect(fixingRelease(advisoriesFor('4.100.1', openssl))).toBeUndefined();
    // Only what 4.98.1 lacks and 4.98.2 fixes:
    const upTo = advisoriesFor('4.98.1', openssl).filter((x) => compareVersions(x.fixedIn, '4.98.2') <= 0);
    expect(ids(upTo)).toEqual(['CVE-2025-30232']);
    expect(fixingRelease(upTo)).toBe('4.98.2');
  });
});

describe('formatting', () => {
  it('gives one aligned line per advisory with id, fix, what it affects and the lab note', () => {
    const list = advisoriesFor('4.96', openssl);
    const lines = formatAdvisories(list);
    expect(lines).toHaveLength(list.length);
    for (const [i, line] of lines.entries()) {
      expect(line).not.toContain('\n');
      expect(line.startsWith(list[i].id)).toBe(true);
      expect(line).toContain(`fixed in ${list[i].fixedIn}`);
      expect(line).toContain(list[i].affects);
      expect(line).toContain(`[lab: ${list[i].lab}]`);
    }
    const column = lines.map((l) => l.indexOf('fixed in'));
    expect(new Set(column).size).toBe(1);
    expect(formatAdvisory(list[0])).toMatch(/^CVE-\d{4}-\d+ {2}fixed in /);
  });
});
