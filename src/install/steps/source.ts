/**
 * 1b: the newest release a pinned key signed, from the chosen source (src/source/fetch.ts). The
 * check lists the source's releases without downloading a tarball; the apply selects, downloads
 * and verifies.
 */
import { selectRelease, cachePaths } from '../../source/fetch.js';
import { describeListing, keptOrigin } from '../../source/listing-cache.js';
import { exists } from '../../system/files.js';
import type { Step } from '../../steps/types.js';
import type { InstallContext } from '../context.js';

export const source: Step<InstallContext> = {
  id: '1b-source',
  title: 'download source and signature',
  async check(ctx) {
    const o = ctx.o;
    if (!ctx.origin) {
      const got = await keptOrigin({ source: o.source, mirror: o.mirror, version: o.version, cacheDir: o.cacheDir, refresh: o.refresh, log: ctx.note, keep: !ctx.planning });
      ctx.origin = got.origin;
      ctx.listingAge = got.age;
    }
    const candidates = ctx.origin.candidates;
    const age = ctx.listingAge ? `; ${describeListing(ctx.listingAge)}` : '';
    if (!ctx.planning || o.json) return { done: false, detail: `${ctx.origin.label}: ${candidates.map((c) => c.version).join(', ')}${age}` };
    for (const c of candidates) {
      const p = cachePaths(o.cacheDir, c);
      const cached = (await exists(p.tarballPath)) && (await exists(p.ascPath));
      ctx.note(`${c.version}: ${c.tarballUrl} (+ .asc) -> ${p.tarballPath}${cached ? ' (in cache)' : ''}`);
    }
    return { done: false, detail: `${ctx.origin.label}: releases newest first: ${candidates.map((c) => c.version).join(', ')}; the newest whose signature a pinned key made${age}` };
  },
  async apply(ctx) {
    const o = ctx.o;
    const r = await selectRelease(ctx.origin!, {
      source: o.source,
      mirror: o.mirror,
      version: o.version,
      cacheDir: o.cacheDir,
      keyringFile: o.keyringFile,
      trusted: o.trusted,
      installedVersion: ctx.installedBefore,
      allowDowngrade: o.allowDowngrade,
      progress: !o.json,
      log: ctx.note,
    });
    ctx.release = r;
    const skipped = r.skipped.length ? `; skipped ${r.skipped.map((x) => x.version).join(', ')} (unpinned key)` : '';
    const age = ctx.listingAge ? `; ${describeListing(ctx.listingAge)}` : '';
    return {
      status: r.cached ? 'ok' : 'changed',
      detail: `exim ${r.version} (${r.format}) from ${r.originLabel}${r.cached ? ', cached' : ''}${skipped}${age}`,
      evidence: [{ kind: 'data', label: 'source', data: { origin: r.origin, from: r.originLabel, version: r.version, tarballUrl: r.tarballUrl, ascUrl: r.ascUrl, keyringUrl: r.keyringUrl, format: r.format, notes: r.notes, skipped: r.skipped, ...(ctx.listingAge ? { listingFetchedAt: ctx.listingAge.fetchedAt } : {}) } }],
    };
  },
};
