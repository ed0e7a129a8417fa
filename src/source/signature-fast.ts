/**
 * A release's signature checked with node:crypto against the pinned keys' table
 * (src/source/pinned-keys.ts), without loading OpenPGP.js, which costs more to load in a fresh
 * process than the whole check (bench/signature.mjs). It decides only the plain case: one v4
 * binary (0x00) signature with SHA-256/384/512, made by a pinned key inside the span over which
 * the table holds it valid, with no subpacket it does not know, and whose digest and signature
 * both verify. Then it returns what verifySignature would. For anything else it returns
 * undefined and the caller asks verifySignature (OpenPGP.js), which accepts or refuses and words
 * the reason as before: this path never refuses, so every refusal stays OpenPGP.js's.
 *
 * The hash is RFC 4880 5.2.4's for a v4 signature: the file, then the signature packet from its
 * version through its hashed subpackets, then 0x04 0xFF and that part's length (four bytes).
 * RSA (PKCS#1 v1.5) is verified over that hash by node:crypto's Verify; legacy EdDSA signs the
 * digest itself (RFC 4880bis 13.7), given to Ed25519 as the message.
 */
import { constants, createHash, createPublicKey, publicDecrypt, timingSafeEqual, verify, type JsonWebKeyInput } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dearmor, packets, parseV4Signature, SUBPACKET, type V4Signature } from './packets.js';
import { normalizeFingerprint } from './pinned.js';
import type { PinnedKeyEntry, PinnedSigner } from './pinned-keys.js';
import type { SignatureRecord } from './signature-error.js';

/** OpenPGP hash algorithm IDs (RFC 4880 9.4) this path accepts, and node:crypto's names. */
const HASHES: Record<number, string> = { 8: 'sha256', 9: 'sha384', 10: 'sha512' };
/** Subpackets a release signature carries; any other one sends the check to OpenPGP.js. */
const KNOWN_HASHED = new Set<number>([SUBPACKET.created, SUBPACKET.issuerKeyId, SUBPACKET.signersUserId, SUBPACKET.issuerFingerprint]);
/** OpenPGP.js reads only these from the unhashed area (and embedded signatures, not expected here). */
const KNOWN_UNHASHED = new Set<number>([SUBPACKET.issuerKeyId, SUBPACKET.issuerFingerprint]);

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

/** The one signature packet of an armored detached signature, or undefined. */
function readSignature(armored: string): V4Signature | undefined {
  try {
    const blocks = dearmor(armored, 'PGP SIGNATURE');
    if (blocks.length !== 1) return undefined;
    const all = [...packets(blocks[0])];
    if (all.length !== 1 || all[0].tag !== 2) return undefined;
    return parseV4Signature(blocks[0].subarray(all[0].bodyStart, all[0].end));
  } catch {
    return undefined;
  }
}

/** Who issued it: the key ID, the fingerprint if given, the creation time. */
function issuerOf(sig: V4Signature): { keyId: string; fingerprint?: string; created: number } | undefined {
  const hashed = (type: number) => sig.hashed.filter((s) => s.type === type);
  const created = hashed(SUBPACKET.created);
  if (created.length !== 1 || created[0].body.length !== 4) return undefined;
  const fprs = [...hashed(SUBPACKET.issuerFingerprint), ...sig.unhashed.filter((s) => s.type === SUBPACKET.issuerFingerprint)];
  const ids = [...hashed(SUBPACKET.issuerKeyId), ...sig.unhashed.filter((s) => s.type === SUBPACKET.issuerKeyId)];
  const fingerprints = new Set(fprs.map((s) => (s.body.length === 21 && s.body[0] === 4 ? Buffer.from(s.body.subarray(1)).toString('hex').toUpperCase() : '?')));
  const keyIds = new Set([...ids.map((s) => Buffer.from(s.body).toString('hex').toUpperCase()), ...[...fingerprints].map((f) => f.slice(-16))]);
  if (fingerprints.has('?') || fingerprints.size > 1 || keyIds.size !== 1) return undefined;
  return { keyId: [...keyIds][0], fingerprint: [...fingerprints][0], created: Buffer.from(created[0].body).readUInt32BE(0) };
}

function signatureBytes(sig: V4Signature, signer: PinnedSigner): Buffer | undefined {
  const pad = (b: Uint8Array, n: number) => (b.length > n ? undefined : Buffer.concat([Buffer.alloc(n - b.length), b]));
  if (signer.algorithm === 'rsa') {
    const modulus = Buffer.from(signer.jwk.n!, 'base64url').length;
    return sig.mpis.length === 1 ? pad(sig.mpis[0], modulus) : undefined;
  }
  if (sig.mpis.length !== 2) return undefined;
  const [r, s] = sig.mpis.map((m) => pad(m, 32));
  return r && s ? Buffer.concat([r, s]) : undefined;
}

/** RFC 8017 9.2: the DER DigestInfo before the digest, for each hash this path accepts. */
const DIGEST_INFO: Record<string, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/**
 * An RSA PKCS#1 v1.5 signature checked against a digest already made (the data is hashed once,
 * not again by createVerify): the signature opened with the public key must be exactly the
 * DigestInfo of that digest. OpenSSL checks the type 1 padding (00 01 FF..FF 00); the whole
 * remainder is compared byte for byte, never parsed.
 */
export function rsaSignatureOf(digest: Buffer, hashName: string, key: JsonWebKeyInput, signature: Buffer): boolean {
  const expected = Buffer.concat([DIGEST_INFO[hashName]!, digest]);
  const opened = publicDecrypt({ key: createPublicKey(key), padding: constants.RSA_PKCS1_PADDING }, signature);
  return opened.length === expected.length && timingSafeEqual(opened, expected);
}

export interface FastVerifyOptions {
  /** The signed file's contents, or its path. */
  data: Uint8Array | string;
  signatureArmored: string;
  /** The trusted keys' table entries (src/source/pinned-keys.ts pinnedTrust). */
  keys: readonly PinnedKeyEntry[];
  /** Pinned fingerprints plus --trust ones. */
  trusted: readonly string[];
  now?: Date;
}

/** verifySignature's record for a good signature in the plain case; undefined for anything else. */
export async function verifyPinned(opts: FastVerifyOptions): Promise<SignatureRecord | undefined> {
  const sig = readSignature(opts.signatureArmored);
  if (!sig || sig.type !== 0x00) return undefined;
  const hashName = HASHES[sig.hashAlgorithm];
  if (!hashName) return undefined;
  if (sig.hashed.some((s) => !KNOWN_HASHED.has(s.type)) || sig.unhashed.some((s) => !KNOWN_UNHASHED.has(s.type))) return undefined;
  const issuer = issuerOf(sig);
  if (!issuer) return undefined;
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  if (issuer.created > now) return undefined;

  const key = opts.keys.find((k) => k.fingerprints.some((f) => f.endsWith(issuer.keyId)));
  const signingFingerprint = key?.fingerprints.find((f) => f.endsWith(issuer.keyId));
  const signer = key?.signers.find((s) => s.fingerprint === signingFingerprint);
  if (!key || !signer || (issuer.fingerprint && issuer.fingerprint !== signer.fingerprint)) return undefined;
  if (issuer.created < signer.validFrom || (signer.validUntil !== null && issuer.created >= signer.validUntil)) return undefined;
  // OpenPGP.js refuses a signature whose algorithm is not exactly its key's.
  if (sig.publicKeyAlgorithm !== signer.publicKeyAlgorithm) return undefined;
  const trusted = new Set(opts.trusted.map(normalizeFingerprint));
  const trustedAs = [key.fingerprints[0], signer.fingerprint].find((f) => trusted.has(f));
  if (!trustedAs) return undefined;
  const signature = signatureBytes(sig, signer);
  if (!signature) return undefined;

  const data = typeof opts.data === 'string' ? await fs.readFile(opts.data) : opts.data;
  const trailer = Buffer.alloc(6);
  trailer.writeUInt8(4, 0);
  trailer.writeUInt8(0xff, 1);
  trailer.writeUInt32BE(sig.hashedPart.length, 2);
  const digest = createHash(hashName).update(data).update(sig.hashedPart).update(trailer).digest();
  // The signer's first two bytes of the digest: OpenPGP.js refuses a mismatch, so this does too.
  if (digest[0] !== sig.left16[0] || digest[1] !== sig.left16[1]) return undefined;
  const publicKey = { key: signer.jwk, format: 'jwk' } as const;
  let good: boolean;
  try {
    good = signer.algorithm === 'rsa' ? rsaSignatureOf(digest, hashName, publicKey, signature) : verify(null, digest, publicKey, signature);
  } catch {
    return undefined;
  }
  if (!good) return undefined;
  return {
    signer: key.signer,
    primaryFingerprint: key.fingerprints[0],
    signingKeyFingerprint: signer.fingerprint,
    bySubkey: signer.fingerprint !== key.fingerprints[0],
    created: iso(issuer.created),
    trustedAs,
    keyringFingerprints: opts.keys.map((k) => k.fingerprints[0]),
  };
}

/** inspectSignature's answer (src/source/trust.ts) from the table, or undefined to ask OpenPGP.js. */
export function inspectPinned(armored: string, keys: readonly PinnedKeyEntry[]): { issuer: string; signersUserId?: string; created?: Date; known: boolean } | undefined {
  const sig = readSignature(armored);
  if (!sig) return undefined;
  const issuer = issuerOf(sig);
  if (!issuer) return undefined;
  const uid = sig.hashed.find((s) => s.type === SUBPACKET.signersUserId);
  return {
    issuer: issuer.fingerprint ?? issuer.keyId,
    ...(uid ? { signersUserId: Buffer.from(uid.body).toString('utf8') } : {}),
    created: new Date(issuer.created * 1000),
    known: keys.some((k) => k.fingerprints.some((f) => f.endsWith(issuer.keyId))),
  };
}
