/**
 * Verifies a release tarball against its detached armored signature (write-up 1b, 1c): the
 * signature must verify with a key from the maintainers' keyring, and that key (or its primary
 * key, when a subkey signed) must be one of the trusted fingerprints: labctl's pinned ones plus
 * any given with --trust. Fails closed with one clear line naming the reason.
 */
import { promises as fs } from 'node:fs';
// OpenPGP.js is loaded by the first check that needs it, not when the install command is parsed.
import type * as openpgp from 'openpgp';
import { SignatureError } from './signature-error.js';
import { normalizeFingerprint } from './pinned.js';
import { indexKeyring, keysFor } from './keyring.js';

export { SignatureError, type SignatureFailure, type SignatureRecord } from './signature-error.js';
import type { SignatureRecord } from './signature-error.js';

export interface VerifyOptions {
  /** The signed file's contents, or its path. */
  data: Buffer | Uint8Array | string;
  /** The `.asc` text; undefined or empty means it is missing. */
  signatureArmored: string | undefined;
  keyringArmored: string;
  /** Pinned fingerprints plus --trust ones; compared case-insensitively without spaces. */
  trusted: readonly string[];
  /** The current time (tests fix it). */
  now?: Date;
  /** How to name the inputs in messages (file names or URLs). */
  names?: { data?: string; signature?: string; keyring?: string };
}

const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');

async function signerName(key: openpgp.Key, at: Date): Promise<string> {
  try {
    const primary = await key.getPrimaryUser(at);
    const id = primary.user.userID?.userID;
    if (id) return id;
  } catch {
    // An expired or oddly certified key still has user IDs worth showing.
  }
  return key.getUserIDs()[0] ?? '(no user ID)';
}

const REVOCATION_REASONS: Record<number, string> = {
  0: 'no reason given',
  1: 'key superseded',
  2: 'key compromised',
  3: 'key retired',
};

async function revocation(key: openpgp.Key, signingKey: openpgp.Key | openpgp.Subkey, now: Date): Promise<string | undefined> {
  const describe = (sigs: openpgp.SignaturePacket[]) => {
    const flag = sigs.find((s) => s.reasonForRevocationFlag != null)?.reasonForRevocationFlag;
    return flag == null ? 'revoked' : `revoked: ${REVOCATION_REASONS[flag] ?? `reason ${flag}`}`;
  };
  if (await key.isRevoked(undefined, undefined, now)) return describe(key.revocationSignatures);
  if (signingKey !== key) {
    const sub = signingKey as openpgp.Subkey;
    // Passing no signature asks "is any valid revocation present", as for the primary key.
    if (await sub.isRevoked(undefined as unknown as openpgp.SignaturePacket, undefined as unknown as openpgp.PublicKeyPacket, now)) {
      return `subkey ${sub.getFingerprint().toUpperCase()} ${describe(sub.revocationSignatures)}`;
    }
  }
  return undefined;
}

/** `0x02 (standalone)`: the type's number as the RFC writes it, and OpenPGP.js's name for it. */
function signatureTypeName(type: number | null | undefined, names: typeof openpgp.enums.signature): string {
  if (type == null) return '(none)';
  const name = (Object.entries(names) as [string, number][]).find(([, v]) => v === type)?.[0];
  return `0x${type.toString(16).padStart(2, '0')}${name ? ` (${name})` : ''}`;
}

/** Verifies one detached signature; returns who signed and when, or throws a LabError. */
export async function verifySignature(opts: VerifyOptions): Promise<SignatureRecord> {
  const openpgp = await import('openpgp');
  /**
   * RFC 4880 5.2.1: a release tarball is a binary document, signed by a binary (0x00) signature.
   * A canonical text signature (0x01) is refused too: it normalizes line endings, so it would
   * also pass a tarball whose bytes were changed (LF made CRLF).
   */
  const TARBALL_SIGNATURE_TYPE = openpgp.enums.signature.binary;
  const now = opts.now ?? new Date();
  const sigName = opts.names?.signature ?? 'the signature';
  const dataName = opts.names?.data ?? (typeof opts.data === 'string' ? opts.data : 'the file');
  const keyringName = opts.names?.keyring ?? 'the keyring';
  const trusted = new Set(opts.trusted.map(normalizeFingerprint));

  if (!opts.signatureArmored || !opts.signatureArmored.trim()) {
    throw new SignatureError('missing', `signature ${sigName} is missing or empty`, 'the mirror must provide a .asc beside each tarball');
  }
  let signature: openpgp.Signature;
  try {
    signature = await openpgp.readSignature({ armoredSignature: opts.signatureArmored });
  } catch (err) {
    throw new SignatureError('garbled', `signature ${sigName} is not a valid armored OpenPGP signature (${firstLine(err)})`);
  }
  const packets = [...signature.packets];
  if (packets.length === 0) throw new SignatureError('garbled', `signature ${sigName} holds no signature packet`);

  let keys: openpgp.Key[];
  let keyringFingerprints: string[];
  try {
    // Parse only the keys that issued the signature when the keyring's framing allows it.
    const index = await indexKeyring(opts.keyringArmored);
    if (index) {
      const issuers = packets.map((p) => (p.issuerFingerprint ? Buffer.from(p.issuerFingerprint).toString('hex') : p.issuerKeyID.toHex()));
      const wanted = [...new Set(issuers.flatMap((i) => keysFor(index, i)))];
      keys = wanted.length ? await openpgp.readKeys({ binaryKeys: concatBytes(wanted.map((k) => k.bytes)) }) : [];
      keyringFingerprints = index.map((k) => k.fingerprints[0]);
    } else {
      keys = await readKeyring(opts.keyringArmored);
      keyringFingerprints = keys.map((k) => k.getFingerprint().toUpperCase());
    }
  } catch (err) {
    throw new SignatureError('keyring', `keyring ${keyringName} is not a valid OpenPGP keyring (${firstLine(err)})`);
  }

  const bytes = typeof opts.data === 'string' ? await fs.readFile(opts.data) : opts.data;
  const message = await openpgp.createMessage({ binary: bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes) });

  // Several signature packets are allowed; the first that passes every check wins, otherwise
  // the first failure is reported.
  let firstError: SignatureError | undefined;
  for (const packet of packets) {
    try {
      return await checkOne(packet);
    } catch (err) {
      if (!(err instanceof SignatureError)) throw err;
      firstError ??= err;
    }
  }
  throw firstError!;

  async function checkOne(packet: openpgp.SignaturePacket): Promise<SignatureRecord> {
    // Only a binary signature over the document says anything about the tarball's bytes. Any
    // other type (text 0x01, a standalone 0x02, a key certification) made by a pinned key must
    // not pass, and must fail here by name rather than somewhere inside OpenPGP.js.
    if (packet.signatureType !== TARBALL_SIGNATURE_TYPE) {
      throw new SignatureError('invalid', `signature ${sigName} is of type ${signatureTypeName(packet.signatureType, openpgp.enums.signature)}; only a binary (0x00) signature signs a tarball`);
    }
    const created = packet.created;
    if (!created) throw new SignatureError('invalid', `signature ${sigName} has no creation time`);
    if (created.getTime() > now.getTime()) {
      throw new SignatureError('future', `signature ${sigName} is dated ${iso(created)}, in the future (now ${iso(now)})`, "check this machine's clock; a release cannot have been signed in the future");
    }
    const issuer = packet.issuerFingerprint
      ? Buffer.from(packet.issuerFingerprint).toString('hex').toUpperCase()
      : packet.issuerKeyID.toHex().toUpperCase();
    const key = keys.find((k) => k.getKeys(packet.issuerKeyID).length > 0);
    if (!key) {
      throw new SignatureError('unknown-key',
        `signature ${sigName} was made by key ${issuer}, which is not in ${keyringName}`,
        'use the maintainers\' keyring from the mirror\'s parent directory, or --keyring FILE',
      );
    }
    const signingKey = key.getKeys(packet.issuerKeyID)[0];
    const primaryFingerprint = key.getFingerprint().toUpperCase();
    const signingKeyFingerprint = signingKey.getFingerprint().toUpperCase();
    const name = await signerName(key, created);
    const trustedAs = [primaryFingerprint, signingKeyFingerprint].find((f) => trusted.has(f));
    if (!trustedAs) {
      throw new SignatureError('unpinned',
        `signing key ${primaryFingerprint} (${name}) is not one of labctl's pinned Exim maintainer keys`,
        `if you have checked that this key belongs to an Exim maintainer, run again with --trust ${primaryFingerprint}`,
      );
    }
    const revoked = await revocation(key, signingKey, now);
    if (revoked) throw new SignatureError('revoked', `signing key ${primaryFingerprint} (${name}) is ${revoked}; refusing its signature`);

    const single = new openpgp.PacketList<openpgp.SignaturePacket>();
    single.push(packet);
    const result = await openpgp.verify({
      message,
      signature: new openpgp.Signature(single),
      verificationKeys: [key],
      date: now,
      format: 'binary',
    });
    try {
      await result.signatures[0].verified;
    } catch (err) {
      const why = firstLine(err);
      if (/digest did not match|verification failed/i.test(why)) {
        throw new SignatureError('digest', `${dataName} does not match its signature ${sigName} (digest mismatch): the file was changed or corrupted`);
      }
      throw new SignatureError('invalid', `signature ${sigName} by ${primaryFingerprint} (${name}) is not valid: ${why}`);
    }
    return {
      signer: name,
      primaryFingerprint,
      signingKeyFingerprint,
      bySubkey: signingKeyFingerprint !== primaryFingerprint,
      created: iso(created),
      trustedAs,
      keyringFingerprints,
    };
  }
}

/** Reads every key of a keyring, also when it is several armored blocks concatenated. */
async function readKeyring(text: string): Promise<openpgp.Key[]> {
  const openpgp = await import('openpgp');
  const blocks = text.match(/-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g);
  if (!blocks || blocks.length < 2) return openpgp.readKeys({ armoredKeys: text });
  return (await Promise.all(blocks.map((armoredKeys) => openpgp.readKeys({ armoredKeys })))).flat();
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}
