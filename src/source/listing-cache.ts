/**
 * What a run learned about a remote source (exim.org's or a mirror's listing, Debian's index
 * read through the private apt state), kept in the cache with the time it was read, so that a
 * rerun does not wait for the network:
 * - within LISTING_WINDOW_MS of that read, the kept listing is used as it is;
 * - `--refresh` reads the source at once;
 * - past the window the source is read again, conditionally where it allows: a mirror's listings
 *   are asked for with the validators (ETag, Last-Modified) they came with, and apt's update
 *   keeps its own lists under the cache, so an unchanged index is not downloaded again.
 * So a newer release is seen at most LISTING_WINDOW_MS after it is published; the selection over
 * the listing (newest release a pinned key signed) is the same whichever way it was read. A
 * local mirror directory is always read: that costs nothing, and a cache could only hide.
 */
import path from 'node:path';
import { ensureDir, readIfExists, writeAtomic } from '../system/files.js';
import { LISTING_WINDOW_MINUTES, type Origin, type SourceChoice } from './candidates.js';
import { isRemote } from './download.js';
import { resolveOrigin } from './fetch.js';
import type { Listing } from './mirror.js';

/** How long a listing is used without asking the source again. */
export const LISTING_WINDOW_MS = LISTING_WINDOW_MINUTES * 60_000;
const FILE = 'listing.json';
const SCHEMA = 1;

export interface ListingQuery {
  source: SourceChoice;
  mirror?: string;
  version?: string;
}

/** One source's listing as a run read it. */
export interface KeptListing {
  key: string;
  /** When the source was last read (ISO 8601). */
  fetchedAt: string;
  origin: Origin & { listings?: Listing[] };
}

/** What a run does about the listing: use the kept one, or read the source (and why). */
export type ListingPlan = { read: false; ageMs: number } | { read: true; why: 'none' | 'refresh' | 'expired' };

/** Where this listing came from and how old it is, for the step's line. */
export interface ListingAge {
  fetchedAt: string;
  ageMs: number;
  /** True when the kept listing was used; false when the source was read in this run. */
  kept: boolean;
  /** Why the source was read in this run. */
  why?: 'none' | 'refresh' | 'expired';
}

/** The cache key of a query, or undefined for a source that is always read (a local directory). */
export function listingKey(q: ListingQuery): string | undefined {
  const choice = q.source === 'auto' && q.mirror ? 'mirror' : q.source;
  if (choice === 'mirror' && !(q.mirror && isRemote(q.mirror))) return undefined;
  return JSON.stringify([choice, choice === 'mirror' ? q.mirror : '', q.version ?? '']);
}

/** The decision, from the kept listing's time alone (a time in the future counts as expired). */
export function planListing(kept: Pick<KeptListing, 'fetchedAt'> | undefined, o: { now: number; refresh?: boolean; windowMs?: number }): ListingPlan {
  if (!kept) return { read: true, why: 'none' };
  if (o.refresh) return { read: true, why: 'refresh' };
  const ageMs = o.now - Date.parse(kept.fetchedAt);
  if (!Number.isFinite(ageMs) || ageMs < 0 || ageMs >= (o.windowMs ?? LISTING_WINDOW_MS)) return { read: true, why: 'expired' };
  return { read: false, ageMs };
}

/** "40 s", "3 min", "2 h 5 min": how old a listing is, for a person. */
export function describeAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h${min % 60 ? ` ${min % 60} min` : ''}`;
}

/** The line the source step shows about the listing. */
export function describeListing(age: ListingAge, windowMs = LISTING_WINDOW_MS): string {
  if (!age.kept) return 'listing read now';
  return `listing read ${describeAge(age.ageMs)} ago (kept ${describeAge(windowMs)}; --refresh reads it now)`;
}

function isKept(v: unknown, key: string): v is KeptListing {
  const k = v as KeptListing | undefined;
  return (
    !!k && k.key === key && typeof k.fetchedAt === 'string' && !!k.origin && typeof k.origin.label === 'string' &&
    Array.isArray(k.origin.candidates) && k.origin.candidates.every((c) => typeof c?.version === 'string' && typeof c.tarballUrl === 'string' && typeof c.ascUrl === 'string')
  );
}

/** The kept listings, by key; a missing, unreadable or foreign file is no listing (the source is read). */
async function readKept(cacheDir: string): Promise<Record<string, unknown>> {
  const text = await readIfExists(path.join(cacheDir, FILE)).catch(() => undefined);
  try {
    const data = text ? (JSON.parse(text) as { schemaVersion?: number; listings?: Record<string, unknown> }) : undefined;
    return data?.schemaVersion === SCHEMA && data.listings && typeof data.listings === 'object' ? data.listings : {};
  } catch {
    return {};
  }
}

/**
 * The source's releases for `labctl install`: the kept listing within the window, else the
 * source read (conditionally when a listing was kept), and kept for the next run.
 */
export async function keptOrigin(
  q: ListingQuery & { cacheDir: string; refresh?: boolean; now?: () => number; windowMs?: number; log?: (line: string) => void; /** false for a dry run: use, never write. */ keep?: boolean },
): Promise<{ origin: Origin; age?: ListingAge }> {
  const key = listingKey(q);
  const read = (previous?: Listing[]) => resolveOrigin({ source: q.source, mirror: q.mirror, version: q.version, cacheDir: q.cacheDir, log: q.log, previous });
  if (!key) return { origin: await read() };
  const now = q.now ?? Date.now;
  const all = await readKept(q.cacheDir);
  const kept = isKept(all[key], key) ? all[key] : undefined;
  const plan = planListing(kept, { now: now(), refresh: q.refresh, windowMs: q.windowMs });
  if (!plan.read) return { origin: kept!.origin, age: { fetchedAt: kept!.fetchedAt, ageMs: plan.ageMs, kept: true } };

  const fetchedAt = new Date(now()).toISOString();
  const origin = await read(kept?.origin.listings);
  if (q.keep === false) return { origin, age: { fetchedAt, ageMs: 0, kept: false, why: plan.why } };
  // Only this key's entry changes; the others keep their validators for their next re-read.
  const others = Object.fromEntries(Object.entries(all).filter(([k, v]) => k !== key && isKept(v, k)));
  await ensureDir(q.cacheDir);
  await writeAtomic(path.join(q.cacheDir, FILE), `${JSON.stringify({ schemaVersion: SCHEMA, listings: { ...others, [key]: { key, fetchedAt, origin } } }, null, 2)}\n`);
  return { origin, age: { fetchedAt, ageMs: 0, kept: false, why: plan.why } };
}
