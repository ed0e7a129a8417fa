/**
 * Where releases come from. A mirror always names the directory holding the release tarballs
 * (`https://…/exim4/`, `http://…`, `file:///dir/exim4` or a plain directory); maintenance
 * releases are in `fixes/` below it, superseded ones in `old/`, and the maintainers' keyring
 * `Exim-Maintainers-Keyring.asc` is in its parent, as on the official download site.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errorMessage, usageError } from '../errors.js';
import { fetchText, isRemote, localPath } from './download.js';
import { PINNED_FALLBACK_VERSION } from './pinned.js';
import {
  isReleaseCandidate,
  isValidVersion,
  newestRelease,
  parseListing,
  preferredFormat,
  tarballName,
  compareVersions,
  type ListedTarball,
  type TarballFormat,
} from './versions.js';

export const DEFAULT_MIRROR = 'https://ftp.exim.org/pub/exim/exim4/';
export const KEYRING_NAME = 'Exim-Maintainers-Keyring.asc';

/** Subdirectories searched for releases: `''` is the mirror directory itself. */
export type ReleaseDir = '' | 'fixes/' | 'old/';

export interface Mirror {
  /** As given on the command line. */
  spec: string;
  remote: boolean;
  /** The release directory: a URL ending in `/`, or an absolute path. */
  base: string;
}

export function parseMirror(spec: string): Mirror {
  const trimmed = spec.trim();
  if (!trimmed) throw usageError('--mirror is empty');
  if (isRemote(trimmed)) {
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      throw usageError(`--mirror ${spec}: not a valid URL`);
    }
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    url.search = '';
    url.hash = '';
    return { spec, remote: true, base: url.href };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) && !/^file:/i.test(trimmed)) {
    throw usageError(`--mirror ${spec}: unsupported scheme`, 'use http://, https://, file:// or a directory path');
  }
  return { spec, remote: false, base: localPath(trimmed) };
}

/** The location of `name` in a release directory (or, with `..`, the parent). */
export function locate(mirror: Mirror, dir: ReleaseDir | '../', name: string): string {
  return mirror.remote ? new URL(dir + name, mirror.base).href : path.join(mirror.base, dir, name);
}

export const keyringLocation = (mirror: Mirror) => locate(mirror, '../', KEYRING_NAME);

export interface Listing {
  dir: ReleaseDir;
  location: string;
  tarballs: ListedTarball[];
  /** Why the listing could not be read (then `tarballs` is empty). */
  error?: string;
}

/** Reads one directory listing; a missing or unreadable directory is reported, not thrown. */
export async function readListing(mirror: Mirror, dir: ReleaseDir, timeoutMs?: number): Promise<Listing> {
  const location = mirror.remote ? new URL(dir, mirror.base).href : path.join(mirror.base, dir);
  try {
    const text = mirror.remote ? await fetchText(location, { timeoutMs }) : (await fs.readdir(location)).join('\n');
    return { dir, location, tarballs: parseListing(text) };
  } catch (err) {
    return { dir, location, tarballs: [], error: errorMessage(err) };
  }
}

export interface Release {
  version: string;
  format: TarballFormat;
  dir: ReleaseDir;
  tarballUrl: string;
  ascUrl: string;
  keyringUrl: string;
  /** Set when no listing could be used and labctl guessed; the caller must show it. */
  fallbackNote?: string;
  /** The listings consulted, for --dry-run and error messages. */
  listings: Listing[];
}

function release(mirror: Mirror, version: string, format: TarballFormat, dir: ReleaseDir, listings: Listing[], fallbackNote?: string): Release {
  const tarballUrl = locate(mirror, dir, tarballName(version, format));
  return { version, format, dir, tarballUrl, ascUrl: `${tarballUrl}.asc`, keyringUrl: keyringLocation(mirror), fallbackNote, listings };
}

/**
 * Picks the release to fetch: `version` if given (searched in the main directory, `fixes/`
 * and `old/`), otherwise the newest non-RC release listed in the main directory or `fixes/`.
 * The format is the preferred one present (xz, bz2, gz). When the main listing cannot be read,
 * it falls back to `exim-<version or pinned>.tar.xz` in the main directory and says so.
 */
export async function discoverRelease(mirror: Mirror, opts: { version?: string; timeoutMs?: number } = {}): Promise<Release> {
  const { version } = opts;
  if (version !== undefined && !isValidVersion(version)) {
    throw usageError(`--version ${version}: not an Exim version`, 'e.g. --version 4.96 or --version 4.98.2');
  }
  const [main, fixes] = await Promise.all([readListing(mirror, '', opts.timeoutMs), readListing(mirror, 'fixes/', opts.timeoutMs)]);
  const listings = [main, fixes];

  if (main.error || main.tarballs.length + fixes.tarballs.length === 0) {
    const why = main.error ?? `no exim-<version>.tar.* files listed in ${main.location}`;
    const v = version ?? PINNED_FALLBACK_VERSION;
    const note = version
      ? `could not read the mirror's listing (${why}); trying ${tarballName(v, 'xz')} in the main directory`
      : `could not read the mirror's listing (${why}); using labctl's pinned version ${v}`;
    return release(mirror, v, 'xz', '', listings, note);
  }

  if (version === undefined) {
    const all = [...main.tarballs, ...fixes.tarballs];
    const newest = newestRelease(all);
    if (!newest) {
      throw usageError(`no release in ${main.location} or its fixes/ (only release candidates)`, 'pick one with --version');
    }
    return pick(mirror, newest, listings)!;
  }

  const found = pick(mirror, version, listings);
  if (found) return found;
  const old = await readListing(mirror, 'old/', opts.timeoutMs);
  listings.push(old);
  const fromOld = pick(mirror, version, listings);
  if (fromOld) return fromOld;
  const known = [...new Set(listings.flatMap((l) => l.tarballs.map((t) => t.version)))]
    .filter((v) => !isReleaseCandidate(v))
    .sort(compareVersions)
    .slice(-5);
  throw usageError(
    `version ${version} not found in ${main.location} (main directory, fixes/ or old/)`,
    known.length ? `newest listed: ${known.join(', ')}` : undefined,
  );
}

/** The first directory (main, fixes/, old/) that lists `version`, with its best format. */
function pick(mirror: Mirror, version: string, listings: Listing[]): Release | undefined {
  for (const listing of listings) {
    const format = preferredFormat(listing.tarballs, version);
    if (format) return release(mirror, version, format, listing.dir, listings);
  }
  return undefined;
}
