/**
 * gpgv's kept verdict (src/source/gpgv-agreement.ts): a run on exactly the files, keys and gpgv
 * that gpgv already accepted reuses its verdict; any change runs gpgv again. The rule on its own,
 * then through fetchVerifiedSource with the real gpgv (as test/unit/source/gpgv.test.ts): a
 * reused verdict is the kept transcript, a re-signed .asc or a changed tarball runs gpgv again,
 * and a kept verdict never hides a disagreement on other keys.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchVerifiedSource, type FetchedSource } from '../../../src/source/fetch.js';
import { gpgvAgreed, sameAgreement, type GpgvAgreement } from '../../../src/source/gpgv-agreement.js';
import { SignatureError } from '../../../src/source/signature-error.js';
import { run, which } from '../../../src/system/run.js';
import { at, makeKey, scratch, signDetached, type TestKey } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  delete process.env.LABCTL_TEST_HOOK;
});

const FPR = 'A986F3A6BD6377D8730958DEBCE58C8CE41F32DF';
const kept: GpgvAgreement = {
  tarballSha256: 'a'.repeat(64),
  ascSha256: 'b'.repeat(64),
  keyringSha256: 'c'.repeat(64),
  gpgv: '/usr/bin/gpgv:474112:1767279240000',
  primaryFingerprint: FPR,
  at: '2026-12-06T05:00:00.000Z',
  record: { command: 'gpgv ...', exitCode: 0, transcript: 'gpgv: Good signature', status: [], verdict: 'good', primaryFingerprint: FPR },
};
const same = { tarballSha256: kept.tarballSha256, ascSha256: kept.ascSha256, keyringSha256: kept.keyringSha256, gpgv: kept.gpgv, primaryFingerprint: FPR };

describe('the rule: reuse gpgv verdict only on the same inputs', () => {
  it('the same tarball, .asc, keyring, gpgv and signer: reused', () => {
    expect(gpgvAgreed(kept, same)).toBe(true);
  });

  it('any one input changed: gpgv runs again', () => {
    for (const field of ['tarballSha256', 'ascSha256', 'keyringSha256', 'gpgv', 'primaryFingerprint'] as const) {
      expect(gpgvAgreed(kept, { ...same, [field]: `${same[field]}x` }), field).toBe(false);
    }
  });

  it('nothing kept, or a kept verdict that was not good or was for another signer: gpgv runs', () => {
    expect(gpgvAgreed(undefined, same)).toBe(false);
    expect(gpgvAgreed({ ...kept, record: { ...kept.record, verdict: 'bad' } }, same)).toBe(false);
    expect(gpgvAgreed({ ...kept, record: { ...kept.record, primaryFingerprint: 'E5CA331D44AB8E4C806FDBEE26101B62F69376CE' } }, same)).toBe(false);
  });

  it('sameAgreement compares the inputs, not when gpgv ran', () => {
    expect(sameAgreement(kept, { ...kept, at: '2027-01-01T00:00:00.000Z' })).toBe(true);
    expect(sameAgreement(kept, { ...kept, ascSha256: 'd'.repeat(64) })).toBe(false);
    expect(sameAgreement(undefined, kept)).toBe(false);
  });
});

let key: TestKey;
beforeAll(async () => {
  if (!(await which('gpgv'))) throw new Error('gpgv is not installed: apt-get install gpgv (every Debian has it; labctl runs it as a second opinion)');
  key = await makeKey('Jo Maintainer');
});

/** A signed exim-4.97.tar.xz in a mirror directory, and the cache a run keeps it in. */
async function release(): Promise<{ exim4: string; tree: string; cache: string }> {
  const s = await scratch('gpgv-kept');
  cleanups.push(s.cleanup);
  const exim4 = path.join(s.dir, 'mirror', 'exim4');
  const tree = path.join(s.dir, 'tree');
  await mkdir(exim4, { recursive: true });
  await mkdir(path.join(tree, 'exim-4.97', 'src'), { recursive: true });
  await tarball(tree, path.join(exim4, 'exim-4.97.tar.xz'), '# Exim 4.97\n');
  return { exim4, tree, cache: path.join(s.dir, 'cache') };
}

/** Writes a tarball whose EDITME says `editme`, and its .asc signed by the test key. */
async function tarball(tree: string, file: string, editme: string, signedAt = '2023-05-01T00:00:00Z'): Promise<void> {
  await writeFile(path.join(tree, 'exim-4.97', 'src', 'EDITME'), editme);
  await run('tar', ['-cJf', file, '-C', tree, 'exim-4.97']);
  await writeFile(`${file}.asc`, await signDetached(await readFile(file), key.privateKey, at(signedAt)));
}

const options = (r: { exim4: string; cache: string }, agreed?: GpgvAgreement) => ({
  source: 'mirror' as const,
  mirror: r.exim4,
  cacheDir: r.cache,
  trusted: [key.fingerprint],
  shippedKeys: key.publicArmored,
  now: at('2024-03-01T12:00:00Z'),
  ...(agreed ? { gpgvAgreed: agreed } : {}),
});

/** Each gpgv run writes its keyring in a fresh scratch directory, which its command names. */
const ranGpgv = (f: FetchedSource, before: FetchedSource) => !f.gpgvReused && f.gpgv!.command !== before.gpgv!.command;

describe('through fetchVerifiedSource, with the real gpgv', () => {
  it('reuses the verdict on the same files and keys; a re-signed .asc or a changed tarball runs gpgv again', async () => {
    const r = await release();
    const first = await fetchVerifiedSource(options(r));
    expect(first.gpgvReused).toBeUndefined();
    expect(first.gpgvAgreement).toMatchObject({ primaryFingerprint: key.fingerprint, record: { verdict: 'good' } });

    const again = await fetchVerifiedSource(options(r, first.gpgvAgreement));
    expect(again.gpgvReused).toBe(true);
    expect(again.gpgv).toEqual(first.gpgv);
    expect(again.signature).toEqual(first.signature);

    // The same tarball signed again (another date): other .asc bytes, so gpgv reads it.
    const cached = path.join(r.cache, 'exim-4.97.tar.xz');
    await writeFile(`${cached}.asc`, await signDetached(await readFile(cached), key.privateKey, at('2023-06-01T00:00:00Z')));
    const resigned = await fetchVerifiedSource(options(r, first.gpgvAgreement));
    expect(ranGpgv(resigned, first)).toBe(true);
    expect(resigned.gpgvAgreement!.ascSha256).not.toBe(first.gpgvAgreement!.ascSha256);

    // Another tarball, validly signed: gpgv reads it too.
    await tarball(r.tree, cached, '# Exim 4.97, rebuilt\n');
    const changed = await fetchVerifiedSource(options(r, resigned.gpgvAgreement));
    expect(ranGpgv(changed, resigned)).toBe(true);
    expect(changed.gpgvAgreement!.tarballSha256).not.toBe(resigned.gpgvAgreement!.tarballSha256);
  });

  it('a kept verdict does not stand for other keys: gpgv, given a keyring without the signer, still stops the install', async () => {
    const r = await release();
    const first = await fetchVerifiedSource(options(r));
    process.env.LABCTL_TEST_HOOK = 'gpgv-without-signer';
    const err = (await fetchVerifiedSource(options(r, first.gpgvAgreement)).catch((e: unknown) => e)) as SignatureError;
    expect(err).toBeInstanceOf(SignatureError);
    expect(err.reason).toBe('disagree');
  });
});
