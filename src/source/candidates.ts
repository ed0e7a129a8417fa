/**
 * A release that a source offers: where its tarball and detached signature are, and (when the
 * source's own signed index states it) the tarball's expected digest. Every source (exim.org, a
 * mirror, Debian's archive) lists its candidates newest first; the selection then installs the
 * newest one whose signature a trusted key made.
 */
import { compareVersions, isReleaseCandidate, type TarballFormat } from './versions.js';

export const SOURCE_CHOICES = ['auto', 'official', 'mirror', 'debian'] as const;
/** exim.org's release directory, the official source. */
export const DEFAULT_MIRROR = 'https://ftp.exim.org/pub/exim/exim4/';
/** How long `labctl install` uses a remote source's listing before reading it again (listing-cache.ts). */
export const LISTING_WINDOW_MINUTES = 10;
export type SourceChoice = (typeof SOURCE_CHOICES)[number];
export type SourceKind = Exclude<SourceChoice, 'auto'>;

export interface Candidate {
  version: string;
  format: TarballFormat;
  tarballUrl: string;
  ascUrl: string;
  /** The tarball's SHA-256 and size as the source's signed index states them (Debian's Sources). */
  expected?: { sha256: string; size: number };
  /** The same for its `.asc`: Debian's Sources lists the signature file too. */
  expectedAsc?: { sha256: string; size: number };
}

export interface Origin {
  kind: SourceKind;
  /** For messages: "exim.org", "mirror file:///srv/exim4/", "Debian's archive (bookworm, stable, …)". */
  label: string;
  /** Newest first, release candidates left out. */
  candidates: Candidate[];
  /** The maintainers' keyring the source publishes (official and mirror); Debian's archive has none. */
  keyringUrl?: string;
  /** Lines the user must see (a guessed location, a suite that failed). */
  notes: string[];
}

/** Newest first, one entry per version (the first listed wins), release candidates dropped. */
export function newestFirst(candidates: readonly Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return [...candidates]
    .filter((c) => !isReleaseCandidate(c.version))
    .sort((a, b) => compareVersions(b.version, a.version))
    .filter((c) => (seen.has(c.version) ? false : (seen.add(c.version), true)));
}
