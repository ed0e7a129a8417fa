import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { SignatureError, verifySignature, type VerifyOptions } from '../../../src/source/signature.js';
import { normalizeFingerprint, parseTrustedFingerprint, trustedFingerprints, PINNED_FINGERPRINTS } from '../../../src/source/pinned.js';
import { at, makeKey, scratch, signDetached, type TestKey } from './helpers.js';

const NOW = at('2024-03-01T12:00:00Z');
const SIGNED = at('2022-06-25T13:36:46Z');
const data = new Uint8Array(Buffer.from('exim-4.96 source, pretend tarball bytes\n'.repeat(500)));

let maintainer: TestKey;
let stranger: TestKey;
let goodSig: string;

beforeAll(async () => {
  maintainer = await makeKey('Jo Maintainer');
  stranger = await makeKey('Mallory');
  goodSig = await signDetached(data, maintainer.privateKey, SIGNED);
});

const base = (over: Partial<VerifyOptions> = {}): VerifyOptions => ({
  data,
  signatureArmored: goodSig,
  keyringArmored: maintainer.publicArmored + stranger.publicArmored,
  trusted: [maintainer.fingerprint],
  now: NOW,
  ...over,
});

async function refusal(opts: VerifyOptions): Promise<SignatureError> {
  try {
    await verifySignature(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(SignatureError);
    expect((err as Error).message).not.toContain('\n');
    return err as SignatureError;
  }
  throw new Error('the signature was accepted');
}

describe('verifySignature', () => {
  it('accepts a good signature by a pinned key and reports signer, fingerprint and date', async () => {
    const r = await verifySignature(base());
    expect(r.signer).toBe('Jo Maintainer <jo.maintainer@example.org>');
    expect(r.primaryFingerprint).toBe(maintainer.fingerprint);
    expect(r.signingKeyFingerprint).toBe(maintainer.fingerprint);
    expect(r.bySubkey).toBe(false);
    expect(r.created).toBe('2022-06-25T13:36:46Z');
    expect(r.keyringFingerprints).toEqual([maintainer.fingerprint, stranger.fingerprint]);
  });

  it('reads the data from a path too', async () => {
    const s = await scratch('sig');
    try {
      const file = path.join(s.dir, 'exim-4.96.tar.xz');
      await writeFile(file, data);
      const r = await verifySignature(base({ data: file }));
      expect(r.primaryFingerprint).toBe(maintainer.fingerprint);
      const bad = Buffer.from(data);
      bad[10] ^= 0x20;
      await writeFile(file, bad);
      expect((await refusal(base({ data: file }))).reason).toBe('digest');
    } finally {
      await s.cleanup();
    }
  });

  it('compares fingerprints case-insensitively and without spaces', async () => {
    const spaced = maintainer.fingerprint.toLowerCase().replace(/(.{4})/g, '$1 ').trim();
    const r = await verifySignature(base({ trusted: [spaced] }));
    expect(r.trustedAs).toBe(maintainer.fingerprint);
  });

  it('refuses data with one byte changed (digest mismatch)', async () => {
    const changed = Uint8Array.from(data);
    changed[changed.length - 7] ^= 0x01;
    const err = await refusal(base({ data: changed, names: { data: 'exim-4.96.tar.xz' } }));
    expect(err.reason).toBe('digest');
    expect(err.message).toMatch(/exim-4\.96\.tar\.xz does not match its signature .*digest mismatch/);
  });

  it('refuses a key that is in the keyring but not pinned, printing its fingerprint and --trust', async () => {
    const sig = await signDetached(data, stranger.privateKey, SIGNED);
    const err = await refusal(base({ signatureArmored: sig }));
    expect(err.reason).toBe('unpinned');
    expect(err.message).toContain(stranger.fingerprint);
    expect(err.message).toContain('Mallory');
    expect(err.hint).toContain(`--trust ${stranger.fingerprint}`);
    // ...and accepts it once the user trusts it.
    const ok = await verifySignature(base({ signatureArmored: sig, trusted: [maintainer.fingerprint, stranger.fingerprint] }));
    expect(ok.primaryFingerprint).toBe(stranger.fingerprint);
  });

  it('refuses a signature by a key that is not in the keyring', async () => {
    const err = await refusal(base({ keyringArmored: stranger.publicArmored, names: { keyring: 'Exim-Maintainers-Keyring.asc' } }));
    expect(err.reason).toBe('unknown-key');
    expect(err.message).toContain(maintainer.fingerprint);
    expect(err.message).toContain('not in Exim-Maintainers-Keyring.asc');
  });

  it('refuses a missing or empty signature', async () => {
    expect((await refusal(base({ signatureArmored: undefined }))).reason).toBe('missing');
    const err = await refusal(base({ signatureArmored: '  \n', names: { signature: 'exim-4.96.tar.xz.asc' } }));
    expect(err.reason).toBe('missing');
    expect(err.message).toBe('signature exim-4.96.tar.xz.asc is missing or empty');
  });

  it('refuses garbled armor', async () => {
    const lines = goodSig.split('\n');
    const body = lines.findIndex((l) => l.length > 40);
    lines[body] = lines[body].replace(/[A-Za-z]/g, (c) => (c === 'A' ? 'B' : 'A'));
    const garbled = await refusal(base({ signatureArmored: lines.join('\n') }));
    expect(garbled.reason).toBe('garbled');
    expect(garbled.message).toMatch(/not a valid armored OpenPGP signature/);
    expect((await refusal(base({ signatureArmored: '<html>404 Not Found</html>' }))).reason).toBe('garbled');
    // An armored key is not a signature either.
    expect((await refusal(base({ signatureArmored: stranger.publicArmored }))).reason).toBe('garbled');
  });

  it('refuses a garbled keyring', async () => {
    const err = await refusal(base({ keyringArmored: 'not a keyring' }));
    expect(err.reason).toBe('keyring');
  });

  it('accepts a key that expired after the signature was made', async () => {
    const shortLived = await makeKey('Old Maintainer', { date: at('2020-01-01T00:00:00Z'), keyExpirationTime: 365 * 86400 });
    const sig = await signDetached(data, shortLived.privateKey, at('2020-06-01T00:00:00Z'));
    const r = await verifySignature(base({ signatureArmored: sig, keyringArmored: shortLived.publicArmored, trusted: [shortLived.fingerprint] }));
    expect(r.primaryFingerprint).toBe(shortLived.fingerprint);
    expect(r.created).toBe('2020-06-01T00:00:00Z');
    const pub = await openpgp.readKey({ armoredKey: shortLived.publicArmored });
    expect(await pub.getExpirationTime()).toEqual(at('2020-12-31T00:00:00Z'));
    expect(NOW.getTime()).toBeGreaterThan(at('2020-12-31T00:00:00Z').getTime());
  });

  it('refuses a signature made after the key had expired', async () => {
    const lapsed = await makeKey('Lapsed', { date: at('2020-01-01T00:00:00Z'), keyExpirationTime: 30 * 86400 });
    // OpenPGP.js will not sign with an expired key, so sign with a copy of the same key material
    // whose self-signatures carry no expiry, then verify against the published (expiring) key.
    const { privateKey: noExpiry } = await openpgp.reformatKey({
      privateKey: lapsed.privateKey,
      userIDs: [{ name: 'Lapsed' }],
      keyExpirationTime: 0,
      date: at('2020-01-01T00:00:00Z'),
      format: 'object',
    });
    const sig = await signDetached(data, noExpiry, at('2021-01-01T00:00:00Z'));
    const opts = base({ signatureArmored: sig, keyringArmored: lapsed.publicArmored, trusted: [lapsed.fingerprint] });
    const err = await refusal(opts);
    expect(err.reason).toBe('invalid');
    expect(err.message).toMatch(/expired/i);
    // The same signature verifies against the non-expiring copy: the expiry is the cause.
    const ok = await verifySignature({ ...opts, keyringArmored: noExpiry.toPublic().armor() });
    expect(ok.created).toBe('2021-01-01T00:00:00Z');
  });

  it('refuses a revoked key', async () => {
    const key = await makeKey('Revoked Maintainer');
    const sig = await signDetached(data, key.privateKey, SIGNED);
    const { publicKey } = await openpgp.revokeKey({
      key: key.privateKey,
      date: at('2023-01-01T00:00:00Z'),
      reasonForRevocation: { flag: openpgp.enums.reasonForRevocation.keyCompromised },
      format: 'armored',
    });
    const opts = base({ signatureArmored: sig, keyringArmored: publicKey, trusted: [key.fingerprint] });
    const err = await refusal(opts);
    expect(err.reason).toBe('revoked');
    expect(err.message).toContain(key.fingerprint);
    expect(err.message).toMatch(/revoked: key compromised/);
    // The same signature verifies with the unrevoked copy of the key: the revocation is the cause.
    expect((await verifySignature({ ...opts, keyringArmored: key.publicArmored })).primaryFingerprint).toBe(key.fingerprint);
  });

  it('accepts a signature made by a signing subkey of a pinned primary key', async () => {
    const key = await makeKey('Subkey Signer', { signingSubkey: true });
    const sub = key.privateKey.subkeys[1];
    const sig = await signDetached(data, key.privateKey, SIGNED, sub.getKeyID());
    const r = await verifySignature(base({ signatureArmored: sig, keyringArmored: key.publicArmored, trusted: [key.fingerprint] }));
    expect(r.bySubkey).toBe(true);
    expect(r.primaryFingerprint).toBe(key.fingerprint);
    expect(r.signingKeyFingerprint).toBe(sub.getFingerprint().toUpperCase());
    expect(r.signingKeyFingerprint).not.toBe(key.fingerprint);
    // Pinning only the subkey's own fingerprint (as packagers do for one maintainer) also works.
    const bySub = await verifySignature(base({ signatureArmored: sig, keyringArmored: key.publicArmored, trusted: [r.signingKeyFingerprint] }));
    expect(bySub.trustedAs).toBe(r.signingKeyFingerprint);
    // And without either pinned, it is refused.
    expect((await refusal(base({ signatureArmored: sig, keyringArmored: key.publicArmored }))).reason).toBe('unpinned');
  });

  it('refuses a signature dated in the future', async () => {
    const sig = await signDetached(data, maintainer.privateKey, at('2024-03-02T12:00:00Z'));
    const err = await refusal(base({ signatureArmored: sig }));
    expect(err.reason).toBe('future');
    expect(err.message).toContain('2024-03-02T12:00:00Z');
    expect(err.message).toMatch(/in the future/);
  });

  it('refuses a standalone signature (type 0x02) by a pinned key, naming its type', async () => {
    // A real, valid type 0x02 signature: it signs no data at all, so it proves nothing about a tarball.
    const packet = new openpgp.SignaturePacket();
    packet.signatureType = openpgp.enums.signature.standalone;
    packet.hashAlgorithm = openpgp.enums.hash.sha256;
    packet.publicKeyAlgorithm = maintainer.privateKey.keyPacket.algorithm;
    packet.issuerKeyID = maintainer.privateKey.getKeyID();
    packet.issuerFingerprint = maintainer.privateKey.keyPacket.getFingerprintBytes()!;
    await packet.sign(maintainer.privateKey.keyPacket as openpgp.SecretKeyPacket, {}, SIGNED, false, openpgp.config);
    const list = new openpgp.PacketList<openpgp.SignaturePacket>();
    list.push(packet);
    const standalone = new openpgp.Signature(list).armor();
    expect((await openpgp.readSignature({ armoredSignature: standalone })).packets[0].signatureType).toBe(0x02);

    const err = await refusal(base({ signatureArmored: standalone }));
    expect(err.reason).toBe('invalid');
    expect(err.message).toMatch(/type 0x02 \(standalone\)/);
    expect(err.message).toMatch(/only a binary \(0x00\) signature signs a tarball/);
  });

  it('refuses a text signature (type 0x01) over the tarball: it would also pass bytes with other line endings', async () => {
    // The attack: a text signature canonicalizes line endings, so the same signature covers a
    // changed file (LF turned into CRLF). A tarball is binary; only a binary signature signs it.
    const text = Buffer.from(data).toString('utf8');
    const textSig = await openpgp.sign({ message: await openpgp.createMessage({ text }), signingKeys: maintainer.privateKey, detached: true, date: SIGNED, format: 'armored' });
    expect((await openpgp.readSignature({ armoredSignature: textSig })).packets[0].signatureType).toBe(0x01);
    const changed = new Uint8Array(Buffer.from(text.replace(/\n/g, '\r\n')));
    expect(changed.length).toBeGreaterThan(data.length);
    for (const bytes of [changed, data]) {
      const err = await refusal(base({ data: bytes, signatureArmored: textSig }));
      expect(err.reason).toBe('invalid');
      expect(err.message).toMatch(/type 0x01 \(text\); only a binary \(0x00\) signature signs a tarball/);
    }
  });

  it('refuses a key certification (type 0x13) offered as the release signature', async () => {
    const cert = maintainer.privateKey.users[0].selfCertifications[0];
    expect(cert.signatureType).toBe(0x13);
    const list = new openpgp.PacketList<openpgp.SignaturePacket>();
    list.push(cert);
    const err = await refusal(base({ signatureArmored: new openpgp.Signature(list).armor() }));
    expect(err.reason).toBe('invalid');
    expect(err.message).toMatch(/type 0x13/);
  });
});

describe('pinned fingerprints', () => {
  it('normalizes and validates --trust values', () => {
    expect(normalizeFingerprint('a986 f3a6 bd63 77d8 7309  58de bce5 8c8c e41f 32df')).toBe(PINNED_FINGERPRINTS[0]);
    expect(parseTrustedFingerprint('0xACBB4324393ADE3515DA2DDA4D1E900E14C1CC04')).toBe('ACBB4324393ADE3515DA2DDA4D1E900E14C1CC04');
    expect(() => parseTrustedFingerprint('BCE58C8CE41F32DF')).toThrow(/not a key fingerprint/);
    const all = trustedFingerprints(['1111111111111111111111111111111111111111', PINNED_FINGERPRINTS[0].toLowerCase()]);
    expect(all).toHaveLength(PINNED_FINGERPRINTS.length + 1);
  });
});
