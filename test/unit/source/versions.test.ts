import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  isReleaseCandidate,
  isValidVersion,
  newestRelease,
  parseListing,
  preferredFormat,
} from '../../../src/source/versions.js';

const fixture = (name: string) => readFile(path.join(import.meta.dirname, '../../../fixtures/source/listings', name), 'utf8');

describe('compareVersions', () => {
  it('compares numerically per component', () => {
    expect(compareVersions('4.100', '4.99')).toBeGreaterThan(0);
    expect(compareVersions('4.99', '4.100')).toBeLessThan(0);
    expect(compareVersions('4.98.2', '4.98')).toBeGreaterThan(0);
    expect(compareVersions('4.98.2', '4.98.10')).toBeLessThan(0);
    expect(compareVersions('4.98', '4.98.0')).toBe(0);
    expect(compareVersions('5.0', '4.999')).toBeGreaterThan(0);
  });

  it('sorts a release candidate before its release and by RC number', () => {
    expect(compareVersions('4.99-RC1', '4.99')).toBeLessThan(0);
    expect(compareVersions('4.99_RC2', '4.99-RC1')).toBeGreaterThan(0);
    expect(compareVersions('4.99-RC1', '4.98.2')).toBeGreaterThan(0);
    const sorted = ['4.100', '4.99', '4.99-RC1', '4.98.2', '4.98', '4.9'].sort(compareVersions);
    expect(sorted).toEqual(['4.9', '4.98', '4.98.2', '4.99-RC1', '4.99', '4.100']);
  });

  it('detects release candidates in either spelling', () => {
    expect(isReleaseCandidate('4.99-RC1')).toBe(true);
    expect(isReleaseCandidate('4.99_RC2')).toBe(true);
    expect(isReleaseCandidate('4.99rc3')).toBe(true);
    expect(isReleaseCandidate('4.99')).toBe(false);
    expect(isReleaseCandidate('4.98.2')).toBe(false);
  });

  it('validates --version values', () => {
    expect(isValidVersion('4.96')).toBe(true);
    expect(isValidVersion('4.98.2')).toBe(true);
    expect(isValidVersion('4.99-RC1')).toBe(true);
    expect(isValidVersion('latest')).toBe(false);
    expect(isValidVersion('4.96/../x')).toBe(false);
  });
});

describe('parseListing', () => {
  it('reads an Apache autoindex page, ignoring .asc files and other names', async () => {
    const t = parseListing(await fixture('apache.html'));
    expect(t.map((x) => x.name)).toEqual([
      'exim-4.98.tar.bz2',
      'exim-4.98.tar.gz',
      'exim-4.98.tar.xz',
      'exim-4.99-RC1.tar.xz',
    ]);
    expect(t[3]).toEqual({ name: 'exim-4.99-RC1.tar.xz', version: '4.99-RC1', format: 'xz' });
  });

  it('reads an nginx fixes/ listing', async () => {
    const t = parseListing(await fixture('nginx-fixes.html'));
    expect(t.map((x) => `${x.version}/${x.format}`)).toEqual(['4.98.1/bz2', '4.98.2/gz', '4.98.2/xz', '4.99_RC2/xz']);
  });

  it("reads python's http.server listing and skips names that merely end in exim-", async () => {
    const t = parseListing(await fixture('python.html'));
    expect(t.map((x) => x.version)).toEqual(['4.100', '4.96', '4.99']);
  });

  it('reads a plain list of file names', () => {
    const t = parseListing('exim-4.97.tar.gz\nexim-4.97.tar.gz.asc\nexim-4.97.1.tar.xz\nnotes.txt\n');
    expect(t.map((x) => x.name)).toEqual(['exim-4.97.tar.gz', 'exim-4.97.1.tar.xz']);
  });

  it('finds nothing in a page without tarballs', () => {
    expect(parseListing('<html><body>Not Found</body></html>')).toEqual([]);
  });
});

describe('newestRelease and preferredFormat', () => {
  it('picks 4.100 over 4.99 (not string order)', async () => {
    expect(newestRelease(parseListing(await fixture('python.html')))).toBe('4.100');
  });

  it('skips release candidates across the main directory and fixes/', async () => {
    const all = [...parseListing(await fixture('apache.html')), ...parseListing(await fixture('nginx-fixes.html'))];
    expect(newestRelease(all)).toBe('4.98.2');
    expect(newestRelease(['4.99-RC1', '4.99_RC2'])).toBeUndefined();
  });

  it('prefers xz, then bz2, then gz among the files present', async () => {
    const main = parseListing(await fixture('apache.html'));
    expect(preferredFormat(main, '4.98')).toBe('xz');
    expect(preferredFormat(main.filter((t) => t.format !== 'xz'), '4.98')).toBe('bz2');
    expect(preferredFormat(main.filter((t) => t.format === 'gz'), '4.98')).toBe('gz');
    expect(preferredFormat(main, '4.97')).toBeUndefined();
    const fixes = parseListing(await fixture('nginx-fixes.html'));
    expect(preferredFormat(fixes, '4.98.1')).toBe('bz2');
  });
});
