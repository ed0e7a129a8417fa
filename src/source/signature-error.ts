/**
 * What a signature check returns or throws, apart from the checks themselves, so that code which
 * only names them does not load OpenPGP.js (src/source/signature.ts, src/source/signature-fast.ts).
 */
import { LabError } from '../errors.js';

export interface SignatureRecord {
  /** The signing key's primary user ID, e.g. `Jeremy Harris <jgh@exim.org>`. */
  signer: string;
  primaryFingerprint: string;
  /** Equal to primaryFingerprint unless a subkey made the signature. */
  signingKeyFingerprint: string;
  bySubkey: boolean;
  /** Signature creation time, ISO 8601. */
  created: string;
  /** Which trusted fingerprint matched (the primary's, or a pinned subkey's). */
  trustedAs: string;
  /** Primary fingerprints of every key in the keyring, for the record. */
  keyringFingerprints: string[];
}

/** Why a signature was refused; lets callers react (e.g. refresh a stale keyring) and tests assert. */
export type SignatureFailure =
  | 'missing'
  | 'garbled'
  | 'keyring'
  | 'future'
  | 'unknown-key'
  | 'unpinned'
  | 'revoked'
  | 'digest'
  | 'invalid'
  /** OpenPGP.js and gpgv (src/source/gpgv.ts) gave different verdicts. */
  | 'disagree';

export class SignatureError extends LabError {
  constructor(
    readonly reason: SignatureFailure,
    message: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}
