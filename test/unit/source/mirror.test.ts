import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverRelease, parseMirror, keyringLocation } from '../../../src/source/mirror.js';
import { PINNED_FALLBACK_VERSION } from '../../../src/source/pinned.js';
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

describe('discoverRelease on a directory mirror', () => {
  it('picks the newest release across the main directory and fixes/, skipping RCs, preferring xz', async () => {
    const base = await localMirror({
      '': ['exim-4.97.tar.xz', 'exim-4.97.tar.gz', 'exim-4.99.tar.gz', 'exim-4.100-RC1.tar.xz', 'exim-4.99.tar.gz.asc'],
      'fixes/': ['exim-4.99.1.tar.bz2', 'exim-4.99.1.tar.gz', 'exim-4.99.1.tar.gz.asc', 'exim-4.100_RC2.tar.xz'],
    });
    const r = await discoverRelease(parseMirror(base));
    expect(r.version).toBe('4.99.1');
    expect(r.format).toBe('bz2');
    expect(r.dir).toBe('fixes/');
    expect(r.tarballUrl).toBe(path.join(base, 'fixes', 'exim-4.99.1.tar.bz2'));
    expect(r.ascUrl).toBe(path.join(base, 'fixes', 'exim-4.99.1.tar.bz2.asc'));
    expect(r.keyringUrl).toBe(path.join(path.dirname(base), 'Exim-Maintainers-Keyring.asc'));
    expect(r.fallbackNote).toBeUndefined();
  });

  it('works without a fixes/ directory, through a file:// URL', async () => {
    const base = await localMirror({ '': ['exim-4.96.tar.xz', 'exim-4.96.tar.xz.asc'] });
    const r = await discoverRelease(parseMirror(pathToFileURL(base).href));
    expect(r).toMatchObject({ version: '4.96', format: 'xz', dir: '' });
    expect(r.fallbackNote).toBeUndefined();
  });

  it('finds a requested version, also in old/, and refuses one that is not there', async () => {
    const base = await localMirror({
      '': ['exim-4.98.tar.xz', 'exim-4.98.tar.gz'],
      'old/': ['exim-4.94.2.tar.gz'],
    });
    const m = parseMirror(base);
    expect(await discoverRelease(m, { version: '4.98' })).toMatchObject({ version: '4.98', format: 'xz', dir: '' });
    expect(await discoverRelease(m, { version: '4.94.2' })).toMatchObject({ version: '4.94.2', format: 'gz', dir: 'old/' });
    await expect(discoverRelease(m, { version: '4.95' })).rejects.toThrow(/version 4\.95 not found/);
    await expect(discoverRelease(m, { version: 'latest' })).rejects.toThrow(/not an Exim version/);
  });

  it('falls back to the pinned version when the listing cannot be read, and says so', async () => {
    const s = await scratch('nomirror');
    cleanups.push(s.cleanup);
    const r = await discoverRelease(parseMirror(path.join(s.dir, 'missing', 'exim4')));
    expect(r.version).toBe(PINNED_FALLBACK_VERSION);
    expect(r.format).toBe('xz');
    expect(r.fallbackNote).toMatch(/could not read the mirror's listing.*pinned version 4\.96/);
  });
});

describe('discoverRelease over HTTP', () => {
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
    const r = await discoverRelease(parseMirror(`${srv.url}/pub/exim/exim4`));
    expect(r.version).toBe('4.98.2');
    expect(r.format).toBe('xz');
    expect(r.tarballUrl).toBe(`${srv.url}/pub/exim/exim4/fixes/exim-4.98.2.tar.xz`);
    expect(r.keyringUrl).toBe(`${srv.url}/pub/exim/Exim-Maintainers-Keyring.asc`);
  });

  it('falls back with a note naming the failing URL when the listing is a 404', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    cleanups.push(srv.close);
    const r = await discoverRelease(parseMirror(`${srv.url}/exim4/`));
    expect(r.version).toBe('4.96');
    expect(r.tarballUrl).toBe(`${srv.url}/exim4/exim-4.96.tar.xz`);
    expect(r.fallbackNote).toContain(`${srv.url}/exim4/`);
    expect(r.fallbackNote).toContain('404');
  });
});
