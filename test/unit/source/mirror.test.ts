import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ListingError, mirrorOrigin, parseMirror, keyringLocation } from '../../../src/source/mirror.js';
import { scratch, serve } from './helpers.js';

const fixture = (name: string) => readFile(path.join(import.meta.dirname, '../../../fixtures/source/listings', name), 'utf8');
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function localMirror(files: Record<string, string[]>): Promise<string> {
  const s = await scratch('mirror');
  cleanups.push(s.cleanup);
  const base = path.join(s.dir, 'exim4');
  for (const [dir, names] of Object.entries(files)) {
    await mkdir(path.join(base, dir), { recursive: true });
    for (const n of names) await writeFile(path.join(base, dir, n), 'x');
  }
  return base;
}

describe('parseMirror', () => {
  it('normalizes URLs to a directory and finds the keyring in the parent', () => {
    const m = parseMirror('https://mirror.example/pub/exim/exim4');
    expect(m.base).toBe('https://mirror.example/pub/exim/exim4/');
    expect(keyringLocation(m)).toBe('https://mirror.example/pub/exim/Exim-Maintainers-Keyring.asc');
  });

  it('accepts file:// URLs and plain paths alike', () => {
    expect(parseMirror('file:///srv/mirror/exim4').base).toBe('/srv/mirror/exim4');
    expect(parseMirror('/srv/mirror/exim4/').base).toBe('/srv/mirror/exim4');
    expect(keyringLocation(parseMirror('/srv/mirror/exim4'))).toBe('/srv/mirror/Exim-Maintainers-Keyring.asc');
  });

  it('rejects other schemes', () => {
    expect(() => parseMirror('ftp://mirror.example/exim4/')).toThrow(/unsupported scheme/);
  });
});

const newest = async (m: ReturnType<typeof parseMirror>, opts: { version?: string } = {}) => (await mirrorOrigin(m, 'mirror', opts)).candidates[0];

describe('mirrorOrigin on a directory mirror', () => {
  it('lists every release across the main directory and fixes/ newest first, skipping RCs, preferring xz', async () => {
    const base = await localMirror({
      '': ['exim-4.97.tar.xz', 'exim-4.97.tar.gz', 'exim-4.99.tar.gz', 'exim-4.100-RC1.tar.xz', 'exim-4.99.tar.gz.asc'],
      'fixes/': ['exim-4.99.1.tar.bz2', 'exim-4.99.1.tar.gz', 'exim-4.99.1.tar.gz.asc', 'exim-4.100_RC2.tar.xz'],
    });
    const o = await mirrorOrigin(parseMirror(base), 'mirror');
    expect(o.candidates.map((c) => `${c.version}.${c.format}`)).toEqual(['4.99.1.bz2', '4.99.gz', '4.97.xz']);
    const r = o.candidates[0];
    expect(r.tarballUrl).toBe(path.join(base, 'fixes', 'exim-4.99.1.tar.bz2'));
    expect(r.ascUrl).toBe(path.join(base, 'fixes', 'exim-4.99.1.tar.bz2.asc'));
    expect(o.keyringUrl).toBe(path.join(path.dirname(base), 'Exim-Maintainers-Keyring.asc'));
    expect(o.notes).toEqual([]);
  });

  it('works without a fixes/ directory, through a file:// URL', async () => {
    const base = await localMirror({ '': ['exim-4.96.tar.xz', 'exim-4.96.tar.xz.asc'] });
    expect(await newest(parseMirror(pathToFileURL(base).href))).toMatchObject({ version: '4.96', format: 'xz' });
  });

  it('finds a requested version, also in old/, and refuses one that is not there', async () => {
    const base = await localMirror({
      '': ['exim-4.98.tar.xz', 'exim-4.98.tar.gz'],
      'old/': ['exim-4.94.2.tar.gz'],
    });
    const m = parseMirror(base);
    expect(await newest(m, { version: '4.98' })).toMatchObject({ version: '4.98', format: 'xz', tarballUrl: path.join(base, 'exim-4.98.tar.xz') });
    expect(await newest(m, { version: '4.94.2' })).toMatchObject({ version: '4.94.2', format: 'gz', tarballUrl: path.join(base, 'old', 'exim-4.94.2.tar.gz') });
    await expect(newest(m, { version: '4.95' })).rejects.toThrow(/version 4\.95 not found/);
    await expect(newest(m, { version: 'latest' })).rejects.toThrow(/not an Exim version/);
  });

  it('refuses to guess when the listing cannot be read and no version is named', async () => {
    const s = await scratch('nomirror');
    cleanups.push(s.cleanup);
    const err = await mirrorOrigin(parseMirror(path.join(s.dir, 'missing', 'exim4')), 'mirror').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ListingError);
    expect((err as ListingError).message).toMatch(/cannot read the release listing/);
    expect((err as ListingError).unreachable).toBe(false);
  });
});

describe('mirrorOrigin over HTTP', () => {
  it('reads HTML listings of the main directory and fixes/', async () => {
    const pages: Record<string, string> = {
      '/pub/exim/exim4/': await fixture('apache.html'),
      '/pub/exim/exim4/fixes/': await fixture('nginx-fixes.html'),
    };
    const srv = await serve((req, res) => {
      const page = pages[req.url ?? ''];
      res.writeHead(page ? 200 : 404, { 'content-type': 'text/html' });
      res.end(page ?? 'not found');
    });
    cleanups.push(srv.close);
    const o = await mirrorOrigin(parseMirror(`${srv.url}/pub/exim/exim4`), 'mirror');
    expect(o.candidates[0]).toMatchObject({ version: '4.98.2', format: 'xz', tarballUrl: `${srv.url}/pub/exim/exim4/fixes/exim-4.98.2.tar.xz` });
    expect(o.keyringUrl).toBe(`${srv.url}/pub/exim/Exim-Maintainers-Keyring.asc`);
  });

  it('with --version, tries the tarball in the main directory when the listing is a 404, and says so', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    cleanups.push(srv.close);
    const o = await mirrorOrigin(parseMirror(`${srv.url}/exim4/`), 'mirror', { version: '4.96' });
    expect(o.candidates[0].tarballUrl).toBe(`${srv.url}/exim4/exim-4.96.tar.xz`);
    expect(o.notes[0]).toContain(`${srv.url}/exim4/`);
    expect(o.notes[0]).toContain('404');
  });

  it('marks a host that cannot be reached, so --source auto can fall back to Debian', async () => {
    const srv = await serve(() => {});
    const url = `${srv.url}/exim4/`;
    await srv.close();
    const err = await mirrorOrigin(parseMirror(url), 'official', { version: '4.96' }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ListingError);
    expect((err as ListingError).unreachable).toBe(true);
    expect((err as ListingError).hint).toMatch(/--source debian/);
  });
});
