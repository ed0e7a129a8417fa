/**
 * The compiler cache switch (src/system/ccache.ts): off unless LABCTL_CCACHE=1; on, it names the
 * same compiler Exim's Linux Makefile uses, through ccache, and the cache's directory; and the
 * counters ccache 4 prints are read into hits and misses. And install.json says whether a build
 * used it (src/install/record.ts), keeping the record of the run that built.
 */
import { describe, expect, it } from 'vitest';
import { ccacheWanted, compilerCache, DEFAULT_CCACHE_DIR, parseCcacheStats } from '../../../src/system/ccache.js';
import { installRecord } from '../../../src/install/record.js';
import type { InstallContext, InstallOptions } from '../../../src/install/context.js';
import type { FetchedSource } from '../../../src/source/fetch.js';
import type { InstallState } from '../../../src/state/install.js';

describe('ccache for Exim builds', () => {
  it('is off unless LABCTL_CCACHE=1', async () => {
    expect(ccacheWanted({})).toBe(false);
    expect(ccacheWanted({ LABCTL_CCACHE: '0' })).toBe(false);
    expect(ccacheWanted({ LABCTL_CCACHE: '1' })).toBe(true);
    expect(await compilerCache({})).toBeUndefined();
  });

  it('on, passes the same compiler (cc) through ccache on make\'s command line, with its directory', async () => {
    const cc = await compilerCache({ LABCTL_CCACHE: '1', PATH: process.env.PATH });
    expect(cc, 'ccache must be installed here (scripts/apt-packages-tests.txt)').toBeDefined();
    expect(cc!.makeArgs).toEqual(['CC=ccache cc']);
    expect(cc!.env).toEqual({ CCACHE_DIR: DEFAULT_CCACHE_DIR });
    expect((await compilerCache({ LABCTL_CCACHE: '1', CCACHE_DIR: '/tmp/elsewhere' }))!.dir).toBe('/tmp/elsewhere');
  });

  it('reads hits (direct and preprocessed) and misses from ccache --print-stats', () => {
    const text = ['cache_miss\t7', 'direct_cache_hit\t180', 'direct_cache_miss\t9', 'preprocessed_cache_hit\t2', 'preprocessed_cache_miss\t7'].join('\n');
    expect(parseCcacheStats(text)).toEqual({ hits: 182, misses: 7 });
    expect(parseCcacheStats('ccache: unknown option')).toBeUndefined();
  });

  it('install.json records whether the build used ccache; a run that rebuilt nothing keeps the building run\'s record', () => {
    const signature = { signer: 'J', primaryFingerprint: 'A', signingKeyFingerprint: 'A', bySubkey: false, created: '2025-03-25T10:14:14Z', trustedAs: 'A', keyringFingerprints: ['A'] };
    const o = { binDirectory: '/usr/exim/bin', configureFile: '/usr/exim/configure', eximUser: 'exim', spf: false } as InstallOptions;
    const release = { version: '4.98.2', tarballUrl: 'http://mirror.test/exim4/exim-4.98.2.tar.xz', signature, origin: 'mirror' } as FetchedSource;
    const ctx = (extra: Partial<InstallContext>): InstallContext => ({ o, binary: '/usr/exim/bin/exim', note: () => {}, planning: false, release, inputsKey: 'k', ...extra });
    const built = installRecord(ctx({ upToDate: false, ccache: { dir: DEFAULT_CCACHE_DIR, hits: 190, misses: 4 } }));
    expect(built.ccache).toEqual({ dir: DEFAULT_CCACHE_DIR, hits: 190, misses: 4 });
    expect(installRecord(ctx({ upToDate: false })).ccache).toBeUndefined();
    const previous = { ...built, installedAt: '2026-12-06T00:00:00.000Z' } as InstallState;
    expect(installRecord(ctx({ upToDate: true, previous, installedBefore: '4.98.2' })).ccache).toEqual(built.ccache);
  });
});
