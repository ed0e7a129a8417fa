/**
 * The keys a release is checked against, and the checks that use them, as `labctl install` runs
 * them (src/source/fetch.ts) and bench/signature.mjs measures them. Where the keys are exactly the
 * shipped ones, their table (src/source/pinned-keys.ts) decides a plain good signature with
 * node:crypto (src/source/signature-fast.ts); OpenPGP.js merges the keyrings and checks
 * everything else, and words every refusal. OpenPGP.js is loaded only then: in a fresh process,
 * loading it costs more than the whole check.
 */
import type { GpgvKey } from './gpgv.js';
import { pinnedTable, pinnedTrust, type PinnedTrust } from './pinned-keys.js';
import type { SignatureRecord } from './signature-error.js';
import { inspectPinned, verifyPinned } from './signature-fast.js';
import type { VerifyOptions } from './signature.js';
import type { SignatureInfo, TrustedKeys } from './trust.js';

export interface ReleaseKeys {
  /** Set when the shipped table stands for every trusted key. */
  pinned?: PinnedTrust;
  /** OpenPGP.js's merge of the shipped keys with the extra keyring (made once, when first asked). */
  full: () => Promise<TrustedKeys>;
}

export async function releaseKeys(opts: { shipped: string; extra?: { text: string; name: string }; trusted: readonly string[]; now?: Date }): Promise<ReleaseKeys> {
  let merged: Promise<TrustedKeys> | undefined;
  const full = () => (merged ??= import('./trust.js').then(({ trustedKeys }) => trustedKeys(opts)));
  const pinned = pinnedTrust({ table: pinnedTable(), shipped: opts.shipped, extra: opts.extra, trusted: opts.trusted });
  // Without the table the merge runs now, as it always did: a bad keyring stops the run here.
  if (!pinned) await full();
  return { ...(pinned ? { pinned } : {}), full };
}

/** Who made a signature, read without verifying it (src/source/trust.ts inspectSignature). */
export async function inspectRelease(keys: ReleaseKeys, armored: string, name: string): Promise<SignatureInfo> {
  const plain = keys.pinned && inspectPinned(armored, keys.pinned.keys);
  if (plain) return plain;
  const { inspectSignature } = await import('./trust.js');
  return inspectSignature(armored, (await keys.full()).keys, name);
}

/** The signature check (src/source/signature.ts verifySignature), by the table where it can decide. */
export async function verifyRelease(keys: ReleaseKeys, opts: Omit<VerifyOptions, 'keyringArmored' | 'data' | 'signatureArmored'> & { data: Uint8Array | string; signatureArmored: string }): Promise<SignatureRecord> {
  const plain = keys.pinned && (await verifyPinned({ data: opts.data, signatureArmored: opts.signatureArmored, keys: keys.pinned.keys, trusted: opts.trusted, now: opts.now }));
  if (plain) return plain;
  const { verifySignature } = await import('./signature.js');
  return verifySignature({ ...opts, keyringArmored: (await keys.full()).armored });
}

/** The same keys for gpgv's keyring: the shipped bytes, or OpenPGP.js's keys. */
export async function gpgvKeys(keys: ReleaseKeys): Promise<readonly GpgvKey[]> {
  if (keys.pinned) return keys.pinned.keys.map((k) => ({ fingerprint: k.fingerprints[0], bytes: Buffer.from(k.bytes, 'base64') }));
  return (await keys.full()).keys;
}
