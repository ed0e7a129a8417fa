/**
 * The kept listing: used within its window, read again with --refresh or past the window, and
 * then asked for conditionally (If-None-Match), against a real HTTP mirror on 127.0.0.1.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeAge, describeListing, keptOrigin, listingKey, LISTING_WINDOW_MS, planListing } from '../../../src/source/listing-cache.js';
import { scratch, serve } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const T0 = Date.parse('2026-12-05T12:00:00Z');
const MIN = 60_000;

describe('planListing (the window)', () => {
  const kept = { fetchedAt: new Date(T0).toISOString() };
  it('reads when nothing is kept, uses a listing inside the window, reads again at its end', () => {
    expect(planListing(undefined, { now: T0 })).toEqual({ read: true, why: 'none' });
    expect(planListing(kept, { now: T0 + 3 * MIN })).toEqual({ read: false, ageMs: 3 * MIN });
    expect(planListing(kept, { now: T0 + LISTING_WINDOW_MS - 1 })).toEqual({ read: false, ageMs: LISTING_WINDOW_MS - 1 });
    expect(planListing(kept, { now: T0 + LISTING_WINDOW_MS })).toEqual({ read: true, why: 'expired' });
    expect(planListing(kept, { now: T0 + 2 * MIN, windowMs: MIN })).toEqual({ read: true, why: 'expired' });
  });

  it('--refresh reads at once; a time in the future or garbage is not trusted', () => {
    expect(planListing(kept, { now: T0 + 1000, refresh: true })).toEqual({ read: true, why: 'refresh' });
    expect(planListing(kept, { now: T0 - 1000 })).toEqual({ read: true, why: 'expired' });
    expect(planListing({ fetchedAt: 'yesterday' }, { now: T0 })).toEqual({ read: true, why: 'expired' });
  });

  it('keeps remote sources only, one entry per source, mirror and version', () => {
    expect(listingKey({ source: 'mirror', mirror: '/srv/exim4' })).toBeUndefined();
    expect(listingKey({ source: 'auto', mirror: 'file:///srv/exim4' })).toBeUndefined();
    const remote = listingKey({ source: 'auto', mirror: 'http://m.example/exim4/' });
    expect(remote).toBe(listingKey({ source: 'mirror', mirror: 'http://m.example/exim4/' }));
    expect(remote).not.toBe(listingKey({ source: 'mirror', mirror: 'http://m.example/exim4/', version: '4.96' }));
    expect(listingKey({ source: 'debian' })).not.toBe(listingKey({ source: 'auto' }));
  });

  it('says how old the listing is', () => {
    expect(describeAge(42_000)).toBe('42 s');
    expect(describeAge(3 * MIN + 5000)).toBe('3 min');
    expect(describeAge(125 * MIN)).toBe('2 h 5 min');
    expect(describeListing({ fetchedAt: '', ageMs: 0, kept: false })).toBe('listing read now');
    expect(describeListing({ fetchedAt: '', ageMs: 3 * MIN, kept: true })).toBe('listing read 3 min ago (kept 10 min; --refresh reads it now)');
  });
});

/** A mirror whose listing can change; it honours If-None-Match and counts what it was asked. */
async function mirror() {
  let files = ['exim-4.97.tar.xz', 'exim-4.98.2.tar.xz'];
  const asked: { path: string; conditional: boolean; status: number }[] = [];
  const etag = () => `"${files.join(',').length}-${files.length}"`;
  const server = await serve((req, res) => {
    const conditional = req.headers['if-none-match'] !== undefined;
    const body = req.url === '/exim4/' ? files.map((f) => `<a href="${f}">${f}</a>`).join('\n') : req.url === '/exim4/fixes/' ? '' : undefined;
    if (body === undefined) {
      asked.push({ path: req.url!, conditional, status: 404 });
      res.writeHead(404).end();
    } else if (req.headers['if-none-match'] === etag()) {
      asked.push({ path: req.url!, conditional, status: 304 });
      res.writeHead(304, { etag: etag() }).end();
    } else {
      asked.push({ path: req.url!, conditional, status: 200 });
      res.writeHead(200, { etag: etag(), 'content-type': 'text/html' }).end(body);
    }
  });
  cleanups.push(server.close);
  return { url: `${server.url}/exim4/`, asked, publish: (name: string) => (files = [...files, name]) };
}

describe('keptOrigin against a real HTTP mirror', () => {
  it('within the window nothing is asked; --refresh and the end of the window read again, conditionally', async () => {
    const m = await mirror();
    const cache = await scratch('listing');
    cleanups.push(cache.cleanup);
    let now = T0;
    const get = (refresh = false) => keptOrigin({ source: 'mirror', mirror: m.url, cacheDir: cache.dir, refresh, now: () => now });
    const versions = (r: Awaited<ReturnType<typeof get>>) => r.origin.candidates.map((c) => c.version);

    const first = await get();
    expect(versions(first)).toEqual(['4.98.2', '4.97']);
    expect(first.age).toMatchObject({ kept: false, why: 'none', ageMs: 0 });
    expect(m.asked.map((a) => a.status)).toEqual([200, 200]);
    const file = JSON.parse(await readFile(path.join(cache.dir, 'listing.json'), 'utf8')) as { listings: Record<string, { fetchedAt: string }> };
    expect(Object.values(file.listings).map((l) => l.fetchedAt)).toEqual([new Date(T0).toISOString()]);

    // A newer release appears; inside the window the kept listing is used and the mirror is not asked.
    m.publish('exim-4.99.tar.xz');
    now = T0 + 4 * MIN;
    const kept = await get();
    expect(kept.age).toMatchObject({ kept: true, ageMs: 4 * MIN });
    expect(versions(kept)).toEqual(['4.98.2', '4.97']);
    expect(m.asked).toHaveLength(2);

    // --refresh reads at once (conditionally: the listing changed, so 200) and sees it.
    const refreshed = await get(true);
    expect(refreshed.age).toMatchObject({ kept: false, why: 'refresh' });
    expect(versions(refreshed)).toEqual(['4.99', '4.98.2', '4.97']);
    expect(m.asked.slice(2).find((a) => a.path === '/exim4/')).toEqual({ path: '/exim4/', conditional: true, status: 200 });

    // Past the window, unchanged: asked with the validators, answered 304, the kept releases stand.
    now += LISTING_WINDOW_MS;
    const revalidated = await get();
    expect(revalidated.age).toMatchObject({ kept: false, why: 'expired' });
    expect(versions(revalidated)).toEqual(['4.99', '4.98.2', '4.97']);
    expect(m.asked.slice(4).find((a) => a.path === '/exim4/')).toEqual({ path: '/exim4/', conditional: true, status: 304 });

    // Past the window after a release: seen, never later than the window.
    m.publish('exim-4.99.1.tar.xz');
    now += LISTING_WINDOW_MS;
    expect(versions(await get())).toEqual(['4.99.1', '4.99', '4.98.2', '4.97']);
  });

  it('a local directory is read every time and nothing is kept', async () => {
    const dir = await scratch('listing-local');
    cleanups.push(dir.cleanup);
    const base = path.join(dir.dir, 'exim4');
    await mkdir(base);
    await writeFile(path.join(base, 'exim-4.98.2.tar.xz'), 'x');
    const get = () => keptOrigin({ source: 'mirror', mirror: base, cacheDir: path.join(dir.dir, 'cache') });
    expect((await get()).origin.candidates.map((c) => c.version)).toEqual(['4.98.2']);
    await writeFile(path.join(base, 'exim-4.99.tar.xz'), 'x');
    const again = await get();
    expect(again.age).toBeUndefined();
    expect(again.origin.candidates.map((c) => c.version)).toEqual(['4.99', '4.98.2']);
    await expect(readFile(path.join(dir.dir, 'cache', 'listing.json'))).rejects.toThrow(/ENOENT/);
  });
});
