/**
 * The second opinion (src/source/gpgv.ts) with the real gpgv (Debian's gpgv package, which apt
 * itself needs; without it this file fails and says so): gpgv agrees with OpenPGP.js on a good
 * signature, both refuse a tampered tarball, and when gpgv's keyring lacks the signer (the two
 * verifiers disagree) fetchVerifiedSource stops, deletes the cached files and builds nothing.
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchVerifiedSource } from '../../../src/source/fetch.js';
import { gpgvVerdict, runGpgv } from '../../../src/source/gpgv.js';
import { SignatureError, verifySignature } from '../../../src/source/signature.js';
import { run, which } from '../../../src/system/run.js';
import { at, makeKey, scratch, signDetached, type TestKey } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  delete process.env.LABCTL_TEST_HOOK;
});

let key: TestKey;
let other: TestKey;
beforeAll(async () => {
  if (!(await which('gpgv'))) throw new Error('gpgv is not installed: apt-get install gpgv (every Debian has it; labctl runs it as a second opinion)');
  key = await makeKey('Jo Maintainer');
  other = await makeKey('Someone Else');
});

const publicKeys = async (...keys: TestKey[]) => (await Promise.all(keys.map((k) => openpgp.readKeys({ armoredKeys: k.publicArmored })))).flat();

/** A signed tarball in a mirror directory (exim4/exim-4.97.tar.xz + .asc). */
async function release(): Promise<{ exim4: string; tarball: string; asc: string; cache: string }> {
  const s = await scratch('gpgv');
  cleanups.push(s.cleanup);
  const exim4 = path.join(s.dir, 'mirror', 'exim4');
  const tree = path.join(s.dir, 'tree', 'exim-4.97', 'src');
  await mkdir(exim4, { recursive: true });
  await mkdir(tree, { recursive: true });
  await writeFile(path.join(tree, 'EDITME'), '# Exim 4.97\n');
  const tarball = path.join(exim4, 'exim-4.97.tar.xz');
  await run('tar', ['-cJf', tarball, '-C', path.join(s.dir, 'tree'), 'exim-4.97']);
  await writeFile(`${tarball}.asc`, await signDetached(await readFile(tarball), key.privateKey, at('2023-05-01T00:00:00Z')));
  return { exim4, tarball, asc: `${tarball}.asc`, cache: path.join(s.dir, 'cache') };
}

const options = (r: { exim4: string; cache: string }) => ({ source: 'mirror' as const, mirror: r.exim4, cacheDir: r.cache, trusted: [key.fingerprint], shippedKeys: key.publicArmored, now: at('2024-03-01T12:00:00Z') });

describe('gpgv, the second opinion', () => {
  it('agrees with OpenPGP.js on a good signature, and its transcript says so', async () => {
    const r = await release();
    const g = await runGpgv({ tarballPath: r.tarball, ascPath: r.asc, keys: await publicKeys(key, other) });
    expect(g).toMatchObject({ verdict: 'good', primaryFingerprint: key.fingerprint, exitCode: 0 });
    expect(g!.transcript).toMatch(/^gpgv: Good signature from "Jo Maintainer <jo\.maintainer@example\.org>"$/m);
    const fetched = await fetchVerifiedSource(options(r));
    expect(fetched.signature.primaryFingerprint).toBe(key.fingerprint);
    expect(fetched.gpgv).toMatchObject({ verdict: 'good', primaryFingerprint: key.fingerprint });
  });

  it('refuses a tampered tarball, as OpenPGP.js does, and the install error names both refusals', async () => {
    const r = await release();
    const bytes = await readFile(r.tarball);
    bytes[bytes.length - 30] ^= 0x01;
    await writeFile(r.tarball, bytes);
    const g = await runGpgv({ tarballPath: r.tarball, ascPath: r.asc, keys: await publicKeys(key) });
    expect(g).toMatchObject({ verdict: 'bad', reason: expect.stringMatching(/^BADSIG /) });
    expect(g!.transcript).toMatch(/BAD signature/);
    await expect(verifySignature({ data: r.tarball, signatureArmored: await readFile(r.asc, 'utf8'), keyringArmored: key.publicArmored, trusted: [key.fingerprint] })).rejects.toMatchObject({ reason: 'digest' });
    const err = (await fetchVerifiedSource(options(r)).catch((e: unknown) => e)) as SignatureError;
    expect(err).toBeInstanceOf(SignatureError);
    expect(err.reason).toBe('digest');
    expect(err.message).toMatch(/does not match its signature .*digest mismatch.*; gpgv: refused \(BADSIG /);
    expect(err.message).not.toContain('\n');
  });

  it('stops the install when the two disagree: gpgv, given a keyring without the signer, cannot vouch for what OpenPGP.js accepts', async () => {
    const r = await release();
    process.env.LABCTL_TEST_HOOK = 'gpgv-without-signer';
    const err = (await fetchVerifiedSource(options(r)).catch((e: unknown) => e)) as SignatureError;
    expect(err).toBeInstanceOf(SignatureError);
    expect(err.reason).toBe('disagree');
    expect(err.message).toBe(`OpenPGP.js and gpgv disagree on exim-4.97.tar.xz: OpenPGP.js found a good signature by ${key.fingerprint}, gpgv: refused (NO_PUBKEY ${key.fingerprint.slice(-16)})`);
    expect(err.hint).toMatch(/nothing was built/);
    expect((await readdir(r.cache)).filter((n) => n.startsWith('exim-'))).toEqual([]);
  });

  it('reads gpgv status lines: VALIDSIG names the primary key; ERRSIG with NO_PUBKEY is a refusal', () => {
    expect(gpgvVerdict('[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG BCE58C8CE41F32DF Jeremy\n[GNUPG:] VALIDSIG D0BFD6B9ECA5694A6F149DCEAF4CC676A6B6C142 2025-03-25 1742897654 0 4 0 1 8 00 E5CA331D44AB8E4C806FDBEE26101B62F69376CE\n')).toMatchObject({
      verdict: 'good',
      primaryFingerprint: 'E5CA331D44AB8E4C806FDBEE26101B62F69376CE',
    });
    expect(gpgvVerdict('[GNUPG:] NEWSIG\n[GNUPG:] ERRSIG BCE58C8CE41F32DF 1 8 00 1742897654 9 A986\n[GNUPG:] NO_PUBKEY BCE58C8CE41F32DF\n')).toMatchObject({ verdict: 'bad', reason: 'NO_PUBKEY BCE58C8CE41F32DF' });
    expect(gpgvVerdict('')).toMatchObject({ verdict: 'bad', reason: 'no status lines' });
  });
});
