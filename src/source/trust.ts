/**
 * The keys a release signature is checked against. labctl ships the public keys of its pinned
 * maintainer fingerprints (exim-maintainers.asc, exported from Debian's
 * debian/upstream/signing-key.asc), so a mirror cannot take a key away or strip its revocation.
 * A mirror's keyring (or --keyring FILE) contributes only keys whose fingerprint is pinned or
 * given with --trust: it may add a subkey or a newer self-signature to a shipped key, never
 * remove anything from it, and every other key in it is ignored.
 */
// OpenPGP.js is loaded by the first function that needs it, not when a command is parsed.
import type * as openpgp from 'openpgp';
import { errorMessage } from '../errors.js';
import { normalizeFingerprint } from './pinned.js';
import { SignatureError } from './signature-error.js';

export { shippedKeyring } from './pinned-keys.js';

export interface TrustedKeys {
  keys: openpgp.PublicKey[];
  /** All keys, armored, as verifySignature takes them. */
  armored: string;
  /** Primary fingerprints of keys in the extra keyring that were ignored (neither pinned nor trusted). */
  ignored: string[];
}

const fingerprintsOf = (k: openpgp.Key) => [k.getFingerprint(), ...k.getSubkeys().map((s) => s.getFingerprint())].map((f) => f.toUpperCase());

async function readArmoredKeys(text: string, name: string): Promise<openpgp.PublicKey[]> {
  const blocks = text.match(/-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g) ?? [];
  if (!blocks.length) throw new SignatureError('keyring', `keyring ${name} holds no armored public key block`);
  const openpgp = await import('openpgp');
  try {
    return (await Promise.all(blocks.map((armoredKeys) => openpgp.readKeys({ armoredKeys })))).flat() as openpgp.PublicKey[];
  } catch (err) {
    throw new SignatureError('keyring', `keyring ${name} is not a valid OpenPGP keyring (${errorMessage(err).split('\n')[0]})`);
  }
}

/**
 * Merges the shipped keys with the trusted keys of an extra keyring. `trusted` is the pinned
 * fingerprints plus --trust ones; a key counts when its primary key or one of its subkeys is
 * trusted.
 */
export async function trustedKeys(opts: { shipped: string; extra?: { text: string; name: string }; trusted: readonly string[]; now?: Date }): Promise<TrustedKeys> {
  const trusted = new Set(opts.trusted.map(normalizeFingerprint));
  const isTrusted = (k: openpgp.Key) => fingerprintsOf(k).some((f) => trusted.has(f));
  const keys = (await readArmoredKeys(opts.shipped, 'shipped with labctl')).filter(isTrusted);
  const ignored: string[] = [];
  for (const extra of opts.extra ? await readArmoredKeys(opts.extra.text, opts.extra.name) : []) {
    if (!isTrusted(extra)) {
      ignored.push(extra.getFingerprint().toUpperCase());
      continue;
    }
    const i = keys.findIndex((k) => k.getFingerprint() === extra.getFingerprint());
    if (i < 0) keys.push(extra);
    // update() only adds: subkeys, user IDs and signatures (revocations included) the shipped key lacks.
    else keys[i] = (await keys[i].update(extra, opts.now)) as openpgp.PublicKey;
  }
  return { keys, armored: keys.map((k) => k.armor()).join('\n'), ignored };
}

/** Who made a detached signature, read without verifying it (to skip a release before downloading it). */
export interface SignatureInfo {
  /** Issuer fingerprint when the signature carries one, else the 16-hex-digit key ID. */
  issuer: string;
  signersUserId?: string;
  created?: Date;
  /** True when one of `keys` (primary or subkey) issued it. */
  known: boolean;
}

export async function inspectSignature(armored: string, keys: readonly openpgp.Key[], name: string): Promise<SignatureInfo> {
  if (!armored.trim()) throw new SignatureError('missing', `signature ${name} is missing or empty`, 'every release tarball must have its .asc beside it');
  const openpgp = await import('openpgp');
  let sig: openpgp.Signature;
  try {
    sig = await openpgp.readSignature({ armoredSignature: armored });
  } catch (err) {
    throw new SignatureError('garbled', `signature ${name} is not a valid armored OpenPGP signature (${errorMessage(err).split('\n')[0]})`);
  }
  const packet = sig.packets[0];
  if (!packet) throw new SignatureError('garbled', `signature ${name} holds no signature packet`);
  const issuer = packet.issuerFingerprint
    ? Buffer.from(packet.issuerFingerprint).toString('hex').toUpperCase()
    : packet.issuerKeyID.toHex().toUpperCase();
  const known = sig.packets.some((p) => keys.some((k) => k.getKeys(p.issuerKeyID).length > 0));
  return { issuer, signersUserId: packet.signersUserID ?? undefined, created: packet.created ?? undefined, known };
}
