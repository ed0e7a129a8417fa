/**
 * The verdict on one downloaded tarball, from two verifiers with the same pinned keys: labctl's
 * own check (./release-keys.ts: node:crypto on the pinned keys, OpenPGP.js for the rest) and gpgv
 * (./gpgv.ts) as a second, independent opinion. A bad signature's error says what gpgv thinks of
 * it too; a good one counts only when gpgv agrees on the signer (or gpgv is not installed, which
 * is logged).
 */
import path from 'node:path';
import { describeGpgv, runGpgv, type GpgvRecord } from './gpgv.js';
import { gpgvKeys, verifyRelease, type ReleaseKeys } from './release-keys.js';
import { SignatureError, type SignatureRecord } from './signature-error.js';
import { testHookSet } from '../system/test-hooks.js';

export interface TarballToVerify {
  tarballPath: string;
  /** The tarball as read once (and extracted from these same bytes). */
  tarballBytes: Uint8Array;
  ascPath: string;
  /** The .asc's armored text, already read (and its digest checked where an index lists it). */
  ascText: string;
  /** The name the .asc is shown by (its URL, or the cached path). */
  ascName: string;
  trust: ReleaseKeys;
  trusted: readonly string[];
  now: Date;
  log: (line: string) => void;
}

export async function verifyTarball(t: TarballToVerify): Promise<{ signature: SignatureRecord; gpgv?: GpgvRecord; verifyMs: number }> {
  const started = performance.now();
  const tarballName = path.basename(t.tarballPath);
  // gpgv, with the same keys: a second, independent verdict. Tests leave the signer out of
  // gpgv's keyring (LABCTL_TEST_HOOK=gpgv-without-signer) to make the two disagree.
  const keysForGpgv = await gpgvKeys(t.trust);
  const secondOpinion = (signer?: string) =>
    runGpgv({ tarballPath: t.tarballPath, ascPath: t.ascPath, keys: keysForGpgv, leaveOut: signer && testHookSet('gpgv-without-signer') ? [signer] : undefined });
  let signature: SignatureRecord;
  try {
    signature = await verifyRelease(t.trust, {
      data: t.tarballBytes,
      signatureArmored: t.ascText,
      trusted: t.trusted,
      now: t.now,
      names: { data: tarballName, signature: t.ascName, keyring: "labctl's pinned keys" },
    });
  } catch (err) {
    // A tarball that does not match its signature: say what gpgv thinks of it too.
    if (err instanceof SignatureError && (err.reason === 'digest' || err.reason === 'invalid')) {
      const g = await secondOpinion();
      if (g) throw new SignatureError(err.reason, `${err.message}; ${g.verdict === 'bad' ? describeGpgv(g) : `yet ${describeGpgv(g)}`}`, err.hint);
    }
    throw err;
  }
  const verifyMs = performance.now() - started;
  const gpgv = await secondOpinion(signature.primaryFingerprint);
  if (!gpgv) t.log('gpgv is not installed: only OpenPGP.js checked the signature');
  else if (gpgv.verdict !== 'good' || gpgv.primaryFingerprint !== signature.primaryFingerprint) {
    throw new SignatureError(
      'disagree',
      `OpenPGP.js and gpgv disagree on ${tarballName}: OpenPGP.js found a good signature by ${signature.primaryFingerprint}, ${describeGpgv(gpgv)}`,
      'labctl installs only what both verifiers accept with its pinned keys',
    );
  }
  return { signature, ...(gpgv ? { gpgv } : {}), verifyMs };
}
