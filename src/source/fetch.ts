/**
 * The one entry point `labctl install` uses to get Exim's source: pick the release on the
 * mirror, reuse or download the tarball, its .asc and the maintainers' keyring into the cache,
 * and verify the signature. A tarball is only ever returned verified; on any signature failure
 * the cached tarball and .asc are deleted so a bad download is never reused.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LabError, errorMessage } from '../errors.js';
import { exists } from '../system/files.js';
import { download, isRemote, type DownloadOptions } from './download.js';
import { discoverRelease, parseMirror, KEYRING_NAME, type Release } from './mirror.js';
import { progressBar } from './progress.js';
import { SignatureError, verifySignature, type SignatureRecord } from './signature.js';
import { tarballName, type TarballFormat } from './versions.js';

export interface SourceOptions {
  mirror: string;
  /** Default: the newest release the mirror lists. */
  version?: string;
  cacheDir: string;
  /** --keyring FILE; default: the mirror's keyring, cached. */
  keyringFile?: string;
  /** Pinned fingerprints plus --trust ones. */
  trusted: readonly string[];
  /** Show a progress bar (on stderr, only when it is a terminal). */
  progress?: boolean;
  log?: (line: string) => void;
  timeoutMs?: number;
  /** The current time for signature checks (tests). */
  now?: Date;
}

/** Where the release is (as discovered on the mirror) and where its files go in the cache. */
export interface SourcePlan extends Omit<Release, 'listings' | 'keyringUrl'> {
  mirror: string;
  /** The mirror's keyring, or the --keyring file. */
  keyringUrl: string;
  tarballPath: string;
  ascPath: string;
  keyringPath: string;
  /** Which of the files are already in the cache (they are still verified before use). */
  inCache: { tarball: boolean; asc: boolean; keyring: boolean };
  listings: { location: string; releases: number; error?: string }[];
}

export interface FetchedSource {
  version: string;
  format: TarballFormat;
  tarballPath: string;
  ascPath: string;
  keyringPath: string;
  tarballUrl: string;
  ascUrl: string;
  keyringUrl: string;
  /** True when the tarball and .asc were reused from the cache, nothing downloaded. */
  cached: boolean;
  fallbackNote?: string;
  signature: SignatureRecord;
  verifyMs: number;
  /** What was downloaded this time (URLs), for the step's evidence. */
  downloaded: string[];
}

/**
 * What fetchVerifiedSource would do, without downloading or writing anything (it does read
 * the mirror's directory listings). For --dry-run.
 */
export async function planSource(opts: Omit<SourceOptions, 'trusted'> & { trusted?: readonly string[] }): Promise<SourcePlan> {
  const mirror = parseMirror(opts.mirror);
  const rel = await discoverRelease(mirror, { version: opts.version, timeoutMs: opts.timeoutMs });
  const cacheDir = path.resolve(opts.cacheDir);
  const tarballPath = path.join(cacheDir, tarballName(rel.version, rel.format));
  const ascPath = `${tarballPath}.asc`;
  const keyringPath = opts.keyringFile ? path.resolve(opts.keyringFile) : path.join(cacheDir, KEYRING_NAME);
  const [tarball, asc, keyring] = await Promise.all([exists(tarballPath), exists(ascPath), exists(keyringPath)]);
  return {
    mirror: mirror.base,
    version: rel.version,
    format: rel.format,
    dir: rel.dir,
    tarballUrl: rel.tarballUrl,
    ascUrl: rel.ascUrl,
    keyringUrl: opts.keyringFile ? keyringPath : rel.keyringUrl,
    tarballPath,
    ascPath,
    keyringPath,
    fallbackNote: rel.fallbackNote,
    inCache: { tarball, asc, keyring },
    listings: rel.listings.map((l) => ({ location: l.location, releases: l.tarballs.length, error: l.error })),
  };
}

/** Downloads, or reuses from the cache, a release whose signature verifies; see the file comment. */
export async function fetchVerifiedSource(opts: SourceOptions): Promise<FetchedSource> {
  const log = opts.log ?? (() => {});
  const plan = await planSource(opts);
  if (plan.fallbackNote) log(plan.fallbackNote);
  await fs.mkdir(path.dirname(plan.tarballPath), { recursive: true });

  const downloaded: string[] = [];
  const get = async (url: string, dest: string, withBar: boolean) => {
    log(`downloading ${url}`);
    const bar = withBar && opts.progress ? progressBar(path.basename(dest)) : undefined;
    const dl: DownloadOptions = { timeoutMs: opts.timeoutMs, onProgress: bar?.onProgress };
    try {
      await download(url, dest, dl);
    } finally {
      bar?.stop();
    }
    downloaded.push(url);
  };

  const mirrorKeyring = !opts.keyringFile;
  if (!mirrorKeyring && !plan.inCache.keyring) {
    throw new LabError(`keyring ${plan.keyringPath} does not exist`, 'check --keyring FILE');
  }
  let keyringFresh = false;
  if (mirrorKeyring && !plan.inCache.keyring) {
    await get(plan.keyringUrl, plan.keyringPath, false);
    keyringFresh = true;
  }

  const cached = plan.inCache.tarball && plan.inCache.asc;
  if (cached) log(`using cached ${plan.tarballPath} (verifying its signature again)`);

  const discard = async () => {
    await Promise.all([plan.tarballPath, plan.ascPath].map((p) => fs.rm(p, { force: true })));
    if (mirrorKeyring) await fs.rm(plan.keyringPath, { force: true });
  };

  try {
    if (!plan.inCache.asc) {
      try {
        await get(plan.ascUrl, plan.ascPath, false);
      } catch (err) {
        throw new SignatureError('missing', `signature ${plan.ascUrl} could not be fetched: ${errorMessage(err)}`, 'every release tarball must have its .asc beside it on the mirror');
      }
    }
    if (!plan.inCache.tarball) await get(plan.tarballUrl, plan.tarballPath, true);
  } catch (err) {
    // A tarball without a usable signature is not kept; a signature without its tarball is harmless.
    if (err instanceof SignatureError) await discard();
    throw err;
  }

  const verifyOnce = async () => {
    const started = performance.now();
    const signature = await verifySignature({
      data: plan.tarballPath,
      signatureArmored: await fs.readFile(plan.ascPath, 'utf8'),
      keyringArmored: await fs.readFile(plan.keyringPath, 'utf8'),
      trusted: opts.trusted,
      now: opts.now,
      names: {
        data: path.basename(plan.tarballPath),
        signature: isRemote(plan.ascUrl) ? plan.ascUrl : plan.ascPath,
        keyring: plan.keyringPath,
      },
    });
    return { signature, verifyMs: performance.now() - started };
  };

  let verified: Awaited<ReturnType<typeof verifyOnce>>;
  try {
    try {
      verified = await verifyOnce();
    } catch (err) {
      // A cached keyring may predate a new maintainer key: fetch it once more and retry.
      if (!(err instanceof SignatureError && err.reason === 'unknown-key' && mirrorKeyring && !keyringFresh)) throw err;
      log(`signing key not in the cached keyring; fetching ${plan.keyringUrl} again`);
      await get(plan.keyringUrl, plan.keyringPath, false);
      verified = await verifyOnce();
    }
  } catch (err) {
    await discard();
    if (err instanceof LabError) {
      const hint = [err.hint, cached ? 'the cached tarball and .asc were deleted; the next run downloads them again' : 'the downloaded tarball and .asc were deleted']
        .filter(Boolean)
        .join('; ');
      throw new SignatureError(err instanceof SignatureError ? err.reason : 'invalid', err.message, hint);
    }
    throw err;
  }

  return {
    version: plan.version,
    format: plan.format,
    tarballPath: plan.tarballPath,
    ascPath: plan.ascPath,
    keyringPath: plan.keyringPath,
    tarballUrl: plan.tarballUrl,
    ascUrl: plan.ascUrl,
    keyringUrl: plan.keyringUrl,
    cached,
    fallbackNote: plan.fallbackNote,
    signature: verified.signature,
    verifyMs: verified.verifyMs,
    downloaded,
  };
}
