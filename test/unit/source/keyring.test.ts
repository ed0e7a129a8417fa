import { describe, expect, it } from 'vitest';
import * as openpgp from 'openpgp';
import { indexKeyring, keysFor } from '../../../src/source/keyring.js';

async function makeKey(name: string) {
  const { publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name }], format: 'object' });
  return publicKey;
}

describe('keyring index', () => {
  it('splits a keyring into its keys with the fingerprints OpenPGP.js computes', async () => {
    const a = await makeKey('Alice');
    const b = await makeKey('Bob');
    const armored = await openpgp.armor(openpgp.enums.armor.publicKey, new Uint8Array([...a.write(), ...b.write()]));
    const index = await indexKeyring(armored);
    expect(index).toBeDefined();
    expect(index!.map((k) => k.fingerprints)).toEqual(
      [a, b].map((k) => [k.getFingerprint(), ...k.getSubkeys().map((s) => s.getFingerprint())].map((f) => f.toUpperCase())),
    );
    const sub = b.getSubkeys()[0].getKeyID().toHex();
    expect(keysFor(index!, sub).map((k) => k.fingerprints[0])).toEqual([b.getFingerprint().toUpperCase()]);
    const parsed = await openpgp.readKeys({ binaryKeys: keysFor(index!, a.getKeyID().toHex())[0].bytes });
    expect(parsed.map((k) => k.getFingerprint())).toEqual([a.getFingerprint()]);
  });

  it('reads concatenated armored blocks and gives up on anything it does not understand', async () => {
    const a = await makeKey('Alice');
    const b = await makeKey('Bob');
    const both = `${a.armor()}\n${b.armor()}`;
    expect((await indexKeyring(both))!.length).toBe(2);
    expect(await indexKeyring('not a keyring')).toBeUndefined();
    const broken = a.armor().replace(/\n([A-Za-z0-9+/]{20})/, '\n!!!!');
    expect(await indexKeyring(broken)).toBeUndefined();
  });
});
