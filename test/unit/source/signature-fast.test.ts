/**
 * The signature check without OpenPGP.js (src/source/signature-fast.ts) and the pinned keys'
 * table it reads (src/source/pinned-keys.ts), on real signatures: GnuPG made the keys and
 * signatures in fixtures/source/signed (README there), and the table is made from them by the
 * same code that makes pinned-keys.json. Its answers are compared with verifySignature's
 * (OpenPGP.js): the same record when it accepts, and nothing (undefined) wherever OpenPGP.js
 * refuses, so the refusal stays OpenPGP.js's.
 */
import { constants, createHash, createVerify, generateKeyPairSync, privateEncrypt, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { dearmor } from '../../../src/source/packets.js';
import { buildPinnedTable } from '../../../src/source/pinned-keys-build.js';
import { pinnedTable, pinnedTrust, shippedKeyring, type PinnedTable } from '../../../src/source/pinned-keys.js';
import { PINNED_FINGERPRINTS } from '../../../src/source/pinned.js';
import { gpgvKeys, releaseKeys, verifyRelease } from '../../../src/source/release-keys.js';
import { runGpgv } from '../../../src/source/gpgv.js';
import { inspectPinned, rsaSignatureOf, verifyPinned } from '../../../src/source/signature-fast.js';
import { SignatureError, verifySignature } from '../../../src/source/signature.js';
import { inspectSignature, trustedKeys } from '../../../src/source/trust.js';

const dir = new URL('../../../fixtures/source/signed/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir));
const text = (name: string) => read(name).toString('utf8');
const data = new Uint8Array(read('data.bin'));
const keyring = text('keyring.asc');
const [RSA, ED] = text('fingerprints.txt').trim().split(/\s+/);
const NOW = new Date('2027-01-01T00:00:00Z');

let table: PinnedTable;
beforeAll(async () => {
  table = await buildPinnedTable(keyring, NOW);
});

const keys = () => pinnedTrust({ table, shipped: keyring, trusted: [RSA, ED] })!.keys;
const fast = (signatureArmored: string, over: { data?: Uint8Array; trusted?: string[]; now?: Date; table?: PinnedTable } = {}) =>
  verifyPinned({
    data: over.data ?? data,
    signatureArmored,
    keys: over.table ? pinnedTrust({ table: over.table, shipped: keyring, trusted: [RSA, ED] })!.keys : keys(),
    trusted: over.trusted ?? [RSA, ED],
    now: over.now ?? NOW,
  });
const slow = (signatureArmored: string, over: { data?: Uint8Array; trusted?: string[]; now?: Date } = {}) =>
  verifySignature({ data: over.data ?? data, signatureArmored, keyringArmored: keyring, trusted: over.trusted ?? [RSA, ED], now: over.now ?? NOW });
const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SignatureError);
  return err as SignatureError;
};

/** The armored signature with one byte of its packet changed (no checksum line, which is optional). */
function tamper(armored: string, at: (body: Uint8Array) => number): string {
  const [packet] = dearmor(armored, 'PGP SIGNATURE');
  const changed = Uint8Array.from(packet);
  changed[at(changed)] ^= 0x01;
  return `-----BEGIN PGP SIGNATURE-----\n\n${Buffer.from(changed).toString('base64')}\n-----END PGP SIGNATURE-----\n`;
}

describe('the signature check with node:crypto', () => {
  it('accepts the RSA and the Ed25519 signature with the record OpenPGP.js gives', async () => {
    for (const [file, fpr] of [['data.bin.rsa.asc', RSA], ['data.bin.ed25519.asc', ED]]) {
      const got = await fast(text(file));
      expect(got, file).toBeDefined();
      expect(got).toEqual(await slow(text(file)));
      expect(got!.primaryFingerprint).toBe(fpr);
    }
  });

  it('reads the data from a path too', async () => {
    const got = await verifyPinned({ data: new URL('data.bin', dir).pathname, signatureArmored: text('data.bin.rsa.asc'), keys: keys(), trusted: [RSA], now: NOW });
    expect(got?.signer).toBe('Rsa Signer <rsa@example.org>');
  });

  it('leaves a changed file to OpenPGP.js, which refuses it (digest mismatch)', async () => {
    const changed = Uint8Array.from(data);
    changed[100] ^= 0x20;
    for (const file of ['data.bin.rsa.asc', 'data.bin.ed25519.asc']) {
      expect(await fast(text(file), { data: changed })).toBeUndefined();
      expect((await refusal(slow(text(file), { data: changed }))).reason).toBe('digest');
    }
  });

  it('leaves a canonical text (0x01) signature to OpenPGP.js, which refuses its type', async () => {
    expect(await fast(text('data.bin.text.asc'))).toBeUndefined();
    const err = await refusal(slow(text('data.bin.text.asc')));
    expect(err.message).toContain('0x01');
  });

  it('leaves a SHA-1 signature to OpenPGP.js, which refuses it', async () => {
    expect(await fast(text('data.bin.sha1.asc'))).toBeUndefined();
    await refusal(slow(text('data.bin.sha1.asc')));
  });

  it('leaves a key that is not trusted, and a signature from the future, to OpenPGP.js', async () => {
    expect(await fast(text('data.bin.rsa.asc'), { trusted: [ED] })).toBeUndefined();
    expect((await refusal(slow(text('data.bin.rsa.asc'), { trusted: [ED] }))).reason).toBe('unpinned');
    const before = new Date('2026-01-01T00:00:00Z');
    expect(await fast(text('data.bin.rsa.asc'), { now: before })).toBeUndefined();
    expect((await refusal(slow(text('data.bin.rsa.asc'), { now: before }))).reason).toBe('future');
  });

  it('gives up on a tampered signature: its first digest bytes, its signature value', async () => {
    const sig = text('data.bin.rsa.asc');
    const [packet] = dearmor(sig, 'PGP SIGNATURE');
    // The body starts after a 3-byte header: the last two-byte MPI header precedes the value.
    const left16 = (b: Uint8Array) => b.length - 256 - 2 - 2;
    const value = (b: Uint8Array) => b.length - 10;
    expect(packet[left16(packet)]).toBe(0x2d); // gpg --list-packets: begin of digest 2d 45
    for (const at of [left16, value]) {
      const bad = tamper(sig, at);
      expect(await fast(bad)).toBeUndefined();
      await refusal(slow(bad));
    }
  });

  it('decides only inside the span over which the table holds the key valid', async () => {
    const created = new Date((await fast(text('data.bin.rsa.asc')))!.created).getTime() / 1000;
    const later = structuredClone(table);
    for (const k of later.keys) for (const s of k.signers) s.validFrom = created + 1;
    expect(await fast(text('data.bin.rsa.asc'), { table: later })).toBeUndefined();
    const ended = structuredClone(table);
    for (const k of ended.keys) for (const s of k.signers) s.validUntil = created;
    expect(await fast(text('data.bin.ed25519.asc'), { table: ended })).toBeUndefined();
  });

  it('reads who signed as inspectSignature does', async () => {
    const full = await trustedKeys({ shipped: keyring, trusted: [RSA, ED] });
    for (const file of ['data.bin.rsa.asc', 'data.bin.ed25519.asc', 'data.bin.text.asc']) {
      expect(inspectPinned(text(file), keys())).toEqual(await inspectSignature(text(file), full.keys, file));
    }
    const exim = text('exim-4.98.2.tar.xz.asc');
    const pinned = pinnedTrust({ table: pinnedTable(), shipped: shippedKeyring(), trusted: PINNED_FINGERPRINTS })!;
    const real = await trustedKeys({ shipped: shippedKeyring(), trusted: PINNED_FINGERPRINTS });
    expect(inspectPinned(exim, pinned.keys)).toEqual(await inspectSignature(exim, real.keys, 'exim-4.98.2.tar.xz.asc'));
    expect(inspectPinned(exim, pinned.keys)).toMatchObject({ issuer: 'A986F3A6BD6377D8730958DEBCE58C8CE41F32DF', known: true });
    expect(inspectPinned(exim, keys())?.known).toBe(false);
    expect(inspectPinned('not a signature', keys())).toBeUndefined();
  });
});

describe('the pinned keys table', () => {
  it('is the one made from exim-maintainers.asc (run `node scripts/pinned-keys.mjs` after changing it)', async () => {
    expect(pinnedTable()).toEqual(await buildPinnedTable(shippedKeyring()));
  });

  it('lets every pinned signing key sign inside its span, as OpenPGP.js sees it', async () => {
    const t = pinnedTable();
    const signers = t.keys.flatMap((k) => k.signers.map((s) => ({ k, s })));
    expect(signers.map(({ s }) => s.fingerprint)).toContain('A986F3A6BD6377D8730958DEBCE58C8CE41F32DF');
    for (const { k, s } of signers) {
      const [key] = await openpgp.readKeys({ binaryKeys: new Uint8Array(Buffer.from(k.bytes, 'base64')) });
      const end = s.validUntil ?? Math.floor(Date.now() / 1000);
      const mid = new Date(((s.validFrom + end) / 2) * 1000);
      const keyId = key.getKeys().find((k) => k.getFingerprint().toUpperCase() === s.fingerprint)!.getKeyID();
      const signing = await key.getSigningKey(keyId, mid);
      expect(signing.getFingerprint().toUpperCase()).toBe(s.fingerprint);
      expect((await key.getPrimaryUser(mid)).user.userID?.userID).toBe(k.signer);
    }
  });

  it('stands for the keys only when the mirror keyring adds nothing to the shipped ones', async () => {
    const shipped = shippedKeyring();
    const t = pinnedTable();
    const all = pinnedTrust({ table: t, shipped, trusted: PINNED_FINGERPRINTS });
    expect(all?.keys.map((k) => k.fingerprints[0])).toEqual(['ACBB4324393ADE3515DA2DDA4D1E900E14C1CC04', 'E5CA331D44AB8E4C806FDBEE26101B62F69376CE', 'A986F3A6BD6377D8730958DEBCE58C8CE41F32DF']);
    expect(pinnedTrust({ table: t, shipped, extra: { text: shipped }, trusted: PINNED_FINGERPRINTS })).toEqual(all);
    // One shipped key, re-armored: a subset adds nothing.
    const one = openpgp.armor(openpgp.enums.armor.publicKey, new Uint8Array(Buffer.from(t.keys[2].bytes, 'base64')));
    expect(pinnedTrust({ table: t, shipped, extra: { text: one }, trusted: PINNED_FINGERPRINTS })).toEqual(all);
    // A key that is not shipped, a shipped file that is not the table's, a garbled keyring: OpenPGP.js merges.
    expect(pinnedTrust({ table: t, shipped, extra: { text: keyring }, trusted: PINNED_FINGERPRINTS })).toBeUndefined();
    expect(pinnedTrust({ table: t, shipped: keyring, trusted: PINNED_FINGERPRINTS })).toBeUndefined();
    expect(pinnedTrust({ table: t, shipped, extra: { text: 'not a keyring' }, trusted: PINNED_FINGERPRINTS })).toBeUndefined();
    // A shipped key with a packet the shipped file does not hold (here a signature packet) is merged by OpenPGP.js.
    const sigPacket = (() => {
      const [body] = dearmor(text('data.bin.rsa.asc'), 'PGP SIGNATURE');
      return body;
    })();
    const grown = openpgp.armor(openpgp.enums.armor.publicKey, new Uint8Array([...Buffer.from(t.keys[2].bytes, 'base64'), ...sigPacket]));
    expect(pinnedTrust({ table: t, shipped, extra: { text: grown }, trusted: PINNED_FINGERPRINTS })).toBeUndefined();
  });
});

describe('the keys and checks install uses (src/source/release-keys.ts)', () => {
  it('take the table for the shipped keys, and give gpgv their shipped bytes', async () => {
    const keys = await releaseKeys({ shipped: shippedKeyring(), extra: { text: shippedKeyring(), name: 'mirror' }, trusted: PINNED_FINGERPRINTS });
    expect(keys.pinned).toBeDefined();
    const forGpgv = await gpgvKeys(keys);
    const read = await openpgp.readKeys({ binaryKeys: new Uint8Array(Buffer.concat(forGpgv.map((k) => ('bytes' in k ? k.bytes : k.write())))) });
    const merged = await trustedKeys({ shipped: shippedKeyring(), trusted: PINNED_FINGERPRINTS });
    expect(read.map((k) => k.getFingerprint())).toEqual(merged.keys.map((k) => k.getFingerprint()));
    // gpgv accepts the fixture's signature with the fixture's keys given as bytes.
    const g = await runGpgv({
      tarballPath: new URL('data.bin', dir).pathname,
      ascPath: new URL('data.bin.rsa.asc', dir).pathname,
      keys: dearmor(keyring, 'PGP PUBLIC KEY BLOCK').map((bytes) => ({ fingerprint: RSA, bytes })),
    });
    expect(g?.verdict).toBe('good');
    expect(g?.primaryFingerprint).toBe(RSA);
  });

  it('leave other keys to OpenPGP.js: same record, same refusal', async () => {
    const other = await releaseKeys({ shipped: keyring, trusted: [RSA, ED] });
    expect(other.pinned).toBeUndefined();
    const opts = { data, signatureArmored: text('data.bin.ed25519.asc'), trusted: [RSA, ED], now: NOW };
    expect(await verifyRelease(other, opts)).toEqual(await slow(text('data.bin.ed25519.asc')));
    const shipped = await releaseKeys({ shipped: shippedKeyring(), trusted: PINNED_FINGERPRINTS });
    const err = await refusal(verifyRelease(shipped, { ...opts, trusted: PINNED_FINGERPRINTS }));
    expect(err.reason).toBe('unknown-key');
    expect(err.message).toContain(ED);
  });
});

describe('RSA against a digest made once (rsaSignatureOf)', () => {
  // A key of its own: signatures over any DigestInfo can be made with it (privateEncrypt, type 1 padding).
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { key: publicKey.export({ format: 'jwk' }), format: 'jwk' } as const;
  const message = Buffer.from('exim-4.98.2.tar.xz, or any bytes');
  const prefix = (hash: string) => ({ sha256: '3031300d060960864801650304020105000420', sha384: '3041300d060960864801650304020205000430', sha512: '3051300d060960864801650304020305000440' })[hash]!;
  const raw = (t: string | Buffer) => privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, typeof t === 'string' ? Buffer.from(t, 'hex') : t);

  it.each(['sha256', 'sha384', 'sha512'])('%s: the verdict createVerify gives on the data, for good and forged signatures', (hash) => {
    const digest = createHash(hash).update(message).digest();
    const other = hash === 'sha512' ? 'sha256' : 'sha512';
    const cases: [string, Buffer, boolean][] = [
      ['signed by crypto.sign', sign(hash, message, privateKey), true],
      ['another message', sign(hash, Buffer.from('another'), privateKey), false],
      ["the digest under another hash's DigestInfo", raw(prefix(other).slice(0, -4) + prefix(hash).slice(-4) + digest.toString('hex')), false],
      ['the DigestInfo without its NULL parameter', raw(prefix(hash).replace('0500', '').replace(/^30(..)300d/, (_, n: string) => `30${(parseInt(n, 16) - 2).toString(16)}300b`) + digest.toString('hex')), false],
      ['trailing bytes after the digest', raw(prefix(hash) + digest.toString('hex') + '00'), false],
      ['the bare digest', raw(digest), false],
    ];
    for (const [what, signature, good] of cases) {
      expect(createVerify(hash).update(message).verify(publicKey, signature), what).toBe(good);
      expect(rsaSignatureOf(digest, hash, jwk, signature), what).toBe(good);
    }
    // A value that is no type 1 block at all: refused (thrown, which verifyPinned reads as "not decided").
    expect(() => rsaSignatureOf(digest, hash, jwk, Buffer.alloc(256, 7))).toThrow();
  });
});
