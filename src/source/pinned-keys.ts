/**
 * The pinned keys in the form that is fastest to load: pinned-keys.json, made from
 * exim-maintainers.asc by OpenPGP.js ahead of time (src/source/pinned-keys-build.ts, `node
 * scripts/pinned-keys.mjs`; a unit test fails when the two drift apart). It holds, per key, its
 * fingerprints, its packets' digests and bytes, and for each key that may sign a release the
 * public key for node:crypto and the span of signature dates over which OpenPGP.js finds that key
 * valid, with the name OpenPGP.js would report. src/source/signature-fast.ts checks a release's
 * signature with it without loading OpenPGP.js.
 *
 * The table stands for the shipped keys only. It is used when the keys a run trusts are exactly
 * those: the shipped file is the one it was made from, and the mirror's keyring (or --keyring)
 * holds only shipped keys and adds no packet to them (no new subkey, self-signature or revocation). Otherwise the
 * caller merges the keyrings with OpenPGP.js as before (src/source/trust.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { splitKeys } from './keyring.js';
import { dearmor } from './packets.js';
import { normalizeFingerprint } from './pinned.js';

export interface PinnedSigner {
  /** The signing key's fingerprint (the primary's or a subkey's). */
  fingerprint: string;
  algorithm: 'rsa' | 'ed25519';
  /** Its OpenPGP public-key algorithm ID (1 or 3: RSA, 22: legacy EdDSA). */
  publicKeyAlgorithm: number;
  /** Its public key, as node:crypto imports it. */
  jwk: { kty: string; n?: string; e?: string; crv?: string; x?: string };
  /**
   * Unix seconds: a signature created at or after validFrom and before validUntil (null: no end)
   * was made while OpenPGP.js holds this key valid for signing (every self-signature of the key
   * is older, none expired, nothing revoked).
   */
  validFrom: number;
  validUntil: number | null;
}

export interface PinnedKeyEntry {
  /** The primary key's fingerprint, then its subkeys'. */
  fingerprints: string[];
  /** The primary user ID OpenPGP.js reports for a signature made in the signers' span. */
  signer: string;
  /** SHA-256 of each packet of the key as shipped. */
  packetDigests: string[];
  /** The transferable key, base64 (gpgv's keyring). */
  bytes: string;
  /** The keys that may sign a release; a key with any revocation has none. */
  signers: PinnedSigner[];
}

export interface PinnedTable {
  /** SHA-256 of the armored keyring the table was made from. */
  keyring: string;
  keys: PinnedKeyEntry[];
}

const SHIPPED_FILE = new URL('../../src/source/exim-maintainers.asc', import.meta.url);
const TABLE_FILE = new URL('../../src/source/pinned-keys.json', import.meta.url);

/** The armored keys labctl ships (read once). */
export function shippedKeyring(): string {
  return readFileSync(SHIPPED_FILE, 'utf8');
}

/** The table made from the shipped keys. */
export function pinnedTable(): PinnedTable {
  return JSON.parse(readFileSync(TABLE_FILE, 'utf8')) as PinnedTable;
}

export const keyringDigest = (armored: string) => createHash('sha256').update(armored).digest('hex');

/** The trusted keys when the table stands for all of them (see the file comment). */
export interface PinnedTrust {
  keys: PinnedKeyEntry[];
}

export function pinnedTrust(opts: { table: PinnedTable; shipped: string; extra?: { text: string }; trusted: readonly string[] }): PinnedTrust | undefined {
  if (keyringDigest(opts.shipped) !== opts.table.keyring) return undefined;
  const trusted = new Set(opts.trusted.map(normalizeFingerprint));
  const isTrusted = (fingerprints: readonly string[]) => fingerprints.some((f) => trusted.has(f));
  // The mirror's keyring is most often the shipped file itself: then it adds nothing.
  if (opts.extra && keyringDigest(opts.extra.text) !== opts.table.keyring) {
    try {
      const blocks = dearmor(opts.extra.text, 'PGP PUBLIC KEY BLOCK');
      if (!blocks.length) return undefined;
      // Every key of it, trusted or not, must be a shipped one: OpenPGP.js read those when the
      // table was made, so the merge could neither fail on them nor add anything.
      for (const key of blocks.flatMap(splitKeys)) {
        const shipped = opts.table.keys.find((k) => k.fingerprints[0] === key.fingerprints[0]);
        if (!shipped) return undefined;
        const known = new Set(shipped.packetDigests);
        if (!key.packetDigests.every((d) => known.has(d))) return undefined;
      }
    } catch {
      return undefined;
    }
  }
  return { keys: opts.table.keys.filter((k) => isTrusted(k.fingerprints)) };
}
