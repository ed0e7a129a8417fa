/**
 * Exim release versions: ordering, release-candidate detection and finding release tarballs in
 * a directory listing. Pure functions; the mirror module feeds them listings.
 */

export type TarballFormat = 'xz' | 'bz2' | 'gz';

/** Most preferred first: the smallest download, and the order upstream recommends. */
export const FORMAT_PREFERENCE: readonly TarballFormat[] = ['xz', 'bz2', 'gz'];

export interface ListedTarball {
  /** File name as listed, e.g. `exim-4.98.2.tar.xz`. */
  name: string;
  version: string;
  format: TarballFormat;
}

const RC = /[-_.]?rc(\d*)$/i;

/** `4.99-RC1`, `4.99_RC2`, `4.99.RC3`, `4.99rc1` are release candidates, not releases. */
export function isReleaseCandidate(version: string): boolean {
  return RC.test(version);
}

interface ParsedVersion {
  parts: number[];
  /** Release-candidate number, or undefined for a release. */
  rc?: number;
}

function parseVersion(version: string): ParsedVersion {
  const rcMatch = RC.exec(version);
  const base = rcMatch ? version.slice(0, rcMatch.index) : version;
  const parts = base.split('.').map((p) => {
    const n = Number.parseInt(p, 10);
    return Number.isNaN(n) ? 0 : n;
  });
  return { parts, rc: rcMatch ? Number.parseInt(rcMatch[1] || '0', 10) : undefined };
}

/**
 * Orders versions numerically per component: 4.100 > 4.99, 4.98.2 > 4.98 (a missing component
 * counts as 0, so 4.98 == 4.98.0). A release candidate sorts before the release it precedes.
 * Returns a negative number, 0 or a positive number, as Array.prototype.sort expects.
 */
export function compareVersions(a: string, b: string): number {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  const len = Math.max(va.parts.length, vb.parts.length);
  for (let i = 0; i < len; i++) {
    const d = (va.parts[i] ?? 0) - (vb.parts[i] ?? 0);
    if (d !== 0) return d;
  }
  if (va.rc === undefined && vb.rc === undefined) return 0;
  if (va.rc === undefined) return 1;
  if (vb.rc === undefined) return -1;
  return va.rc - vb.rc;
}

/** A version string as labctl accepts it on `--version`: digits and dots, optionally an RC suffix. */
export function isValidVersion(version: string): boolean {
  return /^\d+(\.\d+)*([-_.]?rc\d*)?$/i.test(version);
}

// A tarball name anywhere in the text (an href, link text, or a bare line), not preceded by a
// name character (so `myexim-4.96...` is not taken) and not followed by one (so the `.asc`
// beside each tarball is not taken for the tarball itself).
const TARBALL = /(?<![\w.-])exim-(\d+(?:\.\d+)*(?:[-_.]?rc\d*)?)\.tar\.(xz|bz2|gz)(?![\w.-])/gi;

/**
 * Finds `exim-<version>.tar.(xz|bz2|gz)` names in a directory listing: Apache or nginx
 * autoindex HTML, python's http.server, or a plain list of file names (one per line).
 * Each file is returned once, in order of first appearance.
 */
export function parseListing(text: string): ListedTarball[] {
  const seen = new Set<string>();
  const out: ListedTarball[] = [];
  for (const m of text.matchAll(TARBALL)) {
    const format = m[2].toLowerCase() as TarballFormat;
    const name = `exim-${m[1]}.tar.${format}`;
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, version: m[1], format });
  }
  return out;
}

/** The newest release (release candidates skipped) among listed tarballs or version strings. */
export function newestRelease(items: ReadonlyArray<ListedTarball | string>): string | undefined {
  let best: string | undefined;
  for (const item of items) {
    const v = typeof item === 'string' ? item : item.version;
    if (isReleaseCandidate(v)) continue;
    if (best === undefined || compareVersions(v, best) > 0) best = v;
  }
  return best;
}

/** The preferred format (xz, then bz2, then gz) among those listed for `version`. */
export function preferredFormat(items: readonly ListedTarball[], version: string): TarballFormat | undefined {
  const present = new Set(items.filter((t) => t.version === version).map((t) => t.format));
  return FORMAT_PREFERENCE.find((f) => present.has(f));
}

export const tarballName = (version: string, format: TarballFormat) => `exim-${version}.tar.${format}`;
