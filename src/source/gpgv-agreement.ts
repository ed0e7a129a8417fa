/**
 * gpgv's second opinion, kept: install.json records what gpgv agreed to (the digests of the
 * tarball and the .asc it read, of the keyring it was given, and which gpgv it was), with its
 * transcript. A later run whose release, signature, keys and gpgv are exactly those reuses that
 * verdict instead of running gpgv again; labctl's own check (src/source/release-keys.ts) still
 * runs on every run, so a key that expired since is still refused. Any change (a tarball or .asc
 * that differs by one byte, a key added, left out or revoked, another gpgv) runs gpgv again.
 */
import { createHash } from 'node:crypto';
import type { GpgvRecord } from './gpgv.js';

/** What gpgv was run on: the inputs whose digests decide whether its verdict still holds. */
export interface GpgvInputs {
  /** SHA-256 of the tarball bytes. */
  tarballSha256: string;
  /** SHA-256 of the .asc bytes. */
  ascSha256: string;
  /** SHA-256 of the binary keyring gpgv was given (exactly the keys, in order). */
  keyringSha256: string;
  /** Which gpgv: its path, size and modification time. */
  gpgv: string;
}

/** gpgv's good verdict on those inputs, as install.json keeps it. */
export interface GpgvAgreement extends GpgvInputs {
  /** The signer's primary fingerprint, on which gpgv and labctl's check agreed. */
  primaryFingerprint: string;
  /** When gpgv ran (ISO 8601). */
  at: string;
  /** gpgv's transcript from that run, for the signature step's evidence. */
  record: GpgvRecord;
}

export const sha256Hex = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/**
 * Whether a kept agreement stands for a gpgv run now: gpgv said good, for this signer, on exactly
 * these inputs. Anything missing or different means gpgv runs again.
 */
export function gpgvAgreed(kept: GpgvAgreement | undefined, now: GpgvInputs & { primaryFingerprint: string }): boolean {
  if (!kept || kept.record?.verdict !== 'good') return false;
  if (kept.record.primaryFingerprint !== kept.primaryFingerprint || kept.primaryFingerprint !== now.primaryFingerprint) return false;
  return kept.tarballSha256 === now.tarballSha256 && kept.ascSha256 === now.ascSha256 && kept.keyringSha256 === now.keyringSha256 && kept.gpgv === now.gpgv;
}

/** Whether two agreements are about the same inputs (install.json needs no new record then). */
export const sameAgreement = (a: GpgvAgreement | undefined, b: GpgvAgreement | undefined) =>
  !!a && !!b && a.primaryFingerprint === b.primaryFingerprint && a.tarballSha256 === b.tarballSha256 && a.ascSha256 === b.ascSha256 && a.keyringSha256 === b.keyringSha256 && a.gpgv === b.gpgv;
