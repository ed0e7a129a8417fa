/**
 * The one entry point `labctl install` uses to get Exim's source. It asks the chosen source
 * (exim.org, a mirror, or Debian's archive; `auto` tries exim.org and falls back to Debian when
 * exim.org cannot be reached) for its releases, newest first, and returns the newest one whose
 * signature a trusted key made:
 * - a newer release signed by a key labctl does not trust is skipped, with one line saying how
 *   to trust it; its tarball is never downloaded, and its `.asc` is not kept, so the next run
 *   fetches it again (a tampered `.asc` in the cache cannot hold a machine on an older release),
 *   unless the source's signed index lists the `.asc`'s digest, which is checked on every run;
 * - where the source's signed index lists the `.asc` (Debian's Sources), its digest must match
 *   before anything is read from it;
 * - a bad signature, a digest mismatch, a revoked key or a future date stops the selection: a
 *   tampered newest release never falls back to an older one;
 * - `version` means exactly that release;
 * - a release older than the installed one is refused unless downgrades are allowed.
 * A tarball is only ever returned verified; on any failure the cached tarball and .asc of that
 * release are deleted so a bad download is never reused.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EXIT, LabError, errorMessage } from '../errors.js';
import { ensureDir, exists, readIfExists, readRegularFile, removePath, sha256File } from '../system/files.js';
import { DEFAULT_MIRROR, type Candidate, type Origin, type SourceChoice, type SourceKind } from './candidates.js';
import { debianOrigin } from './debian.js';
import { download, isRemote, LISTING_CAP, removeStaleParts } from './download.js';
import { KEYRING_NAME, ListingError, mirrorOrigin, parseMirror, type Listing } from './mirror.js';
import { progressBar } from './progress.js';
import { SignatureError, type SignatureRecord } from './signature-error.js';
import type { GpgvRecord } from './gpgv.js';
import type { GpgvAgreement } from './gpgv-agreement.js';
import { inspectRelease, releaseKeys, shippedKeyring, type ReleaseKeys } from './release-check.js';
import { verifyTarball } from './verify-tarball.js';
import { compareVersions, tarballName, type TarballFormat } from './versions.js';

export interface SourceOptions {
  source: SourceChoice;
  /** The mirror directory (with `mirror`, or `auto` given a mirror). */
  mirror?: string;
  /** Exactly this release; default: the newest that verifies. */
  version?: string;
  cacheDir: string;
  /** --keyring FILE: more keys, used only for pinned or --trust fingerprints. */
  keyringFile?: string;
  /** Pinned fingerprints plus --trust ones. */
  trusted: readonly string[];
  /** The Exim version installed now; an older release is refused unless allowDowngrade. */
  installedVersion?: string;
  allowDowngrade?: boolean;
  /** Show a progress bar (on stderr, only when it is a terminal). */
  progress?: boolean;
  log?: (line: string) => void;
  timeoutMs?: number;
  /** The current time for signature checks (tests). */
  now?: Date;
  /** The keys labctl ships (tests replace them). */
  shippedKeys?: string;
  /** gpgv's kept verdict (install.json): reused on exactly the files, keys and gpgv it was for. */
  gpgvAgreed?: GpgvAgreement;
  /**
   * A dry run's selection (src/install/steps/source.ts): the cache is only read. A `.asc` it lacks
   * is fetched into this scratch directory (the caller removes it), the maintainers' keyring is
   * the one kept, and a tarball the cache lacks ends the selection with NotInCache.
   */
  readOnly?: { scratchDir: string };
}

/** A dry run's selection found the release it would install, but its tarball is not in the cache. */
export class NotInCache extends Error {
  constructor(readonly version: string, readonly tarballUrl: string, readonly skipped: SkippedRelease[]) {
    super(`Exim ${version}'s tarball is not in the cache`);
  }
}

/** A newer release passed over because no trusted key signed it. */
export interface SkippedRelease {
  version: string;
  /** The signing key's fingerprint (or key ID when the signature names no fingerprint). */
  issuer: string;
  signersUserId?: string;
  line: string;
}

export interface FetchedSource {
  origin: SourceKind;
  originLabel: string;
  version: string;
  format: TarballFormat;
  tarballPath: string;
  /** The SHA-256 of the tarball bytes the signature was verified over (extract unpacks only these). */
  sha256: string;
  ascPath: string;
  tarballUrl: string;
  ascUrl: string;
  /** The source's keyring, when it has one and it was used. */
  keyringUrl?: string;
  /** True when the tarball and .asc were reused from the cache, nothing downloaded. */
  cached: boolean;
  /** Lines the user must see: a fallback, a guessed location. */
  notes: string[];
  skipped: SkippedRelease[];
  signature: SignatureRecord;
  /** gpgv's second opinion with the same keys (agreeing, or the install stopped); undefined where gpgv is not installed. */
  gpgv?: GpgvRecord;
  /** What gpgv agreed to, for install.json (./gpgv-agreement.ts); `gpgvReused` when its kept verdict on exactly these files and keys stood for a run. */
  gpgvAgreement?: GpgvAgreement;
  gpgvReused?: boolean;
  verifyMs: number;
  /** What was downloaded this time (URLs), for the step's evidence. */
  downloaded: string[];
}

/** Where the cache keeps a release's files. */
export function cachePaths(cacheDir: string, c: Pick<Candidate, 'version' | 'format'>) {
  const tarballPath = path.join(path.resolve(cacheDir), tarballName(c.version, c.format));
  return { tarballPath, ascPath: `${tarballPath}.asc` };
}

/** The source to use: `auto` is exim.org, or Debian's archive when exim.org cannot be reached. */
export async function resolveOrigin(opts: Pick<SourceOptions, 'source' | 'mirror' | 'version' | 'cacheDir' | 'timeoutMs' | 'log'> & { previous?: Listing[] }): Promise<Origin> {
  const choice = opts.source === 'auto' && opts.mirror ? 'mirror' : opts.source;
  switch (choice) {
    case 'mirror':
      if (!opts.mirror) throw new LabError('--source mirror needs --mirror DIR|URL', 'name the directory holding the exim-<version>.tar.* files', EXIT.usage);
      return mirrorOrigin(parseMirror(opts.mirror), 'mirror', opts);
    case 'official':
      return mirrorOrigin(parseMirror(DEFAULT_MIRROR), 'official', opts);
    case 'debian':
      return debianOrigin(opts);
    case 'auto':
      try {
        return await mirrorOrigin(parseMirror(DEFAULT_MIRROR), 'official', { ...opts, timeoutMs: opts.timeoutMs ?? 15_000 });
      } catch (err) {
        if (!(err instanceof ListingError && err.unreachable)) throw err;
        const why = /: ([^:]*)$/.exec(err.message)?.[1] ?? err.message;
        const note = `exim.org cannot be reached (${why}); using Debian's archive, which carries the signed upstream tarballs`;
        opts.log?.(note);
        const origin = await debianOrigin(opts);
        return { ...origin, notes: [note, ...origin.notes] };
      }
  }
}

/** Downloads, or reuses from the cache, the newest release that verifies; see the file comment. */
export async function fetchVerifiedSource(opts: SourceOptions): Promise<FetchedSource> {
  return selectRelease(await resolveOrigin(opts), opts);
}

/** The selection over one source's candidates (newest first). */
export async function selectRelease(origin: Origin, opts: SourceOptions): Promise<FetchedSource> {
  const log = opts.log ?? (() => {});
  const cacheDir = path.resolve(opts.cacheDir);
  const readOnly = opts.readOnly;
  if (!readOnly) {
    await ensureDir(cacheDir);
    for (const name of await removeStaleParts(cacheDir)) log(`removed ${name}, left by an interrupted download`);
  }
  const now = opts.now ?? new Date();

  const downloaded: string[] = [];
  const get = async (url: string, dest: string, tarball: boolean) => {
    log(`downloading ${url}`);
    const bar = tarball && opts.progress ? progressBar(path.basename(dest)) : undefined;
    try {
      // Signatures and keyrings are small: the listing cap; a tarball gets download's own cap.
      await download(url, dest, { timeoutMs: opts.timeoutMs, onProgress: bar?.onProgress, ...(tarball ? {} : { maxBytes: LISTING_CAP }) });
    } finally {
      bar?.stop();
    }
    downloaded.push(url);
  };

  // The keys: labctl's shipped ones, plus trusted keys from --keyring or the source's keyring.
  // The source's keyring is fetched again before the first download of a run, so a key or a
  // revocation published since the last run is seen.
  const mirrorKeyringPath = path.join(cacheDir, KEYRING_NAME);
  const keyringUrl = opts.keyringFile ? path.resolve(opts.keyringFile) : origin.keyringUrl;
  if (opts.keyringFile && !(await exists(keyringUrl!))) throw new LabError(`keyring ${keyringUrl} does not exist`, 'check --keyring FILE', EXIT.usage);
  const loadTrust = async (): Promise<ReleaseKeys> => {
    const file = opts.keyringFile ? keyringUrl! : mirrorKeyringPath;
    const text = origin.keyringUrl || opts.keyringFile ? await readIfExists(file) : undefined;
    return releaseKeys({ shipped: opts.shippedKeys ?? shippedKeyring(), extra: text ? { text, name: file } : undefined, trusted: opts.trusted, now });
  };
  let trust = await loadTrust();
  let refreshed = false;
  const beforeDownload = async () => {
    if (refreshed || readOnly) return;
    refreshed = true;
    if (opts.keyringFile || !origin.keyringUrl) return;
    try {
      await get(origin.keyringUrl, mirrorKeyringPath, false);
    } catch (err) {
      log(`could not refresh the maintainers' keyring (${errorMessage(err)}); using labctl's shipped keys`);
      await removePath(mirrorKeyringPath);
    }
    trust = await loadTrust();
  };

  const skipped: SkippedRelease[] = [];
  const installed = opts.installedVersion;
  for (const c of origin.candidates) {
    if (installed && !opts.allowDowngrade && compareVersions(c.version, installed) < 0) {
      const passed = skipped.length ? ` (newer releases skipped: ${skipped.map((s) => s.version).join(', ')})` : '';
      throw new LabError(
        `refusing to install Exim ${c.version}: it is older than the installed ${installed}${passed}`,
        'a source that offers only old releases may be replaying them; add --allow-downgrade if you mean it',
        EXIT.usage,
      );
    }
    const { tarballPath, ascPath: cachedAsc } = cachePaths(cacheDir, c);
    const ascCached = await exists(cachedAsc);
    // A dry run reads a signature the cache lacks from its scratch directory, never the cache.
    const ascPath = readOnly && !ascCached ? path.join(readOnly.scratchDir, path.basename(cachedAsc)) : cachedAsc;
    const discard = () => (readOnly ? Promise.resolve() : Promise.all([tarballPath, ascPath].map(removePath)));
    const ascName = isRemote(c.ascUrl) ? c.ascUrl : ascPath;
    try {
      if (!ascCached) {
        await beforeDownload();
        try {
          await get(c.ascUrl, ascPath, false);
        } catch (err) {
          throw new SignatureError('missing', `signature ${c.ascUrl} could not be fetched: ${errorMessage(err)}`, 'every release tarball must have its .asc beside it');
        }
      }
      if (c.expectedAsc) {
        const sha = await sha256File(ascPath);
        if (sha !== c.expectedAsc.sha256) {
          throw new SignatureError('digest', `${path.basename(ascPath)} does not match the SHA-256 in ${origin.label}'s signed index (got ${sha.slice(0, 16)}…, expected ${c.expectedAsc.sha256.slice(0, 16)}…)`);
        }
      }
      const ascBytes = await fs.readFile(ascPath), ascText = ascBytes.toString('utf8');
      const info = await inspectRelease(trust, ascText, ascName);
      if (info.created && info.created.getTime() > now.getTime()) {
        throw new SignatureError('future', `signature ${ascName} is dated ${info.created.toISOString()}, in the future`, "check this machine's clock; a release cannot have been signed in the future");
      }
      if (!info.known) {
        const who = info.signersUserId ? ` (${info.signersUserId})` : '';
        const todo = `--trust ${info.issuer} --keyring FILE`;
        if (opts.version) {
          throw new SignatureError('unknown-key', `Exim ${c.version} is signed by key ${info.issuer}${who}, which labctl does not pin`, `if you have checked that it is an Exim maintainer's key, add ${todo} (FILE holding that public key)`);
        }
        const line = `skipping Exim ${c.version}: signed by key ${info.issuer}${who}, which labctl does not pin; to install it after checking the key: ${todo}`;
        log(line);
        skipped.push({ version: c.version, issuer: info.issuer, signersUserId: info.signersUserId, line });
        // Not kept, unless the source's signed index vouches for it (checked above, and again
        // on every run against the index as last read): the next run asks the source again
        // rather than trusting this copy.
        if (!c.expectedAsc && !readOnly) await removePath(ascPath);
        continue;
      }
      const tarballCached = await exists(tarballPath);
      if (!tarballCached && readOnly) throw new NotInCache(c.version, c.tarballUrl, skipped);
      if (!tarballCached) {
        await beforeDownload();
        await get(c.tarballUrl, tarballPath, true);
      }
      // Read once, from one descriptor: the digest, the signature check and (through sha256)
      // the extraction all see these bytes, whatever happens to the path meanwhile.
      const tarballBytes = await readRegularFile(tarballPath);
      const tarballSha256 = createHash('sha256').update(tarballBytes).digest('hex');
      if (c.expected && tarballSha256 !== c.expected.sha256) {
        throw new SignatureError('digest', `${path.basename(tarballPath)} does not match the SHA-256 in ${origin.label}'s signed index (got ${tarballSha256.slice(0, 16)}…, expected ${c.expected.sha256.slice(0, 16)}…)`);
      }
      const { signature, gpgv, gpgvAgreement, gpgvReused, verifyMs } = await verifyTarball({ tarballPath, tarballBytes, tarballSha256, ascPath, ascText, ascBytes, ascName, trust, trusted: opts.trusted, now, log, gpgvAgreed: opts.gpgvAgreed });
      return {
        origin: origin.kind,
        originLabel: origin.label,
        version: c.version,
        format: c.format,
        tarballPath,
        sha256: tarballSha256,
        ascPath,
        tarballUrl: c.tarballUrl,
        ascUrl: c.ascUrl,
        keyringUrl: refreshed || (await exists(mirrorKeyringPath)) ? keyringUrl : undefined,
        cached: ascCached && tarballCached,
        notes: origin.notes,
        skipped,
        signature,
        ...(gpgv ? { gpgv } : {}),
        ...(gpgvAgreement ? { gpgvAgreement } : {}), ...(gpgvReused ? { gpgvReused } : {}),
        verifyMs,
        downloaded,
      };
    } catch (err) {
      await discard();
      if (err instanceof SignatureError && !readOnly) {
        const hint = [err.hint, `Exim ${c.version} from ${origin.label}: its cached tarball and .asc were deleted; nothing was built`].filter(Boolean).join('; ');
        throw new SignatureError(err.reason, err.message, hint);
      }
      throw err;
    }
  }
  const what = skipped.length ? `; skipped: ${skipped.map((s) => `${s.version} (key ${s.issuer})`).join(', ')}` : '';
  throw new LabError(`no release from ${origin.label} is signed by a key labctl trusts${what}`, skipped[0] ? `to install one anyway, check its key and add --trust ${skipped[0].issuer} --keyring FILE` : undefined);
}
