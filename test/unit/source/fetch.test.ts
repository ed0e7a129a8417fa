import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as openpgp from 'openpgp';
import { cachePaths, fetchVerifiedSource, NotInCache, resolveOrigin, selectRelease, type SourceOptions } from '../../../src/source/fetch.js';
import type { Candidate } from '../../../src/source/candidates.js';
import { SignatureError } from '../../../src/source/signature.js';
import { exists } from '../../../src/system/files.js';
import { run } from '../../../src/system/run.js';
import { at, makeKey, scratch, serve, signDetached, type TestKey } from './helpers.js';

const NOW = at('2024-03-01T12:00:00Z');
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

let key: TestKey;
beforeAll(async () => {
  key = await makeKey('Jo Maintainer');
});

interface Rel {
  v: string;
  dir?: '' | 'fixes';
  format?: 'xz' | 'gz';
  signer?: TestKey;
  signed?: Date;
}
const DEFAULT_RELEASES: Rel[] = [{ v: '4.97' }, { v: '4.97', format: 'gz' }, { v: '4.97.1', dir: 'fixes', format: 'gz' }, { v: '4.97.1', dir: 'fixes' }];

/** A mirror laid out like the official tree, with real (small) tarballs signed by `key` unless a release names another signer. */
async function makeMirror(releases: Rel[] = DEFAULT_RELEASES, keyring = () => key.publicArmored): Promise<{ root: string; exim4: string; requests: string[]; url: string }> {
  const s = await scratch('fetch');
  cleanups.push(s.cleanup);
  const root = path.join(s.dir, 'mirror');
  const exim4 = path.join(root, 'exim4');
  await mkdir(path.join(exim4, 'fixes'), { recursive: true });
  const tree = path.join(s.dir, 'tree');
  for (const r of releases) {
    await mkdir(path.join(tree, `exim-${r.v}`, 'src'), { recursive: true });
    await writeFile(path.join(tree, `exim-${r.v}`, 'src', 'EDITME'), `# Exim ${r.v}\n`);
    const format = r.format ?? 'xz';
    const file = path.join(exim4, r.dir ?? '', `exim-${r.v}.tar.${format}`);
    await run('tar', [format === 'xz' ? '-cJf' : '-czf', file, '-C', tree, `exim-${r.v}`]);
    await writeFile(`${file}.asc`, await signDetached(await readFile(file), (r.signer ?? key).privateKey, r.signed ?? at('2023-05-01T00:00:00Z')));
  }
  await writeFile(path.join(root, 'Exim-Maintainers-Keyring.asc'), keyring());

  // A static file server with python-style listings for directories.
  const requests: string[] = [];
  const srv = await serve(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(rel);
    const p = path.join(root, rel);
    try {
      if (rel.endsWith('/')) {
        const names = await readdir(p);
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<ul>${names.map((n) => `<li><a href="${n}">${n}</a></li>`).join('')}</ul>`);
      } else {
        await readFile(p);
        res.writeHead(200);
        createReadStream(p).pipe(res);
      }
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  cleanups.push(srv.close);
  return { root, exim4, requests, url: `${srv.url}/exim4/` };
}

/** Runs the selection over one hand-made candidate (as Debian's origin would produce it). */
function selectFrom(c: Candidate, opts: SourceOptions) {
  return selectRelease({ kind: 'debian', label: 'a test index', candidates: [c], notes: [] }, opts);
}

async function cacheDir(): Promise<string> {
  const s = await scratch('cache');
  cleanups.push(s.cleanup);
  return path.join(s.dir, 'cache');
}

/** The options every test shares: the test key stands in for labctl's shipped, pinned keys. */
const base = (mirror: string, cacheDir: string, extra: Partial<SourceOptions> = {}): SourceOptions => ({
  source: 'mirror',
  mirror,
  cacheDir,
  trusted: [key.fingerprint],
  shippedKeys: key.publicArmored,
  now: NOW,
  ...extra,
});

async function failure(p: Promise<unknown>): Promise<SignatureError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  return err as SignatureError;
}

/** The mirror's releases newest first, as every source lists them (nothing downloaded). */
async function listed(m: { url: string }, cache: string) {
  const origin = await resolveOrigin({ source: 'mirror', mirror: m.url, cacheDir: cache });
  return { origin, candidates: origin.candidates.map((c) => ({ ...c, ...cachePaths(cache, c) })) };
}

describe("a dry run's selection (readOnly): the same selection over what the cache holds", () => {
  const readOnly = async () => {
    const s = await scratch('plan');
    cleanups.push(s.cleanup);
    return { scratchDir: s.dir };
  };

  it('on an empty cache names the release it would download, reading only the listing and that .asc, and writes nothing to the cache', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    const { origin, candidates } = await listed(m, cache);
    expect(candidates.map((c) => [c.version, c.format])).toEqual([['4.97.1', 'xz'], ['4.97', 'xz']]);
    expect(candidates[0].tarballPath).toBe(path.join(cache, 'exim-4.97.1.tar.xz'));
    const asked = m.requests.length;
    const err = await selectRelease(origin, base(m.url, cache, { readOnly: await readOnly() })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotInCache);
    expect(err).toMatchObject({ version: '4.97.1', tarballUrl: `${m.url}fixes/exim-4.97.1.tar.xz` });
    expect(m.requests.slice(asked)).toEqual(['/exim4/fixes/exim-4.97.1.tar.xz.asc']);
    expect(await exists(cache)).toBe(false);
  });

  it('after a real run resolves, verifies and returns the cached release, asking the source for nothing', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    const { origin } = await listed(m, cache);
    const real = await selectRelease(origin, base(m.url, cache));
    const files = (await readdir(cache)).sort();
    const asked = m.requests.length;
    const plan = await selectRelease(origin, base(m.url, cache, { readOnly: await readOnly() }));
    expect([plan.version, plan.cached, plan.signature.primaryFingerprint]).toEqual([real.version, true, key.fingerprint.toUpperCase()]);
    expect(m.requests.slice(asked)).toEqual([]);
    expect((await readdir(cache)).sort()).toEqual(files);
  });

  it('reads a newer release\'s .asc the cache does not keep (unpinned key) into its scratch directory, skips it as the run would, and keeps nothing of it', async () => {
    const stranger = await makeKey('Someone Else');
    const m = await makeMirror([{ v: '4.97' }, { v: '4.98', signer: stranger }]);
    const cache = await cacheDir();
    const { origin } = await listed(m, cache);
    await selectRelease(origin, base(m.url, cache));
    const files = (await readdir(cache)).sort();
    expect(files).not.toContain('exim-4.98.tar.xz.asc');
    const scratchDir = await readOnly();
    const plan = await selectRelease(origin, base(m.url, cache, { readOnly: scratchDir }));
    expect([plan.version, plan.cached, plan.skipped.map((x) => x.version)]).toEqual(['4.97', true, ['4.98']]);
    expect((await readdir(cache)).sort()).toEqual(files);
    expect(await readdir(scratchDir.scratchDir)).toEqual(['exim-4.98.tar.xz.asc']);
  });
});

describe('fetchVerifiedSource', () => {
  it('downloads and verifies, then reuses the cache without downloading again', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    const lines: string[] = [];
    const opts = base(m.url, cache, { log: (l: string) => lines.push(l) });
    const first = await fetchVerifiedSource(opts);
    expect(first).toMatchObject({ version: '4.97.1', format: 'xz', cached: false, origin: 'mirror', skipped: [] });
    expect(first.signature.primaryFingerprint).toBe(key.fingerprint);
    expect(first.signature.created).toBe('2023-05-01T00:00:00Z');
    expect(first.downloaded).toEqual([first.keyringUrl, first.ascUrl, first.tarballUrl]);
    expect((await readFile(first.tarballPath)).equals(await readFile(path.join(m.exim4, 'fixes', 'exim-4.97.1.tar.xz')))).toBe(true);
    expect((await readdir(cache)).sort()).toEqual(['Exim-Maintainers-Keyring.asc', 'exim-4.97.1.tar.xz', 'exim-4.97.1.tar.xz.asc']);

    const before = m.requests.length;
    const second = await fetchVerifiedSource(opts);
    expect(second.cached).toBe(true);
    expect(second.downloaded).toEqual([]);
    expect(m.requests.slice(before).filter((r) => !r.endsWith('/'))).toEqual([]);
  });

  it('honours --version and the format preference', async () => {
    const m = await makeMirror();
    const r = await fetchVerifiedSource(base(m.url, await cacheDir(), { version: '4.97' }));
    expect(r.tarballUrl).toBe(`${m.url}exim-4.97.tar.xz`);
  });

  it('skips a newer release signed by a key it does not pin, without downloading its tarball, and says how to trust it', async () => {
    const stranger = await makeKey('New Maintainer');
    const m = await makeMirror([{ v: '4.97' }, { v: '4.100.1', signer: stranger }, { v: '4.99', dir: 'fixes', signer: stranger }]);
    const lines: string[] = [];
    const r = await fetchVerifiedSource(base(m.url, await cacheDir(), { log: (l) => lines.push(l) }));
    expect(r.version).toBe('4.97');
    expect(r.skipped.map((x) => [x.version, x.issuer])).toEqual([['4.100.1', stranger.fingerprint], ['4.99', stranger.fingerprint]]);
    const line = lines.find((l) => l.startsWith('skipping Exim 4.100.1'));
    expect(line).toContain(stranger.fingerprint);
    expect(line).toContain(`--trust ${stranger.fingerprint} --keyring FILE`);
    expect(m.requests).not.toContain('/exim4/exim-4.100.1.tar.xz');
    expect(m.requests).toContain('/exim4/exim-4.100.1.tar.xz.asc');
  });

  it('skips a newer release whose key is in the mirror keyring but not pinned, and installs it once trusted', async () => {
    const stranger = await makeKey('New Maintainer');
    const m = await makeMirror([{ v: '4.97' }, { v: '4.98.2', signer: stranger }], () => `${key.publicArmored}\n${stranger.publicArmored}`);
    const r = await fetchVerifiedSource(base(m.url, await cacheDir()));
    expect(r.version).toBe('4.97');
    expect(r.skipped[0].issuer).toBe(stranger.fingerprint);
    const trusted = await fetchVerifiedSource(base(m.url, await cacheDir(), { trusted: [key.fingerprint, stranger.fingerprint] }));
    expect(trusted.version).toBe('4.98.2');
    expect(trusted.signature.primaryFingerprint).toBe(stranger.fingerprint);
  });

  it('--version X with an unpinned signer stops instead of falling back', async () => {
    const stranger = await makeKey('New Maintainer');
    const m = await makeMirror([{ v: '4.97' }, { v: '4.98.2', signer: stranger }]);
    const err = await failure(fetchVerifiedSource(base(m.url, await cacheDir(), { version: '4.98.2' })));
    expect(err.reason).toBe('unknown-key');
    expect(err.hint).toContain(`--trust ${stranger.fingerprint}`);
  });

  it('stops on a tampered newest release and never falls back to an older one', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    const file = path.join(m.exim4, 'fixes', 'exim-4.97.1.tar.xz');
    const bytes = await readFile(file);
    bytes[bytes.length - 30] ^= 0x01;
    await writeFile(file, bytes);
    const err = await failure(fetchVerifiedSource(base(m.url, cache)));
    expect(err.reason).toBe('digest');
    expect(err.message).toMatch(/digest mismatch/);
    expect(err.hint).toMatch(/nothing was built/);
    expect((await readdir(cache)).filter((n) => n.startsWith('exim-'))).toEqual([]);
    expect(m.requests).not.toContain('/exim4/exim-4.97.tar.xz');
  });

  it('stops on a signature dated in the future', async () => {
    const m = await makeMirror([{ v: '4.97' }, { v: '4.98', signed: at('2030-01-01T00:00:00Z') }]);
    const err = await failure(fetchVerifiedSource(base(m.url, await cacheDir())));
    expect(err.reason).toBe('future');
  });

  it('stops on a garbled or missing .asc', async () => {
    const m = await makeMirror([{ v: '4.97' }, { v: '4.98' }]);
    await writeFile(path.join(m.exim4, 'exim-4.98.tar.xz.asc'), '-----BEGIN PGP SIGNATURE-----\n\nnonsense\n-----END PGP SIGNATURE-----\n');
    expect((await failure(fetchVerifiedSource(base(m.url, await cacheDir())))).reason).toBe('garbled');
    await run('rm', [path.join(m.exim4, 'exim-4.98.tar.xz.asc')]);
    const missing = await failure(fetchVerifiedSource(base(m.url, await cacheDir())));
    expect(missing.reason).toBe('missing');
    expect(missing.message).toContain(`${m.url}exim-4.98.tar.xz.asc`);
  });

  it('stops on a revoked pinned key, even when the mirror serves the key without its revocation', async () => {
    const signer = await makeKey('Revoked Maintainer');
    const { publicKey: revoked } = await openpgp.revokeKey({ key: signer.privateKey, date: at('2023-06-01T00:00:00Z'), format: 'object' });
    const m = await makeMirror([{ v: '4.97', signer }], () => signer.publicArmored);
    const err = await failure(fetchVerifiedSource(base(m.url, await cacheDir(), { trusted: [signer.fingerprint], shippedKeys: revoked.armor() })));
    expect(err.reason).toBe('revoked');
  });

  it('refuses a release older than the installed one unless downgrades are allowed', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    const err = await failure(fetchVerifiedSource(base(m.url, cache, { installedVersion: '4.98.2' })));
    expect(err.message).toMatch(/refusing to install Exim 4\.97\.1: it is older than the installed 4\.98\.2/);
    expect(err.hint).toMatch(/--allow-downgrade/);
    expect(m.requests.filter((r) => r.endsWith('.xz'))).toEqual([]);
    const r = await fetchVerifiedSource(base(m.url, cache, { installedVersion: '4.98.2', allowDowngrade: true }));
    expect(r.version).toBe('4.97.1');
    expect((await fetchVerifiedSource(base(m.url, cache, { installedVersion: '4.97.1' }))).version).toBe('4.97.1');
  });

  it('deletes a cached tarball whose signature no longer verifies and throws', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    const opts = base(m.url, cache);
    const first = await fetchVerifiedSource(opts);
    const bytes = await readFile(first.tarballPath);
    bytes[100] ^= 0xff;
    await writeFile(first.tarballPath, bytes);
    const err = await failure(fetchVerifiedSource(opts));
    expect(err).toBeInstanceOf(SignatureError);
    expect(err.reason).toBe('digest');
    expect(err.hint).toMatch(/cached tarball and \.asc were deleted/);
    expect(await exists(first.tarballPath)).toBe(false);
    expect(await exists(first.ascPath)).toBe(false);
    // The next run downloads afresh and succeeds.
    expect((await fetchVerifiedSource(opts)).cached).toBe(false);
  });

  it('refreshes the keyring on every run that downloads, and uses only pinned keys from it', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    await mkdir(cache, { recursive: true });
    const other = await makeKey('Someone Else');
    await writeFile(path.join(cache, 'Exim-Maintainers-Keyring.asc'), other.publicArmored);
    const r = await fetchVerifiedSource(base(m.url, cache));
    expect(r.downloaded[0]).toBe(r.keyringUrl);
    expect(await readFile(path.join(cache, 'Exim-Maintainers-Keyring.asc'), 'utf8')).toBe(key.publicArmored);
  });

  it('uses --keyring FILE and a plain directory mirror', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    const keyring = path.join(path.dirname(cache), 'my-keyring.asc');
    await writeFile(keyring, key.publicArmored);
    const r = await fetchVerifiedSource(base(m.exim4, cache, { keyringFile: keyring, shippedKeys: (await makeKey('Unrelated')).publicArmored }));
    expect(r.keyringUrl).toBe(keyring);
    expect(r.tarballUrl).toBe(path.join(m.exim4, 'fixes', 'exim-4.97.1.tar.xz'));
    expect(await readdir(cache)).not.toContain('Exim-Maintainers-Keyring.asc');
  });

  it('stops on a tarball whose digest differs from the one the source\'s signed index states', async () => {
    const m = await makeMirror();
    const cache = await cacheDir();
    const plan = await listed(m, cache);
    // What a Debian index entry looks like to the selection: a candidate with an expected digest.
    const c = { ...plan.candidates[0], expected: { sha256: '0'.repeat(64), size: 1 } };
    const err = await failure(selectFrom(c, base(m.url, cache)));
    expect(err.reason).toBe('digest');
    expect(err.message).toMatch(/signed index/);
  });

  it('does not keep the .asc of a skipped release: once the mirror serves the right one, the next run installs it (a tampered .asc cannot freeze the machine)', async () => {
    const stranger = await makeKey('Someone Else');
    const m = await makeMirror([{ v: '4.97' }, { v: '4.98' }]);
    const cache = await cacheDir();
    const asc = path.join(m.exim4, 'exim-4.98.tar.xz.asc');
    const good = await readFile(asc, 'utf8');
    // The attack: 4.98's .asc replaced by one an unpinned key made, so 4.98 is skipped.
    await writeFile(asc, await signDetached(await readFile(path.join(m.exim4, 'exim-4.98.tar.xz')), stranger.privateKey, at('2023-05-01T00:00:00Z')));
    const first = await fetchVerifiedSource(base(m.url, cache));
    expect(first.version).toBe('4.97');
    expect(first.skipped.map((x) => x.version)).toEqual(['4.98']);
    expect(await readdir(cache)).not.toContain('exim-4.98.tar.xz.asc');
    await writeFile(asc, good);
    const second = await fetchVerifiedSource(base(m.url, cache));
    expect(second.version).toBe('4.98');
    expect(second.skipped).toEqual([]);
  });

  it("stops on an .asc whose digest differs from the one the source's signed index lists, before reading it (Debian's archive)", async () => {
    const stranger = await makeKey('Someone Else');
    const m = await makeMirror([{ v: '4.97' }, { v: '4.98' }]);
    const cache = await cacheDir();
    const plan = await listed(m, cache);
    // As Debian's origin lists them: each candidate with the digests its signed Sources index states.
    const digest = async (file: string) => ({ sha256: createHash('sha256').update(await readFile(file)).digest('hex'), size: (await readFile(file)).length });
    const candidates = await Promise.all(plan.candidates.filter((c) => c.format === 'xz').map(async (c) => ({ ...c, expected: await digest(localFile(m, c.tarballUrl)), expectedAsc: await digest(localFile(m, c.ascUrl)) })));
    expect(candidates.map((c) => c.version)).toEqual(['4.98', '4.97']);
    // The attack: the archive's .asc for 4.98 replaced by one an unpinned key made, to push the machine back to 4.97.
    const asc = path.join(m.exim4, 'exim-4.98.tar.xz.asc');
    await writeFile(asc, await signDetached(await readFile(path.join(m.exim4, 'exim-4.98.tar.xz')), stranger.privateKey, at('2023-05-01T00:00:00Z')));
    const err = await failure(selectRelease({ kind: 'debian', label: 'a test index', candidates, notes: [] }, base(m.url, cache)));
    expect(err.reason).toBe('digest');
    expect(err.message).toMatch(/^exim-4\.98\.tar\.xz\.asc does not match the SHA-256 in a test index's signed index/);
    expect(await readdir(cache)).not.toContain('exim-4.98.tar.xz.asc');
  });
});

describe('a skipped release from a source whose signed index lists its .asc (Debian)', () => {
  it('keeps that .asc: the next run checks it against the index and asks the source for nothing', async () => {
    const stranger = await makeKey('Someone Else');
    const m = await makeMirror([{ v: '4.97' }, { v: '4.98', signer: stranger }]);
    const cache = await cacheDir();
    const plan = await listed(m, cache);
    const digest = async (file: string) => ({ sha256: createHash('sha256').update(await readFile(file)).digest('hex'), size: (await readFile(file)).length });
    const candidates = await Promise.all(plan.candidates.map(async (c) => ({ ...c, expected: await digest(localFile(m, c.tarballUrl)), expectedAsc: await digest(localFile(m, c.ascUrl)) })));
    const origin = { kind: 'debian' as const, label: 'a test index', candidates, notes: [] };
    const first = await selectRelease(origin, base(m.url, cache));
    expect([first.version, first.skipped.map((x) => x.version)]).toEqual(['4.97', ['4.98']]);
    expect(await readdir(cache)).toContain('exim-4.98.tar.xz.asc');
    const asked = m.requests.length;
    const second = await selectRelease(origin, base(m.url, cache));
    expect([second.version, second.skipped.map((x) => x.version), second.downloaded]).toEqual(['4.97', ['4.98'], []]);
    expect(m.requests.slice(asked)).toEqual([]);
    // Changed in the cache, the kept .asc no longer matches the index: the run stops, it is not skipped again.
    await writeFile(path.join(cache, 'exim-4.98.tar.xz.asc'), 'tampered');
    expect((await failure(selectRelease(origin, base(m.url, cache)))).reason).toBe('digest');
  });
});

/** The mirror file behind one of its URLs. */
const localFile = (m: { exim4: string; url: string }, url: string) => path.join(m.exim4, url.slice(m.url.length));
