/**
 * The trust anchor: Exim maintainers' primary key fingerprints, pinned in labctl the way
 * distribution packagers pin them (Arch's PKGBUILD validpgpkeys, Debian's signing-key.asc).
 * A release must be signed by one of these keys (or a subkey of one), or by a key the user
 * names with `--trust FPR`, even when the keyring from the mirror holds others.
 */
import { usageError } from '../errors.js';

export interface PinnedKey {
  fingerprint: string;
  name: string;
  note?: string;
}

export const PINNED_KEYS: readonly PinnedKey[] = [
  { fingerprint: 'A986F3A6BD6377D8730958DEBCE58C8CE41F32DF', name: 'Jeremy Harris', note: 'signed 4.96' },
  { fingerprint: 'ACBB4324393ADE3515DA2DDA4D1E900E14C1CC04', name: 'Phil Pennock' },
  // Packagers also list this subkey of Phil Pennock's key by its own fingerprint.
  { fingerprint: 'C693A034E1ED6EE954CAE2DA13DAD99C7E41519C', name: 'Phil Pennock', note: 'subkey' },
  { fingerprint: 'D0BFD6B9ECA5694A6F149DCEAF4CC676A6B6C142', name: 'Heiko Schlittermann', note: 'current key' },
  { fingerprint: 'E5CA331D44AB8E4C806FDBEE26101B62F69376CE', name: 'Heiko Schlittermann', note: 'older key' },
];

export const PINNED_FINGERPRINTS: readonly string[] = PINNED_KEYS.map((k) => k.fingerprint);

/** Upper case, no spaces or colons, no `0x`: the form fingerprints are compared in. */
export function normalizeFingerprint(fpr: string): string {
  return fpr.replace(/^0x/i, '').replace(/[\s:]/g, '').toUpperCase();
}

/** Validates a `--trust` value: a full v4 (40 hex digits) or v6 (64 hex digits) fingerprint. */
export function parseTrustedFingerprint(value: string): string {
  const fpr = normalizeFingerprint(value);
  if (!/^([0-9A-F]{40}|[0-9A-F]{64})$/.test(fpr)) {
    throw usageError(
      `--trust ${value}: not a key fingerprint`,
      'give the full fingerprint (40 hex digits, spaces allowed), e.g. as printed by a refused signature',
    );
  }
  return fpr;
}

/** The pinned fingerprints plus those given with `--trust`, normalized and without duplicates. */
export function trustedFingerprints(extra: readonly string[] = []): string[] {
  return [...new Set([...PINNED_FINGERPRINTS, ...extra.map(parseTrustedFingerprint)])];
}
