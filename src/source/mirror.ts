/**
 * Where releases come from. A mirror always names the directory holding the release tarballs
 * (`https://…/exim4/`, `http://…`, `file:///dir/exim4` or a plain directory); maintenance
 * releases are in `fixes/` below it, superseded ones in `old/`, and the maintainers' keyring
 * `Exim-Maintainers-Keyring.asc` is in its parent, as on the official download site.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EXIT, LabError, errorMessage, usageError } from '../errors.js';
import { newestFirst, type Candidate, type Origin } from './candidates.js';
import { fetchTextIfChanged, isRemote, localPath, type Validators } from './download.js';
import {
  isReleaseCandidate,
  isValidVersion,
  parseListing,
  preferredFormat,
  tarballName,
  compareVersions,
  type ListedTarball,
  type TarballFormat,
} from './versions.js';

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
  /** The server's validators for this listing, for a conditional re-read (src/source/listing-cache.ts). */
  validators?: Validators;
  /** True when a conditional re-read found it unchanged (304): `tarballs` are the earlier read's. */
  notModified?: boolean;
}

/**
 * Reads one directory listing; a missing or unreadable directory is reported, not thrown. Given
 * an earlier read of the same location with validators, asks the server only for a change.
 */
export async function readListing(mirror: Mirror, dir: ReleaseDir, timeoutMs?: number, previous?: Listing): Promise<Listing> {
  const location = mirror.remote ? new URL(dir, mirror.base).href : path.join(mirror.base, dir);
  try {
    if (!mirror.remote) return { dir, location, tarballs: parseListing((await fs.readdir(location)).join('\n')) };
    const earlier = previous?.location === location && !previous.error && previous.validators ? previous : undefined;
    const got = await fetchTextIfChanged(location, { timeoutMs, validators: earlier?.validators });
    if (got.text === undefined && earlier) return { dir, location, tarballs: earlier.tarballs, validators: earlier.validators, notModified: true };
    return { dir, location, tarballs: parseListing(got.text ?? ''), ...(got.validators?.etag || got.validators?.lastModified ? { validators: got.validators } : {}) };
  } catch (err) {
    return { dir, location, tarballs: [], error: errorMessage(err) };
  }
}

/** True when a listing failed because the host cannot be reached at all (DNS, refused, no route, timeout). */
export function isUnreachable(error: string): boolean {
  return /\(DNS\)|connection refused|no route to|\(timeout\)/.test(error);
}

/** A listing that could not be read; `unreachable` lets `--source auto` fall back to Debian. */
export class ListingError extends LabError {
  constructor(
    message: string,
    hint: string | undefined,
    readonly unreachable: boolean,
  ) {
    super(message, hint, EXIT.usage);
  }
}

function candidate(mirror: Mirror, version: string, format: TarballFormat, dir: ReleaseDir): Candidate {
  const tarballUrl = locate(mirror, dir, tarballName(version, format));
  return { version, format, tarballUrl, ascUrl: `${tarballUrl}.asc` };
}

/**
 * The releases a mirror offers, newest first: every non-RC release listed in its main directory
 * and `fixes/`, each in its preferred format (xz, bz2, gz). With `version`, exactly that release
 * (searched in the main directory, `fixes/` and `old/`). A listing that cannot be read is an
 * error, except with `version`, when the tarball is tried in the main directory and a note says so.
 */
export async function mirrorOrigin(
  mirror: Mirror,
  kind: 'official' | 'mirror',
  opts: { version?: string; timeoutMs?: number; log?: (line: string) => void; previous?: Listing[] } = {},
): Promise<Origin & { listings: Listing[] }> {
  const { version } = opts;
  if (version !== undefined && !isValidVersion(version)) {
    throw usageError(`--version ${version}: not an Exim version`, 'e.g. --version 4.96 or --version 4.98.2');
  }
  const label = kind === 'official' ? 'exim.org' : `mirror ${mirror.base}`;
  const origin = (candidates: Candidate[], listings: Listing[], notes: string[] = []) => ({ kind, label, candidates, keyringUrl: keyringLocation(mirror), notes, listings });
  const earlier = (dir: ReleaseDir) => opts.previous?.find((l) => l.dir === dir);
  const [main, fixes] = await Promise.all([readListing(mirror, '', opts.timeoutMs, earlier('')), readListing(mirror, 'fixes/', opts.timeoutMs, earlier('fixes/'))]);
  const listings = [main, fixes];

  if (main.error) {
    if (version && !isUnreachable(main.error)) {
      const note = `could not read the listing ${main.location} (${main.error}); trying ${tarballName(version, 'xz')} there`;
      opts.log?.(note);
      return origin([candidate(mirror, version, 'xz', '')], listings, [note]);
    }
    throw new ListingError(
      `cannot read the release listing ${main.location}: ${main.error}`,
      kind === 'official' ? 'without exim.org, use --source debian (Debian\'s archive carries the signed upstream tarballs)' : 'check --mirror, or name a release with --version',
      isUnreachable(main.error),
    );
  }

  if (version === undefined) {
    const all = [...main.tarballs.map((t) => ({ t, dir: '' as const })), ...fixes.tarballs.map((t) => ({ t, dir: 'fixes/' as const }))];
    const versions = newestFirst(all.map(({ t, dir }) => candidate(mirror, t.version, t.format, dir))).map((c) => c.version);
    const candidates = versions.map((v) => pick(mirror, v, listings)!);
    if (!candidates.length) throw usageError(`no release in ${main.location} or its fixes/`, 'check --mirror, or pick a release with --version');
    return origin(candidates, listings);
  }

  const found = pick(mirror, version, listings);
  if (found) return origin([found], listings);
  const old = await readListing(mirror, 'old/', opts.timeoutMs, earlier('old/'));
  listings.push(old);
  const fromOld = pick(mirror, version, listings);
  if (fromOld) return origin([fromOld], listings);
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
function pick(mirror: Mirror, version: string, listings: Listing[]): Candidate | undefined {
  for (const listing of listings) {
    const format = preferredFormat(listing.tarballs, version);
    if (format) return candidate(mirror, version, format, listing.dir);
  }
  return undefined;
}
