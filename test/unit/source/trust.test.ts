import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { PINNED_FINGERPRINTS } from '../../../src/source/pinned.js';
import { inspectSignature, shippedKeyring, trustedKeys } from '../../../src/source/trust.js';
import { at, makeKey, signDetached } from './helpers.js';

describe('the keys labctl ships', () => {
  it('hold every pinned fingerprint (as a primary key or a subkey), and nothing else', async () => {
    const t = await trustedKeys({ shipped: shippedKeyring(), trusted: PINNED_FINGERPRINTS });
    const all = t.keys.flatMap((k) => [k.getFingerprint(), ...k.getSubkeys().map((s) => s.getFingerprint())].map((f) => f.toUpperCase()));
    for (const f of PINNED_FINGERPRINTS) expect(all).toContain(f);
    expect(t.keys.map((k) => k.getFingerprint().toUpperCase()).sort()).toEqual([
      'A986F3A6BD6377D8730958DEBCE58C8CE41F32DF',
      'ACBB4324393ADE3515DA2DDA4D1E900E14C1CC04',
      'E5CA331D44AB8E4C806FDBEE26101B62F69376CE',
    ]);
  });
});

describe('merging a mirror keyring into the shipped keys', () => {
  it('keeps a shipped revocation when the mirror serves the key without it', async () => {
    const k = await makeKey('Compromised Maintainer');
    const { publicKey: revoked } = await openpgp.revokeKey({ key: k.privateKey, format: 'object', date: at('2023-01-01T00:00:00Z') });
    const stripped = k.publicArmored;
    expect(await (await openpgp.readKey({ armoredKey: stripped })).isRevoked()).toBe(false);
    const t = await trustedKeys({ shipped: revoked.armor(), extra: { text: stripped, name: 'mirror' }, trusted: [k.fingerprint] });
    expect(t.keys).toHaveLength(1);
    expect(await t.keys[0].isRevoked()).toBe(true);
  });

  it('adds a subkey the mirror knows to a shipped key', async () => {
    const k = await makeKey('Maintainer');
    const shipped = k.publicArmored;
    const withSigningSubkey = await k.privateKey.addSubkey({ sign: true, date: at('2021-01-01T00:00:00Z') });
    const t = await trustedKeys({ shipped, extra: { text: withSigningSubkey.toPublic().armor(), name: 'mirror' }, trusted: [k.fingerprint] });
    expect(t.keys[0].getSubkeys()).toHaveLength(2);
  });

  it('ignores mirror keys that are neither pinned nor trusted', async () => {
    const pinned = await makeKey('Pinned');
    const intruder = await makeKey('Intruder');
    const t = await trustedKeys({ shipped: pinned.publicArmored, extra: { text: intruder.publicArmored, name: 'mirror' }, trusted: [pinned.fingerprint] });
    expect(t.keys.map((k) => k.getFingerprint().toUpperCase())).toEqual([pinned.fingerprint]);
    expect(t.ignored).toEqual([intruder.fingerprint]);
    const sig = await signDetached(new Uint8Array([1, 2, 3]), intruder.privateKey, at('2023-01-01T00:00:00Z'));
    const info = await inspectSignature(sig, t.keys, 'x.asc');
    expect(info).toMatchObject({ issuer: intruder.fingerprint, known: false });
  });
});
