/**
 * 1b: the newest release a pinned key signed, from the chosen source (src/source/fetch.ts). A
 * dry run resolves it with the same selection over what it can read without downloading a
 * tarball: the listing kept by the listing cache (or read now, not kept), the cached `.asc` and
 * tarball, and a `.asc` the cache lacks read into a scratch directory. The real run's apply
 * selects, downloads and verifies.
 */
import { NotInCache, selectRelease, type SourceOptions } from '../../source/fetch.js';
import { describeListing, keptOrigin } from '../../source/listing-cache.js';
import { makeTempDir, removePath } from '../../system/files.js';
import { unknownOutcome, type CheckOutcome, type Step } from '../../steps/types.js';
import { errorMessage } from '../../errors.js';
import { SignatureError } from '../../source/signature-error.js';
import type { InstallContext } from '../context.js';

const selection = (ctx: InstallContext): SourceOptions => ({
  source: ctx.o.source,
  mirror: ctx.o.mirror,
  version: ctx.o.version,
  cacheDir: ctx.o.cacheDir,
  keyringFile: ctx.o.keyringFile,
  trusted: ctx.o.trusted,
  installedVersion: ctx.installedBefore,
  allowDowngrade: ctx.o.allowDowngrade,
  gpgvAgreed: ctx.previous?.gpgvAgreed,
  progress: !ctx.o.json,
  log: ctx.note,
});

const skippedNote = (s: { version: string }[]) => (s.length ? `; skipped ${s.map((x) => x.version).join(', ')} (unpinned key)` : '');
const ageNote = (ctx: InstallContext) => (ctx.listingAge ? `; ${describeListing(ctx.listingAge)}` : '');

/** The dry run's answer: the release resolved from what is cached, or what the run would download. */
async function resolve(ctx: InstallContext): Promise<CheckOutcome> {
  const scratchDir = await makeTempDir('labctl-plan-');
  try {
    const r = await selectRelease(ctx.origin!, { ...selection(ctx), progress: false, readOnly: { scratchDir } });
    ctx.release = r;
    const where = `exim ${r.version} (${r.format}) from ${r.originLabel}`;
    if (r.cached) return { done: true, detail: `${where}, cached${skippedNote(r.skipped)}${ageNote(ctx)}` };
    ctx.release = undefined;
    ctx.pending = { version: r.version };
    return { done: false, detail: `${where}: would download ${r.ascUrl} (the tarball is cached)${skippedNote(r.skipped)}${ageNote(ctx)}` };
  } catch (err) {
    if (err instanceof NotInCache) {
      ctx.pending = { version: err.version };
      return { done: false, detail: `exim ${err.version}: would download ${err.tarballUrl} (+ .asc)${skippedNote(err.skipped)}${ageNote(ctx)}` };
    }
    // A signature that cannot be fetched now: which release the run would install cannot be told.
    // Anything else (a bad signature, a refused downgrade) stops the plan as it would stop the run.
    if (err instanceof SignatureError && err.reason === 'missing') return unknownOutcome(`which release: ${errorMessage(err).split('\n')[0]}`);
    throw err;
  } finally {
    await removePath(scratchDir);
  }
}

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
    if (ctx.planning) return resolve(ctx);
    return { done: false, detail: `${ctx.origin.label}: ${ctx.origin.candidates.map((c) => c.version).join(', ')}${ageNote(ctx)}` };
  },
  async apply(ctx) {
    const r = await selectRelease(ctx.origin!, selection(ctx));
    ctx.release = r;
    return {
      status: r.cached ? 'ok' : 'changed',
      detail: `exim ${r.version} (${r.format}) from ${r.originLabel}${r.cached ? ', cached' : ''}${skippedNote(r.skipped)}${ageNote(ctx)}`,
      evidence: [{ kind: 'data', label: 'source', data: { origin: r.origin, from: r.originLabel, version: r.version, tarballUrl: r.tarballUrl, ascUrl: r.ascUrl, keyringUrl: r.keyringUrl, format: r.format, notes: r.notes, skipped: r.skipped, ...(ctx.listingAge ? { listingFetchedAt: ctx.listingAge.fetchedAt } : {}) } }],
    };
  },
};
