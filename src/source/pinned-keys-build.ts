/**
 * Makes pinned-keys.json (src/source/pinned-keys.ts) from an armored keyring with OpenPGP.js:
 * `node scripts/pinned-keys.mjs` after `npm run build`. Run when exim-maintainers.asc changes; a
 * unit test compares the committed table with a fresh one.
 *
 * A key may sign in the table only where its validity cannot depend on the signature's date
 * inside its span: the span starts at the newest of the key's self-signatures (so OpenPGP.js
 * sees the same self-signatures for any date in it) and ends where the key or a self-signature
 * expires; a key or subkey with any revocation signature is left out, and so is an algorithm
 * node:crypto is not given here (RSA and legacy EdDSA on Ed25519 are). OpenPGP.js is then asked
 * whether it finds the key valid for signing, and the signer's name, at both ends of the span;
 * a key it refuses at either end is left out. What is left out is checked by OpenPGP.js at run
 * time, as before.
 */
import * as openpgp from 'openpgp';
import { dearmor } from './packets.js';
import { splitKeys } from './keyring.js';
import { keyringDigest, type PinnedKeyEntry, type PinnedSigner, type PinnedTable } from './pinned-keys.js';

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const b64url = (u: Uint8Array) => Buffer.from(u).toString('base64url');

/** Legacy EdDSA's curve OID 1.3.6.1.4.1.11591.15.1, as OpenPGP writes it (RFC 4880bis 9.2). */
const ED25519_OID = '2b06010401da470f01';

function jwkOf(packet: openpgp.PublicKeyPacket | openpgp.PublicSubkeyPacket): Pick<PinnedSigner, 'algorithm' | 'publicKeyAlgorithm' | 'jwk'> | undefined {
  const params = packet.publicParams as Record<string, unknown>;
  const algorithm = packet.algorithm as unknown as number;
  if (algorithm === openpgp.enums.publicKey.rsaEncryptSign || algorithm === openpgp.enums.publicKey.rsaSign) {
    const { n, e } = params as { n: Uint8Array; e: Uint8Array };
    return { algorithm: 'rsa', publicKeyAlgorithm: algorithm, jwk: { kty: 'RSA', n: b64url(n), e: b64url(e) } };
  }
  if (algorithm === openpgp.enums.publicKey.eddsaLegacy) {
    const { oid, Q } = params as { oid: { write(): Uint8Array }; Q: Uint8Array };
    // The OID's encoding starts with its length byte.
    if (Buffer.from(oid.write()).subarray(1).toString('hex') !== ED25519_OID || Q.length !== 33 || Q[0] !== 0x40) return undefined;
    return { algorithm: 'ed25519', publicKeyAlgorithm: algorithm, jwk: { kty: 'OKP', crv: 'Ed25519', x: b64url(Q.subarray(1)) } };
  }
  return undefined;
}

/** Every signature the primary key made on itself, its user IDs and its subkeys. */
function selfSignatures(key: openpgp.PublicKey): openpgp.SignaturePacket[] {
  const own = key.getKeyID();
  const direct = (key as unknown as { directSignatures?: openpgp.SignaturePacket[] }).directSignatures ?? [];
  const all = [
    ...direct,
    ...key.users.flatMap((u) => [...u.selfCertifications, ...u.revocationSignatures]),
    ...key.subkeys.flatMap((s) => [...s.bindingSignatures, ...s.bindingSignatures.map((b) => b.embeddedSignature).filter((e): e is openpgp.SignaturePacket => !!e)]),
  ];
  return all.filter((s) => s.issuerKeyID.equals(own) || key.subkeys.some((sub) => s.issuerKeyID.equals(sub.getKeyID())));
}

const expiryOf = (t: Date | number | null) => (t === null || t === Infinity ? null : seconds(t as Date));
const earliest = (...ts: (number | null)[]) => ts.reduce<number | null>((a, b) => (a === null ? b : b === null ? a : Math.min(a, b)), null);

async function nameAt(key: openpgp.PublicKey, at: Date): Promise<string | undefined> {
  try {
    return (await key.getPrimaryUser(at)).user.userID?.userID || undefined;
  } catch {
    return undefined;
  }
}

async function entryOf(key: openpgp.PublicKey, raw: { bytes: Uint8Array; packetDigests: string[] }, made: Date): Promise<PinnedKeyEntry> {
  const fingerprints = [key.getFingerprint(), ...key.getSubkeys().map((s) => s.getFingerprint())].map((f) => f.toUpperCase());
  const sigs = selfSignatures(key);
  const validFrom = Math.max(seconds(key.getCreationTime()), ...key.getSubkeys().map((s) => seconds(s.getCreationTime())), ...sigs.map((s) => seconds(s.created!)));
  const sigExpiry = earliest(...sigs.map((s) => (s.signatureNeverExpires || !s.signatureExpirationTime ? null : seconds(s.created!) + s.signatureExpirationTime)));
  const primaryExpiry = expiryOf(await key.getExpirationTime().catch(() => new Date(0)));
  const from = new Date(validFrom * 1000);
  const name = await nameAt(key, from);
  const base = { fingerprints, packetDigests: raw.packetDigests, bytes: Buffer.from(raw.bytes).toString('base64') };
  if (!name || key.revocationSignatures.length) return { ...base, signer: name ?? '', signers: [] };
  const signers: PinnedSigner[] = [];
  for (const k of [key, ...key.getSubkeys()]) {
    if (k !== key && (k as openpgp.Subkey).revocationSignatures.length) continue;
    const crypto = jwkOf(k.keyPacket as openpgp.PublicKeyPacket);
    if (!crypto) continue;
    const subExpiry = k === key ? null : expiryOf(await (k as openpgp.Subkey).getExpirationTime(from).catch(() => new Date(0)));
    const validUntil = earliest(primaryExpiry, subExpiry, sigExpiry);
    if (validUntil !== null && validUntil <= validFrom) continue;
    // Both ends of the span, the later one no later than the table is made.
    const last = new Date(Math.min(validUntil === null ? Infinity : (validUntil - 1) * 1000, Math.max(made.getTime(), from.getTime())));
    let ok = true;
    for (const at of [from, last]) {
      const signing = await key.getSigningKey(k.getKeyID(), at).catch(() => undefined);
      if (!signing || signing.getFingerprint() !== k.getFingerprint() || (await nameAt(key, at)) !== name) ok = false;
    }
    if (ok) signers.push({ fingerprint: k.getFingerprint().toUpperCase(), ...crypto, validFrom, validUntil });
  }
  return { ...base, signer: name, signers };
}

/** The table for an armored keyring; `made` is the latest date at which validity is sampled. */
export async function buildPinnedTable(armored: string, made = new Date()): Promise<PinnedTable> {
  const raw = dearmor(armored, 'PGP PUBLIC KEY BLOCK').flatMap(splitKeys);
  const keys: PinnedKeyEntry[] = [];
  for (const r of raw) {
    const [key] = await openpgp.readKeys({ binaryKeys: r.bytes });
    keys.push(await entryOf(key as openpgp.PublicKey, r, made));
  }
  return { keyring: keyringDigest(armored), keys };
}
