/**
 * The verdict on one downloaded tarball, from two verifiers with the same pinned keys: labctl's
 * own check (./release-keys.ts: node:crypto on the pinned keys, OpenPGP.js for the rest) and gpgv
 * (./gpgv.ts) as a second, independent opinion. A bad signature's error says what gpgv thinks of
 * it too; a good one counts only when gpgv agrees on the signer (or gpgv is not installed, which
 * is logged). A verdict gpgv gave before on exactly these inputs (./gpgv-agreement.ts) stands
 * for running it again.
 */
import path from 'node:path';
import { describeGpgv, findGpgv, gpgvKeyring, runGpgv, type GpgvRecord } from './gpgv.js';
import { gpgvAgreed, sha256Hex, type GpgvAgreement, type GpgvInputs } from './gpgv-agreement.js';
import { gpgvKeys, verifyRelease, type ReleaseKeys } from './release-check.js';
import { SignatureError, type SignatureRecord } from './signature-error.js';
import { testHookSet } from '../system/test-hooks.js';

export interface TarballToVerify {
  tarballPath: string;
  /** The tarball as read once (and extracted from these same bytes). */
  tarballBytes: Uint8Array;
  /** Its SHA-256 (hex), as computed from those bytes. */
  tarballSha256: string;
  ascPath: string;
  /** The .asc's armored text, already read (and its digest checked where an index lists it). */
  ascText: string;
  /** The .asc's bytes that text was decoded from. */
  ascBytes: Uint8Array;
  /** The name the .asc is shown by (its URL, or the cached path). */
  ascName: string;
  trust: ReleaseKeys;
  trusted: readonly string[];
  now: Date;
  log: (line: string) => void;
  /** What gpgv agreed to before (install.json): reused when this run's inputs are exactly those. */
  gpgvAgreed?: GpgvAgreement;
}

export interface TarballVerdict {
  signature: SignatureRecord;
  /** gpgv's transcript: this run's, or the kept one when `gpgvReused`. */
  gpgv?: GpgvRecord;
  /** What gpgv agreed to, to keep for the next run (undefined where gpgv is not installed). */
  gpgvAgreement?: GpgvAgreement;
  /** True when gpgv did not run: its verdict on exactly these inputs was kept. */
  gpgvReused?: boolean;
  verifyMs: number;
}

export async function verifyTarball(t: TarballToVerify): Promise<TarballVerdict> {
  const started = performance.now();
  const tarballName = path.basename(t.tarballPath);
  // gpgv, with the same keys: a second, independent verdict. Tests leave the signer out of
  // gpgv's keyring (LABCTL_TEST_HOOK=gpgv-without-signer) to make the two disagree.
  const keysForGpgv = await gpgvKeys(t.trust);
  const program = await findGpgv();
  const leaveOut = (signer?: string) => (signer && testHookSet('gpgv-without-signer') ? [signer] : undefined);
  const secondOpinion = (signer?: string) =>
    program ? runGpgv({ gpgv: program.file, tarballPath: t.tarballPath, ascPath: t.ascPath, keys: keysForGpgv, leaveOut: leaveOut(signer) }) : Promise.resolve(undefined);
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
  if (!program) {
    t.log('gpgv is not installed: only OpenPGP.js checked the signature');
    return { signature, verifyMs };
  }
  const inputs: GpgvInputs = {
    tarballSha256: t.tarballSha256,
    ascSha256: sha256Hex(t.ascBytes),
    keyringSha256: sha256Hex(gpgvKeyring(keysForGpgv, leaveOut(signature.primaryFingerprint))),
    gpgv: program.identity,
  };
  if (gpgvAgreed(t.gpgvAgreed, { ...inputs, primaryFingerprint: signature.primaryFingerprint })) {
    return { signature, gpgv: t.gpgvAgreed!.record, gpgvAgreement: t.gpgvAgreed, gpgvReused: true, verifyMs };
  }
  const gpgv = (await secondOpinion(signature.primaryFingerprint))!;
  if (gpgv.verdict !== 'good' || gpgv.primaryFingerprint !== signature.primaryFingerprint) {
    throw new SignatureError(
      'disagree',
      `OpenPGP.js and gpgv disagree on ${tarballName}: OpenPGP.js found a good signature by ${signature.primaryFingerprint}, ${describeGpgv(gpgv)}`,
      'labctl installs only what both verifiers accept with its pinned keys',
    );
  }
  return { signature, gpgv, gpgvAgreement: { ...inputs, primaryFingerprint: signature.primaryFingerprint, at: new Date().toISOString(), record: gpgv }, verifyMs };
}
